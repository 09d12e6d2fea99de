/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal, watchErrors } from './harness.js';

/**
 * Reassigning a task to a group with no members is refused with the reason ("… Add someone to
 * it first, or choose someone else"); the portal used to show it on a dead-end 'Problem' page
 * with only a link to the inbox, so the person could not choose someone else from there.
 */
describe('a refused reassignment, in Chromium', { timeout: 90_000 }, () => {
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

  it('shows the reassign form again with the reason, the choice kept, and lets the person choose again', async () => {
    const { baton } = portal.runtime;
    // Showing the sign-in page creates the demo people.
    await signInAs(browser, portal.url, 'Ada Admin').then((s) => s.context.close());
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const ada = (await baton.users.lookup('ada@playground.baton.invalid'))!;
    await baton.groups.create(ada, 'legal', 'Legal');
    const request = await baton.requests.file(riley, 'time-off', {
      start: '2027-03-01',
      days: 1,
      approver: (await baton.users.lookup('morgan@playground.baton.invalid'))!._id,
    });
    await eventually(async () => (await baton.tasks.listForRequest(request._id)).length > 0);
    // Without JavaScript (the pages work without it), so no live refresh can redraw the form meanwhile.
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${portal.url}/login`);
    await page.getByRole('button', { name: /Morgan Manager/ }).click();
    await page.waitForURL(`${portal.url}/`);
    const morgan = { context, page, errors };
    await morgan.page.goto(`${portal.url}/requests/${request._id}`);
    await morgan.page.locator('details.reassign summary').click();
    await morgan.page.getByLabel('To', { exact: true }).selectOption({ label: 'legal' });
    await morgan.page.getByRole('button', { name: 'Reassign' }).click();

    const error = morgan.page.locator('form[action$="/reassign"] .field-error');
    await error.waitFor();
    expect(await error.textContent()).toBe('Group legal has no members');
    expect(await morgan.page.getByRole('alert').textContent()).toMatch(
      /^Group legal has no members: .* choose someone else\.$/,
    );
    expect(await morgan.page.getByLabel('To', { exact: true }).inputValue()).toBe('group:legal');
    expect(await morgan.page.getByLabel('To', { exact: true }).getAttribute('aria-invalid')).toBe('true');

    await morgan.page
      .getByLabel('To', { exact: true })
      .selectOption({ label: 'Max Manager (max@playground.baton.invalid)' });
    await morgan.page.getByRole('button', { name: 'Reassign' }).click();
    // Morgan has no task on it any more: the inbox says it was handed on.
    await morgan.page.waitForURL(`${portal.url}/?handed=1`);
    const [task] = await baton.tasks.listForRequest(request._id);
    const max = (await baton.users.lookup('max@playground.baton.invalid'))!;
    expect(task).toMatchObject({ status: 'open', assignee_key: `user:${max._id}` });
    expect(morgan.errors.filter((e) => !/ 400: POST .*\/reassign$| status of 400 /.test(e))).toEqual([]);
    await morgan.context.close();
  });
});
