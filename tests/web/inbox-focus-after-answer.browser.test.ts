/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

/**
 * With the keyboard alone, answering a task in the inbox (Tab to Approve, Enter) dropped the
 * focus to the top of the page once the answered card left the list: the next Tab went to
 * "Skip to content", and every further task meant tabbing through the whole navigation again.
 * The focus now goes to the card that takes the answered one's place.
 */
describe('the keyboard focus after answering a task in the inbox, in Chromium', { timeout: 90_000 }, () => {
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

  it('moves to the next task, whose Approve is a few Tabs away', async () => {
    const { page, context, errors } = await signInAs(browser, portal.url, 'Morgan Manager');
    const { baton } = portal.runtime;
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const morgan = (await baton.users.lookup('morgan@playground.baton.invalid'))!;
    for (const start of ['2027-09-01', '2027-09-08'])
      await baton.requests.file(riley, 'time-off', { start, days: 1, approver: morgan._id });
    await eventually(async () => (await baton.tasks.listOpenFor(morgan)).length === 2);
    await page.reload();
    await eventually(async () => (await page.locator('article.task.rendered').count()) === 2);
    const second = await page.locator('article.task').nth(1).getAttribute('data-task');

    const first = page.locator('article.task.rendered').first().getByRole('button', { name: 'Approve' });
    await first.focus();
    await page.keyboard.press('Enter');
    await eventually(async () => (await page.locator('article.task').count()) === 1);
    // The focus moves once the live refresh has put the list back together: wait for it to settle there.
    const focusedTask = () =>
      page.evaluate(() => document.activeElement?.closest('article.task')?.getAttribute('data-task') ?? null);
    await eventually(async () => (await focusedTask()) === second);
    await page.waitForTimeout(300);
    const focused = await page.evaluate(() => ({
      inBody: document.activeElement === document.body || document.activeElement === null,
      task: document.activeElement?.closest('article.task')?.getAttribute('data-task') ?? null,
    }));
    expect(focused.inBody).toBe(false);
    expect(focused.task).toBe(second);
    // From there, the remaining card's Approve is reached without leaving the card.
    let reached = false;
    for (let i = 0; i < 6 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(
        () =>
          document.activeElement?.getAttribute('aria-label') === 'Approve' &&
          document.activeElement.closest('article.task') !== null,
      );
    }
    expect(reached).toBe(true);

    // The last one, answered on its request page: the focus goes to the list's heading, not the page's top.
    await page.goto(`${portal.url}/requests/${(await baton.tasks.load(second!))!.request_id}`);
    await page.locator('article.task.rendered').waitFor();
    await page.locator('article.task.rendered').getByRole('button', { name: 'Approve' }).focus();
    await page.keyboard.press('Enter');
    await eventually(async () => (await page.locator('article.task').count()) === 0);
    const focusedId = () => page.evaluate(() => document.activeElement?.id ?? null);
    await eventually(async () => (await focusedId()) === 'open-h');
    await page.waitForTimeout(300);
    expect(await focusedId()).toBe('open-h');
    expect(errors).toEqual([]);
    await context.close();
  });
});
