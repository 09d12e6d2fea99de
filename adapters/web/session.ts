import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';

/**
 * Portal sessions: a signed, http-only, SameSite=Lax cookie holding a random session id, the
 * Baton user id (once signed in) and when it was issued. Signed with the session secret by
 * @fastify/cookie (HMAC-SHA256), so it cannot be forged or edited; it carries nothing secret.
 *
 * CSRF: every POST carries a token that is HMAC(secret, "csrf:" + session id) — in a hidden
 * `_csrf` field or an `x-csrf-token` header — compared in constant time. Bound to the session
 * (a token from another session, or from before sign-in, is refused), stateless, and needing
 * no second cookie.
 */

export const SESSION_COOKIE = 'baton_session';
/** A session lasts a week from sign-in. */
export const SESSION_MAX_AGE_S = 7 * 24 * 3600;

export interface Session {
  /** Random session id (CSRF tokens derive from it). */
  sid: string;
  /** Baton user id, once signed in. */
  user?: string | undefined;
  /** How the user signed in: playground, slack, microsoft. */
  via?: string | undefined;
  /** Issued at (ms since epoch). */
  at: number;
  /** Playground: the demo person (slug) signed in before this one, to switch back to. */
  prev?: string | undefined;
}

const SECRET_FILE = 'session-secret';

/**
 * The secret that signs cookies: BATON_SESSION_SECRET, or one generated once and kept in
 * DATA_DIR (mode 0600) so sessions survive restarts.
 */
export function loadSessionSecret(config: Config, logger: Logger): string {
  if (config.BATON_SESSION_SECRET) return config.BATON_SESSION_SECRET;
  const dir = path.resolve(config.DATA_DIR);
  const file = path.join(dir, SECRET_FILE);
  if (existsSync(file)) {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret.length >= 32) return secret;
  }
  mkdirSync(dir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  logger.info(
    { file },
    `web: no BATON_SESSION_SECRET set; generated one and kept it in ${file}${
      config.MONGODB_URL ? ' (set BATON_SESSION_SECRET when several instances serve the portal)' : ''
    }`,
  );
  return secret;
}

export class Sessions {
  constructor(
    private readonly secret: string,
    private readonly secure: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /** The session of a request (memoised on it), or null. */
  read(req: FastifyRequest): Session | null {
    const memo = (req as { batonSession?: Session | null }).batonSession;
    if (memo !== undefined) return memo;
    let session: Session | null = null;
    const cookie = req.cookies[SESSION_COOKIE];
    if (cookie) {
      const unsigned = req.unsignCookie(cookie);
      if (unsigned.valid && unsigned.value) session = parse(unsigned.value, this.now());
    }
    (req as { batonSession?: Session | null }).batonSession = session;
    return session;
  }

  /** The session of a request, starting an anonymous one (for the sign-in forms' CSRF) when there is none. */
  ensure(req: FastifyRequest, reply: FastifyReply): Session {
    const existing = this.read(req);
    if (existing) return existing;
    return this.write(req, reply, { sid: newSid(), at: this.now() });
  }

  /** Signs a user in: a fresh session id (no fixation), the user id, how they signed in. */
  signIn(req: FastifyRequest, reply: FastifyReply, user: string, via: string, prev?: string): Session {
    return this.write(req, reply, { sid: newSid(), user, via, at: this.now(), prev });
  }

  signOut(req: FastifyRequest, reply: FastifyReply): void {
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    (req as { batonSession?: Session | null }).batonSession = null;
  }

  private write(req: FastifyRequest, reply: FastifyReply, session: Session): Session {
    const value = JSON.stringify({
      s: session.sid,
      u: session.user,
      v: session.via,
      t: session.at,
      p: session.prev,
    });
    reply.setCookie(SESSION_COOKIE, value, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: this.secure,
      signed: true,
      maxAge: SESSION_MAX_AGE_S,
    });
    (req as { batonSession?: Session | null }).batonSession = session;
    return session;
  }

  /** The CSRF token of a session. */
  csrfToken(session: Session): string {
    return createHmac('sha256', this.secret).update(`csrf:${session.sid}`).digest('base64url');
  }

  /** Whether `token` is this session's CSRF token. */
  checkCsrf(session: Session | null, token: unknown): boolean {
    if (!session || typeof token !== 'string' || token.length === 0 || token.length > 200) return false;
    const expected = Buffer.from(this.csrfToken(session));
    const given = Buffer.from(token);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}

function newSid(): string {
  return randomBytes(18).toString('base64url');
}

function parse(value: string, now: number): Session | null {
  try {
    const v = JSON.parse(value) as { s?: unknown; u?: unknown; v?: unknown; t?: unknown; p?: unknown };
    if (typeof v.s !== 'string' || typeof v.t !== 'number') return null;
    if (now - v.t > SESSION_MAX_AGE_S * 1000 || v.t > now + 60_000) return null;
    return {
      sid: v.s,
      user: typeof v.u === 'string' ? v.u : undefined,
      via: typeof v.v === 'string' ? v.v : undefined,
      at: v.t,
      prev: typeof v.p === 'string' ? v.p : undefined,
    };
  } catch {
    return null;
  }
}
