// Acceptance QA of the portal: what an outside reviewer found driving it as a person would.
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { seedPlayground } from '../../src/core/playground.js';
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

  async post(url: string, form: Record<string, string | string[]>) {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    body.append('_csrf', this.csrf);
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
  }
}

describe('portal acceptance', () => {
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

  it('shows select and multi-select values by their option labels on the request page', async () => {
    await rt.baton.apps.create(people.ada!, {
      key: 'labels',
      name: 'Labels',
      stages: ['Open'],
      fields: [
        { key: 'color', label: 'Color', type: 'select', options: ['Red', { value: 'grn', label: 'Green' }] },
        { key: 'tags', label: 'Tags', type: 'multi_select', options: ['a', { value: 'c', label: 'Cee' }] },
      ],
    });
    const c = new Client(app);
    await c.signIn('riley');
    await c.get('/apps/labels/new');
    const filed = await c.post('/apps/labels/new', { color: 'grn', tags: ['a', 'c'] });
    expect(filed.statusCode).toBe(303);
    const page = await c.get(filed.headers.location!);
    expect(page.body).toContain('<dt>Color</dt><dd>Green</dd>');
    expect(page.body).toContain('<dt>Tags</dt><dd>a, Cee</dd>');
  });

  it('filters a boolean column by "No" including requests filed with the box unticked', async () => {
    await rt.baton.apps.create(people.ada!, {
      key: 'flags',
      name: 'Flags',
      stages: ['Open'],
      fields: [
        { key: 'title', label: 'Title', type: 'text', required: true },
        { key: 'urgent', label: 'Urgent', type: 'boolean' },
      ],
    });
    const c = new Client(app);
    await c.signIn('riley');
    await c.get('/apps/flags/new');
    const yes = await c.post('/apps/flags/new', { title: 'ticked', urgent: 'true' });
    await c.get('/apps/flags/new');
    const no = await c.post('/apps/flags/new', { title: 'unticked' });
    expect([yes.statusCode, no.statusCode]).toEqual([303, 303]);
    const yesId = yes.headers.location!.split('/').pop()!;
    const noId = no.headers.location!.split('/').pop()!;
    const onlyNo = await c.get('/apps/flags?f.urgent=false');
    expect(onlyNo.statusCode).toBe(200);
    expect(onlyNo.body).toContain(`href="/requests/${noId}"`);
    expect(onlyNo.body).not.toContain(`href="/requests/${yesId}"`);
    const onlyYes = await c.get('/apps/flags?f.urgent=true');
    expect(onlyYes.body).toContain(`href="/requests/${yesId}"`);
    expect(onlyYes.body).not.toContain(`href="/requests/${noId}"`);
    const csv = await c.get('/apps/flags/export.csv?f.urgent=false');
    expect(csv.body).toContain('"unticked"');
    expect(csv.body).not.toContain('"ticked"');
  });

  it('exports negative numbers to CSV as numbers, while text that starts like a formula stays neutralised', async () => {
    await rt.baton.apps.create(people.ada!, {
      key: 'ledger',
      name: 'Ledger',
      stages: ['Open'],
      fields: [
        { key: 'amount', label: 'Amount', type: 'number' },
        { key: 'memo', label: 'Memo', type: 'text' },
      ],
    });
    const c = new Client(app);
    await c.signIn('riley');
    await c.get('/apps/ledger/new');
    const filed = await c.post('/apps/ledger/new', { amount: '-12.5', memo: '-1+1' });
    expect(filed.statusCode).toBe(303);
    await c.get('/apps/ledger/new');
    expect((await c.post('/apps/ledger/new', { amount: '-3000', memo: '@SUM(A1)' })).statusCode).toBe(303);
    const csv = await c.get('/apps/ledger/export.csv');
    expect(csv.statusCode).toBe(200);
    const rows = csv.body.trim().split('\r\n');
    expect(rows[0]).toMatch(/^"id","stage","Amount","Memo",/);
    expect(rows.slice(1).map((r) => r.split(',').slice(2, 4).join(','))).toEqual([
      `"-3000","'@SUM(A1)"`,
      `"-12.5","'-1+1"`,
    ]);
  });

  it('reassigning your only task on a request from its page lands on the inbox with a notice, not on "You can\'t see"', async () => {
    const riley = new Client(app);
    await riley.signIn('riley');
    await riley.get('/apps/time-off/new');
    const filed = await riley.post('/apps/time-off/new', {
      start: '2026-12-07',
      days: '1',
      approver: people.morgan!._id,
    });
    expect(filed.statusCode).toBe(303);
    const id = filed.headers.location!.split('/').pop()!;
    const task = await eventually(async () => (await rt.baton.tasks.listForRequest(id))[0]);
    const morgan = new Client(app);
    await morgan.signIn('morgan');
    expect((await morgan.get(`/requests/${id}`)).statusCode).toBe(200);
    const res = await morgan.post(`/tasks/${task._id}/reassign`, {
      to: people.max!._id,
      return_to: `/requests/${id}`,
    });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/?handed=1');
    const inbox = await morgan.get(res.headers.location!);
    expect(inbox.statusCode).toBe(200);
    expect(inbox.body).toContain('Task reassigned. Its request is no longer shown to you');
    expect((await rt.baton.tasks.load(task._id))?.assignee).toMatchObject({
      type: 'user',
      id: people.max!._id,
    });
    // Someone who still sees the request (an admin) goes back to its page.
    const ada = new Client(app);
    await ada.signIn('ada');
    await ada.get(`/requests/${id}`);
    const back = await ada.post(`/tasks/${task._id}/reassign`, {
      to: people.morgan!._id,
      return_to: `/requests/${id}`,
    });
    expect(back.headers.location).toBe(`/requests/${id}`);
  });

  it('files one request per form: the same submission posted twice (or at once) goes to the first', async () => {
    const c = new Client(app);
    await c.signIn('riley');
    const form = await c.get('/apps/access-request/new');
    const token = /name="_submission" value="([^"]+)"/.exec(form.body)?.[1];
    expect(token).toBeTruthy();
    const values = { system: 'GitHub', justification: 'Twice', _submission: token! };
    const [a, b] = await Promise.all([
      c.post('/apps/access-request/new', values),
      c.post('/apps/access-request/new', values),
    ]);
    const again = await c.post('/apps/access-request/new', values);
    expect([a.statusCode, b.statusCode, again.statusCode]).toEqual([303, 303, 303]);
    expect(b.headers.location).toBe(a.headers.location);
    expect(again.headers.location).toBe(a.headers.location);
    const mine = await rt.baton.requests.listMine(people.riley!, { app: 'access-request' });
    expect(mine.filter((r) => r.record.justification === 'Twice')).toHaveLength(1);
    // A validation error files nothing: the corrected form, same token, files once.
    const other = /name="_submission" value="([^"]+)"/.exec(
      (await c.get('/apps/access-request/new')).body,
    )![1]!;
    const bad = await c.post('/apps/access-request/new', { system: 'GitHub', _submission: other });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain(`name="_submission" value="${other}"`);
    const fixed = await c.post('/apps/access-request/new', { ...values, _submission: other });
    expect(fixed.statusCode).toBe(303);
    expect(fixed.headers.location).not.toBe(a.headers.location);
  });

  it('an update sent as a card only (notify with card, no text) is not a blank line in the inbox', async () => {
    await rt.baton.recipes.saveYaml(
      people.ada!,
      [
        'kind: recipe',
        'name: card-only-notice',
        'trigger: { type: new_request, app: access-request }',
        'steps:',
        '  - action: notify',
        '    to: "{{ request.requester }}"',
        '    card: notification',
        '',
      ].join('\n'),
      'card-only.yaml',
    );
    const request = await rt.baton.requests.file(people.max!, 'access-request', {
      system: 'GitHub',
      justification: 'Card only',
    });
    const c = new Client(app);
    await c.signIn('max');
    const home = await eventually(async () => {
      const res = await c.get('/');
      return res.body.includes(`href="/requests/${request._id}"`) ? res : undefined;
    });
    const notes = /<ul class="notes">([\s\S]*?)<\/ul>/.exec(home.body)?.[1] ?? '';
    expect(notes).toContain(`href="/requests/${request._id}"`);
    expect(notes).not.toContain('<li><span></span>');
    expect(notes).toContain(request._id);
    expect(notes).toMatch(/<li><span>[^<]+<\/span>/);
  });

  it('a task id the store refuses ($…, control characters) is a 400, not an internal error', async () => {
    const c = new Client(app);
    await c.signIn('ada');
    for (const id of ['%24where', '%00', '%24gt']) {
      const complete = await c.post(`/tasks/${id}/complete`, { outcome: 'Approve' });
      expect(complete.statusCode).toBe(400);
      expect(complete.body).toContain('Problem');
      const reassign = await c.post(`/tasks/${id}/reassign`, { to: 'group:hr' });
      expect(reassign.statusCode).toBe(400);
    }
    const json = await app.inject({
      method: 'POST',
      url: '/tasks/%24where/complete',
      headers: {
        cookie: c.cookie,
        'content-type': 'application/json',
        accept: 'application/json',
        'x-csrf-token': c.csrf,
        'x-requested-with': 'fetch',
      },
      payload: JSON.stringify({ outcome: 'Approve' }),
    });
    expect(json.statusCode).toBe(400);
    expect(json.json()).toMatchObject({ error: 'baton.validation_failed' });
  });

  it('after sign-in, a return_to with a tab or newline cannot lead off the site', async () => {
    for (const back of [
      '/\t/evil.example/x',
      '/\n/evil.example',
      '/ /evil.example',
      '//evil.example',
      '/\\evil.example',
    ]) {
      const c = new Client(app);
      await c.get('/login');
      const res = await c.post('/login/playground', { who: 'riley', return_to: back });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/');
    }
    const c = new Client(app);
    await c.get('/login');
    const ok = await c.post('/login/playground', { who: 'riley', return_to: '/apps/expense?stage=Approved' });
    expect(ok.headers.location).toBe('/apps/expense?stage=Approved');
  });
});
