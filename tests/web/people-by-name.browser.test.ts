/// <reference lib="dom" />
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
});
