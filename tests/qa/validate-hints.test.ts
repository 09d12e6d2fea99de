import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** What `npm run validate` says about an app named in its own case and a group nested by YAML. */

const ROOT = new URL('../../', import.meta.url).pathname;
const TSX = join(ROOT, 'node_modules/.bin/tsx');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'baton-validate-hints-'));
  await writeFile(
    join(dir, 'app.yaml'),
    `kind: app
key: purchase
name: Purchase
stages: [Submitted, Approved]
fields:
  - { key: approver, label: Approver, type: user }
`,
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function validate(name: string, text: string): Promise<string[]> {
  await writeFile(join(dir, name), text);
  const result = spawnSync(TSX, [join(ROOT, 'src/cli/validate.ts'), 'app.yaml', name], {
    cwd: dir,
    env: { ...process.env, RECIPES_DIR: '/nonexistent' },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return result.stdout.trim().split('\n');
}

describe('npm run validate hints', () => {
  it('says app keys are lower-case and names the key meant for trigger: {app: Purchase}', async () => {
    const out = await validate(
      'upper.yaml',
      'kind: recipe\nname: upper\ntrigger: { type: new_request, app: Purchase }\nsteps:\n  - action: change_stage\n    stage: Approved\n',
    );
    expect(out[0]).toBe(
      'upper.yaml:3: trigger.app: "Purchase" is not an app key: app keys are lower-case letters, digits and dashes (did you mean "purchase"?)',
    );
  });
});
