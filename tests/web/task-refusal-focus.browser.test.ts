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
stages: [Asked, Done, Refused]
fields:
  - { key: what, label: What, type: text, required: true }
  - { key: approver, label: Approver, type: user, required: true }
`,
  'repair-approval.yaml': `
kind: recipe
name: repair-approval
trigger: { type: new_request, app: repair }
steps:
  - id: check
    action: assign_task
    to: "{{ record.approver }}"
    title: "Repair {{ record.what }}"
    outcomes:
      - Approve
      - { label: Reject, style: danger, comment: required }
    inputs:
      - { id: ticket, label: Ticket number, type: text, required_for: [Approve] }
`,
};

/**
 * A task answer refused for a missing comment or input (pressed with the keyboard) left the
 * focus on the page itself: the pressed button is disabled while the answer is sent, which
 * drops the focus, and nothing put it back. A keyboard user had to tab through the whole
 * page again to reach the box the message asks for, and the box was not marked as invalid.
 */
describe('a refused task answer, with the keyboard, in Chromium', { timeout: 90_000 }, () => {
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

  it('moves the focus to the comment or input the answer needs, marked invalid and tied to the message', async () => {
    const { page, context, errors } = await signInAs(browser, portal.url, 'Morgan Manager');
    const { baton } = portal.runtime;
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const morgan = (await baton.users.lookup('morgan@playground.baton.invalid'))!;
    const request = await baton.requests.file(riley, 'repair', { what: 'the door', approver: morgan._id });
    await eventually(async () => (await baton.tasks.listOpenFor(morgan)).length === 1);

    await page.goto(`${portal.url}/requests/${request._id}`);
    const card = page.locator('article.task.rendered');
    await card.waitFor();
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        const described = el?.getAttribute('aria-describedby');
        return {
          label: el?.getAttribute('aria-label') ?? el?.textContent ?? '',
          tag: el?.tagName ?? '',
          invalid: el?.getAttribute('aria-invalid') ?? null,
          says: described ? (document.getElementById(described)?.textContent ?? '') : '',
        };
      });

    await card.getByRole('button', { name: 'Reject' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await focused()).tag, { timeout: 15_000 }).toBe('TEXTAREA');
    expect(await focused()).toMatchObject({ invalid: 'true', says: 'A comment is required to Reject' });

    // The comment is typed; Approve needs the ticket number: the focus goes there.
    await page.keyboard.type('not this one');
    await card.getByRole('button', { name: 'Approve' }).focus();
    await page.keyboard.press('Enter');
    await expect
      .poll(async () => (await focused()).says, { timeout: 15_000 })
      .toBe('Ticket number is required to Approve');
    expect(await focused()).toMatchObject({ tag: 'INPUT', invalid: 'true' });
    // The comment box is no longer the one in the wrong.
    const comment = card.locator('.card-host textarea');
    expect(await comment.getAttribute('aria-invalid')).toBeNull();
    expect(await comment.getAttribute('aria-describedby')).toBeNull();

    await page.keyboard.type('T-1234');
    await card.getByRole('button', { name: 'Approve' }).focus();
    await page.keyboard.press('Enter');
    await eventually(async () => (await baton.tasks.listOpenFor(morgan)).length === 0);
    const task = (await baton.tasks.listForRequest(request._id))[0];
    expect(task).toMatchObject({ outcome: 'Approve', inputs_values: { ticket: 'T-1234' } });
    expect(errors.filter((e) => !e.includes('400'))).toEqual([]);
    await context.close();
  });

  it('keeps the refused field marked and tied to the message when the page refreshes live', async () => {
    const { page, context } = await signInAs(browser, portal.url, 'Morgan Manager');
    const { baton } = portal.runtime;
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const morgan = (await baton.users.lookup('morgan@playground.baton.invalid'))!;
    const request = await baton.requests.file(riley, 'repair', { what: 'the window', approver: morgan._id });
    await eventually(async () =>
      (await baton.tasks.listForRequest(request._id)).some((t) => t.status === 'open'),
    );
    await page.goto(`${portal.url}/requests/${request._id}`);
    await page.waitForSelector('html[data-stream="connected"]');
    const card = page.locator('article.task.rendered');
    await card.waitFor();
    await card.getByRole('button', { name: 'Reject' }).click();
    const comment = card.locator('.card-host textarea');
    await expect.poll(() => comment.getAttribute('aria-invalid'), { timeout: 15_000 }).toBe('true');

    await baton.requests.comment(riley, request._id, 'Any news?');
    await page.getByTestId('history').getByText('Any news?').waitFor();
    const marked = page.locator('article.task.rendered .card-host textarea');
    expect(await marked.getAttribute('aria-invalid')).toBe('true');
    const tied = await marked.getAttribute('aria-describedby');
    expect(await page.locator(`[id="${tied}"]`).textContent()).toBe('A comment is required to Reject');
    await context.close();
  });
});
