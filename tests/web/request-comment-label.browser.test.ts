/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

/**
 * The request page's comment box was labelled through id "comment", which the rendered task
 * card (its comment input, cards/task.json) also gives an element above it: the label then
 * named nothing, and the box had no accessible name for a screen reader.
 */
describe('the request page comment box, in Chromium', { timeout: 90_000 }, () => {
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

  it('keeps its label while a task card is shown above it', async () => {
    const morgan = await signInAs(browser, portal.url, 'Morgan Manager');
    const { baton } = portal.runtime;
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const approver = (await baton.users.lookup('morgan@playground.baton.invalid'))!._id;
    const request = await baton.requests.file(riley, 'time-off', { start: '2027-03-01', days: 1, approver });
    await eventually(async () => (await baton.tasks.listForRequest(request._id)).length > 0);
    await morgan.page.goto(`${portal.url}/requests/${request._id}`);
    await morgan.page.locator('article.task.rendered').waitFor();

    const box = morgan.page
      .getByRole('region', { name: 'Add a comment' })
      .getByRole('textbox', { name: 'Comment', exact: true });
    expect(await box.count()).toBe(1);
    await box.fill('Looks fine to me');
    await morgan.page.getByRole('button', { name: 'Comment', exact: true }).click();
    await morgan.page.getByTestId('history').getByText('Looks fine to me').waitFor();
    const ids = await morgan.page.evaluate(() => Array.from(document.querySelectorAll('[id]'), (e) => e.id));
    expect(ids.filter((id) => id === 'request-comment')).toHaveLength(1);
    expect(morgan.errors).toEqual([]);
    await morgan.context.close();
  });
});
