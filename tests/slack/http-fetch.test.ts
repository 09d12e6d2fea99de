/**
 * The Web API client's transport (adapters/slack/http-fetch.ts) against a local server: what
 * the WebClient reads of a response (status, headers, body), redirects refused, aborts, and a
 * WebClient call end to end.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpFetch } from '../../adapters/slack/http-fetch.js';

let base = '';
const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString(),
    });
    if (req.url === '/limited') {
      res.writeHead(429, { 'retry-after': '7' });
      res.end();
    } else if (req.url === '/moved') {
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
    } else if (req.url === '/api/broken') {
      res.writeHead(503, { 'content-type': 'text/plain', 'x-request-id': 'r1' });
      res.end('down for maintenance');
    } else if (req.url === '/api/refused') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: false, error: 'channel_not_found' }));
    } else if (req.url === '/api/scoped') {
      res.writeHead(200, { 'content-type': 'application/json', 'x-oauth-scopes': 'chat:write, im:write' });
      res.end(JSON.stringify({ ok: true }));
    } else if (req.url === '/slow' || req.url === '/api/views.open') {
      // never answers
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'x-two': ['a', 'b'] });
      res.end(JSON.stringify({ ok: true, channel: 'D1', ts: '1700000000.000100' }));
    }
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('the Web API transport', () => {
  const fetch = createHttpFetch();

  it('sends the method, headers and body, and answers with status, headers and body', async () => {
    const res = await fetch(`${base}/api/chat.postMessage`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: 'Bearer xoxb-1' },
      body: 'channel=D1&text=h%C3%A9llo',
    });
    expect(res.status).toBe(200);
    expect(res.ok).toBe(true);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('x-two')).toBe('a, b');
    expect(await res.json()).toEqual({ ok: true, channel: 'D1', ts: '1700000000.000100' });
    const last = seen.at(-1)!;
    expect(last).toMatchObject({
      method: 'POST',
      url: '/api/chat.postMessage',
      body: 'channel=D1&text=h%C3%A9llo',
    });
    expect(last.headers['content-length']).toBe('26');
    expect(last.headers.authorization).toBe('Bearer xoxb-1');
  });

  it('gives a 429 and its Retry-After to the client, refuses redirects, and stops when aborted', async () => {
    const limited = await fetch(`${base}/limited`, { method: 'POST', body: '' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    await expect(fetch(`${base}/moved`, { method: 'POST', body: '', redirect: 'error' })).rejects.toThrow(
      /redirected \(302\)/,
    );
    const controller = new AbortController();
    const slow = fetch(`${base}/slow`, { method: 'POST', body: '', signal: controller.signal });
    controller.abort(new Error('gave up'));
    await expect(slow).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:1/`, { method: 'POST', body: '' })).rejects.toThrow('fetch failed');
  });

  it('gives up on a modal Slack does not answer (its trigger_id lasts 3 s) long before other calls', async () => {
    const quick = createHttpFetch({ viewsTimeoutMs: 200 });
    await expect(quick(`${base}/api/views.open`, { method: 'POST', body: '' })).rejects.toThrow(
      'fetch failed',
    );
    // Any other call waits on (aborted here, as it would otherwise wait the 2-minute idle limit).
    const controller = new AbortController();
    const other = quick(`${base}/slow`, { method: 'POST', body: '', signal: controller.signal });
    const outcome = await Promise.race([
      other.then(
        () => 'answered',
        () => 'failed',
      ),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 1000)),
    ]);
    expect(outcome).toBe('still waiting');
    controller.abort(new Error('done'));
    await expect(other).rejects.toThrow();
  });

  it('carries a WebClient call end to end', async () => {
    const client = new WebClient('xoxb-test', {
      slackApiUrl: `${base}/api/`,
      fetch,
      retryConfig: { retries: 0 },
    });
    const res = await client.chat.postMessage({
      channel: 'D1',
      text: 'hello',
      blocks: [{ type: 'divider' }],
    });
    expect(res).toMatchObject({ ok: true, channel: 'D1', ts: '1700000000.000100' });
    const last = seen.at(-1)!;
    expect(last.url).toBe('/api/chat.postMessage');
    expect(new URLSearchParams(last.body).get('blocks')).toBe('[{"type":"divider"}]');
  });

  it('hands the WebClient what it reads of an HTTP error, a refusal and response headers', async () => {
    const client = new WebClient('xoxb-test', {
      slackApiUrl: `${base}/api/`,
      fetch,
      retryConfig: { retries: 0 },
    });
    const http = await client.apiCall('broken').catch((e: unknown) => e);
    expect(http).toMatchObject({
      code: 'slack_webapi_http_error',
      statusCode: 503,
      statusMessage: 'Service Unavailable',
      body: 'down for maintenance',
    });
    expect((http as { headers: Record<string, string> }).headers).toMatchObject({ 'x-request-id': 'r1' });
    await expect(client.apiCall('refused')).rejects.toMatchObject({
      code: 'slack_webapi_platform_error',
      data: { ok: false, error: 'channel_not_found' },
    });
    const scoped = await client.apiCall('scoped');
    expect(scoped.response_metadata?.scopes).toEqual(['chat:write', 'im:write']);
  });

  it('reads a body once, as a standard Response does', async () => {
    const res = (await fetch(`${base}/api/chat.postMessage`, {
      method: 'POST',
      body: '',
    })) as unknown as Response;
    expect(res.bodyUsed).toBe(false);
    expect(new TextDecoder().decode(await res.arrayBuffer())).toContain('"ok":true');
    expect(res.bodyUsed).toBe(true);
    await expect(res.text()).rejects.toThrow(TypeError);
  });
});
