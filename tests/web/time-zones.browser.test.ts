/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

const FILES = {
  'repair.yaml': `
kind: app
key: repair
name: Repair
id_prefix: FIX
stages: [Reported, Fixed]
fields:
  - { key: what, label: What is broken, type: text, required: true }
`,
  'repair-flow.yaml': `
kind: recipe
name: repair-flow
trigger: { type: new_request, app: repair }
steps:
  - id: fix
    action: assign_task
    to: morgan@playground.baton.invalid
    title: "Fix {{ record.what }}"
    outcomes: [Fixed]
    expires_in: 2d
`,
};

/**
 * Times on the portal's pages were turned into the reader's local time with no zone shown
 * ("Dec 4, 2026, 11:28 PM"), next to history texts in UTC and a task card's "Expires … at 11:28 PM":
 * nobody could tell which zone a time was in. Page times and the card's times now name the zone.
 */
describe('times on the portal say their zone, in Chromium', { timeout: 90_000 }, () => {
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

  it('in New York: EST (or EDT) on page times and on the task card', async () => {
    const { page, context, errors } = await signInAs(browser, portal.url, 'Morgan Manager', {
      timezoneId: 'America/New_York',
      locale: 'en-US',
    });
    const { baton } = portal.runtime;
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const request = await baton.requests.file(riley, 'repair', { what: 'the printer' });
    await eventually(async () => (await baton.tasks.listForRequest(request._id)).length === 1);
    await page.goto(`${portal.url}/requests/${request._id}`);
    await page.locator('article.task.rendered').waitFor();
    const zone = /\b(EST|EDT)$/;
    const filed = await page.locator('.page-head time').first().textContent();
    expect(filed).toMatch(zone);
    const history = await page.locator('[data-testid="history"] time').allTextContents();
    expect(history.length).toBeGreaterThan(0);
    for (const t of history) expect(t).toMatch(zone);
    const card = await page.locator('article.task .card-host').textContent();
    expect(card).toMatch(/Expires .+ at \d{1,2}:\d\d [AP]M (EST|EDT)/);
    expect(errors).toEqual([]);
    await context.close();
  });

  // The history's "…, expires 2026-12-08 10:19 UTC" was plain UTC text beside times in the
  // reader's zone: the expiry is now a time like them.
  it("in Tokyo: a task's expiry in the history is in the reader's zone, not UTC", async () => {
    const { page, context, errors } = await signInAs(browser, portal.url, 'Riley Requester', {
      timezoneId: 'Asia/Tokyo',
      locale: 'en-US',
    });
    const { baton } = portal.runtime;
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const request = await baton.requests.file(riley, 'repair', { what: 'the lamp' });
    const [task] = await eventually(async () => {
      const tasks = await baton.tasks.listForRequest(request._id);
      return tasks.length === 1 ? tasks : undefined;
    });
    await page.goto(`${portal.url}/requests/${request._id}`);
    const line = page.locator('[data-testid="history"] .event-task_assigned .event-text');
    const expected = new Date(task!.expires_at!).toLocaleString('en-US', {
      timeZone: 'Asia/Tokyo',
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      hour: 'numeric',
      minute: '2-digit',
    });
    await expect
      .poll(() => line.textContent())
      .toBe(`Task "Fix the lamp" assigned to Morgan Manager, expires ${expected} GMT+9`);
    expect(await page.locator('[data-testid="history"]').textContent()).not.toContain('UTC');
    expect(errors).toEqual([]);
    await context.close();
  });
});
