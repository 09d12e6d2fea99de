/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedPlayground } from '../../src/core/playground.js';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

const FILES = {
  'gear.yaml': `
kind: app
key: gear
name: Gear
id_prefix: GEAR
stages: [Filed, Approved]
fields:
  - { key: item, label: Item, type: text, required: true }
`,
  'gear-approval.yaml': `
kind: recipe
name: gear-approval
trigger: { type: new_request, app: gear }
steps:
  - id: manager
    action: assign_task
    to: morgan@playground.baton.invalid
    title: "Approve {{ record.item }} for {{ requester.name }}, who asked for it on the form"
    expires_in: 2d
`,
  'gear-audit.yaml': `
kind: recipe
name: gear-audit
trigger: { type: new_request, app: gear }
steps:
  - id: cfo
    action: assign_task
    to: group:cfo-office
    title: "Audit {{ record.item }}"
`,
  'gear-broken.yaml': `
kind: recipe
name: gear-broken
trigger: { type: new_request, app: gear }
steps:
  - id: compute
    action: update_record
    fields: { item: "{{ $string($number(record.item) * 2) }}" }
`,
};

/**
 * Admin → Jobs with failed jobs (long errors) and a waiting one: at 1100px the table was wider
 * than the page (the waiting job's step on one line), the Error column squeezed to a few
 * characters a line and the Rerun button out of sight to the right; on a phone the same. The
 * table now fits the page (and, below the width its columns need, shows each job as a block of
 * labelled lines), the error readable and the button in view.
 */
describe('Admin → Jobs fits the page, in Chromium', { timeout: 90_000 }, () => {
  let portal: Portal;
  let browser: Browser;
  let messages: string[];

  beforeAll(async () => {
    portal = await startPortal({ RECIPES_DIR: recipesDir(FILES) });
    browser = await launchChromium();
    const { baton } = portal.runtime;
    await seedPlayground(baton);
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const ada = (await baton.users.lookup('ada@playground.baton.invalid'))!;
    for (const item of ['Laptop', 'Standing desk']) await baton.requests.file(riley, 'gear', { item });
    const failed = await eventually(async () => {
      const jobs = await baton.recipes.listJobs(ada, { status: 'failed' });
      return jobs.length === 4 ? jobs : undefined;
    });
    messages = failed.map((j) => j.error!.message);
    expect(Math.max(...messages.map((m) => m.length))).toBeGreaterThan(160);
  });
  afterAll(async () => {
    await browser?.close();
    await portal?.close();
  });

  for (const width of [1100, 800, 360]) {
    it(`at ${width}px: no sideways scroll, every Rerun button in view, the error readable`, async () => {
      const { page, context, errors } = await signInAs(browser, portal.url, 'Ada Admin', {
        viewport: { width, height: 900 },
      });
      await page.goto(`${portal.url}/admin/jobs`);
      const layout = await page.evaluate(() => {
        const wrap = document.querySelector('.table-wrap')!;
        return {
          page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
          table: wrap.scrollWidth - wrap.clientWidth,
          buttons: Array.from(document.querySelectorAll('table.list button')).map((b) => {
            const r = b.getBoundingClientRect();
            return { left: r.left, right: r.right, text: b.textContent };
          }),
          errors: Array.from(document.querySelectorAll('table.list .problem')).map((e) => ({
            width: e.getBoundingClientRect().width,
            text: e.textContent ?? '',
            full: e.getAttribute('title') ?? '',
          })),
        };
      });
      expect(layout.page, 'the page scrolls sideways').toBeLessThanOrEqual(0);
      expect(layout.table, 'the table scrolls sideways').toBeLessThanOrEqual(0);
      expect(layout.buttons.map((b) => b.text)).toEqual(['Rerun', 'Rerun', 'Rerun', 'Rerun']);
      for (const b of layout.buttons) {
        expect(b.left).toBeGreaterThanOrEqual(0);
        expect(b.right).toBeLessThanOrEqual(width);
      }
      expect(layout.errors).toHaveLength(4);
      for (const e of layout.errors) {
        // Not a few characters a line: at least ~20 characters wide.
        expect(e.width, e.text).toBeGreaterThanOrEqual(160);
        // Cut or not, the whole message is there to read.
        expect(e.full.length).toBeGreaterThanOrEqual(e.text.replace(/…$/, '').length);
      }
      expect(layout.errors.map((e) => e.full).sort()).toEqual([...messages].sort());
      expect(errors).toEqual([]);
      await context.close();
    });
  }
});
