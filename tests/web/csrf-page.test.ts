import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/server/app.js';
import { ROOT, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/** A form posted after the person signed out (or switched person) in another tab. */
describe('a stale form in a browser', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;

  beforeAll(async () => {
    const env = { HOST: '127.0.0.1' };
    rt = await startTestRuntime({ recipesDir: `${ROOT}/recipes`, env });
    const config = parseConfig({ DATA_DIR: rt.dataDir, LOG_LEVEL: 'silent', ...env });
    app = await buildApp({ baton: rt.baton, config, logger: createLogger('silent') });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await rt.close();
  });

  it('gets a page saying the form expired, with a way back, not raw JSON; scripts still get JSON', async () => {
    const login = await app.inject({ method: 'GET', url: '/login' });
    let cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const loginCsrf = /name="_csrf" value="([^"]*)"/.exec(login.body)![1]!;
    const signIn = await app.inject({
      method: 'POST',
      url: '/login/playground',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ who: 'riley', _csrf: loginCsrf }).toString(),
    });
    cookie = String(signIn.headers['set-cookie'] ?? cookie).split(';')[0]!;
    const form = await app.inject({ method: 'GET', url: '/apps/time-off/new', headers: { cookie } });
    const csrf = /<meta name="csrf-token" content="([^"]*)"/.exec(form.body)![1]!;
    // Another tab signs out: this page's token no longer matches the session.
    const out = await app.inject({
      method: 'POST',
      url: '/logout',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: csrf }).toString(),
    });
    expect(out.statusCode).toBe(303);
    cookie = String(out.headers['set-cookie'] ?? cookie).split(';')[0]!;
    const stale = await app.inject({
      method: 'POST',
      url: '/apps/time-off/new',
      headers: {
        cookie,
        accept: BROWSER_ACCEPT,
        referer: 'http://127.0.0.1:3000/apps/time-off/new',
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: new URLSearchParams({ _csrf: csrf, start: '2026-12-01', days: '1' }).toString(),
    });
    // Signed out: the page says so and leads to sign-in, then back to the form.
    expect(stale.statusCode).toBe(401);
    expect(stale.headers['content-type']).toMatch(/^text\/html/);
    expect(stale.body).toContain('You are signed out');
    expect(stale.body).toContain('Sign in again');
    expect(stale.body).toContain('href="/login?return_to=%2Fapps%2Ftime-off%2Fnew"');
    // The page script (fetch) keeps its JSON answer.
    const fetched = await app.inject({
      method: 'POST',
      url: '/tasks/t_x/complete',
      headers: {
        cookie,
        accept: 'application/json',
        'x-requested-with': 'fetch',
        'content-type': 'application/json',
      },
      payload: JSON.stringify({ outcome: 'Approve' }),
    });
    expect(fetched.statusCode).toBe(401);
    expect(fetched.json().error).toBe('baton.unauthenticated');
  });

  it('a form from an older session of someone signed in gets the "expired" page, with a way back', async () => {
    const signInAs = async (who: string) => {
      const login = await app.inject({ method: 'GET', url: '/login' });
      const first = String(login.headers['set-cookie']).split(';')[0]!;
      const token = /name="_csrf" value="([^"]*)"/.exec(login.body)![1]!;
      const res = await app.inject({
        method: 'POST',
        url: '/login/playground',
        headers: { cookie: first, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ who, _csrf: token }).toString(),
      });
      return String(res.headers['set-cookie']).split(';')[0]!;
    };
    const before = await signInAs('riley');
    const form = await app.inject({ method: 'GET', url: '/apps/time-off/new', headers: { cookie: before } });
    const csrf = /<meta name="csrf-token" content="([^"]*)"/.exec(form.body)![1]!;
    // Another tab switched person: a new session, so this page's token is stale.
    const now = await signInAs('morgan');
    const stale = await app.inject({
      method: 'POST',
      url: '/apps/time-off/new',
      headers: {
        cookie: now,
        accept: BROWSER_ACCEPT,
        referer: 'http://127.0.0.1:3000/apps/time-off/new',
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: new URLSearchParams({ _csrf: csrf, start: '2026-12-01', days: '1' }).toString(),
    });
    expect(stale.statusCode).toBe(403);
    expect(stale.body).toContain('This form has expired');
    expect(stale.body).toContain('reload the page and try again');
    expect(stale.body).toContain('href="/apps/time-off/new"');
  });
});
