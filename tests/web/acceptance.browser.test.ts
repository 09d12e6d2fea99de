/// <reference lib="dom" />
// Acceptance QA of the portal in Chromium: what a person does that the other tests did not.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

describe('portal acceptance in Chromium', { timeout: 90_000 }, () => {
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

  it('Back after filing and Submit again does not file the request twice', async () => {
    const riley = await signInAs(browser, portal.url, 'Riley Requester');
    const page = riley.page;
    await page.goto(`${portal.url}/apps/access-request/new`);
    await page.getByLabel('System').selectOption('GitHub');
    await page.getByLabel('Justification').fill('Back button check');
    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.waitForURL(/\/requests\/[A-Z]+-\d+$/);
    const first = page.url();
    await page.goBack();
    await page.getByLabel('Justification').waitFor();
    expect(await page.getByLabel('Justification').inputValue()).toBe('Back button check');
    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.waitForURL(/\/requests\/[A-Z]+-\d+$/);
    expect(page.url()).toBe(first);
    const mine = await portal.runtime.baton.requests.listMine(
      (await portal.runtime.baton.users.lookup('riley@playground.baton.invalid'))!,
      { app: 'access-request' },
    );
    expect(mine.filter((r) => r.record.justification === 'Back button check')).toHaveLength(1);
    // A new form is a new request.
    await page.goto(`${portal.url}/apps/access-request/new`);
    await page.getByLabel('System').selectOption('GitHub');
    await page.getByLabel('Justification').fill('Back button check');
    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.waitForURL(/\/requests\/[A-Z]+-\d+$/);
    expect(page.url()).not.toBe(first);
    expect(riley.errors).toEqual([]);
    await riley.context.close();
  });

  it('keeps the line breaks of a long text on the request page', async () => {
    const riley = await signInAs(browser, portal.url, 'Riley Requester');
    const page = riley.page;
    await page.goto(`${portal.url}/apps/time-off/new`);
    await page.getByLabel('First day').fill('2026-12-01');
    await page.getByLabel('Working days').fill('1');
    await page.getByLabel('Reason').fill('First line\nSecond line');
    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.waitForURL(/\/requests\/PTO-\d+$/);
    const reason = page
      .locator('dl.facts dt', { hasText: 'Reason' })
      .locator('xpath=following-sibling::dd[1]')
      .first();
    // biome-ignore lint/performance/useDomNodeTextContent: innerText is the text as shown, line breaks included
    expect(await reason.innerText()).toBe('First line\nSecond line');
    expect(riley.errors).toEqual([]);
    await riley.context.close();
  });

  it('a comment typed into a task card survives a live update of the inbox', async () => {
    const { baton } = portal.runtime;
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const file = async (justification: string) => {
      const r = await baton.requests.file(riley, 'access-request', { system: 'GitHub', justification });
      return eventually(async () =>
        (await baton.tasks.listForRequest(r._id)).find((t) => t.status === 'open'),
      );
    };
    const first = await file('Live refresh one');
    const ivan = await signInAs(browser, portal.url, 'Ivan IT');
    await ivan.page.waitForSelector('html[data-stream="connected"]');
    const card = ivan.page.locator(`article.task[data-task="${first._id}"]`);
    const comment = card.locator('.card-host textarea').first();
    await comment.fill('Needs a manager sign-off first');
    await ivan.page.locator('h1').first().click(); // leaves the field
    // Something else changes: a new task for the it group arrives, and the inbox is fetched again.
    const second = await file('Live refresh two');
    await ivan.page.locator(`article.task[data-task="${second._id}"] .ac-adaptiveCard`).waitFor();
    expect(await comment.inputValue()).toBe('Needs a manager sign-off first');
    await card.getByRole('button', { name: 'Reject' }).click();
    await card.waitFor({ state: 'detached' });
    const done = (await baton.tasks.listForRequest(first.request_id))[0]!;
    expect(done).toMatchObject({
      status: 'completed',
      outcome: 'Reject',
      comment: 'Needs a manager sign-off first',
    });
    expect(ivan.errors).toEqual([]);
    await ivan.context.close();
  });

  it('the task card takes an optional comment (time off: a manager may say why they reject)', async () => {
    const { baton } = portal.runtime;
    const m = await signInAs(browser, portal.url, 'Morgan Manager'); // the playground's people exist from here
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const morgan = (await baton.users.lookup('morgan@playground.baton.invalid'))!;
    const r = await baton.requests.file(riley, 'time-off', {
      start: '2026-12-28',
      days: 2,
      approver: morgan._id,
    });
    const task = await eventually(async () =>
      (await baton.tasks.listForRequest(r._id)).find((t) => t.status === 'open'),
    );
    await m.page.reload();
    await m.page.waitForSelector('html[data-stream="connected"]');
    const card = m.page.locator(`article.task[data-task="${task._id}"]`);
    await card
      .locator('.card-host')
      .getByLabel(/Comment/)
      .fill('Not during the release');
    await card.locator('.card-host').getByRole('button', { name: 'Reject' }).click();
    await card.waitFor({ state: 'detached' });
    expect((await baton.tasks.listForRequest(r._id))[0]).toMatchObject({
      status: 'completed',
      outcome: 'Reject',
      comment: 'Not during the release',
    });
    await eventually(async () => (await baton.requests.load(r._id))?.stage === 'Rejected');
    const notice = await eventually(async () =>
      (await baton.requests.get(riley, r._id)).history.find((e) =>
        /was rejected: Not during the release/.test(e.text),
      ),
    );
    expect(notice).toBeTruthy();
    expect(m.errors).toEqual([]);
    await m.context.close();
  });
});
