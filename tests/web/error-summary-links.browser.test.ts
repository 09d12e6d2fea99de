/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

const FILES = {
  'move.yaml': `
kind: app
key: move
name: Office move
stages: [Asked, Done]
fields:
  - { key: what, label: What, type: text, required: true }
  - { key: services, label: Services, type: multi_select, required: true, options: [Packing, Transport, Cleaning], help: Pick at least one }
  - { key: insured, label: Insured, type: boolean }
`,
};

/**
 * The error summary above a refused form links each message to its field (#f-<key>). A
 * multi_select field had no element with that id (its boxes sit in a fieldset with none), so
 * its link went nowhere: the focus stayed in the summary, and a keyboard user could not reach
 * the boxes from it.
 */
describe('the error summary of a refused request form, in Chromium', { timeout: 90_000 }, () => {
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

  it('takes each message to its field, a list of boxes included', async () => {
    const { page, context } = await signInAs(browser, portal.url, 'Riley Requester');
    await page.goto(`${portal.url}/apps/move/new`);
    await page.getByRole('button', { name: 'Submit request' }).click();
    const summary = page.locator('#error-summary');
    await summary.waitFor();
    const links = await summary.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(links).toEqual(['#f-what', '#f-services']);
    for (const href of links) expect(await page.locator(href!).count()).toBe(1);

    await summary.getByRole('link', { name: /Services/ }).click();
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).value)).toBe('Packing');
    await page.keyboard.press('Space');
    await summary.getByRole('link', { name: /What/ }).click();
    await page.keyboard.type('Desks to 4th floor');
    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.waitForURL(/\/requests\/MOVE-\d+$/);
    const id = page.url().split('/').pop()!;
    expect((await portal.runtime.baton.requests.load(id))!.record).toMatchObject({
      what: 'Desks to 4th floor',
      services: ['Packing'],
    });
    await context.close();
  });
});
