/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoIdentity } from '../../src/core/playground.js';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

const FILES = {
  'paste.yaml': `
kind: app
key: paste
name: Paste
stages: [Submitted, Done]
fields:
  - { key: summary, label: Summary, type: text, required: true }
  - { key: details, label: Details, type: long_text }
  - { key: link, label: Link, type: url }
`,
  'paste-recipe.yaml': `
kind: recipe
name: paste-flow
trigger: { type: new_request, app: paste }
steps:
  - id: review
    action: assign_task
    to: morgan@playground.baton.invalid
    title: "Review {{ record.summary }}"
    instructions: "{{ record.details }}"
  - action: change_stage
    stage: Done
`,
};

/** Text without spaces (a pasted URL, a log line, an id) must wrap, not push the page sideways. */
describe('long unbroken text in Chromium', { timeout: 90_000 }, () => {
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

  it('the inbox and the request page fit a phone and a desktop', async () => {
    const morgan = await signInAs(browser, portal.url, 'Morgan Manager', {
      viewport: { width: 375, height: 800 },
    });
    const { baton } = portal.runtime;
    const riley = (await baton.users.lookup(`web:${demoIdentity('riley')}`))!;
    const request = await baton.requests.file(riley, 'paste', {
      summary: `build_${'x'.repeat(300)}`,
      details: `https://example.com/${'a/'.repeat(300)}`,
      link: `https://example.com/${'b'.repeat(500)}`,
    });
    await eventually(async () => (await baton.tasks.listForRequest(request._id))[0]);
    const overflow = () =>
      morgan.page.evaluate(() => {
        const width = window.innerWidth;
        const wide = Array.from(document.querySelectorAll('main *'))
          .filter((e) => e.getBoundingClientRect().right > width + 1)
          .map((e) => `${e.tagName.toLowerCase()}.${e.className}`)
          .slice(0, 5);
        return { by: document.documentElement.scrollWidth - width, wide };
      });
    for (const viewport of [
      { width: 375, height: 800 },
      { width: 1280, height: 900 },
    ]) {
      await morgan.page.setViewportSize(viewport);
      for (const path of ['/', `/requests/${request._id}`]) {
        await morgan.page.goto(`${portal.url}${path}`);
        await morgan.page.locator('article.task .ac-adaptiveCard').first().waitFor();
        // Measured once the page has settled (a live update may render the card again).
        let seen = await overflow();
        for (let i = 0; i < 12 && (seen.by > 0 || seen.wide.length > 0); i++) {
          await morgan.page.waitForTimeout(250);
          seen = await overflow();
        }
        expect(seen, `${path} at ${viewport.width} px`).toEqual({ by: 0, wide: [] });
      }
    }
    expect(morgan.errors).toEqual([]);
    await morgan.context.close();
  });
});
