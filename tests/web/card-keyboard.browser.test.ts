/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

/**
 * With the keyboard alone, Tab stopped on each task card's outer box (the adaptivecards
 * library makes a card's root focusable) before reaching its comment box: one useless stop
 * per card, announced as a whole card by screen readers.
 */
describe('tabbing through the inbox, in Chromium', { timeout: 90_000 }, () => {
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

  it('goes from control to control, never to a card itself', async () => {
    const { page, context, errors } = await signInAs(browser, portal.url, 'Morgan Manager');
    const { baton } = portal.runtime;
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const morgan = (await baton.users.lookup('morgan@playground.baton.invalid'))!;
    for (const start of ['2027-09-01', '2027-09-08'])
      await baton.requests.file(riley, 'time-off', { start, days: 1, approver: morgan._id });
    await eventually(async () => (await baton.tasks.listOpenFor(morgan)).length === 2);
    await page.reload();
    await eventually(async () => (await page.locator('article.task.rendered').count()) === 2);

    const stops: string[] = [];
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      stops.push(await page.evaluate(() => document.activeElement?.tagName ?? ''));
    }
    expect(stops.filter((tag) => tag === 'TEXTAREA')).toHaveLength(2);
    expect(
      stops.filter((tag) => !['A', 'BUTTON', 'TEXTAREA', 'INPUT', 'SELECT', 'BODY'].includes(tag)),
    ).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
});
