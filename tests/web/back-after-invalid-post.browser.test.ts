/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

/**
 * A form sent with a mistake comes back, from the POST, with the messages; once corrected and
 * filed, Back went to that POST's page, which was sent `no-store`: Chrome could only show
 * "Confirm Form Resubmission" (ERR_CACHE_MISS). Pages answering a POST may now be kept for
 * history (`private, no-cache`): Back shows the form as it was, and sending it again leads
 * to the request already filed, not a copy.
 */
describe('Back after correcting a request form, in Chromium', { timeout: 90_000 }, () => {
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

  it('shows the form again, and Submit again files nothing new', async () => {
    const { page, context } = await signInAs(browser, portal.url, 'Riley Requester');
    await page.goto(`${portal.url}/apps/expense/new`);
    await page.getByLabel('Amount').fill('12');
    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.locator('#error-summary').waitFor();
    await page.getByLabel('Category').selectOption('meals');
    await page.getByLabel('Description').fill('Team lunch');
    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.waitForURL(/\/requests\/EXP-\d+$/);
    const filed = page.url();

    await page.goBack();
    expect(await page.getByLabel('Description').inputValue()).toBe('Team lunch');
    await page.getByRole('button', { name: 'Submit request' }).click();
    await page.waitForURL(filed);
    expect(
      await portal.runtime.baton.requests.listMine(
        (await portal.runtime.baton.users.lookup('riley@playground.baton.invalid'))!,
        { limit: 10 },
      ),
    ).toHaveLength(1);
    await context.close();
  });
});
