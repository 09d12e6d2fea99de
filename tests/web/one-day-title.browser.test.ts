/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

/** A one-day time off reached the approver's inbox as "Time off: 1 days of Vacation …". */
describe('a one-day time off in the inbox, in Chromium', { timeout: 90_000 }, () => {
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

  it('says "1 day", and "2 days" for two', async () => {
    const { page, context, errors } = await signInAs(browser, portal.url, 'Morgan Manager');
    const { baton } = portal.runtime;
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const morgan = (await baton.users.lookup('morgan@playground.baton.invalid'))!;
    await baton.requests.file(riley, 'time-off', { start: '2027-11-01', days: 1, approver: morgan._id });
    await baton.requests.file(riley, 'time-off', { start: '2027-11-08', days: 2, approver: morgan._id });
    await eventually(async () => (await baton.tasks.listOpenFor(morgan)).length === 2);
    await page.reload();
    await page.locator('article.task.rendered').nth(1).waitFor();
    const headings = await page.locator('article.task .card-host [role="heading"]').allTextContents();
    expect(headings).toEqual([
      'Time off: 1 day of Vacation for Riley Requester',
      'Time off: 2 days of Vacation for Riley Requester',
    ]);
    expect(errors).toEqual([]);
    await context.close();
  });
});
