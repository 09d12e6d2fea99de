/**
 * `npm run screenshots`: starts a playground Baton with some requests, and saves screenshots of
 * the main portal pages to docs/screenshots/ (Chromium through playwright-core). Not a test.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { seedPlayground } from '../../src/core/playground.js';
import { ROOT } from '../helpers/runtime.js';
import { launchChromium, signInAs, startPortal } from './harness.js';

const OUT = path.join(ROOT, 'docs/screenshots');

async function main(): Promise<void> {
  const portal = await startPortal();
  const { baton } = portal.runtime;
  await seedPlayground(baton);
  const who = async (slug: string) => (await baton.users.lookup(`web:demo-${slug}`))!;
  const riley = await who('riley');
  const morgan = await who('morgan');
  const ivan = await who('ivan');
  // Some history to look at.
  const days = [2, 7, 1, 3];
  const filed = [];
  for (const [i, d] of days.entries()) {
    filed.push(
      await baton.requests.file(riley, 'time-off', {
        type: i === 2 ? 'Sick' : 'Vacation',
        start: `2026-12-${String(1 + i * 5).padStart(2, '0')}`,
        days: d,
        approver: morgan._id,
        reason: i === 1 ? 'Family visit in Lisbon' : '',
      }),
    );
  }
  await baton.requests.file(riley, 'expense', {
    amount: 1840,
    currency: 'EUR',
    category: 'travel',
    description: 'Flights to the customer workshop',
    receipt: 'https://example.com/receipts/42',
    approver: morgan._id,
  });
  await baton.requests.file(riley, 'access-request', {
    system: 'GitHub',
    access_level: 'write',
    justification: 'Contributing to the payments service',
  });
  const waitTasks = async (id: string, n: number) => {
    for (let i = 0; i < 200 && (await baton.tasks.listForRequest(id)).length < n; i++)
      await new Promise((r) => setTimeout(r, 50));
  };
  await waitTasks(filed[0]!._id, 1);
  const first = (await baton.tasks.listForRequest(filed[0]!._id))[0]!;
  await baton.tasks.complete(morgan, first._id, 'Approve', { comment: 'Enjoy!' });
  await baton.requests.comment(riley, filed[0]!._id, 'Thanks! I will hand over the on-call rota to Max.');
  await waitTasks(filed[1]!._id, 1);
  await baton.tasks.complete(morgan, (await baton.tasks.listForRequest(filed[1]!._id))[0]!._id, 'Approve');
  void ivan;

  const browser = await launchChromium();
  const shot = async (page: Page, name: string, full = true) => {
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: full });
    process.stdout.write(`docs/screenshots/${name}.png\n`);
  };
  try {
    const anon = await (await browser.newContext({ viewport: { width: 1200, height: 800 } })).newPage();
    await anon.goto(`${portal.url}/login`);
    await shot(anon, 'login');

    const m = await signInAs(browser, portal.url, 'Morgan Manager', {
      viewport: { width: 1200, height: 900 },
    });
    await m.page.locator('article.task .ac-adaptiveCard').first().waitFor();
    await shot(m.page, 'inbox');

    const r = await signInAs(browser, portal.url, 'Riley Requester', {
      viewport: { width: 1200, height: 900 },
    });
    await r.page.goto(`${portal.url}/requests/${filed[0]!._id}`);
    await shot(r.page, 'request');
    await r.page.goto(`${portal.url}/apps/time-off/new`);
    await r.page.getByLabel('First day').fill('2026-12-24');
    await r.page.getByLabel('Working days').fill('40');
    await r.page.getByRole('button', { name: 'Submit request' }).click();
    await r.page.locator('#f-days-error').waitFor();
    await shot(r.page, 'new-request');

    const a = await signInAs(browser, portal.url, 'Ada Admin', { viewport: { width: 1200, height: 800 } });
    await a.page.goto(`${portal.url}/apps/time-off`);
    await shot(a.page, 'requests-table');
    for (const [url, name] of [
      ['/admin', 'admin'],
      ['/dashboard', 'dashboard'],
    ] as const) {
      const res = await a.page.goto(`${portal.url}${url}`);
      if (res?.ok()) await shot(a.page, name);
    }

    const phone = await signInAs(browser, portal.url, 'Morgan Manager', {
      viewport: { width: 390, height: 844 },
    });
    await phone.page.locator('article.task .ac-adaptiveCard').first().waitFor();
    await shot(phone.page, 'inbox-phone', false);
  } finally {
    await browser.close();
    await portal.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`screenshots failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
