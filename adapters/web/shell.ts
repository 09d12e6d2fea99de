import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Baton } from '../../src/core/baton.js';
import { isBatonError, TaskClosedError, ValidationError } from '../../src/core/errors.js';
import { DEMO_PEOPLE } from '../../src/core/playground.js';
import type { User } from '../../src/core/types.js';
import { isOperator } from '../../src/core/users.js';
import type { Logger } from '../../src/logger.js';
import { UnsafeInputError } from '../../src/store/safe.js';
import { VERSION } from '../../src/version.js';
import { html, raw } from './html.js';
import type { PageOptions, SafeHtml, WebKit } from './kit.js';
import type { Sessions } from './session.js';

/** What the shell knows beyond the kit: sessions, whether the playground is on, the sign-in options. */
export interface ShellOptions {
  baton: Baton;
  logger: Logger;
  sessions: Sessions;
  playground: boolean;
}

/** True for fetch()/API callers: they get JSON errors and 401 instead of redirects. */
export function wantsJson(req: FastifyRequest): boolean {
  if (req.headers['x-requested-with'] === 'fetch') return true;
  // EventSource: a redirect to an HTML page would only make it fail noisily.
  if ((req.headers.accept ?? '').includes('text/event-stream')) return true;
  const accept = req.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

/** A local path to come back to after sign-in (never another origin). */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.includes('\\')) return '/';
  // Browsers drop tabs and newlines from URLs ("/\t/evil.example" is "//evil.example"): no
  // control characters or spaces at all, then no "//" start.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
  if (/[\u0000-\u0020\u007f]/.test(value) || value.startsWith('//')) return '/';
  return value.length > 500 ? '/' : value;
}

const NAV: { key: string; label: string; href: string; operator?: boolean }[] = [
  { key: 'home', label: 'Inbox', href: '/' },
  { key: 'apps', label: 'Requests', href: '/apps' },
  { key: 'dashboard', label: 'Dashboard', href: '/dashboard' },
  { key: 'admin', label: 'Admin', href: '/admin', operator: true },
];

export interface Shell {
  kit: WebKit;
  /** A page for someone not signed in (the sign-in page): no nav, no user. */
  anonymousPage(req: FastifyRequest, reply: FastifyReply, opts: PageOptions): FastifyReply;
}

export function createShell(options: ShellOptions): Shell {
  const { baton, logger, sessions, playground } = options;

  const csrfToken = (req: FastifyRequest): string => {
    const session = sessions.read(req);
    return session ? sessions.csrfToken(session) : '';
  };

  const layout = (req: FastifyRequest, user: User | null, opts: PageOptions): string => {
    const nav = user
      ? NAV.filter((n) => !n.operator || isOperator(user)).map(
          (n) =>
            html`<a href="${n.href}"${n.key === opts.active ? raw(' aria-current="page"') : ''}>${n.label}</a>`,
        )
      : [];
    // Switch person comes back to this page; after a switch, one click switches back.
    const here = safeReturnTo(req.method === 'GET' ? req.url.split('#')[0] : '/');
    const prev = user ? DEMO_PEOPLE.find((p) => p.slug === sessions.read(req)?.prev) : undefined;
    const banner = playground
      ? html`<div class="banner" role="note"><strong>Playground.</strong> Demo people, no real sign-in: anyone who reaches this address can act as anyone.${
          user ? html` You are <strong>${user.name}</strong>.` : ''
        } <a href="/login?return_to=${encodeURIComponent(here)}">Switch person</a>${
          prev
            ? html` <form method="post" action="/login/playground" class="inline"><input type="hidden" name="_csrf" value="${csrfToken(req)}"><input type="hidden" name="who" value="${prev.slug}"><input type="hidden" name="return_to" value="${here}"><button type="submit" class="link">Back to ${prev.name}</button></form>`
            : ''
        }</div>`
      : '';
    const who = user
      ? html`<div class="who"><span class="who-name" title="${user.email ?? ''}">${user.name}</span>${
          user.role !== 'user' ? html` <span class="tag">${user.role}</span>` : ''
        }<form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${csrfToken(req)}"><button type="submit" class="link">Sign out</button></form></div>`
      : '';
    return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${csrfToken(req)}">
<title>${opts.title} · Baton</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/app.css?v=${VERSION}">
<script src="/assets/app.js?v=${VERSION}" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
${banner}
<header class="top">
  <a class="brand" href="/">Baton</a>
  <nav aria-label="Main">${nav}</nav>
  ${who}
</header>
<main id="main">
${opts.body}
</main>
<footer class="foot"><a href="/privacy">Privacy</a> · <a href="/terms">Terms</a> · Baton ${VERSION}</footer>
</body>
</html>`.__html;
  };

  const sendPage = (
    req: FastifyRequest,
    reply: FastifyReply,
    user: User | null,
    opts: PageOptions,
  ): FastifyReply =>
    reply
      .status(opts.status ?? 200)
      .type('text/html; charset=utf-8')
      .header('cache-control', req.method === 'POST' ? 'private, no-cache' : 'no-store')
      .send(layout(req, user, opts));

  const kit: WebKit = {
    baton,
    logger,
    html,
    raw,
    async requireUser(req, reply) {
      const session = sessions.read(req);
      const user = session?.user ? await baton.users.find(session.user).catch(() => null) : null;
      if (user) return user;
      if (wantsJson(req)) {
        reply.status(401).send({ error: 'baton.unauthenticated', message: 'Sign in first.' });
      } else {
        // A form posted after the session ended: sign in again, then back to the page it came from.
        const back =
          req.method === 'GET' ? req.url : new URL(req.headers.referer ?? '/', 'http://x').pathname;
        reply.redirect(`/login?return_to=${encodeURIComponent(safeReturnTo(back))}`, 303);
      }
      return null;
    },
    csrfField(req) {
      return html`<input type="hidden" name="_csrf" value="${csrfToken(req)}">`;
    },
    page(req, reply, user, opts) {
      // A page read by a client that asked for JSON (Accept: application/json, not text/html):
      // the POST routes answer such a client in JSON; a page has no JSON to give, so say so in
      // JSON rather than answer HTML it did not ask for. (The portal's own script reads its
      // fragments with x-requested-with and Accept: text/html: those are not pages.)
      // A client that takes anything too (axios sends "application/json, text/plain, */*") gets the page.
      const accept = req.headers.accept ?? '';
      if (
        req.method === 'GET' &&
        accept.includes('application/json') &&
        !/text\/html|text\/\*|\*\/\*/.test(accept)
      )
        return reply
          .status(406)
          .header('vary', 'Accept')
          .send({
            error: 'baton.not_acceptable',
            message: `${req.url.split('?')[0]} is a page of the portal: it is sent as text/html only.`,
          });
      return sendPage(req, reply, user, opts);
    },
    fail(req, reply, user, cause, options = {}) {
      // The store refuses ids and values that could act as operators ($…, control characters):
      // that is bad input from the client, not a fault of ours.
      const err = cause instanceof UnsafeInputError ? new ValidationError(cause.message) : cause;
      let status = 500;
      let code = 'baton.internal';
      let message = 'Something went wrong on our side; please try again.';
      let extra: Record<string, unknown> = {};
      if (isBatonError(err)) {
        status = err.status;
        code = err.code;
        message = err.message;
        if (err instanceof ValidationError) extra = { fields: err.fields };
        if (err instanceof TaskClosedError) extra = { task: err.task };
      } else {
        const statusCode = (err as { statusCode?: number }).statusCode;
        if (statusCode && statusCode < 500) {
          status = statusCode;
          code = 'baton.bad_request';
          message = (err as Error).message;
        } else logger.error({ err, url: req.url }, 'web: request failed');
      }
      if (wantsJson(req)) return reply.status(status).send({ error: code, message, ...extra });
      const title =
        status === 403 ? 'Not allowed' : status === 404 ? 'Not found' : status >= 500 ? 'Error' : 'Problem';
      return sendPage(req, reply, user, {
        title,
        status,
        body: html`<section class="card narrow"><h1>${title}</h1><p class="error-text">${message}</p><p>${options.back ? html`<a href="${options.back.href}">${options.back.label}</a> · ` : ''}<a href="/">Back to your inbox</a></p></section>`,
      });
    },
  };
  return { kit, anonymousPage: (req, reply, opts) => sendPage(req, reply, null, opts) };
}

export type { SafeHtml };
