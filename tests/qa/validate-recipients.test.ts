import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, recipesDir } from '../helpers/runtime.js';

/**
 * `to: manager` (not an email, a user id or group:<name>) and `to: "{{ record.item }}"` (a text
 * field, not a person) can never reach anybody, but `npm run validate` said nothing: the job
 * failed only when a request reached the step ("No person … is known to Baton").
 */

const APP = `kind: app
key: hw
name: Hardware
stages: [Submitted, Done]
fields:
  - { key: item, label: Item, type: text }
  - { key: approver, label: Approver, type: user }
  - { key: cc, label: Copy to, type: email }
  - { key: team, label: Team, type: select, options: [group:it, group:hr, boss@example.com] }
  - { key: size, label: Size, type: select, options: [S, M] }
`;

const RECIPE = `kind: recipe
name: hw-flow
trigger: { type: new_request, app: hw }
steps:
  - action: assign_task
    to: manager
    title: Buy it?
  - action: notify
    to: "{{ record.item }}"
    text: hi
  - action: notify
    to: [approver, "{{ record.cc }}", "{{ request.requester }}", group:it, boss@example.com, slack:U123, u_0123456789abcdef]
    text: hi
  - action: assign_task
    to: "{{ record.approver }}"
    title: Fine
  - action: notify
    to: ["{{ record.team }}", "{{ record.size }}"]
    text: hi
`;

describe('npm run validate and recipients that can never be a person', () => {
  it('warns at the line, saying what to write instead', () => {
    const dir = recipesDir({ 'app.yaml': APP, 'flow.yaml': RECIPE });
    const result = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/cli/validate.ts'), dir], {
      cwd: ROOT,
      env: { ...process.env, RECIPES_DIR: dir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.stderr).toBe('');
    const file = join(dir, 'flow.yaml');
    expect(result.stdout.trim().split('\n')).toEqual([
      `${file}:6: warning: steps[0].to: "manager" is not an email, a user id or group:<name>, so it can never be a person and a job that reaches this step fails: write an email (boss@example.com), group:<name>, a person field ("{{ record.approver }}") or the requester ("{{ request.requester }}")`,
      `${file}:9: warning: steps[1].to: record.item is a text field (Item), not a person: write an email (boss@example.com), group:<name>, a person field ("{{ record.approver }}") or the requester ("{{ request.requester }}")`,
      `${file}:12: warning: steps[2].to[0]: "approver" is taken as a person's id, not the field Approver: write "{{ record.approver }}"`,
      `${file}:18: warning: steps[4].to[1]: record.size is a select field (Size) whose option "S" is not a person (an email or group:<name>): write an email (boss@example.com), group:<name>, a person field ("{{ record.approver }}") or the requester ("{{ request.requester }}")`,
      '2 files checked (1 app, 1 recipe): 0 errors, 4 warnings',
    ]);
    expect(result.status).toBe(0);
  });
});
