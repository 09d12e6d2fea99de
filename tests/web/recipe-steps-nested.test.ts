import { afterEach, describe, expect, it } from 'vitest';
import { type AdminPortal, mainOf, signIn, startAdminPortal, textOf } from './admin-kit.js';

/**
 * A recipe's page (Admin → Recipes → a recipe) listed its top-level steps only: a recipe whose
 * work is in an approval's then/else read "Steps manager → if", hiding everything it does after
 * the decision. The steps under each condition are now listed beneath it, by branch.
 */
const FILES = {
  'gear.yaml': `
kind: app
key: gear
name: Gear
id_prefix: GEAR
stages: [Submitted, Approved, Rejected]
fields:
  - { key: model, label: Model, type: select, options: [mbp, tp], required: true }
`,
  'gear-flow.yaml': `
kind: recipe
name: gear-flow
trigger: { type: new_request, app: gear }
steps:
  - id: manager
    action: assign_task
    to: morgan@playground.baton.invalid
    title: Gear order
    outcomes: [Approve, Reject]
  - if: "steps.manager.outcome = 'Approve'"
    then:
      - id: approve
        action: change_stage
        stage: Approved
      - if: "record.model = 'tp'"
        then:
          - id: tell
            action: notify
            to: "{{ request.requester }}"
            text: ThinkPad ordered
    else:
      - action: change_stage
        stage: Rejected
`,
};

let portal: AdminPortal | undefined;
afterEach(async () => {
  await portal?.close();
  portal = undefined;
});

describe('a recipe page lists every step', () => {
  it('shows the then and else steps under each condition', async () => {
    portal = await startAdminPortal(FILES);
    const ada = await signIn(portal.app, 'ada');
    const page = await ada.get('/admin/recipes/gear-flow');
    expect(page.status).toBe(200);
    const steps = /<dt>Steps<\/dt><dd>([\s\S]*?)<\/dd>/.exec(mainOf(page.html))![1]!;
    expect(textOf(steps)).toBe(
      "manager Assign a task If steps.manager.outcome = 'Approve' " +
        "then: approve Change the stage If record.model = 'tp' then: tell Notify " +
        'else: Change the stage',
    );
    // Nested lists, so the branches read as parts of their condition.
    expect(steps).toMatch(
      /<ol class="steps">[\s\S]*<li>If [\s\S]*<ul class="branches">[\s\S]*<ol class="steps">/,
    );
  });
});
