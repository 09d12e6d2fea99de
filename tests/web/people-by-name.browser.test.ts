/// <reference lib="dom" />
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

/**
 * With more than 300 people, the request form's person field becomes a text box ("Name or
 * email") whose suggestions hold the first 300 by name; a name typed in it was refused ("no
 * person named … is known"), and the reassign list simply had no one after the 300th.
 */
describe('picking a person among more than 300, in Chromium', { timeout: 120_000 }, () => {
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

  it('takes a typed name that matches one person, and says so when it matches several', async () => {
    const riley = await signInAs(browser, portal.url, 'Riley Requester');
    const { baton } = portal.runtime;
    for (let i = 1; i <= 320; i++) {
      const n = String(i).padStart(3, '0');
      await baton.users.resolve({
        provider: 'web',
        id: `p${n}`,
        name: `Person ${n}`,
        email: `p${n}@example.com`,
      });
    }
    const zoe = await baton.users.resolve({
      provider: 'web',
      id: 'zoe',
      name: 'Zoe Zimmer',
      email: 'zoe@example.com',
    });

    await riley.page.goto(`${portal.url}/apps/time-off/new`);
    await riley.page.getByLabel('First day').fill('2027-07-01');
    await riley.page.getByLabel('Working days').fill('1');
    await riley.page.getByLabel('Approver').fill('Person 01');
    await riley.page.getByRole('button', { name: 'Submit request' }).click();
    await riley.page.locator('#error-summary').getByText('several people match "Person 01"').waitFor();
    expect(await riley.page.getByLabel('Approver').inputValue()).toBe('Person 01');

    await riley.page.getByLabel('Approver').fill('zoe zimmer');
    await riley.page.getByRole('button', { name: 'Submit request' }).click();
    await riley.page.waitForURL(/\/requests\/PTO-\d+$/);
    const id = riley.page.url().split('/').pop()!;
    const request = await baton.requests.load(id);
    expect(request?.record.approver).toBe(zoe._id);
    await eventually(async () => (await baton.tasks.listForRequest(id)).length > 0);

    // Ada (an admin) hands Zoe's task to Person 320, typed by name.
    const ada = await signInAs(browser, portal.url, 'Ada Admin');
    await ada.page.goto(`${portal.url}/requests/${id}`);
    await ada.page.waitForSelector('html[data-stream="connected"]');
    await ada.page.locator('details.reassign summary').click();
    await ada.page.getByLabel('To', { exact: true }).fill('Person 320');
    await ada.page.getByRole('button', { name: 'Reassign', exact: true }).click();
    await eventually(async () => {
      const [task] = await baton.tasks.listForRequest(id);
      return task?.assignee_key === `user:${(await baton.users.lookup('p320@example.com'))!._id}`;
    });
    // Only the refused, ambiguous post answered with an error (400).
    expect(riley.errors.filter((e) => !e.includes('400'))).toEqual([]);
    expect(ada.errors).toEqual([]);
    await riley.context.close();
    await ada.context.close();
  });

  it('filters the requests table and its CSV export by a typed name', async () => {
    const ada = await signInAs(browser, portal.url, 'Ada Admin');
    const { baton } = portal.runtime;
    for (let i = 1; i <= 320; i++) {
      const n = String(i).padStart(3, '0');
      await baton.users.resolve({
        provider: 'web',
        id: `p${n}`,
        name: `Person ${n}`,
        email: `p${n}@example.com`,
      });
    }
    const yara = await baton.users.resolve({
      provider: 'web',
      id: 'yara',
      name: 'Yara Young',
      email: 'yara@example.com',
    });
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const mine = await baton.requests.file(riley, 'time-off', {
      start: '2027-07-05',
      days: 1,
      approver: yara._id,
    });
    await baton.requests.file(riley, 'time-off', {
      start: '2027-07-12',
      days: 1,
      approver: 'p001@example.com',
    });

    await ada.page.goto(`${portal.url}/apps/time-off`);
    await ada.page.getByLabel('Approver').fill('Yara Young');
    await ada.page.getByRole('button', { name: 'Apply' }).click();
    await ada.page.waitForURL(/f\.approver=/);
    expect(await ada.page.getByTestId('total').textContent()).toBe('1 request');
    expect(await ada.page.locator('table.list tbody td:first-child').allTextContents()).toEqual([mine._id]);
    expect(await ada.page.getByLabel('Approver').inputValue()).toBe('Yara Young');

    const download = ada.page.waitForEvent('download');
    await ada.page.getByRole('link', { name: /Export CSV/ }).click();
    const csv = readFileSync((await (await download).path())!, 'utf8')
      .trim()
      .split('\r\n');
    expect(csv).toHaveLength(2);
    expect(csv[1]).toContain(mine._id);
    expect(ada.errors).toEqual([]);
    await ada.context.close();
  });
});
