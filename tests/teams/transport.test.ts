import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { teamsMode } from '../../adapters/teams/auth.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/server/app.js';
import { startTestRuntime } from '../helpers/runtime.js';
import {
  activityFrom,
  cardText,
  startTeamsTestApp,
  TEAMS_APP_ID,
  type TeamsTestApp,
  teamsFixture,
} from '../helpers/teams.js';

/**
 * A local stand-in for the Bot Framework's OpenID metadata: the signing key of these tests,
 * endorsed for msteams like Microsoft's keys are.
 */
class LocalOpenId {
  private server: Server | undefined;
  url = '';
  constructor(private readonly jwk: JWK) {}
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url === '/v1/.well-known/openidconfiguration') {
        res.end(
          JSON.stringify({
            issuer: 'https://api.botframework.com',
            authorization_endpoint: 'https://invalid.botframework.com',
            jwks_uri: `${this.url}/v1/.well-known/keys`,
            id_token_signing_alg_values_supported: ['RS256'],
            token_endpoint_auth_methods_supported: ['private_key_jwt'],
          }),
        );
      } else res.end(JSON.stringify({ keys: [{ ...this.jwk, use: 'sig', endorsements: ['msteams'] }] }));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

describe('Teams transport: Bot Framework JWTs checked by botbuilder (local OpenID metadata)', () => {
  const KID = 'baton-test-key';
  let goodKey: PrivateKey;
  let otherKey: PrivateKey;
  let openId: LocalOpenId;
  let t: TeamsTestApp;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    goodKey = pair.privateKey;
    otherKey = (await generateKeyPair('RS256')).privateKey;
    openId = new LocalOpenId({ ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS256' });
    await openId.start();
    t = await startTeamsTestApp({
      env: {
        TEAMS_ALLOW_ANONYMOUS: 'false',
        MICROSOFT_APP_ID: TEAMS_APP_ID,
        MICROSOFT_APP_PASSWORD: 'not-a-real-secret',
        MICROSOFT_APP_TYPE: 'MultiTenant',
        TEAMS_OPENID_METADATA_URL: `${openId.url}/v1/.well-known/openidconfiguration`,
      },
      token: 'outbound-test-token',
    });
  });
  afterAll(async () => {
    await t.close();
    await openId.stop();
  });
  afterEach(() => {
    t.connector.calls.length = 0;
  });

  const token = (
    claims: { aud?: string; serviceurl?: string; exp?: string | number } = {},
    key: PrivateKey = goodKey,
  ) =>
    new SignJWT({ serviceurl: claims.serviceurl ?? t.connector.url })
      .setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'JWT' })
      .setIssuer('https://api.botframework.com')
      .setAudience(claims.aud ?? TEAMS_APP_ID)
      .setIssuedAt(Math.floor(Date.now() / 1000) - 60)
      .setNotBefore(Math.floor(Date.now() / 1000) - 60)
      .setExpirationTime(claims.exp ?? '10m')
      .sign(key);

  const help = (who: string) =>
    activityFrom('message-personal', t.people[who]!, t.connector.url, { text: 'help' });

  it('a good token passes: the command runs and the reply carries the bot token', async () => {
    expect(t.surface.mode).toBe('jwt');
    const res = await t.send(help('alice'), { authorization: `Bearer ${await token()}` });
    expect(res.statusCode).toBe(200);
    await t.idle();
    const reply = t.connector.posts(t.people.alice!.conversationId).at(-1);
    expect(cardText(reply?.body)).toContain('What you can ask Baton');
    expect(reply?.authorization).toBe('Bearer outbound-test-token');
  });

  it.each([
    ['no token', async () => undefined],
    ['a token signed by another key', async () => token({}, otherKey)],
    ['an expired token', async () => token({ exp: Math.floor(Date.now() / 1000) - 3600 })],
    ['a token for another bot', async () => token({ aud: '11111111-2222-3333-4444-555555555555' })],
    ['a token for another service URL', async () => token({ serviceurl: 'https://smba.evil.example/' })],
    ['a malformed token', async () => 'not.a.jwt'],
  ])('%s gets 401 and nothing is processed', async (_name, make) => {
    const jwt = await make();
    const res = await t.send(help('mallory'), jwt ? { authorization: `Bearer ${jwt}` } : {});
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toMatchObject({
      error: 'teams.unauthorized',
      message: jwt
        ? expect.stringMatching(/token was refused/)
        : expect.stringMatching(/no Bot Framework token/),
    });
    await t.idle();
    expect(t.connector.calls).toEqual([]);
    expect(await t.rt.baton.users.lookup(`teams:${t.people.mallory!.aadObjectId}`)).toBeNull();
  });
});

describe('Teams transport: configuration', () => {
  const mode = (env: Record<string, string>) => teamsMode(parseConfig(env));

  it('is off without an app id unless anonymous use is allowed, and names what is missing', () => {
    expect(mode({})).toMatchObject({ on: false, configured: false });
    expect(mode({ TEAMS_ALLOW_ANONYMOUS: 'true' })).toMatchObject({ on: true, auth: 'anonymous' });
    expect(mode({ MICROSOFT_APP_ID: TEAMS_APP_ID })).toMatchObject({
      on: false,
      configured: true,
      reason: expect.stringContaining('MICROSOFT_APP_PASSWORD'),
    });
    expect(
      mode({
        MICROSOFT_APP_ID: TEAMS_APP_ID,
        MICROSOFT_APP_PASSWORD: 'x',
        MICROSOFT_APP_TYPE: 'SingleTenant',
      }),
    ).toMatchObject({ on: false, reason: expect.stringContaining('MICROSOFT_APP_TENANT_ID') });
    expect(mode({ MICROSOFT_APP_ID: TEAMS_APP_ID, MICROSOFT_APP_PASSWORD: 'x' })).toMatchObject({
      on: true,
      auth: 'jwt',
    });
    // An app id wins over TEAMS_ALLOW_ANONYMOUS: tokens are always checked then.
    expect(
      mode({ MICROSOFT_APP_ID: TEAMS_APP_ID, MICROSOFT_APP_PASSWORD: 'x', TEAMS_ALLOW_ANONYMOUS: 'true' }),
    ).toMatchObject({ on: true, auth: 'jwt' });
  });

  it('anonymous mode accepts activities without a token', async () => {
    const t = await startTeamsTestApp();
    try {
      const res = await t.send(
        activityFrom('message-personal', t.people.alice!, t.connector.url, { text: 'help' }),
      );
      expect(res.statusCode).toBe(200);
      await t.idle();
      expect(t.connector.posts(t.people.alice!.conversationId)).toHaveLength(1);
    } finally {
      await t.close();
    }
  });

  it.each([
    [{}, /Teams surface is off \(no MICROSOFT_APP_ID\)/, 404],
    [{ MICROSOFT_APP_ID: TEAMS_APP_ID }, /Teams surface is off: set MICROSOFT_APP_PASSWORD/, 404],
    [{ TEAMS_ALLOW_ANONYMOUS: 'true' }, /Teams surface on WITHOUT authentication/, 400],
    [
      { MICROSOFT_APP_ID: TEAMS_APP_ID, MICROSOFT_APP_PASSWORD: 'x' },
      /Teams surface on: POST \/api\/messages \(Bot Framework JWTs checked\)/,
      400,
    ],
  ])('the start log says how the surface runs (%o)', async (env, line, emptyBodyStatus) => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const rt = await startTestRuntime();
    const app = await buildApp({
      baton: rt.baton,
      config: parseConfig(env),
      logger: createLogger('info', sink),
    });
    try {
      expect(out.match(line)).toHaveLength(1);
      expect(out).not.toContain('not-a-real-secret');
      // Off: no route. On: an activity without a type is refused before anything runs.
      const res = await app.inject({ method: 'POST', url: '/api/messages', payload: {} });
      expect(res.statusCode).toBe(emptyBodyStatus);
    } finally {
      await app.close();
      await rt.close();
    }
  });

  it('the Bot Framework Emulator (anonymous): its chat is a personal one and gets the answer', async () => {
    const t = await startTeamsTestApp();
    try {
      const a = teamsFixture('emulator-message');
      a.serviceUrl = t.connector.url;
      const res = await t.send(a);
      expect(res.statusCode).toBe(200);
      await t.idle();
      const conversation = (a.conversation as { id: string }).id;
      expect(cardText(t.connector.posts(conversation).map((c) => c.body))).toContain(
        'What you can ask Baton',
      );
      // No directory in the Emulator (the member lookup fails): the user is known by the id alone.
      const user = await t.rt.baton.users.lookup('teams:5e4f6a07-9d13-4b2e-8a5c-0f1d2e3c4b5a');
      expect(user?.name).toBe('User');
      expect(await t.rt.baton.conversations.get('teams', user!._id)).toMatchObject({
        conversationId: conversation,
      });
    } finally {
      await t.close();
    }
  });

  it('a certificate needs both its thumbprint and its key file', () => {
    expect(() => parseConfig({ MICROSOFT_APP_CERTIFICATE_THUMBPRINT: 'xyz' })).toThrow(
      /MICROSOFT_APP_CERTIFICATE_THUMBPRINT must be a certificate thumbprint/,
    );
    expect(
      mode({ MICROSOFT_APP_ID: TEAMS_APP_ID, MICROSOFT_APP_CERTIFICATE_THUMBPRINT: 'A'.repeat(40) }),
    ).toMatchObject({ on: false, reason: expect.stringContaining('MICROSOFT_APP_CERTIFICATE_KEY_FILE') });
  });
});
