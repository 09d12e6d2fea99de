import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminPortal, mainOf, signIn, startAdminPortal, textOf } from './admin-kit.js';

const FILES = {
  'app.yaml': `kind: app
key: laptop
name: Laptop request
stages: [Submitted, Approved, Rejected]
fields:
  - { key: owner, label: Owner, type: user, required: true }
`,
  'flow.yaml': `kind: recipe
name: laptop-flow
trigger: { type: new_request, app: laptop }
steps:
  - id: mgr
    action: assign_task
    to: "{{ record.owner }}"
    title: Laptop?
    inputs:
      - { id: reason, label: Reason }
`,
};

const AFTER = `kind: recipe
name: laptop-after
trigger: { type: task_completed, app: laptop, task: mgr, outcome: Approve }
steps:
  - action: notify
    to: "{{ trigger.completed_by }}"
    text: "Noted: {{ trigger.inputs.reasn }}"
`;

/**
 * The YAML editor checked a recipe against the apps in the store but not against the other
 * recipes: a task_completed recipe naming the task of another recipe (task: mgr) was saved with
 * the warning that no recipe has a step "mgr" (untrue), while an outcome that task does not have
 * (outcome: Approved), an error for npm run validate, was saved without a word.
 */
describe('the YAML editor, for a recipe triggered by the task of another recipe', () => {
  let portal: AdminPortal;
  beforeAll(async () => {
    portal = await startAdminPortal(FILES);
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('checks the trigger against that task, as npm run validate does', async () => {
    const admin = await signIn(portal.app, 'ada');
    const editor = await admin.get('/admin/recipes/new');
    const refused = await admin.submit(editor, '/admin/recipes/save', {
      yaml: AFTER.replace('outcome: Approve', 'outcome: Approved'),
    });
    expect(refused.status).toBe(400);
    expect(textOf(mainOf(refused.html))).toContain(
      '1 problem; nothing was saved. line 3, column 67: trigger.outcome: "Approved" is not an outcome of step "mgr" (Approve, Reject)',
    );

    const saved = await admin.submit(await admin.get('/admin/recipes/new'), '/admin/recipes/save', {
      yaml: AFTER,
    });
    expect(saved.status).toBe(303);
    const page = textOf(mainOf((await admin.get(saved.location!)).html));
    expect(page).not.toContain('has an assign_task step with id');
    expect(page).toContain(
      'warning: portal.yaml:7: steps[0].text: step "mgr" (whose completion starts this recipe) has no input "reasn" (did you mean "reason"?); its inputs: reason; trigger.inputs.reasn is always blank',
    );
  });
});
