import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { type AdminPortal, mainOf, signIn, startAdminPortal, textOf } from './admin-kit.js';

const DESK = {
  'desk.yaml': `
kind: app
key: desk
name: Desk
id_prefix: DESK
stages: [Asked, Done]
fields:
  - { key: where, label: Where, type: text }
`,
  'desk-recipe.yaml': `
kind: recipe
name: desk-flow
trigger: { type: new_request, app: desk }
steps:
  - id: facilities
    action: assign_task
    to: group:facilities
    title: Find a desk
  - action: change_stage
    stage: Done
`,
};

/** The portal says so when a task went to a group nobody is in, and refuses to hand a task to one. */
describe('portal: a task for a group with no members', () => {
  let portal: AdminPortal;
  beforeAll(async () => {
    portal = await startAdminPortal(DESK);
    await portal.baton.groups.create(portal.people.ada!, 'facilities', 'Facilities');
    await portal.baton.groups.create(portal.people.ada!, 'unused', 'Nobody yet');
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('the request page shows why, the requester and the admin see it in their inbox; reassigning to an empty group is refused', async () => {
    const riley = await signIn(portal.app, 'riley');
    const form = await riley.get('/apps/desk/new');
    const filed = await riley.submit(form, '/apps/desk/new', { where: 'Floor 2' });
    expect(filed.status).toBe(303);
    const id = filed.location!.split('/').pop()!;
    const page = await eventually(async () => {
      const p = await riley.get(`/requests/${id}`);
      return textOf(mainOf(p.html)).includes('Nobody can act on') ? p : null;
    });
    expect(textOf(mainOf(page.html))).toContain(
      'Nobody can act on "Find a desk": it is assigned to group facilities, which has no members. An admin has been told.',
    );
    expect(textOf(mainOf(page.html))).not.toContain('Add members to facilities');
    const inbox = textOf(mainOf((await riley.get('/')).html));
    expect(inbox).toContain(`Your request ${id} is held up: Nobody can act on "Find a desk"`);
    const ada = await signIn(portal.app, 'ada');
    expect(textOf(mainOf((await ada.get('/')).html))).toContain(
      `${id}: Nobody can act on "Find a desk": it is assigned to group facilities, which has no members.`,
    );

    // Handing the task to another group nobody is in: refused, with the reason.
    const task = (await portal.baton.tasks.listForRequest(id))[0]!;
    const adaPage = await ada.get(`/requests/${id}`);
    expect(textOf(mainOf(adaPage.html))).toContain(
      'Nobody can act on "Find a desk": it is assigned to group facilities, which has no members. Add members to facilities',
    );
    const refused = await ada.submit(adaPage, `/tasks/${task._id}/reassign`, { to: 'group:unused' });
    expect(refused.status).toBe(400);
    expect(textOf(mainOf(refused.html))).toContain(
      'Group unused has no members: nobody could act on "Find a desk". Add someone to it first, or choose someone else.',
    );
    expect((await portal.baton.tasks.load(task._id))!.assignee_key).toBe('group:facilities');
  });
});
