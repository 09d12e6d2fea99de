/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

/**
 * An expense's receipt (a web address field) was shown as plain text on the request page and
 * in the requests table: to look at the receipt an approver had to copy and paste it.
 */
describe('web address fields, in Chromium', { timeout: 90_000 }, () => {
  let portal: Portal;
  let browser: Browser;

  beforeAll(async () => {
    portal = await startPortal();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await portal?.close();
  });

  it('are links on the request page and in the table', async () => {
    const { page, context, errors } = await signInAs(browser, portal.url, 'Riley Requester');
    const { baton } = portal.runtime;
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const morgan = (await baton.users.lookup('morgan@playground.baton.invalid'))!;
    const receipt = 'https://receipts.example.com/2027/lunch.pdf?id=1&v=2';
    const request = await baton.requests.file(riley, 'expense', {
      amount: 18,
      category: 'meals',
      description: 'Lunch',
      receipt,
      approver: morgan._id,
    });
    await page.goto(`${portal.url}/requests/${request._id}`);
    const onPage = page.locator('dl.facts').first().getByRole('link', { name: receipt });
    expect(await onPage.getAttribute('href')).toBe(receipt);
    expect(await onPage.getAttribute('rel')).toContain('noopener');

    await page.goto(`${portal.url}/apps/expense`);
    const inTable = page.locator('table.list').getByRole('link', { name: receipt });
    expect(await inTable.getAttribute('href')).toBe(receipt);
    expect(errors).toEqual([]);
    await context.close();
  });
});
