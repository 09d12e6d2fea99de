/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

/**
 * Task cards broke their facts' titles inside words, on a phone and on a desktop: an
 * expense's "Description" read "Descriptio" / "n". Titles now wrap at word boundaries only,
 * and a long value still wraps rather than push the page sideways.
 */
describe('task card fact titles, in Chromium', { timeout: 90_000 }, () => {
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

  for (const viewport of [
    { width: 375, height: 800 },
    { width: 1280, height: 900 },
  ])
    it(`keeps each title's words whole at ${viewport.width} px`, async () => {
      const { page, context, errors } = await signInAs(browser, portal.url, 'Morgan Manager', { viewport });
      const { baton } = portal.runtime;
      const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
      const morgan = (await baton.users.lookup('morgan@playground.baton.invalid'))!;
      await baton.requests.file(riley, 'expense', {
        amount: 42,
        category: 'travel',
        description: `Train to Berlin and back, ${'long words '.repeat(20)}`,
        approver: morgan._id,
      });
      await eventually(async () => (await baton.tasks.listOpenFor(morgan)).length > 0);
      await page.reload();
      await page.locator('article.task.rendered').first().waitFor();
      // Each title's text sits on as many lines as it has words at most, never more.
      const titles = await page
        .locator('article.task.rendered')
        .first()
        .locator('.ac-fact-title .ac-textBlock')
        .evaluateAll((els) =>
          els.map((el) => {
            const range = document.createRange();
            range.selectNodeContents(el);
            const lines = new Set(Array.from(range.getClientRects(), (r) => Math.round(r.top))).size;
            return { text: el.textContent ?? '', lines };
          }),
        );
      expect(titles.map((t) => t.text)).toContain('Description');
      for (const t of titles) expect(t.lines, t.text).toBeLessThanOrEqual(t.text.split(' ').length);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
        viewport.width,
      );
      expect(errors).toEqual([]);
      await context.close();
    });
});
