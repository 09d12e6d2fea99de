import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/server/app.js';
import { recipesDir, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

const APP = `
kind: app
key: buy
name: Purchase
stages: [Submitted]
fields:
  - { key: item, label: Item, type: text }
  - { key: category, label: Category, type: select, options: [Hardware, { value: svc, label: Services }] }
  - { key: tags, label: Tags, type: multi_select, options: [urgent, { value: cx, label: Capital expense }] }
`;

/** The requests table's search finds what the table shows. */
describe('requests table: search words', () => {
  let rt: TestRuntime;
  let server: FastifyInstance;
  let cookie = '';

  beforeAll(async () => {
    const env = { HOST: '127.0.0.1' };
    rt = await startTestRuntime({ recipesDir: recipesDir({ 'buy.yaml': APP }), env });
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
      payload: new URLSearchParams({ who: 'ada', _csrf: csrf }).toString(),
    });
    cookie = String(signIn.headers['set-cookie'] ?? cookie).split(';')[0]!;
    const riley = (await rt.baton.users.lookup('riley@playground.baton.invalid'))!;
    await rt.baton.requests.file(riley, 'buy', { item: 'Laptop', category: 'Hardware', tags: ['urgent'] });
    await rt.baton.requests.file(riley, 'buy', { item: 'Cleaning', category: 'svc' });
    await rt.baton.requests.file(riley, 'buy', { item: 'Server', category: 'Hardware', tags: ['cx'] });
  });
  afterAll(async () => {
    await server.close();
    await rt.close();
  });

  const ids = async (query: string) => {
    const res = await server.inject({ method: 'GET', url: `/apps/buy?${query}`, headers: { cookie } });
    expect(res.statusCode).toBe(200);
    return [...res.body.matchAll(/<a href="\/requests\/(BUY-\d+)">/g)].map((m) => m[1]);
  };

  it('finds an option by the label the table shows, not only by its stored value', async () => {
    expect(await ids('q=services')).toEqual(['BUY-2']);
    expect(await ids('q=svc')).toEqual(['BUY-2']);
    expect(await ids('q=capital+expense')).toEqual(['BUY-3']);
    expect(await ids('q=server+capital')).toEqual(['BUY-3']);
    expect(await ids('q=hardware')).toEqual(['BUY-3', 'BUY-1']);
    expect(await ids('q=nothing')).toEqual([]);
  });

  it('the CSV export finds the same rows', async () => {
    const res = await server.inject({
      method: 'GET',
      url: '/apps/buy/export.csv?q=services',
      headers: { cookie },
    });
    const lines = res.body.trim().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('"BUY-2"');
    expect(lines[1]).toContain('"Services"');
  });
});
