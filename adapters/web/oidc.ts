import type { FastifyReply, FastifyRequest } from 'fastify';
import * as client from 'openid-client';
import type { Config } from '../../src/config.js';
import type { Provider } from '../../src/core/types.js';
import { isLoopbackHost, signInProviders } from './playground.js';
import type { WebDeps } from './plugin.js';
import { safeReturnTo } from './shell.js';

/**
 * Production sign-in with OpenID Connect (authorization code flow, with PKCE where the
 * provider supports it, state and nonce), through `openid-client`:
 * - Slack ("Sign in with Slack"): issuer https://slack.com; the `https://slack.com/user_id`
 *   claim is the Slack member id, so the person is the same Baton user as on the Slack surface.
 * - Microsoft (Entra ID): issuer https://login.microsoftonline.com/<tenant>/v2.0; the `oid`
 *   claim (the Entra object id, as Teams knows the person) and the email link the user.
 * The provider's metadata is discovered at the first sign-in (not at start), and cached.
 */

interface ProviderSpec {
  key: 'slack' | 'microsoft';
  label: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Baton identity from the ID token's claims. */
  identity(claims: Record<string, unknown>): {
    provider: Provider;
    id: string;
    name?: string;
    email?: string;
  };
}

const FLOW_COOKIE = 'baton_oidc';
const FLOW_MAX_AGE_S = 600;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function providerSpecs(config: Config): ProviderSpec[] {
  const enabled = signInProviders(config);
  const specs: ProviderSpec[] = [];
  if (enabled.slack) {
    specs.push({
      key: 'slack',
      label: 'Slack',
      issuer: config.SLACK_OIDC_ISSUER,
      clientId: config.SLACK_CLIENT_ID!,
      clientSecret: config.SLACK_CLIENT_SECRET!,
      identity: (c) => {
        const id = str(c['https://slack.com/user_id']) ?? str(c.sub);
        if (!id) throw new Error('the ID token has no Slack user id');
        return { provider: 'slack', id, name: str(c.name), email: str(c.email) };
      },
    });
  }
  if (enabled.microsoft) {
    specs.push({
      key: 'microsoft',
      label: 'Microsoft',
      issuer:
        config.MICROSOFT_OIDC_ISSUER ??
        `https://login.microsoftonline.com/${config.MICROSOFT_OIDC_TENANT_ID}/v2.0`,
      clientId: config.MICROSOFT_OIDC_CLIENT_ID!,
      clientSecret: config.MICROSOFT_OIDC_CLIENT_SECRET!,
      identity: (c) => {
        const id = str(c.oid) ?? str(c.sub);
        if (!id) throw new Error('the ID token has no object id');
        return {
          provider: 'teams',
          id,
          name: str(c.name),
          email:
            str(c.email) ??
            (str(c.preferred_username)?.includes('@') ? str(c.preferred_username) : undefined),
        };
      },
    });
  }
  return specs;
}

/** Where the provider sends people back: BATON_PUBLIC_URL, else the address they used. */
function baseUrl(config: Config, req: FastifyRequest): string {
  if (config.BATON_PUBLIC_URL) return config.BATON_PUBLIC_URL.replace(/\/$/, '');
  return `${req.protocol}://${req.headers.host ?? 'localhost'}`;
}

export function registerOidc(deps: WebDeps): void {
  const { app, config, baton, sessions, logger } = deps;
  const specs = providerSpecs(config);
  const discovered = new Map<string, Promise<client.Configuration>>();

  const configuration = (spec: ProviderSpec): Promise<client.Configuration> => {
    let found = discovered.get(spec.key);
    if (!found) {
      const issuer = new URL(spec.issuer);
      // Plain http only for a provider on this machine (tests, a local fake).
      const insecure = issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname);
      found = client.discovery(
        issuer,
        spec.clientId,
        spec.clientSecret,
        undefined,
        insecure ? { execute: [client.allowInsecureRequests] } : undefined,
      );
      found.catch(() => discovered.delete(spec.key));
      discovered.set(spec.key, found);
    }
    return found;
  };

  const fail = (reply: FastifyReply, spec: ProviderSpec, message: string) =>
    reply.redirect(
      `/login?error=${encodeURIComponent(`Sign-in with ${spec.label} failed: ${message}`)}`,
      303,
    );

  for (const spec of specs) {
    app.get<{ Querystring: { return_to?: string } }>(`/auth/${spec.key}`, async (req, reply) => {
      let conf: client.Configuration;
      try {
        conf = await configuration(spec);
      } catch (err) {
        logger.error({ err, provider: spec.key }, 'web: OpenID discovery failed');
        return fail(reply, spec, 'the provider could not be reached. Try again in a moment.');
      }
      const state = client.randomState();
      const nonce = client.randomNonce();
      const pkce = conf.serverMetadata().supportsPKCE();
      const verifier = pkce ? client.randomPKCECodeVerifier() : undefined;
      const params: Record<string, string> = {
        redirect_uri: `${baseUrl(config, req)}/auth/${spec.key}/callback`,
        scope: 'openid email profile',
        state,
        nonce,
      };
      if (verifier) {
        params.code_challenge = await client.calculatePKCECodeChallenge(verifier);
        params.code_challenge_method = 'S256';
      }
      reply.setCookie(
        FLOW_COOKIE,
        JSON.stringify({
          p: spec.key,
          s: state,
          n: nonce,
          v: verifier,
          r: safeReturnTo(req.query.return_to),
        }),
        {
          path: '/auth',
          httpOnly: true,
          sameSite: 'lax',
          secure: (config.BATON_PUBLIC_URL ?? '').startsWith('https://'),
          signed: true,
          maxAge: FLOW_MAX_AGE_S,
        },
      );
      return reply.redirect(client.buildAuthorizationUrl(conf, params).href, 303);
    });

    app.get<{ Querystring: Record<string, string> }>(`/auth/${spec.key}/callback`, async (req, reply) => {
      const raw = req.cookies[FLOW_COOKIE];
      const unsigned = raw ? req.unsignCookie(raw) : null;
      reply.clearCookie(FLOW_COOKIE, { path: '/auth' });
      let flow: { p: string; s: string; n: string; v?: string; r: string } | null = null;
      try {
        flow = unsigned?.valid && unsigned.value ? JSON.parse(unsigned.value) : null;
      } catch {
        flow = null;
      }
      if (!flow || flow.p !== spec.key)
        return fail(reply, spec, 'the sign-in took too long or was started elsewhere. Try again.');
      if (req.query.error) return fail(reply, spec, req.query.error_description ?? req.query.error);
      try {
        const conf = await configuration(spec);
        const current = new URL(`${baseUrl(config, req)}${req.url}`);
        const tokens = await client.authorizationCodeGrant(conf, current, {
          expectedState: flow.s,
          expectedNonce: flow.n,
          ...(flow.v ? { pkceCodeVerifier: flow.v } : {}),
          idTokenExpected: true,
        });
        const claims = tokens.claims();
        if (!claims) throw new Error('no ID token');
        const user = await baton.users.resolve(spec.identity(claims as Record<string, unknown>));
        sessions.signIn(req, reply, user._id, spec.key);
        logger.info({ user: user._id, provider: spec.key }, 'web: signed in');
        return reply.redirect(safeReturnTo(flow.r), 303);
      } catch (err) {
        logger.warn({ provider: spec.key, error: (err as Error).message }, 'web: sign-in failed');
        return fail(reply, spec, 'the provider did not confirm who you are. Try again.');
      }
    });
  }
}
