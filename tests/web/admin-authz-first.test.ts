import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminPortal, mainOf, signIn, startAdminPortal, textOf } from './admin-kit.js';

const FILES = {
  'laptop.yaml': `
kind: app
key: laptop
name: Laptop
stages: [Submitted, Approved]
fields:
  - { key: model, label: Model, type: text }
`,
};

/**
 * A plain user got a 400 for a bad filter or a bad field form (and, for the field form, the app's
 * admin page with its fields) instead of the 403 every other admin page answers: the input was
 * checked before the permission.
 */
describe('admin pages ask who you are before what you sent', () => {
  let portal: AdminPortal;
  beforeAll(async () => {
    portal = await startAdminPortal(FILES);
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('answers 403, not a validation message, to a plain user', async () => {
    const riley = await signIn(portal.app, 'riley');
    const jobs = await riley.get('/admin/jobs?status=zzz');
    expect(jobs.status).toBe(403);
    expect(textOf(mainOf(jobs.html))).not.toContain('Unknown status');

    const field = await riley.post('/admin/apps/laptop/fields', {
      key: 'x',
      label: 'X',
      type: 'text',
      min: 'abc',
    });
    expect(field.status).toBe(403);
    expect(textOf(mainOf(field.html))).not.toContain('Model');

    const member = await riley.post('/admin/groups/nope/add', { user: 'nobody-at-all' });
    expect(member.status).toBe(403);
  });

  it('still checks the input for admins', async () => {
    const ada = await signIn(portal.app, 'ada');
    expect((await ada.get('/admin/jobs?status=zzz')).status).toBe(400);
    const field = await ada.post('/admin/apps/laptop/fields', {
      key: 'x',
      label: 'X',
      type: 'text',
      min: 'abc',
    });
    expect(field.status).toBe(400);
    expect(textOf(mainOf(field.html))).toContain('min must be a number');
  });
});
