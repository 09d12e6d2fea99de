import type { FastifyInstance } from 'fastify';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTeamsPackage } from '../../adapters/teams/manifest.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/server/app.js';
import { recipesDir, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

const PUBLIC_URL = 'https://baton.example.com';

/** The privacy and terms pages the Teams manifest links to, served by the portal. */
describe('privacy and terms pages', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;

  beforeAll(async () => {
    const env = { BATON_PUBLIC_URL: PUBLIC_URL, HOST: '127.0.0.1' };
    rt = await startTestRuntime({ recipesDir: recipesDir({}), env });
    const config = parseConfig({ DATA_DIR: rt.dataDir, LOG_LEVEL: 'silent', ...env });
    app = await buildApp({ baton: rt.baton, config, logger: createLogger('silent') });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await rt.close();
  });

  const manifestLinks = (): { privacy: URL; terms: URL } => {
    const files = unzipSync(
      buildTeamsPackage({ appId: '00000000-0000-0000-0000-00000000b470', url: PUBLIC_URL }),
    );
    const manifest = JSON.parse(new TextDecoder().decode(files['manifest.json']));
    return {
      privacy: new URL(manifest.developer.privacyUrl),
      terms: new URL(manifest.developer.termsOfUseUrl),
    };
  };

  it('the manifest privacy URL is a page anyone can read, saying who runs Baton, what is stored and what goes to Slack and Teams', async () => {
    const { privacy } = manifestLinks();
    expect(privacy.origin).toBe(PUBLIC_URL);
    const res = await app.inject({ method: 'GET', url: privacy.pathname });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    const text = res.body.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ');
    expect(text).toContain('run by the organization that installed it');
    expect(text).toContain('DATA_DIR');
    for (const table of ['users', 'requests', 'history', 'tasks', 'notifications', 'conversation_refs'])
      expect(text).toContain(table);
    expect(text).toMatch(/What goes to Slack and Microsoft Teams/);
    expect(res.body).toContain('href="/terms"');
  });

  it('the manifest terms URL is a page anyone can read, linking to the privacy page', async () => {
    const { terms } = manifestLinks();
    const res = await app.inject({ method: 'GET', url: terms.pathname });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('Apache License 2.0');
    expect(res.body).toContain('href="/privacy"');
  });

  it('the portal footer links both pages, signed in or not', async () => {
    const login = await app.inject({ method: 'GET', url: '/login' });
    expect(login.body).toMatch(/<footer[^>]*>[\s\S]*href="\/privacy"[\s\S]*href="\/terms"[\s\S]*<\/footer>/);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const csrf = /name="_csrf" value="([^"]*)"/.exec(login.body)![1]!;
    const signIn = await app.inject({
      method: 'POST',
      url: '/login/playground',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ who: 'riley', _csrf: csrf }).toString(),
    });
    expect(signIn.statusCode).toBe(303);
    const session = String(signIn.headers['set-cookie'] ?? cookie).split(';')[0]!;
    const inbox = await app.inject({ method: 'GET', url: '/', headers: { cookie: session } });
    expect(inbox.statusCode).toBe(200);
    expect(inbox.body).toMatch(/<footer[^>]*>[\s\S]*href="\/privacy"[\s\S]*href="\/terms"[\s\S]*<\/footer>/);
  });
});
