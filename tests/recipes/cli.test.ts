import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateJsonSchemaText } from '../../src/recipes/json-schema.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const TSX = join(ROOT, 'node_modules/.bin/tsx');

function validate(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(TSX, [join(ROOT, 'src/cli/validate.ts'), ...args], {
    cwd: dir,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: result.status, out: result.stdout.trim().split('\n'), err: result.stderr };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-validate-'));
  await writeFile(
    join(dir, 'app.yaml'),
    'kind: app\nkey: leave\nname: Leave\nstages: [Submitted, Approved]\n',
  );
  await writeFile(
    join(dir, 'good.yaml'),
    'kind: recipe\nname: good\ntrigger: { type: new_request, app: leave }\nsteps:\n  - action: change_stage\n    stage: Approved\n',
  );
  await writeFile(
    join(dir, 'warn.yaml'),
    'kind: recipe\nname: warn\ntrigger: { type: new_request, app: elsewhere }\nsteps:\n  - action: stop\n',
  );
  await writeFile(
    join(dir, 'bad.yml'),
    'kind: recipe\nname: bad\ntrigger: { type: new_request, app: leave }\nsteps:\n  - action: wait\n    for: 2 days\n',
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('npm run validate', () => {
  it('prints file:line: message per problem, a summary, and exits 1 on errors', () => {
    const { code, out } = validate([], { RECIPES_DIR: dir });
    expect(out).toEqual([
      `${join(dir, 'bad.yml')}:6: steps[0].for: expected a duration: a whole number followed by s, m, h, d or w (did you mean "2d"?)`,
      `${join(dir, 'warn.yaml')}:3: warning: trigger.app: app "elsewhere" is not defined in these files (it must exist in the store)`,
      '4 files checked (1 app, 2 recipes): 1 error, 1 warning',
    ]);
    expect(code).toBe(1);
  });

  it('warns about a folder with no app or recipe in it (a mistyped RECIPES_DIR)', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty, { recursive: true });
    const { code, out } = validate([], { RECIPES_DIR: empty });
    expect(out).toEqual([
      `${empty}:1: warning: no app or recipe files (.yaml, .yml) here: is this the folder you meant?`,
      '0 files checked (0 apps, 0 recipes): 0 errors, 1 warning',
    ]);
    expect(code).toBe(0);
  });

  it('exits 0 when there are only warnings; path arguments override RECIPES_DIR', () => {
    const { code, out } = validate(['app.yaml', 'good.yaml', 'warn.yaml'], { RECIPES_DIR: '/nonexistent' });
    expect(out).toEqual([
      'warn.yaml:3: warning: trigger.app: app "elsewhere" is not defined in these files (it must exist in the store)',
      '3 files checked (1 app, 2 recipes): 0 errors, 1 warning',
    ]);
    expect(code).toBe(0);
  });

  it('checks one recipe given alone against its app and recipes (beside it and in RECIPES_DIR), not only its syntax', async () => {
    const pack = await mkdtemp(join(tmpdir(), 'baton-validate-pack-'));
    const elsewhere = await mkdtemp(join(tmpdir(), 'baton-validate-dir-'));
    await writeFile(
      join(elsewhere, 'buy.yaml'),
      'kind: app\nkey: buy\nname: Buy\nstages: [Submitted, Approved]\nfields:\n  - { key: amount, label: Amount, type: number }\n',
    );
    await writeFile(
      join(elsewhere, 'approval.yaml'),
      'kind: recipe\nname: buy-approval\ntrigger: { type: new_request, app: buy }\nsteps:\n  - id: manager\n    action: assign_task\n    to: group:finance\n    title: Buy\n',
    );
    await writeFile(
      join(pack, 'typo.yaml'),
      'kind: recipe\nname: typo\ntrigger: { type: new_request, app: buy }\nsteps:\n  - action: change_stage\n    stage: Aproved\n  - action: update_record\n    fields:\n      amount: lots\n',
    );
    await writeFile(
      join(pack, 'after.yaml'),
      'kind: recipe\nname: after\ntrigger: { type: task_completed, app: buy, task: manager }\nsteps:\n  - action: stop\n',
    );
    try {
      const typo = validate([join(pack, 'typo.yaml')], { RECIPES_DIR: elsewhere });
      expect(typo.out).toEqual([
        `${join(pack, 'typo.yaml')}:6: steps[0].stage: app "buy" has no stage "Aproved": did you mean "Approved"? (stages: Submitted, Approved)`,
        `${join(pack, 'typo.yaml')}:9: steps[1].fields.amount: Amount must be a number`,
        '1 file checked (0 apps, 0 recipes): 2 errors, 0 warnings',
      ]);
      expect(typo.code).toBe(1);
      // The task it waits on is another recipe's: no warning that it does not exist.
      const after = validate([join(pack, 'after.yaml')], { RECIPES_DIR: elsewhere });
      expect(after.out).toEqual(['1 file checked (0 apps, 1 recipe): 0 errors, 0 warnings']);
      expect(after.code).toBe(0);
    } finally {
      await rm(pack, { recursive: true, force: true });
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('checks a folder given whole, without reading the folders beside it (for /tmp/x it read all of /tmp)', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'baton-validate-parent-'));
    try {
      await mkdir(join(parent, 'flows'));
      await mkdir(join(parent, 'apps'));
      // Beside the folder given, not in it: neither read nor taken as context.
      await writeFile(
        join(parent, 'apps', 'buy.yaml'),
        'kind: app\nkey: buy\nname: Buy\nstages: [Submitted]\n',
      );
      await writeFile(
        join(parent, 'flows', 'flow.yaml'),
        'kind: recipe\nname: flow\ntrigger: { type: new_request, app: buy }\nsteps:\n  - action: stop\n',
      );
      const { code, out } = validate([join(parent, 'flows')], { RECIPES_DIR: '/nonexistent' });
      expect(out).toEqual([
        `${join(parent, 'flows', 'flow.yaml')}:3: warning: trigger.app: app "buy" is not defined in these files (it must exist in the store)`,
        '1 file checked (0 apps, 1 recipe): 0 errors, 1 warning',
      ]);
      expect(code).toBe(0);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('fails on a missing directory', () => {
    const { code, out } = validate(['missing']);
    expect(out[0]).toBe('missing:1: no such file or directory');
    expect(code).toBe(1);
  });

  it('says which keys and names are too long, with their lines (they are parts of page addresses)', async () => {
    const long = await mkdtemp(join(tmpdir(), 'baton-validate-long-'));
    await writeFile(
      join(long, 'app.yaml'),
      `kind: app\nkey: a${'b'.repeat(100)}\nname: ${'N'.repeat(5001)}\nstages: [Open, ${'S'.repeat(5001)}]\n`,
    );
    await writeFile(
      join(long, 'recipe.yaml'),
      `kind: recipe\nname: r${'x'.repeat(100)}\ntrigger: { type: new_request, app: leave }\nsteps:\n  - action: stop\n`,
    );
    const { code, out } = validate([], { RECIPES_DIR: long });
    await rm(long, { recursive: true, force: true });
    expect(out).toEqual([
      `${join(long, 'app.yaml')}:2: key: app keys are at most 100 characters`,
      `${join(long, 'app.yaml')}:3: name: app names are at most 5000 characters`,
      `${join(long, 'app.yaml')}:4: stages[1]: stage names are at most 5000 characters`,
      `${join(long, 'recipe.yaml')}:2: name: recipe names are at most 100 characters`,
      // The app's key did not parse: the recipe's app is not among these files.
      expect.stringMatching(
        /recipe\.yaml:3: warning: trigger\.app: app "leave" is not defined in these files/,
      ),
      expect.stringMatching(/^2 files checked/),
    ]);
    expect(code).toBe(1);
  });

  it('validates the shipped templates by default', () => {
    const result = spawnSync(TSX, [join(ROOT, 'src/cli/validate.ts')], { cwd: ROOT, encoding: 'utf8' });
    expect(result.stdout).toMatch(/files checked \(3 apps, \d+ recipes\): 0 errors, 0 warnings/);
    expect(result.status).toBe(0);
  });
});

describe('schema/baton.schema.json', () => {
  it('is up to date with the zod schemas (run npm run schema)', async () => {
    const committed = await readFile(join(ROOT, 'schema/baton.schema.json'), 'utf8');
    expect(committed).toBe(generateJsonSchemaText());
  });

  it('is referenced from every shipped template', async () => {
    const { readdir } = await import('node:fs/promises');
    const packs = await readdir(join(ROOT, 'recipes'));
    for (const pack of packs) {
      for (const file of await readdir(join(ROOT, 'recipes', pack))) {
        const text = await readFile(join(ROOT, 'recipes', pack, file), 'utf8');
        expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../../schema/baton.schema.json');
      }
    }
  });
});
