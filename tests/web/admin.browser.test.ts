/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedPlayground } from '../../src/core/playground.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

/** The admin pages and the dashboard in Chromium: on a desktop and a phone, and with the keyboard alone. */
describe('admin pages and dashboard in Chromium', () => {
  let portal: Portal;
  let browser: Browser;
  let jobId: string;

  beforeAll(async () => {
    portal = await startPortal();
    browser = await launchChromium();
    const { baton } = portal.runtime;
    await seedPlayground(baton);
    const riley = (await baton.users.lookup('web:demo-riley'))!;
    const morgan = (await baton.users.lookup('web:demo-morgan'))!;
    for (const amount of [40, 120, 900]) {
      await baton.requests.file(riley, 'expense', {
        amount,
        currency: 'EUR',
        category: 'meals',
        description: `Lunch for ${amount / 20}`,
        approver: morgan._id,
      });
    }
    const [task] = await baton.tasks.listOpenFor(morgan);
    await baton.tasks.complete(morgan, task!._id, 'Approve');
    jobId = (await baton.recipes.listJobs((await baton.users.lookup('web:demo-ada'))!))[0]!._id;
  });

  afterAll(async () => {
    await browser?.close();
    await portal?.close();
  });

  it('every admin page and the dashboard load without console errors and without sideways scrolling, on a desktop and a phone', async () => {
    for (const viewport of [
      { width: 1280, height: 900 },
      { width: 390, height: 844 },
    ]) {
      const ada = await signInAs(browser, portal.url, 'Ada Admin', { viewport });
      for (const path of [
        '/admin',
        '/admin/apps',
        '/admin/apps/expense',
        '/admin/recipes',
        '/admin/recipes/expense-approval',
        '/admin/recipes/new',
        '/admin/jobs',
        '/admin/jobs?status=waiting',
        `/admin/jobs/${jobId}`,
        '/admin/groups',
        '/admin/groups/finance',
        '/admin/roles',
        '/dashboard',
        '/dashboard?days=90',
      ]) {
        const res = await ada.page.goto(`${portal.url}${path}`);
        expect(res?.status(), path).toBe(200);
        const overflow = await ada.page.evaluate(
          () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
        );
        expect(overflow, `${path} scrolls sideways at ${viewport.width}px`).toBeLessThanOrEqual(0);
      }
      // The dashboard's charts are drawn and scale to the phone's width.
      await ada.page.goto(`${portal.url}/dashboard`);
      const charts = ada.page.locator('svg.chart:visible');
      expect(await charts.count()).toBe(3); // no failed jobs yet: no fourth chart
      expect(await charts.first().getAttribute('class')).toBe(
        viewport.width < 600 ? 'chart chart-narrow' : 'chart chart-wide',
      );
      const box = await charts.first().boundingBox();
      expect(box!.width).toBeLessThanOrEqual(viewport.width);
      expect(box!.height).toBeGreaterThan(50);
      expect(await ada.page.getByRole('img', { name: /Requests filed per day/ }).count()).toBe(1);
      expect(ada.errors).toEqual([]);
      await ada.context.close();
    }
  });

  it('with the keyboard alone, an admin stops a recipe and adds a stage to an app', async () => {
    const { baton } = portal.runtime;
    const ada = await signInAs(browser, portal.url, 'Ada Admin');
    const admin = (await baton.users.lookup('web:demo-ada'))!;
    await ada.page.goto(`${portal.url}/admin/recipes`);
    const stop = ada.page
      .locator('tr[data-recipe="time-off-approval"]')
      .getByRole('button', { name: 'Stop' });
    const focused = () => stop.evaluate((el) => el === document.activeElement);
    for (let i = 0; i < 80 && !(await focused()); i++) await ada.page.keyboard.press('Tab');
    expect(await focused()).toBe(true);
    await ada.page.keyboard.press('Enter');
    await ada.page.waitForURL(/done=stopped/);
    expect((await baton.recipes.get(admin, 'time-off-approval')).state).toBe('stopped');
    expect(await ada.page.locator('tr[data-recipe="time-off-approval"] .state').textContent()).toBe(
      'Stopped',
    );

    await ada.page.goto(`${portal.url}/admin/apps/time-off`);
    const stageInput = ada.page.getByLabel('Stage name');
    for (let i = 0; i < 120 && !(await stageInput.evaluate((el) => el === document.activeElement)); i++)
      await ada.page.keyboard.press('Tab');
    await ada.page.keyboard.type('On hold');
    await ada.page.keyboard.press('Enter');
    await ada.page.waitForURL(/added=stage/);
    expect((await baton.apps.get('time-off')).stages.at(-1)).toBe('On hold');
    expect(ada.errors).toEqual([]);
    await ada.context.close();
  });
});
