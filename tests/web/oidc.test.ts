import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Portal, startPortal } from './harness.js';

/**
 * A local OpenID provider (discovery, JWKS, authorization and token endpoints, RS256 ID
 * tokens signed with a key made here), standing in for Slack and Entra ID: the network only
 * reaches the package registry.
 */
async function fakeProvider(claimsFor: (issuer: string) => Record<string, unknown>) {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  const codes = new Map<
    string,
    { nonce: string; challenge?: string; redirect: string; issuer: string; client: string }
  >();
  const tokenRequests: URLSearchParams[] = [];
  let base = '';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    const [, tenant, ...rest] = url.pathname.split('/');
    const issuer = `${base}/${tenant}`;
    const route = `/${rest.join('/')}`;
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (route === '/.well-known/openid-configuration') {
      return json(200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: tenant === 'slack' ? undefined : ['S256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      });
    }
    if (route === '/jwks') return json(200, { keys: [jwk] });
    if (route === '/authorize') {
      // The person signs in at the provider; it sends them back with a code.
      const code = randomBytes(12).toString('hex');
      codes.set(code, {
        nonce: url.searchParams.get('nonce') ?? '',
        challenge: url.searchParams.get('code_challenge') ?? undefined,
        redirect: url.searchParams.get('redirect_uri') ?? '',
        issuer,
        client: url.searchParams.get('client_id') ?? '',
      });
      const back = new URL(url.searchParams.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      res.writeHead(302, { location: back.href });
      return res.end();
    }
    if (route === '/token' && req.method === 'POST') {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', async () => {
        const form = new URLSearchParams(body);
        tokenRequests.push(form);
        const grant = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? '');
        if (!grant || grant.redirect !== form.get('redirect_uri'))
          return json(400, { error: 'invalid_grant' });
        if (grant.challenge) {
          const verifier = form.get('code_verifier') ?? '';
          if (createHash('sha256').update(verifier).digest('base64url') !== grant.challenge)
            return json(400, { error: 'invalid_grant' });
        }
        const claims = claimsFor(grant.issuer);
        const jwt = new SignJWT({ nonce: grant.nonce, ...claims })
          .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
          .setIssuer(grant.issuer)
          .setIssuedAt()
          .setExpirationTime('5m');
        const idToken = await (claims.aud ? jwt : jwt.setAudience(grant.client)).sign(privateKey);
        json(200, { access_token: 'at', token_type: 'Bearer', expires_in: 300, id_token: idToken });
      });
      return;
    }
    json(404, { error: 'not_found' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, tokenRequests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Follows a sign-in through Baton and the provider, keeping Baton's cookies. */
async function signInWith(portal: Portal, provider: string): Promise<{ cookie: string; landed: string }> {
  const jar = new Map<string, string>();
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const [name, ...v] = pair!.split('=');
      jar.set(name!, v.join('='));
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  let url = `${portal.url}/auth/${provider}?return_to=%2Fapps`;
  for (let hop = 0; hop < 6; hop++) {
    const res = await fetch(url, {
      redirect: 'manual',
      headers: url.startsWith(portal.url) ? { cookie: cookie() } : {},
    });
    if (url.startsWith(portal.url)) keep(res);
    const location = res.headers.get('location');
    if (!location) return { cookie: cookie(), landed: url };
    url = new URL(location, url).href;
    if (url.startsWith(portal.url) && !url.includes('/auth/')) return { cookie: cookie(), landed: url };
  }
  throw new Error('too many redirects');
}

describe('sign in with Slack and with Microsoft (OpenID Connect, local fake provider)', () => {
  let provider: Awaited<ReturnType<typeof fakeProvider>>;
  let portal: Portal;
  const claims: Record<string, Record<string, unknown>> = {};

  beforeAll(async () => {
    provider = await fakeProvider((issuer) => claims[issuer.endsWith('/slack') ? 'slack' : 'microsoft']!);
    portal = await startPortal({
      SLACK_CLIENT_ID: 'slack-client',
      SLACK_CLIENT_SECRET: 'slack-secret',
      SLACK_OIDC_ISSUER: `${provider.base}/slack`,
      MICROSOFT_OIDC_CLIENT_ID: 'ms-client',
      MICROSOFT_OIDC_CLIENT_SECRET: 'ms-secret',
      MICROSOFT_OIDC_TENANT_ID: 'contoso',
      MICROSOFT_OIDC_ISSUER: `${provider.base}/ms`,
    });
  });

  afterAll(async () => {
    await portal?.close();
    await provider?.close();
  });

  it('offers the configured providers and no playground', async () => {
    const page = await (await fetch(`${portal.url}/login`)).text();
    expect(page).toContain('Sign in with Slack');
    expect(page).toContain('Sign in with Microsoft');
    expect(page).not.toContain('Continue as');
    expect(await portal.runtime.baton.users.lookup('web:demo-ada')).toBeNull();
  });

  it('Slack: the person is the same Baton user as on the Slack surface', async () => {
    const { baton } = portal.runtime;
    const onSlack = await baton.users.resolve({ provider: 'slack', id: 'U0SAM', name: 'Sam Slack' });
    claims.slack = {
      sub: 'U0SAM',
      'https://slack.com/user_id': 'U0SAM',
      'https://slack.com/team_id': 'T0TEAM',
      name: 'Sam Slack',
      email: 'sam@example.com',
    };
    const { cookie, landed } = await signInWith(portal, 'slack');
    expect(landed).toBe(`${portal.url}/apps`);
    const home = await (await fetch(`${portal.url}/`, { headers: { cookie } })).text();
    expect(home).toContain('Hello, Sam');
    const session = decodeURIComponent(/baton_session=([^;]+)/.exec(cookie)![1]!);
    expect(session).toContain(`"u":"${onSlack._id}"`);
    expect(session).toContain('"v":"slack"');
    // Slack's discovery does not offer PKCE here: state and nonce protect the flow; the secret
    // goes in the Authorization header, never in the URL.
    expect(provider.tokenRequests.at(-1)?.get('code_verifier')).toBeNull();
  });

  it('Microsoft: linked to the existing user by email, with PKCE', async () => {
    const { baton } = portal.runtime;
    const existing = await baton.users.resolve({
      provider: 'slack',
      id: 'U0MIA',
      name: 'Mia',
      email: 'mia@example.com',
    });
    claims.microsoft = {
      sub: 'pairwise-sub',
      oid: '0000-aaaa',
      name: 'Mia Microsoft',
      preferred_username: 'mia@example.com',
    };
    const { cookie, landed } = await signInWith(portal, 'microsoft');
    expect(landed).toBe(`${portal.url}/apps`);
    const session = decodeURIComponent(/baton_session=([^;]+)/.exec(cookie)![1]!);
    expect(session).toContain(`"u":"${existing._id}"`);
    expect((await baton.users.lookup('teams:0000-aaaa'))?._id).toBe(existing._id);
    expect(provider.tokenRequests.at(-1)?.get('code_verifier')).toMatch(/^[\w-]{43,}$/);
  });

  it('refuses a callback it did not start, and a wrong ID token', async () => {
    const forged = await fetch(`${portal.url}/auth/slack/callback?code=abc&state=xyz`, {
      redirect: 'manual',
    });
    expect(forged.status).toBe(303);
    expect(decodeURIComponent(forged.headers.get('location')!)).toContain('Sign-in with Slack failed');
    // An ID token for another audience.
    claims.slack = { sub: 'U0EVE', 'https://slack.com/user_id': 'U0EVE', aud: 'someone-else', name: 'Eve' };
    const { landed, cookie } = await signInWith(portal, 'slack');
    expect(decodeURIComponent(landed)).toContain('/login?error=Sign-in with Slack failed');
    expect(cookie).not.toMatch(/baton_session=[^;]*%22u%22/);
    expect(await portal.runtime.baton.users.lookup('slack:U0EVE')).toBeNull();
  });
});
