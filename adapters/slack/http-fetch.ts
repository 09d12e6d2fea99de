/**
 * The `fetch` the Slack Web API client is given (WebClient's `fetch` option): plain
 * `node:http`/`node:https` requests on keep-alive agents, answered with a small `Response`-like
 * object (`AnsweredResponse`: status, headers, body as text, JSON or bytes).
 *
 * Why: the WebClient sends every call as one small form-encoded POST and reads one JSON
 * answer; Node's built-in `fetch` (undici's WHATWG implementation: streams, Request and
 * Response objects, abort plumbing on every call) cost about twice the CPU of the same
 * request through `node:http` in a micro-benchmark here (~650 vs ~275 µs per call, client
 * and server together), and a Slack approval round trip makes four such calls. The answer is not a WHATWG `Response`
 * either: building one (a `Headers` object and a readable stream over the body) cost ~3 % of a
 * round trip's CPU in the Slack bench, for a body the client reads once as text. Everything the
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
  const fetchViaHttp = (
    input: string | URL | Request,
    init: RequestInit = {},
  ): Promise<Response | AnsweredResponse> => {
    const body = init.body;
    if (input instanceof Request || (body !== undefined && body !== null && typeof body !== 'string')) {
      return globalThis.fetch(input, init);
    }
    const url = typeof input === 'string' ? new URL(input) : input;
    const protocol = url.protocol as keyof typeof agents;
    if (!(protocol in agents)) return globalThis.fetch(input, init);
    const headers = plainHeaders(init.headers);
    if (typeof body === 'string') headers['content-length'] = String(Buffer.byteLength(body));
    const signal = init.signal ?? undefined;
    return new Promise<AnsweredResponse>((resolve, reject) => {
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
          resolve(new AnsweredResponse(url.href, status, res.statusMessage ?? '', res.headers, chunks));
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
  // AnsweredResponse has everything the WebClient reads (status, statusText, url, headers.get
  // and entries, text(), arrayBuffer()).
  return fetchViaHttp as unknown as FetchFunction;
}

/** A request's headers as one plain object with lower-case names (a plain object is read as is). */
function plainHeaders(init: RequestInit['headers']): Record<string, string> {
  const headers: Record<string, string> = {};
  if (init === undefined) return headers;
  if (init instanceof Headers || Array.isArray(init)) {
    new Headers(init).forEach((value, key) => {
      headers[key] = value;
    });
    return headers;
  }
  for (const [key, value] of Object.entries(init)) {
    if (value === undefined) continue;
    const name = key.toLowerCase();
    // As Headers combines a repeated name.
    headers[name] = name in headers ? `${headers[name]}, ${value}` : String(value);
  }
  return headers;
}

/** The answer's headers, read as `Headers` reads them (a repeated header joined with ", "). */
class AnsweredHeaders {
  constructor(private readonly raw: http.IncomingHttpHeaders) {}

  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }

  *entries(): IterableIterator<[string, string]> {
    for (const key of Object.keys(this.raw).sort()) {
      const value = this.get(key);
      if (value !== null) yield [key, value];
    }
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  forEach(fn: (value: string, key: string) => void): void {
    for (const [key, value] of this.entries()) fn(value, key);
  }
}

/** What the WebClient reads of an answer; its body was read in full before it is handed over. */
class AnsweredResponse {
  readonly headers: AnsweredHeaders;
  readonly ok: boolean;
  readonly redirected = false;
  readonly type = 'basic';
  private readonly body: Buffer;
  private used = false;

  constructor(
    readonly url: string,
    readonly status: number,
    readonly statusText: string,
    headers: http.IncomingHttpHeaders,
    chunks: Buffer[],
  ) {
    this.headers = new AnsweredHeaders(headers);
    this.ok = status >= 200 && status < 300;
    this.body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }

  get bodyUsed(): boolean {
    return this.used;
  }

  private take(): Buffer {
    if (this.used) throw new TypeError('Body is unusable: Body has already been read');
    this.used = true;
    return this.body;
  }

  async text(): Promise<string> {
    return this.take().toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const body = this.take();
    return body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
  }
}
