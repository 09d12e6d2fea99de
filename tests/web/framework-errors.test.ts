import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Portal, startPortal } from './harness.js';
import { signedIn, textOf } from './http-client.js';

/**
 * Errors Fastify raises before a route runs (a body over the limit, a path segment over the
 * router's length) reached a browser as raw JSON, the 414 in Fastify's own shape with the whole
 * address echoed back. A browser now gets a page saying what is wrong; a JSON client gets
 * Baton's error shape.
 */
describe('errors raised before a route runs', () => {
  let portal: Portal;
  beforeAll(async () => {
    portal = await startPortal();
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('a form over the size limit gets a page to a browser, JSON to an API client', async () => {
    const riley = await signedIn(portal.url, 'riley');
    const big = await riley.post('/apps/time-off/new', { reason: 'x'.repeat(300 * 1024) });
    expect(big.status).toBe(413);
    expect(big.body).toMatch(/^<!doctype html>/i);
    expect(textOf(big.body)).toMatch(/too large/i);
    expect(big.body).toContain('href="/"');

    const json = await fetch(`${portal.url}/apps/time-off/new`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: `reason=${'x'.repeat(300 * 1024)}`,
    });
    expect(json.status).toBe(413);
    expect(await json.json()).toMatchObject({
      error: 'baton.bad_request',
      message: expect.stringMatching(/too large/i),
    });
  });

  it('an address with a segment too long gets a page, and its JSON does not echo it', async () => {
    const riley = await signedIn(portal.url, 'riley');
    const long = `/requests/${'A'.repeat(400)}`;
    const page = await riley.get(long);
    expect(page.status).toBe(414);
    expect(page.body).toMatch(/^<!doctype html>/i);
    expect(textOf(page.body)).toMatch(/address is too long/i);
    expect(page.body).not.toContain('A'.repeat(400));

    const json = await fetch(`${portal.url}${long}`, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(414);
    const body = (await json.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ error: 'baton.bad_request', message: expect.stringMatching(/too long/i) });
    expect(JSON.stringify(body)).not.toContain('A'.repeat(400));
  });
});
