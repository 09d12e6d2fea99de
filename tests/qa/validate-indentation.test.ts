import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, recipesDir } from '../helpers/runtime.js';

/**
 * A step under then: whose keys after the first are indented as far as the `- ` instead of
 * lining up with `action:` makes YAML give those keys to the if step: validate said
 * `unknown key "to" (did you mean "id"?)`, a suggestion that leads nowhere, and nothing of the
 * indentation that was the whole mistake.
 */

const APP = `kind: app
key: laptop
name: Laptop request
stages: [Submitted, Approved, Rejected]
fields:
  - { key: owner, label: Owner, type: user, required: true }
`;

const FLOW = `kind: recipe
name: laptop-flow
trigger: { type: new_request, app: laptop }
steps:
  - id: manager
    action: assign_task
    to: "{{ record.owner }}"
    title: Laptop?
  - if: "steps.manager.outcome = 'Approve'"
    then:
    - action: change_stage
      stage: Approved
    - action: notify
    to: "{{ request.requester }}"
    text: Approved
`;

describe('npm run validate on a step indented short of its action:', () => {
  it('says the key belongs to the step under then:, and how to indent it', () => {
    const dir = recipesDir({ 'app.yaml': APP, 'flow.yaml': FLOW });
    const result = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/cli/validate.ts')], {
      cwd: ROOT,
      env: { ...process.env, RECIPES_DIR: dir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.stderr).toBe('');
    const flow = join(dir, 'flow.yaml');
    const indent =
      "an if step has no such key: if it belongs to the step above it (under then: or else:), indent it to line up with that step's action:; allowed keys here: id, name, if, then, else";
    expect(result.stdout.trim().split('\n')).toEqual([
      `${flow}:13: steps[1].then[1].to: required: a recipient (user id, email, group:<name>) or a list of them`,
      `${flow}:14: steps[1].to: unknown key "to": ${indent}`,
      `${flow}:15: steps[1].text: unknown key "text": ${indent}`,
      '2 files checked (1 app, 0 recipes): 3 errors, 0 warnings',
    ]);
    expect(result.status).toBe(1);
  });
});
