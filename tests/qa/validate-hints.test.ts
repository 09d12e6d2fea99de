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

  it('says how a group recipient is written when YAML read `to: group: finance` as a nested key', async () => {
    const out = await validate(
      'nested.yaml',
      `kind: recipe
name: nested
trigger: { type: new_request, app: purchase }
steps:
  - action: assign_task
    to:
      group: finance
    title: Buy it
  - action: notify
    to:
      - "{{ record.approver }}"
      - group: finance
    text: Filed
  - action: notify
    to: "group: finance"
    text: Filed
`,
    );
    expect(out.slice(0, 3)).toEqual([
      'nested.yaml:7: steps[0].to: a group recipient is one string, group:<name> with no space after the colon (did you mean "group:finance"?); "group: finance" is read as a nested key',
      'nested.yaml:11: steps[1].to: a group recipient is one string, group:<name> with no space after the colon (did you mean "group:finance"?); "group: finance" is read as a nested key',
      'nested.yaml:15: steps[2].to: a group recipient is written group:<name>, with no space after the colon (did you mean "group:finance"?)',
    ]);
  });
});
