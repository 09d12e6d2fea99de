import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { type Portal, startPortal } from './harness.js';
import { signedIn, textOf } from './http-client.js';

const FILES = {
  'stock.yaml': `
kind: app
key: stock
name: Stock order
id_prefix: STK
stages: [Asked, Ordered]
fields:
  - { key: item, label: Item, type: text, required: true }
  - { key: qty, label: Quantity, type: number }
  - { key: needed_by, label: Needed by, type: date }
`,
};

/**
 * A hand-edited table address: `?f.qty=abc` gave a dead-end "Problem" page (only a link to the
 * inbox), and `?f.needed_by=tomorrow` quietly matched nothing. Both now show the table, with the
 * message at that filter (its value kept), and the filter left out of the rows shown.
 */
describe('the requests table with a filter it cannot use', () => {
  let portal: Portal;
  beforeAll(async () => {
    portal = await startPortal({ RECIPES_DIR: recipesDir(FILES) });
  });
  afterAll(async () => {
    await portal.close();
  });

  it('says so at the filter and still shows the table', async () => {
    const riley = await signedIn(portal.url, 'riley');
    await riley.get('/apps/stock/new');
    for (const [item, qty, needed_by] of [
      ['Paper', '10', '2027-01-04'],
      ['Toner', '2', '2027-01-05'],
    ])
      expect(
        (await riley.post('/apps/stock/new', { item: item!, qty: qty!, needed_by: needed_by! })).status,
      ).toBe(303);

    const qty = await riley.get('/apps/stock?f.qty=abc&f.item=paper');
    expect(qty.status).toBe(400);
    expect(qty.body).not.toContain('<h1>Problem</h1>');
    expect(qty.body).toContain('<h1>Stock order</h1>');
    expect(qty.body).toMatch(
      /<input name="f\.qty" value="abc"[^>]* aria-invalid="true" aria-describedby="filter-qty-error"/,
    );
    expect(qty.body).toMatch(/id="filter-qty-error">Quantity must be a number/);
    // The other filter still applies.
    expect(qty.body).toContain('>STK-1</a>');
    expect(qty.body).not.toContain('>STK-2</a>');
    expect(textOf(qty.body)).toContain('The Quantity filter is not applied');

    const date = await riley.get('/apps/stock?f.needed_by=tomorrow');
    expect(date.status).toBe(400);
    expect(date.body).toMatch(/id="filter-needed_by-error">Needed by: the date is not understood/);
    expect(date.body).toContain('>STK-1</a>');
    expect(date.body).toContain('>STK-2</a>');

    // A real day filters as before; the export refuses what it cannot use.
    const day = await riley.get('/apps/stock?f.needed_by=2027-01-05');
    expect(day.status).toBe(200);
    expect(day.body).toContain('>STK-2</a>');
    expect(day.body).not.toContain('>STK-1</a>');
    expect((await riley.get('/apps/stock/export.csv?f.needed_by=tomorrow')).status).toBe(400);
  });
});
