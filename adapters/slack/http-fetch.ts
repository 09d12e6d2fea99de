/**
 * The `fetch` the Slack Web API client is given (WebClient's `fetch` option): plain
 * `node:http`/`node:https` requests on keep-alive agents, answered with a standard `Response`.
 *
 * Why: the WebClient sends every call as one small form-encoded POST and reads one JSON
 * answer; Node's built-in `fetch` (undici's WHATWG implementation: streams, Request and
 * Response objects, abort plumbing on every call) cost about twice the CPU of the same
 * request through `node:http` in a micro-benchmark here (~650 vs ~275 µs per call, client
 * and server together), and a Slack approval round trip makes four such calls. Everything the
 * WebClient does itself (queueing, retries, 429 pacing, errors) is unchanged; a body this
 * adapter does not handle (a file upload's FormData) goes to the built-in `fetch`.
 */
import http from 'node:http';
import https from 'node:https';
import type { FetchFunction } from '@slack/web-api';

/** How long a request may go without any traffic before it fails (the built-in fetch allows 300 s). */
const IDLE_TIMEOUT_MS = 120_000;
/**
 * The same for opening or pushing a modal: its trigger_id is valid for 3 s, so a call Slack has
 * not answered in 10 s cannot succeed, and the person is told at once rather than in 2 minutes.
 */
const VIEWS_TIMEOUT_MS = 10_000;

export function createHttpFetch(options: { viewsTimeoutMs?: number } = {}): FetchFunction {
  const viewsTimeoutMs = options.viewsTimeoutMs ?? VIEWS_TIMEOUT_MS;
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
  };
  const fetchViaHttp = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const body = init.body;
    if (input instanceof Request || (body !== undefined && body !== null && typeof body !== 'string')) {
      return globalThis.fetch(input, init);
    }
    const url = typeof input === 'string' ? new URL(input) : input;
    const protocol = url.protocol as keyof typeof agents;
    if (!(protocol in agents)) return globalThis.fetch(input, init);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => {
      headers[key] = value;
    });
    if (typeof body === 'string') headers['content-length'] = String(Buffer.byteLength(body));
    const signal = init.signal ?? undefined;
    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const send = protocol === 'https:' ? https.request : http.request;
      const req = send(url, { method: init.method ?? 'GET', headers, agent: agents[protocol] }, (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && init.redirect === 'error') {
          res.resume();
          reject(new TypeError(`fetch failed: redirected (${status}) from ${url.href}`));
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const answer = new Headers();
          for (const [key, value] of Object.entries(res.headers)) {
            if (value === undefined) continue;
            for (const v of Array.isArray(value) ? value : [value]) answer.append(key, v);
          }
          const nullBody = status === 204 || status === 205 || status === 304;
          resolve(
            new Response(nullBody ? null : Buffer.concat(chunks), {
              status,
              statusText: res.statusMessage ?? '',
              headers: answer,
            }),
          );
        });
      });
      const idle = /\/views\.(open|push)$/.test(url.pathname) ? viewsTimeoutMs : IDLE_TIMEOUT_MS;
      req.setTimeout(idle, () => req.destroy(new Error(`no answer from ${url.host} in time`)));
      req.on('error', (err) => reject(new TypeError('fetch failed', { cause: err })));
      if (signal) {
        const onAbort = () =>
          req.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        signal.addEventListener('abort', onAbort, { once: true });
        req.on('close', () => signal.removeEventListener('abort', onAbort));
      }
      req.end(typeof body === 'string' ? body : undefined);
    });
  };
  // The standard Response has everything the WebClient reads (status, headers, text()).
  return fetchViaHttp as unknown as FetchFunction;
}
