/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

const FILES = {
  'laptop.yaml': `
kind: app
key: laptop
name: Laptop
stages: [Asked, Done]
fields:
  - { key: model, label: Model, type: text, required: true }
  - { key: backup, label: Keep a backup, type: boolean, default: true }
  - { key: urgent, label: Urgent, type: boolean }
`,
};

/**
 * A box ticked by default (`default: true`) must be untickable: a browser sends nothing for an
 * unticked box, and the portal used to read that as "not filled in" and give the default back.
 */
describe('boolean fields on the portal form, in Chromium', { timeout: 90_000 }, () => {
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

  const record = async (url: string) => {
    const id = url.split('/').pop()!;
    return (await portal.runtime.baton.requests.load(id))!.record;
  };

  it('unticking a box that starts ticked records false; leaving it ticked records true', async () => {
    const riley = await signInAs(browser, portal.url, 'Riley Requester');
    const { page } = riley;

    await page.goto(`${portal.url}/apps/laptop/new`);
    expect(await page.getByLabel('Keep a backup').isChecked()).toBe(true);
    expect(await page.getByLabel('Urgent').isChecked()).toBe(false);
    await page.getByLabel('Model').fill('X1');
    await page.getByLabel('Keep a backup').uncheck();
    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.waitForURL(/\/requests\/LAPTOP-\d+$/);
    expect(await record(page.url())).toEqual({ model: 'X1', backup: false, urgent: false });

    await page.goto(`${portal.url}/apps/laptop/new`);
    await page.getByLabel('Model').fill('X2');
    await page.getByLabel('Urgent').check();
    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.waitForURL(/\/requests\/LAPTOP-\d+$/);
    expect(await record(page.url())).toEqual({ model: 'X2', backup: true, urgent: true });
    expect(riley.errors).toEqual([]);
    await riley.context.close();
  });

  it('a refused form shows the box as it was left (unticked), and submits it unticked', async () => {
    const riley = await signInAs(browser, portal.url, 'Riley Requester');
    const { page } = riley;
    await page.goto(`${portal.url}/apps/laptop/new`);
    await page.getByLabel('Keep a backup').uncheck();
    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.locator('#f-model-error').waitFor();
    expect(await page.getByLabel('Keep a backup').isChecked()).toBe(false);
    await page.getByLabel('Model').fill('X3');
    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.waitForURL(/\/requests\/LAPTOP-\d+$/);
    expect(await record(page.url())).toEqual({ model: 'X3', backup: false, urgent: false });
    await riley.context.close();
  });
});
