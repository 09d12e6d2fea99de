import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/server/app.js';
import { recipesDir, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

const app = (key: string, name: string) => `
kind: app
key: ${key}
name: ${name}
stages: [Submitted]
fields:
  - { key: what, label: What, type: text }
`;

/** App names inside sentences ("New …") keep their acronyms. */
describe('app names in the portal', () => {
  let rt: TestRuntime;
  let server: FastifyInstance;
  let cookie = '';

  beforeAll(async () => {
    const env = { HOST: '127.0.0.1' };
    rt = await startTestRuntime({
      recipesDir: recipesDir({
        'it.yaml': app('it-equipment', 'IT Equipment'),
        'pto.yaml': app('pto', 'PTO'),
        'off.yaml': app('time-off', 'Time Off'),
      }),
      env,
    });
    const config = parseConfig({ DATA_DIR: rt.dataDir, LOG_LEVEL: 'silent', ...env });
    server = await buildApp({ baton: rt.baton, config, logger: createLogger('silent') });
    await server.ready();
    const login = await server.inject({ method: 'GET', url: '/login' });
    cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const csrf = /name="_csrf" value="([^"]*)"/.exec(login.body)![1]!;
    const signIn = await server.inject({
      method: 'POST',
      url: '/login/playground',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ who: 'riley', _csrf: csrf }).toString(),
    });
    cookie = String(signIn.headers['set-cookie'] ?? cookie).split(';')[0]!;
  });
  afterAll(async () => {
    await server.close();
    await rt.close();
  });

  it('the inbox buttons and the form heading say "New IT equipment", "New PTO", "New time off"', async () => {
    const inbox = await server.inject({ method: 'GET', url: '/', headers: { cookie } });
    expect(inbox.statusCode).toBe(200);
    for (const label of ['New IT equipment', 'New PTO', 'New time off'])
      expect(inbox.body).toContain(`>${label}</a>`);
    expect(inbox.body).not.toContain('New it equipment');
    const form = await server.inject({ method: 'GET', url: '/apps/it-equipment/new', headers: { cookie } });
    expect(form.body).toContain('<h1>New IT equipment</h1>');
    expect(form.body).toContain('<title>New IT equipment · Baton</title>');
  });
});
