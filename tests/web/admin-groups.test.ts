import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { type AdminPortal, mainOf, signIn, startAdminPortal, textOf } from './admin-kit.js';

const APP = `
kind: app
key: chair
name: Chair
stages: [Submitted, Ordered]
fields:
  - { key: model, label: Model, type: text }
`;
const RECIPE = `
kind: recipe
name: chair-order
trigger: { type: new_request, app: chair }
steps:
  - action: assign_task
    to: group:facilities
    title: Order a chair
`;

describe('Admin → Groups: deleting a group that still has open tasks', () => {
  let portal: AdminPortal | undefined;
  afterEach(async () => {
    await portal?.close();
    portal = undefined;
  });

  it('is refused on the group’s page, which says why and what to do; the group stays', async () => {
    portal = await startAdminPortal({ 'app.yaml': APP, 'recipe.yaml': RECIPE });
    const { baton, people: p } = portal;
    await baton.groups.create(p.ada!, 'facilities');
    await baton.groups.addMember(p.ada!, 'facilities', p.ivan!._id);
    const filed = await baton.requests.file(p.riley!, 'chair', { model: 'Aeron' });
    await eventually(async () => (await baton.tasks.listOpenForGroup('facilities')).length === 1);

    const admin = await signIn(portal.app, 'ada');
    const page = await admin.get('/admin/groups/facilities');
    expect(textOf(mainOf(page.html))).toContain('A group with open tasks cannot be deleted');
    const confirm = await admin.get('/admin/groups/facilities/delete');
    const refused = await admin.submit(confirm, '/admin/groups/facilities/delete');
    expect(refused.status).toBe(400);
    const text = textOf(mainOf(refused.html));
    expect(text).toContain('Group facilities');
    expect(text).toContain(
      `Group facilities still has open tasks (1, on ${filed._id}): reassign them or wait until they are decided, then delete the group.`,
    );
    expect(text).toContain('Members (1) Ivan IT');
    expect(await baton.groups.find('facilities')).not.toBeNull();
  });
});
