import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminPortal, signIn, startAdminPortal } from './admin-kit.js';

const FILES = {
  'desk.yaml': `
kind: app
key: desk
name: Desk
stages: [New, Done]
fields:
  - { key: what, label: What, type: text, required: true }
`,
};

/**
 * An admin could give a date field the default 2027-02-30 (Date.parse reads it as 2 March) and
 * a url field the default javascript:alert(1): the app took them, then every request filed
 * without that field was refused for it ("When must be a date (YYYY-MM-DD)"), and the
 * portal's date box showed nothing. A default is now checked as the request's value is.
 */
describe('defaults of fields an admin adds on the portal', () => {
  let portal: AdminPortal;
  beforeAll(async () => {
    portal = await startAdminPortal(FILES);
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('are refused, at the field, when a request would refuse them as values', async () => {
    const admin = await signIn(portal.app, 'ada');
    const page = await admin.get('/admin/apps/desk');
    const badDate = await admin.submit(page, '/admin/apps/desk/fields', {
      key: 'when',
      label: 'When',
      type: 'date',
      default: '2027-02-30',
    });
    expect(badDate.status).toBe(400);
    expect(badDate.html).toMatch(/id="field-default-error">expected a date as YYYY-MM-DD/);
    const badUrl = await admin.submit(page, '/admin/apps/desk/fields', {
      key: 'link',
      label: 'Link',
      type: 'url',
      default: 'javascript:alert(1)',
    });
    expect(badUrl.status).toBe(400);
    expect(badUrl.html).toMatch(/id="field-default-error">expected a web address starting with http/);
    expect((await portal.baton.apps.get('desk')).fields.map((f) => f.key)).toEqual(['what']);

    const good: [string, string, string][] = [
      ['when', 'date', '2028-02-29'],
      ['link', 'url', 'https://intranet.example/desks'],
    ];
    for (const [key, type, value] of good)
      expect(
        (await admin.submit(page, '/admin/apps/desk/fields', { key, label: key, type, default: value }))
          .status,
      ).toBe(303);
    const request = await portal.baton.requests.file(portal.people.riley!, 'desk', { what: 'A desk' });
    expect(request.record).toMatchObject({ when: '2028-02-29', link: 'https://intranet.example/desks' });
  });
});
