/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

const FILES = {
  'desk.yaml': `
kind: app
key: desk
name: Desk
stages: [Asked, Done]
fields:
  - { key: model, label: Model, type: text, required: true }
  - { key: site, label: Site, type: text, default: Head office }
  - { key: size, label: Size, type: select, options: [Small, Large], default: Large }
  - { key: extras, label: Extras, type: multi_select, options: [Lamp, Drawer], default: [Lamp] }
  - { key: floor, label: Floor, type: number, default: 2 }
`,
};

/**
 * The form starts with the fields' defaults; a person who clears one means "none": the portal
 * used to read the cleared field as "not filled in" and give the default back.
 */
describe('fields with a default on the portal form, in Chromium', { timeout: 90_000 }, () => {
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

  it('a default cleared on the form stays cleared; one left alone is kept', async () => {
    const riley = await signInAs(browser, portal.url, 'Riley Requester');
    const { page } = riley;

    await page.goto(`${portal.url}/apps/desk/new`);
    expect(await page.getByLabel('Site').inputValue()).toBe('Head office');
    expect(await page.getByLabel('Lamp').isChecked()).toBe(true);
    await page.getByLabel('Model').fill('Standing');
    await page.getByLabel('Site').fill('');
    await page.getByLabel('Size').selectOption('');
    await page.getByLabel('Lamp').uncheck();
    await page.getByLabel('Floor').fill('');
    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.waitForURL(/\/requests\/DESK-\d+$/);
    expect(await record(page.url())).toEqual({ model: 'Standing' });

    await page.goto(`${portal.url}/apps/desk/new`);
    await page.getByLabel('Model').fill('Sitting');
    await page.getByLabel('Drawer').check();
    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.waitForURL(/\/requests\/DESK-\d+$/);
    expect(await record(page.url())).toEqual({
      model: 'Sitting',
      site: 'Head office',
      size: 'Large',
      extras: ['Lamp', 'Drawer'],
      floor: 2,
    });
    expect(riley.errors).toEqual([]);
    await riley.context.close();
  });
});
