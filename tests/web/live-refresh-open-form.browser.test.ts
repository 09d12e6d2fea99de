/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

/**
 * A request page redraws its part when the request changes (a comment, a stage): the Reassign
 * form someone had opened used to snap shut under them, losing the person they had chosen.
 */
describe('live refresh of a request page, in Chromium', { timeout: 90_000 }, () => {
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

  it('keeps an opened Reassign form open, with the choice made in it', async () => {
    const morgan = await signInAs(browser, portal.url, 'Morgan Manager');
    const { baton } = portal.runtime;
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const approver = (await baton.users.lookup('morgan@playground.baton.invalid'))!._id;
    const request = await baton.requests.file(riley, 'time-off', { start: '2027-03-01', days: 1, approver });
    await eventually(async () => (await baton.tasks.listForRequest(request._id)).length > 0);
    const { page } = morgan;
    await page.goto(`${portal.url}/requests/${request._id}`);
    await page.waitForSelector('html[data-stream="connected"]');
    await page.locator('details.reassign summary').click();
    const to = page.getByLabel('To', { exact: true });
    await to.selectOption({ label: 'hr' });
    await page.locator('h1').click(); // the choice is made; the select is left

    await baton.requests.comment(riley, request._id, 'Any news?');
    await page.getByTestId('history').getByText('Any news?').waitFor();
    expect(await page.locator('details.reassign').evaluate((d) => (d as HTMLDetailsElement).open)).toBe(true);
    expect(await to.inputValue()).toBe('group:hr');
    expect(morgan.errors).toEqual([]);
    await morgan.context.close();
  });
  it('keeps a name typed in the Reassign box (more than 300 people) across a refresh', async () => {
    const morgan = await signInAs(browser, portal.url, 'Morgan Manager');
    const { baton } = portal.runtime;
    for (let i = 1; i <= 310; i++) {
      const n = String(i).padStart(3, '0');
      await baton.users.resolve({
        provider: 'web',
        id: `p${n}`,
        name: `Person ${n}`,
        email: `p${n}@example.com`,
      });
    }
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const approver = (await baton.users.lookup('morgan@playground.baton.invalid'))!._id;
    const request = await baton.requests.file(riley, 'time-off', { start: '2027-03-08', days: 1, approver });
    await eventually(async () => (await baton.tasks.listForRequest(request._id)).length > 0);
    const { page } = morgan;
    await page.goto(`${portal.url}/requests/${request._id}`);
    await page.waitForSelector('html[data-stream="connected"]');
    await page.locator('details.reassign summary').click();
    const to = page.getByLabel('To', { exact: true });
    await to.fill('Person 307');
    await page.locator('h1').click(); // typed, and left

    await baton.requests.comment(riley, request._id, 'Still there?');
    await page.getByTestId('history').getByText('Still there?').waitFor();
    expect(await to.inputValue()).toBe('Person 307');
    await page.getByRole('button', { name: 'Reassign', exact: true }).click();
    const p307 = (await baton.users.lookup('p307@example.com'))!;
    await eventually(
      async () => (await baton.tasks.listForRequest(request._id))[0]?.assignee_key === `user:${p307._id}`,
    );
    expect(morgan.errors).toEqual([]);
    await morgan.context.close();
  });
});
