/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

/**
 * Signing out in another tab and then sending a form here gave "This form has expired:
 * reload the page", and what the person had typed was gone. Now they are told they are
 * signed out, sign in again, and find the form (or the task card) filled in as they left it.
 */
describe('sending a form after signing out in another tab, in Chromium', { timeout: 120_000 }, () => {
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

  it('says so, and after signing in again the request form has what was typed', async () => {
    const { page, context, errors } = await signInAs(browser, portal.url, 'Riley Requester');
    await page.goto(`${portal.url}/apps/time-off/new`);
    await page.getByLabel('First day').fill('2027-05-03');
    await page.getByLabel('Working days').fill('2');
    await page.getByLabel('Reason').fill('Family visit, planned for months');

    const other = await context.newPage();
    await other.goto(`${portal.url}/`);
    await other.getByRole('button', { name: 'Sign out' }).click();
    await other.waitForURL(/\/login/);
    await other.close();

    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.getByRole('heading', { name: 'You are signed out' }).waitFor();
    await page.getByRole('link', { name: 'Sign in again' }).click();
    await page.getByRole('button', { name: /^Riley Requester/ }).click();
    await page.waitForURL(`${portal.url}/apps/time-off/new`);
    await page.getByText('what you typed is back').waitFor();
    expect(await page.getByLabel('First day').inputValue()).toBe('2027-05-03');
    expect(await page.getByLabel('Working days').inputValue()).toBe('2');
    expect(await page.getByLabel('Reason').inputValue()).toBe('Family visit, planned for months');

    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.waitForURL(/\/requests\/PTO-\d+$/);
    expect(await page.getByText('Family visit, planned for months').count()).toBeGreaterThan(0);
    // Only the refused post answered with an error (401, and the console says so).
    expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
    await context.close();
  });

  it('keeps the comment typed in a task card, and the answer goes through after signing in', async () => {
    const { baton } = portal.runtime;
    const { page, context } = await signInAs(browser, portal.url, 'Morgan Manager');
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const morgan = (await baton.users.lookup('morgan@playground.baton.invalid'))!;
    const request = await baton.requests.file(riley, 'time-off', {
      start: '2027-06-01',
      days: 1,
      approver: morgan._id,
    });
    await eventually(async () => (await baton.tasks.listForRequest(request._id)).length > 0);
    await page.goto(`${portal.url}/requests/${request._id}`);
    const card = page.locator('article.task.rendered');
    await card.locator('.card-host textarea').fill('Enjoy the break');

    const other = await context.newPage();
    await other.goto(`${portal.url}/`);
    await other.getByRole('button', { name: 'Sign out' }).click();
    await other.waitForURL(/\/login/);
    await other.close();

    await card.locator('.card-host').getByRole('button', { name: 'Approve' }).click();
    await card.getByText('You are signed out').waitFor();
    await card.getByRole('link', { name: 'Sign in again' }).click();
    await page.getByRole('button', { name: /^Morgan Manager/ }).click();
    await page.waitForURL(`${portal.url}/requests/${request._id}`);
    const again = page.locator('article.task.rendered');
    expect(await again.locator('.card-host textarea').inputValue()).toBe('Enjoy the break');
    await again.locator('.card-host').getByRole('button', { name: 'Approve' }).click();
    await eventually(async () => (await baton.tasks.listForRequest(request._id))[0]?.status === 'completed');
    const [task] = await baton.tasks.listForRequest(request._id);
    expect(task?.comment).toBe('Enjoy the break');
    await context.close();
  });
});
