import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, recipesDir } from '../helpers/runtime.js';

/**
 * `{{ trigger.comment }}` in a new_request recipe is always blank (that trigger carries only its
 * type), `trigger.form` is a typo of trigger.from, and `trigger.inputs.reasn` in a task_completed
 * recipe names no input of the task it is triggered by: npm run validate said nothing of them, and
 * the texts and conditions silently came out blank or false.
 */

const APP = `kind: app
key: laptop
name: Laptop request
stages: [Submitted, Approved, Rejected]
fields:
  - { key: owner, label: Owner, type: user, required: true }
`;

const NEW = `kind: recipe
name: laptop-flow
trigger: { type: new_request, app: laptop }
steps:
  - id: mgr
    action: assign_task
    to: "{{ record.owner }}"
    title: "Laptop for {{ requester.name }} ({{ trigger.type }})"
    inputs:
      - { id: reason, label: Reason }
      - { id: budget, label: Budget code }
  - if: "trigger.outcome = 'Approve'"
    then:
      - action: notify
        to: "{{ request.requester }}"
        text: "Approved: {{ trigger.comment }} {{ trigger.inputs.reason }}; moved to {{ trigger.to }}"
`;

const MOVED = `kind: recipe
name: laptop-moved
trigger: { type: stage_changed, app: laptop, to: Approved }
steps:
  - action: notify
    to: "{{ request.requester }}"
    text: "From {{ trigger.form }} to {{ trigger.to }} by {{ trigger.by }}"
`;

const AFTER = `kind: recipe
name: laptop-after
trigger: { type: task_completed, app: laptop, task: mgr }
steps:
  - action: notify
    to: "{{ trigger.completed_by }}"
    text: "{{ trigger.title }}: {{ trigger.inputs.reasn }} {{ trigger.inputs.reason }} {{ trigger.inputs.budgt }} {{ trigger.comments }}"
`;

describe('npm run validate and what a trigger carries', () => {
  it('warns about trigger keys the trigger never has, and task inputs the named task lacks', () => {
    const dir = recipesDir({ 'app.yaml': APP, 'flow.yaml': NEW, 'moved.yaml': MOVED, 'after.yaml': AFTER });
    const result = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/cli/validate.ts')], {
      cwd: ROOT,
      env: { ...process.env, RECIPES_DIR: dir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.stderr).toBe('');
    const [after, flow, moved] = ['after.yaml', 'flow.yaml', 'moved.yaml'].map((f) => join(dir, f));
    expect(result.stdout.trim().split('\n')).toEqual([
      `${after}:7: warning: steps[0].text: a task_completed trigger has no "comments" (did you mean "comment"?): it carries type, task_id, step_id, title, outcome, comment, completed_by, inputs`,
      `${after}:7: warning: steps[0].text: step "mgr" (whose completion starts this recipe) has no input "reasn" (did you mean "reason"?); its inputs: reason, budget; trigger.inputs.reasn is always blank`,
      `${after}:7: warning: steps[0].text: step "mgr" (whose completion starts this recipe) has no input "budgt" (did you mean "budget"?); its inputs: reason, budget; trigger.inputs.budgt is always blank`,
      `${flow}:12: warning: steps[1].if: trigger.outcome is never set: a new_request trigger carries only type (only a task_completed trigger has outcome); for a task of this recipe, write steps.<id>.outcome, e.g. steps.mgr.outcome`,
      `${flow}:16: warning: steps[1].then[0].text: trigger.comment is never set: a new_request trigger carries only type (only a task_completed trigger has comment); for a task of this recipe, write steps.<id>.comment, e.g. steps.mgr.comment`,
      `${flow}:16: warning: steps[1].then[0].text: trigger.inputs is never set: a new_request trigger carries only type (only a task_completed trigger has inputs); for a task of this recipe, write steps.<id>.inputs, e.g. steps.mgr.inputs`,
      `${flow}:16: warning: steps[1].then[0].text: trigger.to is never set: a new_request trigger carries only type (only a stage_changed trigger has to); the request's stage is request.stage`,
      `${moved}:7: warning: steps[0].text: a stage_changed trigger has no "form" (did you mean "from"?): it carries type, from, to, by`,
      '4 files checked (1 app, 3 recipes): 0 errors, 8 warnings',
    ]);
    expect(result.status).toBe(0);
  });
});
