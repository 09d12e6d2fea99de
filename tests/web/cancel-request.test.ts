import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { demoIdentity } from '../../src/core/playground.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/server/app.js';
import { eventually, recipesDir, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/** The request page's "Cancel this request", for the requester, on the shipped time-off pack. */
describe('portal: cancelling a request', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  const session = { cookie: '', csrf: '' };

  const get = async (url: string) => {
    const res = await app.inject({
      method: 'GET',
      url,
      headers: { cookie: session.cookie, accept: 'text/html' },
    });
    const m = /<meta name="csrf-token" content="([^"]*)"/.exec(res.body);
    if (m?.[1]) session.csrf = m[1];
    return res;
  };
  const post = (url: string, form: Record<string, string>) =>
    app.inject({
      method: 'POST',
      url,
      headers: {
        cookie: session.cookie,
        accept: 'text/html',
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: new URLSearchParams(form).toString(),
    });
  const signIn = async (who: string) => {
    const login = await app.inject({ method: 'GET', url: '/login' });
    session.cookie = String(login.headers['set-cookie']).split(';')[0]!;
    session.csrf = /name="_csrf" value="([^"]*)"/.exec(login.body)![1]!;
    const res = await post('/login/playground', { _csrf: session.csrf, who });
    session.cookie = String(res.headers['set-cookie'] ?? session.cookie).split(';')[0]!;
    await get('/');
  };

  beforeAll(async () => {
    const env = { HOST: '127.0.0.1' };
    rt = await startTestRuntime({ recipesDir: recipesDir({}, ['recipes/time-off']), env });
    const config = parseConfig({ DATA_DIR: rt.dataDir, LOG_LEVEL: 'silent', ...env });
    app = await buildApp({ baton: rt.baton, config, logger: createLogger('silent') });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await rt.close();
  });

  it('the requester cancels with a reason: stage Cancelled, the task withdrawn, the trail says so; the approver has no such form', async () => {
    await signIn('morgan');
    await signIn('riley');
    const riley = (await rt.baton.users.lookup(`web:${demoIdentity('riley')}`))!;
    const morgan = (await rt.baton.users.lookup(`web:${demoIdentity('morgan')}`))!;
    const request = await rt.baton.requests.file(riley, 'time-off', {
      type: 'Vacation',
      start: '2026-12-01',
      days: '2',
      approver: morgan._id,
    });
    const task = await eventually(async () => (await rt.baton.tasks.listForRequest(request._id))[0]);

    const page = await get(`/requests/${request._id}`);
    expect(page.body).toContain('Cancel this request');
    expect(page.body).toContain(`action="/requests/${request._id}/cancel"`);

    // Without the CSRF token: refused, nothing changes.
    const forged = await post(`/requests/${request._id}/cancel`, { reason: 'x' });
    expect(forged.statusCode).toBe(403);
    expect((await rt.baton.requests.load(request._id))!.stage).toBe('Submitted');

    const done = await post(`/requests/${request._id}/cancel`, {
      _csrf: session.csrf,
      reason: 'Plans changed',
    });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe(`/requests/${request._id}#history-h`);
    const after = await get(`/requests/${request._id}`);
    expect(after.body).toContain('data-testid="stage"');
    expect(after.body).toMatch(/data-testid="stage">[\s\S]*?Cancelled/);
    expect(after.body).toContain(`Riley Requester cancelled ${request._id}`);
    expect(after.body).toContain('<blockquote>Plans changed</blockquote>');
    expect(after.body).not.toContain('Cancel this request');
    expect((await rt.baton.tasks.get(riley, task!._id)).status).toBe('cancelled');

    // A second try says it is already cancelled.
    const again = await post(`/requests/${request._id}/cancel`, { _csrf: session.csrf });
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain(`${request._id} is already Cancelled.`);

    // The approver sees the request (they had a task on it) but may not cancel it.
    const second = await rt.baton.requests.file(riley, 'time-off', {
      type: 'Vacation',
      start: '2026-12-02',
      days: '1',
      approver: morgan._id,
    });
    await eventually(async () => (await rt.baton.tasks.listForRequest(second._id)).length === 1);
    await signIn('morgan');
    const theirs = await get(`/requests/${second._id}`);
    expect(theirs.statusCode).toBe(200);
    expect(theirs.body).not.toContain('Cancel this request');
    const refused = await post(`/requests/${second._id}/cancel`, { _csrf: session.csrf });
    expect(refused.statusCode).toBe(403);
    expect(refused.body).toContain(
      `Only Riley Requester, who filed ${second._id}, or an admin can cancel it.`,
    );
    expect((await rt.baton.requests.load(second._id))!.stage).toBe('Submitted');
  });
});
