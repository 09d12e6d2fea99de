/**
 * The request form's text boxes allow exactly what the core takes, from the shared limits
 * (MAX_TEXT_LENGTH, MAX_LONG_TEXT_LENGTH in src/core/types.ts, as Teams' inputs use): the portal
 * had 2000 and 20000 typed in, so a change of the limits left its boxes saying something else.
 * The limits are changed here (a module mock) to show the form follows them.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_LONG_TEXT_LENGTH, MAX_TEXT_LENGTH } from '../../src/core/types.js';
import { type AdminPortal, signIn, startAdminPortal } from './admin-kit.js';

vi.mock('../../src/core/types.js', async (original) => ({
  ...(await original<typeof import('../../src/core/types.js')>()),
  MAX_TEXT_LENGTH: 1234,
  MAX_LONG_TEXT_LENGTH: 12345,
}));

const FILES = {
  'note.yaml': `
kind: app
key: note
name: Note
stages: [Submitted, Done]
fields:
  - { key: title, label: Title, type: text }
  - { key: body, label: Body, type: long_text }
`,
};

describe('the portal request form', () => {
  let portal: AdminPortal;
  beforeAll(async () => {
    portal = await startAdminPortal(FILES);
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('caps text and long text boxes at the shared limits', async () => {
    expect([MAX_TEXT_LENGTH, MAX_LONG_TEXT_LENGTH]).toEqual([1234, 12345]);
    const ada = await signIn(portal.app, 'ada');
    const page = await ada.get('/apps/note/new');
    expect(page.html).toMatch(/<input id="f-title" name="title" type="text" maxlength="1234"/);
    expect(page.html).toMatch(/<textarea id="f-body" name="body"[^>]* maxlength="12345"/);
  });
});
