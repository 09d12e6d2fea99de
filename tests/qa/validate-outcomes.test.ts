import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDirectory } from '../../src/recipes/loader.js';
import { ROOT, recipesDir } from '../helpers/runtime.js';

/**
 * A task's outcome compared with a label the task does not have ('Approved' for Approve) is never
 * equal: every request silently took the other branch, approvals handled as rejections, and
 * `npm run validate` said nothing.
 */

const APP = `kind: app
key: hw
name: Hardware
stages: [Submitted, Approved, Rejected]
fields:
  - { key: approver, label: Approver, type: user, required: true }
`;

const RECIPE = `kind: recipe
name: hw-approval
trigger: { type: new_request, app: hw }
steps:
  - id: mgr
    action: assign_task
    to: "{{ record.approver }}"
    title: Buy it?
    outcomes: [Approve, Reject, { label: Send back }]
  - if: "steps.mgr.outcome = 'Approved'"
    then:
      - action: change_stage
        stage: Approved
  - action: notify
    to: "{{ request.requester }}"
    text: "{{ steps.mgr.outcome in ['Approve', 'Sendback'] ? 'Decided' : 'Not decided' }} {{ 'Reject' = steps.mgr.outcome }}"
  - if: "steps.mgr.outcome != 'Send back' and steps.mgr.outcome = \\"Reject\\""
    then:
      - action: change_stage
        stage: Rejected
`;

const FOLLOW_UP = `kind: recipe
name: hw-follow-up
trigger: { type: task_completed, app: hw, task: mgr }
steps:
  - if: "trigger.outcome = 'Rejected'"
    then:
      - action: stop
`;

describe('validation of outcome comparisons', () => {
  it('warns, at the line, when a condition or template compares an outcome with a label the task does not have', async () => {
    const { problems } = await loadDirectory(
      recipesDir({ 'app.yaml': APP, 'approval.yaml': RECIPE, 'follow-up.yaml': FOLLOW_UP }),
    );
    expect(problems.map((p) => `${p.file.split('/').pop()}:${p.line}: ${p.severity}: ${p.message}`)).toEqual([
      'approval.yaml:10: warning: steps[1].if: steps.mgr.outcome is never "Approved": the outcomes of step "mgr" are Approve, Reject, Send back (did you mean "Approve"?)',
      'approval.yaml:16: warning: steps[2].text: steps.mgr.outcome is never "Sendback": the outcomes of step "mgr" are Approve, Reject, Send back (did you mean "Send back"?)',
      'follow-up.yaml:5: warning: steps[0].if: trigger.outcome is never "Rejected": the outcomes of step "mgr" are Approve, Reject, Send back (did you mean "Reject"?)',
    ]);
  });

  it('warns when a task_completed trigger for any task names an outcome no task of the app has', async () => {
    const anyTask = `kind: recipe
name: hw-any
trigger: { type: task_completed, app: hw, outcome: Approved }
steps:
  - action: stop
`;
    const { problems } = await loadDirectory(
      recipesDir({ 'app.yaml': APP, 'approval.yaml': RECIPE, 'any.yaml': anyTask }),
    );
    expect(
      problems
        .filter((p) => p.file.endsWith('any.yaml'))
        .map((p) => `${p.line}: ${p.severity}: ${p.message}`),
    ).toEqual([
      '3: warning: trigger.outcome: no task of app "hw" in these files has the outcome "Approved" (outcomes: Approve, Reject, Send back), so this recipe never starts',
    ]);
  });

  it('says so through npm run validate, with the file and line', () => {
    const dir = recipesDir({ 'app.yaml': APP, 'approval.yaml': RECIPE });
    const result = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/cli/validate.ts'), dir], {
      cwd: ROOT,
      env: { ...process.env, RECIPES_DIR: dir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(
      `${join(dir, 'approval.yaml')}:10: warning: steps[1].if: steps.mgr.outcome is never "Approved"`,
    );
    expect(result.status).toBe(0);
  });
});
