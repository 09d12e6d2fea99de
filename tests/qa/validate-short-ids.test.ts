import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, recipesDir } from '../helpers/runtime.js';

/**
 * `steps.manager.outcome` where the task's id is `mgr` got `no step has id "manager"` and
 * nothing more: no suggestion (not even for a one-letter typo, "manger"), and no list of the ids
 * there are. Short ids are abbreviations (mgr, hr) that a distance in letters never comes near;
 * a suggestion must still not be nonsense (approval is not "it").
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
  - id: mgr
    action: assign_task
    to: "{{ record.owner }}"
    title: Laptop?
  - id: finance_approval
    action: assign_task
    to: group:finance
    title: Budget?
  - id: hr_review
    action: assign_task
    to: group:hr
    title: HR?
  - if: "steps.manager.outcome = 'Approve' and steps.finance.outcome = 'Approve' and steps.hr.outcome = 'Approve'"
    then:
      - action: notify
        to: "{{ request.requester }}"
        text: "{{ steps.manger.comment }} {{ steps.approval.comment }} {{ steps.x.comment }} {{ steps.it.comment }}"
`;

const AFTER = `kind: recipe
name: laptop-after
trigger: { type: task_completed, app: laptop, task: manager }
steps:
  - action: notify
    to: "{{ request.requester }}"
    text: Decided
`;

const ids = 'step ids: mgr, finance_approval, hr_review';

describe('npm run validate on a steps.<id> or task id that is not there', () => {
  it('suggests the id meant, abbreviated or not, and lists the ids, but suggests nothing far off', () => {
    const dir = recipesDir({ 'app.yaml': APP, 'flow.yaml': FLOW, 'after.yaml': AFTER });
    const result = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/cli/validate.ts')], {
      cwd: ROOT,
      env: { ...process.env, RECIPES_DIR: dir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.stderr).toBe('');
    const [after, flow] = ['after.yaml', 'flow.yaml'].map((f) => join(dir, f));
    expect(result.stdout.trim().split('\n')).toEqual([
      `${after}:3: warning: trigger.task: no recipe of app "laptop" in these files has an assign_task step with id "manager" (did you mean "mgr"?); task ids: mgr, finance_approval, hr_review`,
      `${flow}:17: warning: steps[3].if: no step has id "manager" (did you mean "mgr"?); ${ids}`,
      `${flow}:17: warning: steps[3].if: no step has id "finance" (did you mean "finance_approval"?); ${ids}`,
      `${flow}:17: warning: steps[3].if: no step has id "hr" (did you mean "hr_review"?); ${ids}`,
      `${flow}:21: warning: steps[3].then[0].text: no step has id "manger" (did you mean "mgr"?); ${ids}`,
      `${flow}:21: warning: steps[3].then[0].text: no step has id "approval"; ${ids}`,
      `${flow}:21: warning: steps[3].then[0].text: no step has id "x"; ${ids}`,
      `${flow}:21: warning: steps[3].then[0].text: no step has id "it"; ${ids}`,
      '3 files checked (1 app, 2 recipes): 0 errors, 8 warnings',
    ]);
    expect(result.status).toBe(0);
  });
});
