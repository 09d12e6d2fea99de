import { afterEach, describe, expect, it } from 'vitest';
import { type AdminPortal, mainOf, signIn, startAdminPortal, textOf } from './admin-kit.js';

/**
 * Admin → Recipes said what starts a recipe and where it comes from in the store's words:
 * "new_request on gear", "stage_changed on gear", Source "file" or "store". They now read as
 * sentences, with the app by its name: "When a Gear request is filed", "From the recipes folder
 * (gear-approval.yaml)", "Written in Baton (Admin → Recipes)".
 */
const FILES = {
  'gear.yaml': `
kind: app
key: gear
name: Gear
id_prefix: GEAR
stages: [Filed, Approved, Ordered]
fields:
  - { key: item, label: Item, type: text, required: true }
`,
  'gear-approval.yaml': `
kind: recipe
name: gear-approval
trigger: { type: new_request, app: gear }
steps:
  - id: manager
    action: assign_task
    to: group:gear-approvers
    title: "Approve {{ record.item }}"
`,
  'gear-order.yaml': `
kind: recipe
name: gear-order
trigger: { type: stage_changed, app: gear, from: Filed, to: Approved }
steps:
  - action: change_stage
    stage: Ordered
`,
  'gear-any-stage.yaml': `
kind: recipe
name: gear-any-stage
trigger: { type: stage_changed, app: gear }
steps:
  - action: notify
    to: group:gear-approvers
    text: "{{ request.id }} moved"
`,
  'gear-approved.yaml': `
kind: recipe
name: gear-approved
trigger: { type: task_completed, app: gear, task: manager, outcome: Approve }
steps:
  - action: notify
    to: "{{ request.requester }}"
    text: "Approved"
`,
};

let portal: AdminPortal | undefined;
afterEach(async () => {
  await portal?.close();
  portal = undefined;
});

describe('Admin → Recipes: triggers and sources in words', () => {
  it('says when each recipe starts and where it comes from', async () => {
    portal = await startAdminPortal(FILES);
    await portal.baton.recipes.saveYaml(
      portal.people.ada!,
      `
kind: recipe
name: gear-written
trigger: { type: task_completed, app: gear }
steps:
  - action: notify
    to: "{{ request.requester }}"
    text: "Decided"
`,
    );
    const ada = await signIn(portal.app, 'ada');
    const list = textOf(mainOf((await ada.get('/admin/recipes')).html));
    expect(list).not.toMatch(/new_request|stage_changed|task_completed/);
    const detail = async (name: string) => textOf(mainOf((await ada.get(`/admin/recipes/${name}`)).html));

    const approval = await detail('gear-approval');
    expect(approval).toContain('Trigger When a Gear request is filed');
    expect(approval).toMatch(/Source From the recipes folder \( ?gear-approval\.yaml ?\) Updated/);
    expect(list).toContain('When a Gear request is filed');
    expect(list).toMatch(/From the recipes folder \( ?gear-approval\.yaml ?\)/);

    expect(await detail('gear-order')).toContain(
      'Trigger When a Gear request moves from stage Filed to Approved',
    );
    expect(await detail('gear-any-stage')).toContain('Trigger When a Gear request moves to another stage');
    expect(await detail('gear-approved')).toContain(
      'Trigger When someone answers Approve on the task manager of a Gear request',
    );
    const written = await detail('gear-written');
    expect(written).toContain('Trigger When someone decides a task on a Gear request');
    expect(written).toContain('Source Written in Baton (Admin → Recipes)');
  });
});
