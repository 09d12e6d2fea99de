import { afterEach, describe, expect, it } from 'vitest';
import { type AdminPortal, mainOf, signIn, startAdminPortal, textOf } from '../web/admin-kit.js';

/**
 * Admin → Groups took only the picker's Baton id: posting an email (a script, a form filled by
 * hand, a bookmarklet) gave a 404 "No user with id morgan@…". An email, platform id or name of
 * someone Baton knows is now taken; anything else is a clear error on the group's page.
 */

describe('Admin → Groups: adding and removing members by email or name', () => {
  let portal: AdminPortal | undefined;
  afterEach(async () => {
    await portal?.close();
    portal = undefined;
  });

  it('accepts the email or name of a known person, and says clearly when nobody matches', async () => {
    portal = await startAdminPortal({});
    const { baton, people: p } = portal;
    await baton.groups.create(p.ada!, 'facilities');
    const admin = await signIn(portal.app, 'ada');
    const page = await admin.get('/admin/groups/facilities');

    const byEmail = await admin.submit(page, '/admin/groups/facilities/add', { user: p.morgan!.email! });
    expect(byEmail.status).toBe(303);
    const byName = await admin.submit(page, '/admin/groups/facilities/add', { user: ' max manager ' });
    expect(byName.status).toBe(303);
    expect((await baton.groups.get('facilities')).members.sort()).toEqual([p.morgan!._id, p.max!._id].sort());

    const unknown = await admin.submit(page, '/admin/groups/facilities/add', { user: 'nobody@example.com' });
    expect(unknown.status).toBe(400);
    expect(textOf(mainOf(unknown.html))).toContain(
      'No person "nobody@example.com" is known to Baton: pick someone from the list, or give the email or name of someone who has used Baton.',
    );

    const removed = await admin.post('/admin/groups/facilities/remove', { user: p.morgan!.email! });
    expect(removed.status).toBe(303);
    expect((await baton.groups.get('facilities')).members).toEqual([p.max!._id]);
  });
});
