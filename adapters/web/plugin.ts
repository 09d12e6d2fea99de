import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Config } from '../../src/config.js';
import type { Baton } from '../../src/core/baton.js';
import type { Logger } from '../../src/logger.js';
import { type CardLibrary, loadCards } from '../cards/cards.js';
import { adminPages } from './admin/index.js';
import { registerAssets } from './assets.js';
import { dashboardPages } from './dashboard/index.js';
import { registerDetail } from './detail.js';
import { registerForms } from './forms.js';
import { registerHome } from './home.js';
import { html } from './html.js';
import type { WebKit, WebPages } from './kit.js';
import { registerLegal } from './legal.js';
import { createLive, type Live } from './live.js';
import { registerLogin } from './login.js';
import { registerOidc } from './oidc.js';
import { playgroundMode, signInProviders } from './playground.js';
import { loadSessionSecret, Sessions } from './session.js';
import { createShell, safeReturnTo, wantsJson } from './shell.js';
import { registerTable } from './table.js';

export interface WebPluginOptions {
  baton: Baton;
  config: Config;
  logger: Logger;
  /** Card templates (default: the repo's `cards/`). */
  cards?: CardLibrary;
}

/** Everything the portal's own modules share. */
export interface WebDeps {
  app: FastifyInstance;
  kit: WebKit;
  baton: Baton;
  config: Config;
  logger: Logger;
  cards: CardLibrary;
  sessions: Sessions;
  live: Live;
  playground: boolean;
}

/** The page groups mounted inside the portal's scope (session resolved, forms parsed, CSRF checked). */
const PAGE_GROUPS: { name: string; pages: WebPages }[] = [
  { name: 'admin', pages: adminPages },
  { name: 'dashboard', pages: dashboardPages },
];

/**
 * The web portal, mounted at `/`: sessions (signed cookies), CSRF on every POST, the
 * playground or OpenID Connect sign-in, the inbox, app tables, request forms and pages,
 * live updates, and the admin and dashboard page groups. Form parsing and cookies are
 * registered inside this plugin's own scope.
 */
export const webPlugin: FastifyPluginAsync<WebPluginOptions> = async (app, options) => {
  const { baton, config } = options;
  const logger = options.logger.child({ component: 'web' });
  const secret = loadSessionSecret(config, logger);
  await app.register(cookie, { secret });
  await app.register(formbody, { bodyLimit: 256 * 1024 });
  const secure = (config.BATON_PUBLIC_URL ?? '').startsWith('https://');
  const sessions = new Sessions(secret, secure);
  const mode = playgroundMode(config);
  if (mode.on) {
    if (mode.forced)
      logger.warn(
        { host: config.HOST, reason: mode.reason },
        `PLAYGROUND FORCED ON at ${config.HOST}: anyone who can reach this server can act as any demo user, admin included. Never do this with real data.`,
      );
    else logger.info({ reason: mode.reason }, 'web: playground on (demo users; no sign-in)');
  } else logger.info({ reason: mode.reason }, 'web: playground off');

  const shell = createShell({ baton, logger, sessions, playground: mode.on });
  const cards = options.cards ?? loadCards(undefined, { logger });
  const live = createLive({ baton, logger });
  const deps: WebDeps = {
    app,
    kit: shell.kit,
    baton,
    config,
    logger,
    cards,
    sessions,
    live,
    playground: mode.on,
  };

  // Security headers on every portal response.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) {
      reply.header(
        'content-security-policy',
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; connect-src 'self'; form-action 'self' https:; frame-ancestors 'none'; base-uri 'none'",
      );
      reply.header('x-frame-options', 'DENY');
    }
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'same-origin');
    return payload;
  });

  // CSRF: every POST in the portal carries this session's token (form field or header).
  app.addHook('preHandler', async (req, reply) => {
    if (req.method !== 'POST') return;
    const body = req.body as Record<string, unknown> | undefined;
    const token = req.headers['x-csrf-token'] ?? (body && typeof body === 'object' ? body._csrf : undefined);
    const session = sessions.read(req);
    if (!sessions.checkCsrf(session, token)) {
      logger.info({ url: req.url }, 'web: POST refused: missing or wrong CSRF token');
      // Signed out (in another tab, or the week is over): say so, rather than "expired". The
      // sign-in pages themselves post from an anonymous session: theirs is the plain message.
      const path = req.url.split('?')[0];
      const signedOut = !session?.user && path !== '/login/playground' && path !== '/logout';
      const message = signedOut
        ? 'You are signed out (perhaps in another tab), so this was not sent. Sign in again and send it again.'
        : 'This form has expired or did not come from Baton: reload the page and try again.';
      // A browser's own form post (signed out or switched person in another tab) gets a page, not JSON.
      if (!wantsJson(req) && (req.headers.accept ?? '').includes('text/html')) {
        let back = '/';
        try {
          const referer = new URL(req.headers.referer ?? '/', 'http://x');
          back = safeReturnTo(referer.pathname + referer.search);
        } catch {}
        // app.js kept what was typed when the form was sent (data-keep-draft): back on the
        // form, after signing in again if need be, it is put back.
        return shell.anonymousPage(req, reply, {
          title: signedOut ? 'Signed out' : 'Form expired',
          status: signedOut ? 401 : 403,
          body: signedOut
            ? html`<section class="card narrow" data-keep-draft><h1>You are signed out</h1><p class="error-text" role="alert">${message}</p><p>What you typed is kept in this tab: after you sign in, the form shows it again.</p><p><a class="button primary" href="/login?return_to=${encodeURIComponent(back)}">Sign in again</a></p></section>`
            : html`<section class="card narrow" data-keep-draft><h1>This form has expired</h1><p class="error-text" role="alert">${message}</p><p>What you typed is kept in this tab: the form shows it again.</p><p><a class="button primary" href="${back}">Back to the page</a> <a href="/">Your inbox</a></p></section>`,
        });
      }
      if (signedOut)
        return reply.status(401).send({ error: 'baton.unauthenticated', message, signed_out: true });
      return reply.status(403).send({ error: 'baton.csrf', message });
    }
  });

  registerAssets(app);
  registerLogin(deps, shell.anonymousPage, signInProviders(config));
  registerLegal(deps, shell.anonymousPage);
  registerOidc(deps);
  registerHome(deps);
  registerForms(deps);
  registerDetail(deps);
  registerTable(deps);
  live.register(app, shell.kit);

  for (const group of PAGE_GROUPS) {
    await group.pages(app, shell.kit);
    logger.debug({ group: group.name }, 'web: page group registered');
  }
};
