/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

/**
 * The playground banner's "Switch person" led to the sign-in picker, which did not say who
 * was signed in, had no way back without switching, always landed on the inbox, and left no
 * way back to the person one was before but picking them again from the list.
 */
describe('switching person in the playground, in Chromium', { timeout: 90_000 }, () => {
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

  it('says who you are, comes back to the same page, and switches back in one click', async () => {
    const { page, context, errors } = await signInAs(browser, portal.url, 'Morgan Manager');
    const { baton } = portal.runtime;
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const morgan = (await baton.users.lookup('morgan@playground.baton.invalid'))!;
    const request = await baton.requests.file(riley, 'time-off', {
      start: '2027-08-02',
      days: 1,
      approver: morgan._id,
    });
    await eventually(async () => (await baton.tasks.listForRequest(request._id)).length > 0);
    const requestUrl = `${portal.url}/requests/${request._id}`;
    await page.goto(requestUrl);
    const banner = page.getByRole('note');
    expect(await banner.textContent()).toContain('You are Morgan Manager');

    // The picker says who is signed in and leads back without switching.
    await banner.getByRole('link', { name: 'Switch person' }).click();
    await page.getByRole('heading', { name: 'Switch person' }).waitFor();
    expect(await page.getByRole('status').textContent()).toContain('You are signed in as Morgan Manager');
    await page.getByRole('link', { name: 'Back to Baton as Morgan' }).click();
    await page.waitForURL(requestUrl);

    // Switching lands on the same page, as the other person, with a way back.
    await page.getByRole('link', { name: 'Switch person' }).click();
    await page.getByRole('button', { name: /^Riley Requester/ }).click();
    await page.waitForURL(requestUrl);
    expect(await page.getByRole('note').textContent()).toContain('You are Riley Requester');
    await page.getByRole('note').getByRole('button', { name: 'Back to Morgan Manager' }).click();
    await page.waitForURL(requestUrl);
    expect(await page.getByRole('note').textContent()).toContain('You are Morgan Manager');
    // And back again: the way back goes both ways.
    await page.getByRole('note').getByRole('button', { name: 'Back to Riley Requester' }).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });
});
