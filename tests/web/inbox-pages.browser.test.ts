/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

/**
 * The inbox showed the oldest 50 open tasks and a count of "50+", with no way to reach the
 * others: an approver with 53 tasks could never see the last three on the web.
 */
describe('an inbox of more than 50 tasks, in Chromium', { timeout: 180_000 }, () => {
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

  it('says how many there are and pages through all of them', async () => {
    const { baton } = portal.runtime;
    // Signing in shows the playground picker, which creates the demo people.
    const { page, errors, context } = await signInAs(browser, portal.url, 'Morgan Manager');
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const morgan = (await baton.users.lookup('morgan@playground.baton.invalid'))!;
    for (let i = 0; i < 53; i++)
      await baton.requests.file(riley, 'time-off', { start: '2027-03-01', days: 1, approver: morgan._id });
    await eventually(async () => (await baton.tasks.countOpenFor(morgan)) === 53, 120_000);

    await page.reload();
    expect(await page.getByTestId('inbox-count').textContent()).toBe('53');
    expect(await page.getByTestId('inbox-range').textContent()).toContain('1–50 of 53');
    const first = await page
      .locator('#inbox article.task')
      .evaluateAll((a) => a.map((e) => e.getAttribute('data-request')));
    expect(first).toHaveLength(50);

    await page.getByRole('link', { name: 'Next 3 tasks' }).click();
    await page.waitForURL(/after=/);
    expect(await page.getByTestId('inbox-range').textContent()).toContain('51–53 of 53');
    const rest = await page
      .locator('#inbox article.task')
      .evaluateAll((a) => a.map((e) => e.getAttribute('data-request')));
    expect(rest).toHaveLength(3);
    expect(new Set([...first, ...rest]).size).toBe(53);
    expect(await page.getByRole('link', { name: /Next/ }).count()).toBe(0);

    // The live refresh keeps this page, not the first one.
    await page.locator('html[data-stream="connected"]').waitFor();
    await baton.requests.file(riley, 'time-off', { start: '2027-04-01', days: 1, approver: morgan._id });
    await eventually(async () => (await page.getByTestId('inbox-count').textContent()) === '54', 30_000);
    expect(await page.locator('#inbox article.task').count()).toBe(4);

    await page.getByRole('link', { name: 'First 50' }).click();
    await page.waitForURL(`${portal.url}/`);
    expect(await page.locator('#inbox article.task').count()).toBe(50);
    expect(errors).toEqual([]);
    await context.close();
  });
});
