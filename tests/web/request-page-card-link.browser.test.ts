/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

/** On the request page, the task card offered "View request": a button that only reloaded the page. */
describe('a task card on its own request page, in Chromium', { timeout: 90_000 }, () => {
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

  it('has no "View request" button there, and keeps it in the inbox', async () => {
    const { page, context, errors } = await signInAs(browser, portal.url, 'Morgan Manager');
    const { baton } = portal.runtime;
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const morgan = (await baton.users.lookup('morgan@playground.baton.invalid'))!;
    const request = await baton.requests.file(riley, 'time-off', {
      start: '2027-10-04',
      days: 1,
      approver: morgan._id,
    });
    await eventually(async () => (await baton.tasks.listForRequest(request._id)).length > 0);

    await page.reload();
    const inInbox = page.locator('article.task.rendered .card-host');
    await inInbox.waitFor();
    expect(await inInbox.locator('.ac-pushButton').allTextContents()).toEqual([
      'Approve',
      'Reject',
      'View request',
    ]);

    await inInbox.locator('.ac-pushButton', { hasText: 'View request' }).click();
    await page.waitForURL(`${portal.url}/requests/${request._id}`);
    const onPage = page.locator('article.task.rendered .card-host');
    await onPage.waitFor();
    expect(await onPage.locator('.ac-pushButton').allTextContents()).toEqual(['Approve', 'Reject']);
    expect(errors).toEqual([]);
    await context.close();
  });
});
