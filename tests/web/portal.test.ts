import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopbackHost, playgroundMode } from '../../adapters/web/playground.js';
import { parseConfig } from '../../src/config.js';
import { DEMO_GROUPS, DEMO_PEOPLE, seedPlayground } from '../../src/core/playground.js';
import type { User } from '../../src/core/types.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/server/app.js';
import { eventually, ROOT, removeDir, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/** A signed-in client over app.inject(): keeps the session cookie and the CSRF token. */
class Client {
  cookie = '';
  csrf = '';
  constructor(private readonly app: FastifyInstance) {}

  private keep(headers: Record<string, unknown>): void {
    const set = headers['set-cookie'];
    for (const c of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair] = String(c).split(';');
      if (pair?.startsWith('baton_session=')) this.cookie = pair;
    }
  }

  async get(url: string, headers: Record<string, string> = {}) {
    const res = await this.app.inject({ method: 'GET', url, headers: { cookie: this.cookie, ...headers } });
    this.keep(res.headers);
    const m =
      /<meta name="csrf-token" content="([^"]*)"/.exec(res.body) ??
      /name="_csrf" value="([^"]*)"/.exec(res.body);
    if (m?.[1]) this.csrf = m[1];
    return res;
  }

  async post(url: string, form: Record<string, string | string[]>, options: { csrf?: string | null } = {}) {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    const token = options.csrf === undefined ? this.csrf : options.csrf;
    if (token !== null) body.append('_csrf', token);
    const res = await this.app.inject({
      method: 'POST',
      url,
      headers: { cookie: this.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: body.toString(),
    });
    this.keep(res.headers);
    return res;
  }

  async signIn(slug: string) {
    await this.get('/login');
    const res = await this.post('/login/playground', { who: slug });
    expect(res.statusCode).toBe(303);
    await this.get('/');
    return res;
  }
}

/** Fetches `url` until its body contains `text` (the recipe runs after the request returns). */
async function eventuallyBody(c: Client, url: string, text: string): Promise<string> {
  return eventually(async () => {
    const res = await c.get(url);
    return res.body.includes(text) ? res.body : null;
  });
}

describe('playground mode', () => {
  it('is on for loopback without providers, off elsewhere, forced only explicitly', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('10.0.0.5')).toBe(false);
    expect(playgroundMode(parseConfig({})).on).toBe(true);
    expect(playgroundMode(parseConfig({ HOST: '0.0.0.0' })).on).toBe(false);
    expect(playgroundMode(parseConfig({ SLACK_CLIENT_ID: 'a', SLACK_CLIENT_SECRET: 'b' })).on).toBe(false);
    expect(playgroundMode(parseConfig({ BATON_PLAYGROUND: 'false' })).on).toBe(false);
    const forced = playgroundMode(parseConfig({ HOST: '0.0.0.0', BATON_PLAYGROUND: 'true' }));
    expect(forced).toEqual({ on: true, forced: true, reason: 'BATON_PLAYGROUND=true' });
  });

  it('forcing it on a non-loopback address is logged loudly', async () => {
    const rt = await startTestRuntime({ admins: [] });
    let out = '';
    const logger = createLogger(
      'info',
      new Writable({
        write(chunk, _e, cb) {
          out += chunk.toString();
          cb();
        },
      }),
    );
    const app = await buildApp({
      baton: rt.baton,
      config: parseConfig({ HOST: '0.0.0.0', BATON_PLAYGROUND: 'true', DATA_DIR: rt.dataDir }),
      logger,
    });
    try {
      const line = out.split('\n').find((l) => l.includes('PLAYGROUND FORCED ON'));
      expect(line).toBeDefined();
      expect(JSON.parse(line!).level).toBe(40);
      const login = await app.inject({ method: 'GET', url: '/login' });
      expect(login.body).toContain('Continue as');
    } finally {
      await app.close();
      await rt.close();
      removeDir(rt.dataDir);
    }
  });

  it('without a provider and off the loopback, there is no way in but a clear message', async () => {
    const rt = await startTestRuntime({ admins: [] });
    const app = await buildApp({
      baton: rt.baton,
      config: parseConfig({ HOST: '0.0.0.0', DATA_DIR: rt.dataDir }),
      logger: createLogger('silent'),
    });
    try {
      const c = new Client(app);
      const login = await c.get('/login');
      expect(login.body).not.toContain('Continue as');
      expect(login.body).toContain('No sign-in is configured');
      const res = await c.post('/login/playground', { who: 'ada' });
      expect(res.statusCode).toBe(404);
      expect(await rt.baton.users.lookup('web:demo-ada')).toBeNull();
    } finally {
      await app.close();
      await rt.close();
      removeDir(rt.dataDir);
    }
  });

  it('seeds demo people and groups idempotently, with managers and an admin', async () => {
    const rt = await startTestRuntime({ admins: [] });
    try {
      const first = await seedPlayground(rt.baton);
      const second = await seedPlayground(rt.baton);
      expect(Object.keys(first)).toEqual(DEMO_PEOPLE.map((p) => p.slug));
      expect(second.riley!._id).toBe(first.riley!._id);
      expect((await rt.baton.users.list()).length).toBe(DEMO_PEOPLE.length);
      expect(second.ada!.role).toBe('admin');
      expect(second.riley!.manager).toBe(first.morgan!._id);
      for (const g of DEMO_GROUPS) expect((await rt.baton.groups.get(g.name)).members.length).toBe(1);
    } finally {
      await rt.close();
      removeDir(rt.dataDir);
    }
  });
});

describe('sessions across restarts', () => {
  it('BATON_SESSION_SECRET must be long enough', () => {
    expect(() => parseConfig({ BATON_SESSION_SECRET: 'short' })).toThrow(
      /^BATON_SESSION_SECRET must be at least 32 characters/,
    );
  });

  it('a generated secret is kept in DATA_DIR (0600), so a session survives a restart; sign-out ends it', async () => {
    const rt = await startTestRuntime({ admins: [] });
    const config = parseConfig({ DATA_DIR: rt.dataDir });
    try {
      const first = await buildApp({ baton: rt.baton, config, logger: createLogger('silent') });
      const c = new Client(first);
      await c.signIn('riley');
      await first.close();
      const file = path.join(rt.dataDir, 'session-secret');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(file, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
      const second = await buildApp({ baton: rt.baton, config, logger: createLogger('silent') });
      const again = new Client(second);
      again.cookie = c.cookie;
      const home = await again.get('/');
      expect(home.statusCode).toBe(200);
      expect(home.body).toContain('Hello, Riley');
      const out = await again.post('/logout', {});
      expect(out.statusCode).toBe(303);
      expect(String(out.headers['set-cookie'])).toMatch(/baton_session=;/);
      const after = await second.inject({ method: 'GET', url: '/', headers: { cookie: 'baton_session=' } });
      expect(after.statusCode).toBe(303);
      await second.close();
    } finally {
      await rt.close();
      removeDir(rt.dataDir);
    }
  });
});

describe('portal over HTTP', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  let people: Record<string, User>;

  beforeAll(async () => {
    rt = await startTestRuntime({ recipesDir: path.join(ROOT, 'recipes'), admins: [] });
    app = await buildApp({
      baton: rt.baton,
      config: parseConfig({ DATA_DIR: rt.dataDir, HOST: '127.0.0.1' }),
      logger: createLogger('silent'),
    });
    people = await seedPlayground(rt.baton);
  });

  afterAll(async () => {
    await app.close();
    await rt.close();
    removeDir(rt.dataDir);
  });

  it('sends people who are not signed in to the sign-in page, and fetch callers a 401', async () => {
    const res = await app.inject({ method: 'GET', url: '/apps/time-off' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/login?return_to=%2Fapps%2Ftime-off');
    const api = await app.inject({
      method: 'GET',
      url: '/fragments/inbox',
      headers: { 'x-requested-with': 'fetch' },
    });
    expect(api.statusCode).toBe(401);
    expect(api.json()).toEqual({ error: 'baton.unauthenticated', message: 'Sign in first.' });
  });

  it('keeps the session in a signed, http-only, SameSite cookie; a tampered cookie is no session', async () => {
    const c = new Client(app);
    await c.get('/login');
    const res = await c.post('/login/playground', { who: 'riley', return_to: '/apps' });
    expect(res.headers.location).toBe('/apps');
    const set = String(res.headers['set-cookie']);
    expect(decodeURIComponent(set)).toMatch(
      /baton_session={"s":"[^"]+","u":"u_[^"]+","v":"playground","t":\d+}\.[^;]+;/,
    ); // value.signature
    expect(set).toContain('HttpOnly');
    expect(set).toContain('SameSite=Lax');
    expect(set).toContain('Max-Age=604800');
    expect((await c.get('/')).statusCode).toBe(200);
    const value = decodeURIComponent(c.cookie.slice('baton_session='.length));
    const forged = value.replace(people.riley!._id, people.ada!._id);
    expect(forged).not.toBe(value);
    const tampered = await app.inject({
      method: 'GET',
      url: '/',
      headers: { cookie: `baton_session=${encodeURIComponent(forged)}` },
    });
    expect(tampered.statusCode).toBe(303);
  });

  it('refuses every POST without this session’s CSRF token, and a token from before sign-in', async () => {
    const c = new Client(app);
    await c.get('/login');
    const anonymousToken = c.csrf;
    await c.post('/login/playground', { who: 'riley' });
    await c.get('/apps/time-off/new');
    const form = { start: '2026-12-01', days: '1', approver: people.morgan!._id };
    for (const csrf of [null, '', 'x'.repeat(43), anonymousToken]) {
      const res = await c.post('/apps/time-off/new', form, { csrf });
      expect(res.statusCode).toBe(403);
      expect(res.json().error).toBe('baton.csrf');
    }
    const other = new Client(app);
    await other.signIn('morgan');
    const res = await c.post('/apps/time-off/new', form, { csrf: other.csrf });
    expect(res.statusCode).toBe(403);
    expect(await rt.baton.requests.listMine(people.riley!)).toEqual([]);
    const ok = await c.post('/apps/time-off/new', form);
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toMatch(/^\/requests\/PTO-\d+$/);
  });

  it('generates the form from every field type and shows the core’s messages inline', async () => {
    await rt.baton.apps.create(people.ada!, {
      key: 'kitchen-sink',
      name: 'Kitchen sink',
      stages: ['Open', 'Done'],
      fields: [
        { key: 'title', label: 'Title', type: 'text', required: true },
        { key: 'notes', label: 'Notes', type: 'long_text' },
        { key: 'qty', label: 'Quantity', type: 'number', min: 1, max: 5 },
        { key: 'due', label: 'Due', type: 'date' },
        { key: 'size', label: 'Size', type: 'select', options: ['S', 'M', 'L'] },
        { key: 'tags', label: 'Tags', type: 'multi_select', options: ['red', 'blue', 'green'] },
        { key: 'owner', label: 'Owner', type: 'user' },
        { key: 'urgent', label: 'Urgent', type: 'boolean' },
        { key: 'contact', label: 'Contact', type: 'email' },
        { key: 'link', label: 'Link', type: 'url' },
      ],
    });
    const c = new Client(app);
    await c.signIn('riley');
    const form = await c.get('/apps/kitchen-sink/new');
    for (const snippet of [
      'id="f-title" name="title" type="text"',
      '<textarea id="f-notes" name="notes"',
      'name="qty" type="number" step="any" inputmode="decimal" min="1" max="5"',
      'name="due" type="date"',
      '<select id="f-size" name="size"',
      'type="checkbox" name="tags" value="blue"',
      '<select id="f-owner" name="owner"',
      'type="checkbox" name="urgent" value="true"',
      'name="contact" type="email"',
      'name="link" type="url"',
    ])
      expect(form.body).toContain(snippet);
    const bad = await c.post('/apps/kitchen-sink/new', {
      title: '',
      qty: '9',
      due: '2026-02-30',
      size: 'XL',
      tags: ['red', 'purple'],
      contact: 'nope',
      link: 'ftp://x',
      notes: '<script>alert(1)</script>',
    });
    expect(bad.statusCode).toBe(400);
    const messages = {
      title: 'Title is required',
      qty: 'Quantity must be at most 5',
      due: 'Due must be a date (YYYY-MM-DD)',
      size: 'Size must be one of S, M, L',
      tags: 'Tags must only contain red, blue, green',
      contact: 'Contact must be an email address',
      link: 'Link must be a web address starting with http:// or https://',
    };
    for (const [key, message] of Object.entries(messages))
      expect(bad.body).toContain(`<p class="field-error" id="f-${key}-error">${message}</p>`);
    // Values kept, escaped.
    expect(bad.body).toContain('value="9"');
    expect(bad.body).toContain('type="checkbox" name="tags" value="red" checked');
    expect(bad.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;</textarea>');
    expect(bad.body).not.toContain('<script>alert(1)');
    const good = await c.post('/apps/kitchen-sink/new', {
      title: 'Chairs',
      qty: '3',
      due: '2026-03-01',
      size: 'M',
      tags: ['red', 'blue'],
      owner: people.fiona!._id,
      urgent: 'true',
      contact: 'a@example.com',
      link: 'https://example.com',
    });
    expect(good.statusCode).toBe(303);
    const id = good.headers.location!.split('/').pop()!;
    const stored = await rt.baton.requests.load(id);
    expect(stored?.record).toEqual({
      title: 'Chairs',
      qty: 3,
      due: '2026-03-01',
      size: 'M',
      tags: ['red', 'blue'],
      owner: people.fiona!._id,
      urgent: true,
      contact: 'a@example.com',
      link: 'https://example.com',
    });
    const page = await c.get(good.headers.location!);
    expect(page.body).toContain('Fiona Finance');
    expect(page.body).toContain('Riley Requester filed');
  });

  it('completes tasks through the core: same refusals and “already approved by” as Slack', async () => {
    const riley = new Client(app);
    await riley.signIn('riley');
    await riley.get('/apps/access-request/new');
    const filed = await riley.post('/apps/access-request/new', { system: 'Jira', justification: 'Tickets' });
    const id = filed.headers.location!.split('/').pop()!;
    const task = (await rt.baton.tasks.listForRequest(id))[0]!;
    const ivan = new Client(app);
    await ivan.signIn('ivan');
    const inbox = await ivan.get('/');
    expect(inbox.body).toContain(`data-task="${task._id}"`);
    expect(inbox.body).toContain('class="card-json"');
    // Reject needs a comment: the core's message comes back as JSON for the page's script.
    const json = (payload: Record<string, unknown>, client: Client) =>
      app.inject({
        method: 'POST',
        url: `/tasks/${task._id}/complete`,
        headers: {
          cookie: client.cookie,
          'x-csrf-token': client.csrf,
          'x-requested-with': 'fetch',
          'content-type': 'application/json',
        },
        payload,
      });
    const noComment = await json({ outcome: 'Reject' }, ivan);
    expect(noComment.statusCode).toBe(400);
    expect(noComment.json().fields).toEqual({ comment: 'A comment is required to Reject' });
    const forbidden = await json({ outcome: 'Approve' }, riley);
    expect(forbidden.statusCode).toBe(403);
    const ok = await json({ outcome: 'Approve' }, ivan);
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ ok: true, task: { status: 'completed', outcome: 'Approve' } });
    const again = await json({ outcome: 'Approve' }, ivan);
    expect(again.statusCode).toBe(409);
    expect(again.json().message).toMatch(/^Already approved by Ivan IT at /);
    // The plain form (no JavaScript) redirects back.
    await riley.get('/apps/access-request/new');
    const second = await riley.post('/apps/access-request/new', { system: 'AWS', justification: 'Deploys' });
    const id2 = second.headers.location!.split('/').pop()!;
    const task2 = (await rt.baton.tasks.listForRequest(id2))[0]!;
    await ivan.get('/');
    const form = await ivan.post(`/tasks/${task2._id}/complete`, {
      outcome: 'Reject',
      comment: 'Use the shared account',
      return_to: '/',
    });
    expect(form.statusCode).toBe(303);
    expect(form.headers.location).toBe('/');
    const detail = await riley.get(`/requests/${id2}`);
    expect(detail.body).toContain('Use the shared account');
    expect(detail.body).toMatch(/data-testid="stage"><span class="stage stage-bad">Rejected/);
    // The rejection's line in the history is not marked with the tick of an approval.
    const marks = (body: string) =>
      [
        ...body.matchAll(
          /<li class="event event-task_completed">\s*<span class="dot" aria-hidden="true">([^<]*)<\/span>\s*<div><p class="event-text">([^<]*)/g,
        ),
      ].map((m) => [m[1], m[2]]);
    expect(marks(detail.body).find(([, text]) => /rejected/i.test(text!))?.[0]).toBe('✗');
    const first = await riley.get(`/requests/${task.request_id}`);
    expect(marks(first.body).find(([, text]) => /approved/i.test(text!))?.[0]).toBe('✓');
  });

  it('reassigns a task to a group; the new assignee sees it and the requester gets updates', async () => {
    const riley = new Client(app);
    await riley.signIn('riley');
    await riley.get('/apps/time-off/new');
    const filed = await riley.post('/apps/time-off/new', {
      start: '2026-12-01',
      days: '1',
      approver: people.morgan!._id,
    });
    const id = filed.headers.location!.split('/').pop()!;
    const task = (await rt.baton.tasks.listForRequest(id))[0]!;
    const morgan = new Client(app);
    await morgan.signIn('morgan');
    const page = await morgan.get(`/requests/${id}`);
    expect(page.body).toContain(`action="/tasks/${task._id}/reassign"`);
    // Two people with one name (the same person on two platforms, or namesakes) can be told apart.
    await rt.baton.users.resolve({
      provider: 'teams',
      id: 'aad-hana-2',
      name: 'Hana HR',
      email: 'hana@example.com',
    });
    const again = await morgan.get(`/requests/${id}`);
    expect(again.body).toContain('>Hana HR (hana@playground.baton.invalid)</option>');
    expect(again.body).toContain('>Hana HR (hana@example.com)</option>');
    // Riley may see the request but not hand the task on.
    const riPage = await riley.get(`/requests/${id}`);
    expect(riPage.body).not.toContain(`action="/tasks/${task._id}/reassign"`);
    expect((await riley.post(`/tasks/${task._id}/reassign`, { to: 'group:hr' })).statusCode).toBe(403);
    const res = await morgan.post(`/tasks/${task._id}/reassign`, {
      to: 'group:hr',
      return_to: `/requests/${id}`,
    });
    expect(res.statusCode).toBe(303);
    const hana = new Client(app);
    await hana.signIn('hana');
    const inbox = await hana.get('/');
    expect(inbox.body).toContain(`data-task="${task._id}"`);
    const detail = await riley.get(`/requests/${id}`);
    expect(detail.body).toContain('Morgan Manager reassigned');
    // Hana approves; Riley's home shows the recipe's notification.
    await rt.baton.tasks.complete(people.hana!, task._id, 'Approve');
    const home = await eventuallyBody(riley, '/', 'Updates for you');
    expect(home).toMatch(new RegExp(`Your time off ${id} \\(1 day from 2026-12-01\\) was approved`));
  });

  it('adds comments to the history trail', async () => {
    const riley = new Client(app);
    await riley.signIn('riley');
    const mine = await rt.baton.requests.listMine(people.riley!, { limit: 1 });
    const id = mine[0]!._id;
    await riley.get(`/requests/${id}`);
    const res = await riley.post(`/requests/${id}/comment`, { comment: 'Any news?' });
    expect(res.statusCode).toBe(303);
    const page = await riley.get(`/requests/${id}`);
    expect(page.body).toContain('<blockquote>Any news?</blockquote>');
    const empty = await riley.post(`/requests/${id}/comment`, { comment: '  ' });
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toContain('A comment needs some text.');
  });

  it('serves its assets with caching, and pages with a strict content security policy', async () => {
    const css = await app.inject({ method: 'GET', url: '/assets/app.css' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toContain('text/css');
    const again = await app.inject({
      method: 'GET',
      url: '/assets/app.css',
      headers: { 'if-none-match': String(css.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
    const ac = await app.inject({ method: 'GET', url: '/assets/adaptivecards.min.js' });
    expect(ac.body.length).toBeLessThan(600_000);
    expect((await app.inject({ method: 'GET', url: '/assets/..%2fplugin.ts' })).statusCode).toBe(404);
    const login = await app.inject({ method: 'GET', url: '/login' });
    expect(login.headers['content-security-policy']).toContain("script-src 'self'");
    expect(login.headers['x-frame-options']).toBe('DENY');
    // The whole page script and stylesheet are small.
    const js = readFileSync(path.join(ROOT, 'adapters/web/public/app.js'));
    expect(js.length + css.body.length).toBeLessThan(40_000);
  });
});
