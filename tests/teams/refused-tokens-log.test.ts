import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killHard, startBaton } from '../helpers/process.js';
import { recipesDir, removeDir, tempDir } from '../helpers/runtime.js';
import { activityFrom, defaultTeamsPeople, TEAMS_APP_ID } from '../helpers/teams.js';

/**
 * `POST /api/messages` is on the internet. Every activity it refused (no token, an expired one,
 * one signed by another key) printed a multi-line stack or a PEM key on stderr through
 * botbuilder's console.error, outside the JSON log, as often as anyone cared to send one; and
 * the 401's body was botbuilder's plain text. Now: one JSON log line, and a JSON 401.
 */
describe('Teams activities with refused tokens, against `npm start`', () => {
  const KID = 'refused-tokens-key';
  let openId: Server;
  let openIdUrl = '';
  let baton: Awaited<ReturnType<typeof startBaton>>;
  let stderr = '';
  const dataDir = tempDir('baton-refused-');
  let good: CryptoKey;
  let other: CryptoKey;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    good = pair.privateKey;
    other = (await generateKeyPair('RS256')).privateKey;
    const jwk = {
      ...(await exportJWK(pair.publicKey)),
      kid: KID,
      alg: 'RS256',
      use: 'sig',
      endorsements: ['msteams'],
    };
    openId = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          req.url === '/v1/.well-known/openidconfiguration'
            ? {
                issuer: 'https://api.botframework.com',
                jwks_uri: `${openIdUrl}/v1/.well-known/keys`,
                id_token_signing_alg_values_supported: ['RS256'],
              }
            : { keys: [jwk] },
        ),
      );
    });
    await new Promise<void>((resolve) => openId.listen(0, '127.0.0.1', resolve));
    openIdUrl = `http://127.0.0.1:${(openId.address() as AddressInfo).port}`;
    baton = await startBaton(dataDir, recipesDir({}), {
      TEAMS_ALLOW_ANONYMOUS: 'false',
      MICROSOFT_APP_ID: TEAMS_APP_ID,
      MICROSOFT_APP_PASSWORD: 'not-a-real-secret',
      TEAMS_OPENID_METADATA_URL: `${openIdUrl}/v1/.well-known/openidconfiguration`,
    });
    baton.child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
  }, 60_000);
  afterAll(async () => {
    if (baton) await killHard(baton.child);
    await new Promise<void>((resolve) => openId?.close(() => resolve()));
    removeDir(dataDir);
  });

  const token = (key: CryptoKey, exp: string | number) =>
    new SignJWT({ serviceurl: 'http://127.0.0.1:9/' })
      .setProtectedHeader({ alg: 'RS256', kid: KID, typ: 'JWT' })
      .setIssuer('https://api.botframework.com')
      .setAudience(TEAMS_APP_ID)
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setNotBefore(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(exp)
      .sign(key);

  it('answers 401 in JSON and logs one JSON line each, nothing on stderr', async () => {
    const mallory = defaultTeamsPeople().mallory!;
    const activity = activityFrom('message-personal', mallory, 'http://127.0.0.1:9/', { text: 'help' });
    const cases: [string, string | undefined][] = [
      ['no token', undefined],
      ['expired', await token(good, Math.floor(Date.now() / 1000) - 3600)],
      ['another key', await token(other, '10m')],
      ['not a JWT', 'not.a.jwt'],
    ];
    for (const [name, jwt] of cases) {
      const res = await fetch(`${baton.url}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(jwt ? { authorization: `Bearer ${jwt}` } : {}) },
        body: JSON.stringify(activity),
      });
      expect([name, res.status, res.headers.get('content-type')]).toEqual([
        name,
        401,
        expect.stringMatching(/^application\/json/),
      ]);
      expect((await res.json()) as unknown).toMatchObject({ error: 'teams.unauthorized' });
    }
    await new Promise((r) => setTimeout(r, 300));
    // stderr holds only the banner for people ("Baton is up: open …").
    expect(stderr.replace(/Baton is up: open \S+/, '').trim()).toBe('');
    const lines = baton
      .output()
      .trim()
      .split('\n')
      .filter((l) => l.trim() !== '');
    const notJson = lines.filter((l) => {
      try {
        JSON.parse(l);
        return false;
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([]);
    const refusals = lines.filter((l) => l.includes('without a valid token was refused'));
    expect(refusals).toHaveLength(4);
  }, 60_000);
});
