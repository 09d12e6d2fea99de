/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoIdentity } from '../../src/core/playground.js';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

const FILES = {
  'policy.yaml': `
kind: app
key: policy
name: Policy
id_prefix: POL
stages: [Draft, Approved, Rejected]
fields:
  - { key: title, label: Title, type: text, required: true }
`,
  'board.yaml': `
kind: recipe
name: policy-board
trigger: { type: new_request, app: policy }
steps:
  - id: board
    action: assign_task
    to: group:board
    title: "Policy: {{ record.title }}"
    outcomes: [Approve, Reject]
    quorum: { mode: all }
  - action: change_stage
    stage: "{{ steps.board.outcome = 'Approve' ? 'Approved' : 'Rejected' }}"
`,
};

/**
 * A group task with a quorum in the portal: after one member answers, every open page shows
 * where it stands (live), the one who answered has no buttons left, and the decision replaces it.
 */
describe('portal: a group task with a quorum, in Chromium', { timeout: 120_000 }, () => {
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

  it('"Approved by Morgan Manager — 1 of 3 responses, waiting for …" on every page; then the decision', async () => {
    const { baton } = portal.runtime;
    // Signing in creates the demo people.
    const morgan = await signInAs(browser, portal.url, 'Morgan Manager');
    const max = await signInAs(browser, portal.url, 'Max Manager');
    const hana = await signInAs(browser, portal.url, 'Hana HR');
    const who = async (slug: string) => (await baton.users.lookup(`web:${demoIdentity(slug)}`))!;
    const ada = await who('ada');
    await baton.groups.create(ada, 'board', 'The board');
    for (const slug of ['morgan', 'max', 'hana'])
      await baton.groups.addMember(ada, 'board', (await who(slug))._id);
    const request = await baton.requests.file(await who('riley'), 'policy', { title: 'Remote work' });
    await eventually(async () => (await baton.tasks.listForRequest(request._id))[0]);

    const cardOn = (page: typeof morgan.page) => page.locator('article.task', { hasText: 'Remote work' });
    for (const p of [morgan, max, hana]) {
      await p.page.goto(`${portal.url}/`);
      await cardOn(p.page).locator('.ac-adaptiveCard').waitFor();
      await p.page.waitForSelector('html[data-stream="connected"]');
    }
    await cardOn(morgan.page).getByRole('button', { name: 'Approve' }).click();

    const partial = 'Approved by Morgan Manager — 1 of 3 responses, waiting for Max Manager and Hana HR';
    // Morgan: the task is no longer waiting for them, so it leaves their inbox; their request
    // page says where it stands, with their answer and no buttons.
    await expect
      .poll(() => cardOn(morgan.page).getByRole('button', { name: 'Approve' }).count(), { timeout: 20_000 })
      .toBe(0);
    await morgan.page.goto(`${portal.url}/requests/${request._id}`);
    const standing = (await morgan.page.locator('main').textContent()) ?? '';
    expect(standing).toContain(partial);
    expect(standing).toContain('You answered "Approve"');
    expect(await morgan.page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    // Max and Hana: their pages update by themselves, with the same line and their buttons.
    for (const p of [max, hana]) {
      await cardOn(p.page).locator('.ac-adaptiveCard', { hasText: partial }).waitFor({ timeout: 10_000 });
      expect(await cardOn(p.page).getByRole('button', { name: 'Approve' }).count()).toBe(1);
    }

    await cardOn(max.page).getByRole('button', { name: 'Approve' }).click();
    await cardOn(hana.page)
      .locator('.ac-adaptiveCard', {
        hasText: 'Approved by Morgan Manager and Max Manager — 2 of 3 responses',
      })
      .waitFor({ timeout: 10_000 });
    await cardOn(hana.page).getByRole('button', { name: 'Approve' }).click();
    await eventually(async () => (await baton.requests.load(request._id))!.stage === 'Approved');

    // The request page shows the decision, naming the three, and no count.
    await morgan.page.goto(`${portal.url}/requests/${request._id}`);
    const main = (await morgan.page.locator('main').textContent()) ?? '';
    expect(main).toContain('Approved by Morgan Manager, Max Manager and Hana HR');
    expect(main).not.toContain('responses, waiting for');
    for (const p of [morgan, max, hana]) {
      expect(p.errors).toEqual([]);
      await p.context.close();
    }
  });
});
