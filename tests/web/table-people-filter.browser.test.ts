/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

const FILES = {
  'gear.yaml': `
kind: app
key: gear
name: Gear
stages: [Asked, Done]
fields:
  - { key: item, label: Item, type: text, required: true }
  - { key: approver, label: Approver, type: user, required: true }
`,
};

/**
 * The requests table shows people by name; its person filter was a bare text box that found
 * nothing for the name the table shows ("Max Manager"), only for an email or a user id.
 */
describe('requests table: filter by a person, in Chromium', { timeout: 90_000 }, () => {
  let portal: Portal;
  let browser: Browser;

  beforeAll(async () => {
    portal = await startPortal({ RECIPES_DIR: recipesDir(FILES) });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await portal?.close();
  });

  it('offers the people by name and filters by the one chosen', async () => {
    const ada = await signInAs(browser, portal.url, 'Ada Admin');
    const { baton } = portal.runtime;
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const morgan = (await baton.users.lookup('morgan@playground.baton.invalid'))!;
    const max = (await baton.users.lookup('max@playground.baton.invalid'))!;
    await baton.requests.file(riley, 'gear', { item: 'Desk', approver: morgan._id });
    const chair = await baton.requests.file(riley, 'gear', { item: 'Chair', approver: max._id });

    await ada.page.goto(`${portal.url}/apps/gear`);
    await ada.page
      .getByLabel('Approver')
      .selectOption({ label: 'Max Manager (max@playground.baton.invalid)' });
    await ada.page.getByRole('button', { name: 'Apply' }).click();
    await ada.page.waitForURL(/f\.approver=/);
    expect(await ada.page.getByTestId('total').textContent()).toBe('1 request');
    const ids = await ada.page.locator('table.list tbody td:first-child').allTextContents();
    expect(ids).toEqual([chair._id]);
    // The chosen person stays chosen on the filtered page.
    expect(await ada.page.getByLabel('Approver').inputValue()).toBe(max._id);
    expect(ada.errors).toEqual([]);
    await ada.context.close();
  });
});
