/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

/**
 * The adaptivecards library gives each input's container the input's id ("comment"), so an
 * inbox of several task cards repeated that id once per card: invalid HTML, and anything that
 * finds an element by id (a label, a screen reader's "labelled by") found the first card's.
 */
describe('the inbox with several task cards, in Chromium', { timeout: 90_000 }, () => {
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

  it('gives every element its own id, and each label its own card input', async () => {
    const { baton } = portal.runtime;
    const morgan = await signInAs(browser, portal.url, 'Morgan Manager');
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const approver = (await baton.users.lookup('morgan@playground.baton.invalid'))!._id;
    for (const start of ['2027-03-01', '2027-03-08', '2027-03-15'])
      await baton.requests.file(riley, 'time-off', { start, days: 1, approver });
    const manager = (await baton.users.find(approver))!;
    await eventually(async () => (await baton.tasks.listOpenFor(manager)).length === 3, 30_000);
    await morgan.page.goto(`${portal.url}/`);
    await eventually(async () => (await morgan.page.locator('article.task.rendered').count()) === 3, 30_000);

    const ids = await morgan.page.evaluate(() => Array.from(document.querySelectorAll('[id]'), (e) => e.id));
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);

    // Clicking the second card's label puts the cursor in the second card's box (clicked again
    // if a live refresh of the inbox, late on a busy machine, re-rendered the cards meanwhile).
    const second = morgan.page.locator('article.task').nth(1);
    const secondTask = await second.getAttribute('data-task');
    await eventually(async () => {
      await second.locator('.card-host label', { hasText: 'Comment' }).click();
      const focusedIn = await morgan.page.evaluate(() =>
        document.activeElement?.closest('article.task')?.getAttribute('data-task'),
      );
      return focusedIn === secondTask;
    }, 30_000);
    expect(morgan.errors).toEqual([]);
    await morgan.context.close();
  });
});
