/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoIdentity } from '../../src/core/playground.js';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

const OUTCOMES = [
  'Approve',
  'Reject',
  'Send back for changes',
  'Escalate to the director',
  'Needs legal review',
  // More than the adaptivecards library shows by default (5, or 6 with its host config): none is dropped.
  'Hold until next quarter',
  'Close as duplicate',
];

const FILES = {
  'triage.yaml': `
kind: app
key: triage
name: Triage
stages: [Submitted, Done]
fields:
  - { key: summary, label: Summary, type: text, required: true }
`,
  'triage-recipe.yaml': `
kind: recipe
name: triage-flow
trigger: { type: new_request, app: triage }
steps:
  - id: pick
    action: assign_task
    to: max@playground.baton.invalid
    title: "Triage {{ record.summary }}"
    outcomes: ${JSON.stringify(OUTCOMES)}
  - action: change_stage
    stage: Done
`,
};

/** A task card with many (and long) outcomes: every button can be seen and pressed, on a desktop and on a phone. */
describe('task card buttons in Chromium', { timeout: 90_000 }, () => {
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

  for (const [name, viewport] of [
    ['desktop', { width: 1280, height: 900 }],
    ['phone', { width: 375, height: 800 }],
  ] as const) {
    it(`on a ${name}, every outcome and "View request" are inside the card, and the page does not scroll sideways`, async () => {
      const max = await signInAs(browser, portal.url, 'Max Manager', { viewport });
      const { baton } = portal.runtime;
      const riley = (await baton.users.lookup(`web:${demoIdentity('riley')}`))!;
      const request = await baton.requests.file(riley, 'triage', { summary: `printer on floor 3 (${name})` });
      const task = await eventually(async () => (await baton.tasks.listForRequest(request._id))[0]);
      await max.page.reload();
      const card = max.page.locator('article.task', { hasText: request._id });
      await card.locator('.ac-adaptiveCard').waitFor();
      const measure = () =>
        card.evaluate((article) => {
          const box = article.getBoundingClientRect();
          return {
            overflow: document.documentElement.scrollWidth - window.innerWidth,
            buttons: Array.from(article.querySelectorAll('.ac-pushButton')).map((b) => {
              const r = b.getBoundingClientRect();
              const label = b.firstElementChild as HTMLElement | null;
              return {
                text: b.textContent,
                inside: r.left >= box.left - 1 && r.right <= box.right + 1 && r.width > 0,
                onScreen: r.right <= window.innerWidth,
                // (a pixel of slack: fractional widths round)
                clipped: label ? label.scrollWidth > label.clientWidth + 1 : false,
              };
            }),
          };
        });
      // Measured once the card has settled (a live update may render it again right after load).
      let layout = await measure();
      for (let i = 0; i < 20; i++) {
        const ok =
          layout.overflow <= 0 &&
          layout.buttons.length === OUTCOMES.length + 1 &&
          layout.buttons.every((b) => b.inside && b.onScreen && !b.clipped);
        if (ok) break;
        await max.page.waitForTimeout(250);
        layout = await measure();
      }
      expect(layout.overflow).toBeLessThanOrEqual(0);
      expect(layout.buttons.map((b) => b.text)).toEqual([...OUTCOMES, 'View request']);
      for (const b of layout.buttons)
        expect(b, String(b.text)).toMatchObject({ inside: true, onScreen: true, clipped: false });
      // The last outcome works like the first.
      await card.getByRole('button', { name: 'Close as duplicate' }).click();
      await card.waitFor({ state: 'detached' });
      expect((await baton.tasks.load(task._id))?.outcome).toBe('Close as duplicate');
      expect(max.errors).toEqual([]);
      await max.context.close();
    });
  }
});
