import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, recipesDir } from '../helpers/runtime.js';

/**
 * `{{ requester.nmae }}`, `{{ request.stagee }}` and `steps.manager.outcom` are typos of names
 * in the context recipes see: each is nothing at run time (a blank in a text, a condition never
 * true), and npm run validate said nothing, though it checks record.<field> the same way.
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
    title: "Laptop for {{ requester.nmae }} ({{ requester.email }}) in {{ request.stagee }} since {{ request.created_at }}"
  - id: moved
    action: change_stage
    stage: Approved
  - if: "steps.manager.outcom = 'Approve' and steps.manager.status = 'completed' and steps.moved.value = 'Approved' and steps.moved.outcome = 'x'"
    then:
      - action: notify
        to: "{{ request.requester }}"
        text: "{{ steps.manager.comment }} {{ steps.manager.inputs }} 'request.nope'"
`;

describe('npm run validate on names of the context misspelt', () => {
  it('warns at the line with the name meant', () => {
    const dir = recipesDir({ 'app.yaml': APP, 'flow.yaml': FLOW });
    const result = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/cli/validate.ts')], {
      cwd: ROOT,
      env: { ...process.env, RECIPES_DIR: dir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.stderr).toBe('');
    const flow = join(dir, 'flow.yaml');
    expect(result.stdout.trim().split('\n')).toEqual([
      `${flow}:8: warning: steps[0].title: requester has no "nmae" (did you mean "name"?): it has id, name, email`,
      `${flow}:8: warning: steps[0].title: request has no "stagee" (did you mean "stage"?): it has id, app, stage, requester, created_at`,
      `${flow}:12: warning: steps[2].if: steps.manager has no "outcom" (did you mean "outcome"?): a task step has status, outcome, completed_by, comment, inputs, completed_at, responses, task_id`,
      `${flow}:12: warning: steps[2].if: steps.moved has no "outcome": a change_stage step has status, value`,
      '2 files checked (1 app, 1 recipe): 0 errors, 4 warnings',
    ]);
    expect(result.status).toBe(0);
  });
});
