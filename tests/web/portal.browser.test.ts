/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

describe('web portal in Chromium (playground)', { timeout: 90_000 }, () => {
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

  it('the requester files a request; the manager approves it in another context; the requester sees it live', async () => {
    const riley = await signInAs(browser, portal.url, 'Riley Requester');
    await riley.page.getByRole('link', { name: 'New time off' }).click();
    await riley.page.getByLabel('First day').fill('2026-12-01');
    await riley.page.getByLabel('Working days').fill('2');
    // The approver is pre-filled with Riley's manager.
    expect(await riley.page.getByLabel('Approver').inputValue()).toMatch(/^u_/);
    await riley.page.getByRole('button', { name: 'Submit request' }).click();
    await riley.page.waitForURL(/\/requests\/PTO-\d+$/);
    const id = riley.page.url().split('/').pop()!;
    await riley.page.waitForSelector('html[data-stream="connected"]');
    expect(await riley.page.getByTestId('stage').textContent()).toBe('Submitted');

    const morgan = await signInAs(browser, portal.url, 'Morgan Manager');
    const card = morgan.page.locator('article.task', { hasText: id });
    await card.locator('.ac-adaptiveCard').waitFor();
    await card.getByRole('button', { name: 'Approve' }).click();
    // Done: the card leaves the inbox (its fragment is fetched again), and the core agrees.
    await card.waitFor({ state: 'detached' });

    // Riley's page, without a reload.
    await riley.page.getByTestId('stage').filter({ hasText: 'Approved' }).waitFor({ timeout: 10_000 });
    await riley.page
      .getByTestId('history')
      .getByText(/Morgan Manager approved/)
      .waitFor();
    expect(riley.errors).toEqual([]);
    expect(morgan.errors).toEqual([]);
    await riley.context.close();
    await morgan.context.close();
  });

  it('shows validation errors inline, next to the fields, with the values kept', async () => {
    const riley = await signInAs(browser, portal.url, 'Riley Requester');
    await riley.page.goto(`${portal.url}/apps/time-off/new`);
    await riley.page.getByLabel('First day').fill('2026-12-01');
    await riley.page.getByLabel('Working days').fill('40');
    await riley.page.getByLabel('Reason').fill('Long trip');
    await riley.page.getByRole('button', { name: 'Submit request' }).click();
    const error = riley.page.locator('#f-days-error');
    await error.waitFor();
    // The same message as the chat surfaces (from the core's validation).
    expect(await error.textContent()).toBe('Working days must be at most 30');
    expect(await riley.page.getByLabel('Working days').getAttribute('aria-invalid')).toBe('true');
    expect(await riley.page.getByLabel('Working days').inputValue()).toBe('40');
    expect(await riley.page.getByLabel('Reason').inputValue()).toBe('Long trip');
    expect(riley.page.url()).toBe(`${portal.url}/apps/time-off/new`);
    // The error summary is announced and focused.
    await riley.page.locator('#error-summary:focus').waitFor();
    expect(riley.errors.filter((e) => !/400/.test(e))).toEqual([]);
    await riley.context.close();
  });

  it('someone who may not act on a task sees no buttons, and a forged POST is refused (403)', async () => {
    const { baton } = portal.runtime;
    const riley = await signInAs(browser, portal.url, 'Riley Requester');
    await riley.page.goto(`${portal.url}/apps/access-request/new`);
    await riley.page.getByLabel('System').selectOption('GitHub');
    await riley.page.getByLabel('Justification').fill('Code review');
    await riley.page.getByRole('button', { name: 'Submit request' }).click();
    await riley.page.waitForURL(/\/requests\/ACC-\d+$/);
    const id = riley.page.url().split('/').pop()!;
    // The task for IT shows on the requester's page, rendered from the card, without buttons.
    const card = riley.page.locator('article.task');
    await card.locator('.ac-adaptiveCard').waitFor();
    expect(await card.getAttribute('data-actionable')).toBe('false');
    expect(await card.getByRole('button').count()).toBe(0);
    const taskId = (await card.getAttribute('data-task'))!;
    // A forged POST with Riley's own valid session and CSRF token: the core refuses it.
    const forged = await riley.page.evaluate(async (task) => {
      const csrf = document.querySelector('meta[name="csrf-token"]')!.getAttribute('content')!;
      const res = await fetch(`/tasks/${task}/complete`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf, 'x-requested-with': 'fetch' },
        body: JSON.stringify({ outcome: 'Approve' }),
      });
      return { status: res.status, body: (await res.json()) as { error: string; message: string } };
    }, taskId);
    expect(forged.status).toBe(403);
    expect(forged.body.error).toBe('baton.forbidden');
    expect(forged.body.message).toMatch(/assigned to group it/);
    // Without the CSRF token the shell refuses before the core is asked.
    const noCsrf = await riley.page.evaluate(async (task) => {
      const res = await fetch(`/tasks/${task}/complete`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'outcome=Approve',
      });
      return res.status;
    }, taskId);
    expect(noCsrf).toBe(403);
    expect((await baton.tasks.load(taskId))?.status).toBe('open');
    expect((await baton.requests.load(id))?.stage).toBe('Submitted');

    // Someone with no part in the request cannot even open it.
    const fiona = await signInAs(browser, portal.url, 'Fiona Finance');
    const res = await fiona.page.goto(`${portal.url}/requests/${id}`);
    expect(res?.status()).toBe(403);
    await riley.context.close();
    await fiona.context.close();
  });

  it('an admin stops a recipe; a request filed afterwards starts no job', async () => {
    const { baton } = portal.runtime;
    const ada = await signInAs(browser, portal.url, 'Ada Admin');
    await ada.page.goto(`${portal.url}/admin/recipes/expense-approval`);
    await ada.page.getByRole('button', { name: /^Stop/ }).click();
    await ada.page.waitForURL(/done=stopped/);
    expect(
      (await baton.recipes.get((await baton.users.lookup('web:demo-ada'))!, 'expense-approval')).state,
    ).toBe('stopped');

    const riley = await signInAs(browser, portal.url, 'Riley Requester');
    await riley.page.goto(`${portal.url}/apps/expense/new`);
    await riley.page.getByLabel('Amount').fill('42');
    await riley.page.getByLabel('Category').selectOption('meals');
    await riley.page.getByLabel('Description').fill('Team lunch');
    await riley.page.getByRole('button', { name: 'Submit request' }).click();
    await riley.page.waitForURL(/\/requests\/EXP-\d+$/);
    const id = riley.page.url().split('/').pop()!;
    expect(await riley.page.locator('#open-h + .empty').textContent()).toBe('No open tasks.');
    // The trigger was dispatched (nothing pending) and no job exists for the request.
    const request = await baton.requests.load(id);
    expect(request?.pending).toEqual([]);
    expect(await baton.ctx.db.jobs.countDocuments({ request_id: id })).toBe(0);
    expect(await baton.ctx.db.tasks.countDocuments({ request_id: id })).toBe(0);
    await ada.context.close();
    await riley.context.close();
  });

  it('main pages load without console errors, on a desktop and on a phone', async () => {
    for (const viewport of [
      { width: 1280, height: 900 },
      { width: 390, height: 844 },
    ]) {
      const morgan = await signInAs(browser, portal.url, 'Morgan Manager', { viewport });
      const first = (
        await portal.runtime.baton.requests.listMine(
          (await portal.runtime.baton.users.lookup('web:demo-riley'))!,
          { limit: 1, app: 'time-off' },
        )
      )[0]!;
      for (const path of [
        '/',
        '/apps',
        '/apps/time-off',
        '/apps/time-off/new',
        `/requests/${first._id}`,
        '/dashboard',
      ]) {
        const res = await morgan.page.goto(`${portal.url}${path}`);
        expect(res?.status(), path).toBe(200);
        await morgan.page.waitForLoadState('networkidle').catch(() => {});
        const overflow = await morgan.page.evaluate(
          () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
        );
        expect(overflow, `${path} scrolls sideways at ${viewport.width}px`).toBeLessThanOrEqual(0);
      }
      expect(morgan.errors).toEqual([]);
      await morgan.context.close();
    }
  });

  it('is keyboard accessible: a task can be approved with Tab and Enter', async () => {
    const riley = await signInAs(browser, portal.url, 'Riley Requester');
    await riley.page.goto(`${portal.url}/apps/time-off/new`);
    await riley.page.getByLabel('First day').fill('2026-12-07');
    await riley.page.getByLabel('Working days').fill('1');
    await riley.page.getByLabel('Working days').press('Enter');
    await riley.page.waitForURL(/\/requests\/PTO-\d+$/);
    const id = riley.page.url().split('/').pop()!;
    const morgan = await signInAs(browser, portal.url, 'Morgan Manager');
    const card = morgan.page.locator('article.task', { hasText: id });
    await card.locator('.ac-adaptiveCard').waitFor();
    const approve = card.getByRole('button', { name: 'Approve' });
    for (let i = 0; i < 60 && !(await approve.evaluate((el) => el === document.activeElement)); i++)
      await morgan.page.keyboard.press('Tab');
    expect(await approve.evaluate((el) => el === document.activeElement)).toBe(true);
    await morgan.page.keyboard.press('Enter');
    // Done: the card leaves the inbox (its fragment is fetched again), and the core agrees.
    await card.waitFor({ state: 'detached' });
    await riley.context.close();
    await morgan.context.close();
  });

  it('works without JavaScript: the plain form under each card completes the task', async () => {
    const { baton } = portal.runtime;
    const riley = (await baton.users.lookup('web:demo-riley'))!;
    const morgan = (await baton.users.lookup('web:demo-morgan'))!;
    const request = await baton.requests.file(riley, 'time-off', {
      start: '2026-12-21',
      days: 1,
      approver: morgan._id,
    });
    await eventually(async () => (await baton.tasks.listForRequest(request._id)).length > 0);
    const context = await browser.newContext({ javaScriptEnabled: false });
    context.setDefaultTimeout(20_000);
    const page = await context.newPage();
    await page.goto(`${portal.url}/login`);
    await page.getByRole('button', { name: /Morgan Manager/ }).click();
    await page.waitForURL(`${portal.url}/`);
    const card = page.locator('article.task', { hasText: request._id });
    await card
      .locator('.task-fallback')
      .getByLabel(/Comment/)
      .fill('Enjoy the holidays');
    await card.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${portal.url}/`);
    expect(await page.locator('article.task', { hasText: request._id }).count()).toBe(0);
    const task = (await baton.tasks.listForRequest(request._id))[0]!;
    expect(task).toMatchObject({ status: 'completed', outcome: 'Approve', comment: 'Enjoy the holidays' });
    await context.close();
  });
});
