import type { FastifyReply, FastifyRequest } from 'fastify';
import { DEMO_PEOPLE, demoIdentity, demoSlug, demoUsers, seedPlayground } from '../../src/core/playground.js';
import { html } from './html.js';
import type { PageOptions } from './kit.js';
import type { SignInProviders } from './playground.js';
import type { WebDeps } from './plugin.js';
import { safeReturnTo } from './shell.js';

type AnonymousPage = (req: FastifyRequest, reply: FastifyReply, opts: PageOptions) => FastifyReply;

/** The sign-in page: the playground's "continue as" picker and/or the configured providers. */
export function registerLogin(deps: WebDeps, anonymousPage: AnonymousPage, providers: SignInProviders): void {
  const { app, baton, sessions, playground, logger } = deps;
  // The demo people are created when the picker is first shown (idempotent; again after a failure),
  // so starting a server has no side effect on its data.
  let seeded: Promise<unknown> | undefined;
  const seed = () => {
    seeded ??= seedPlayground(baton).catch((err: unknown) => {
      seeded = undefined;
      throw err;
    });
    return seeded;
  };

  app.get<{ Querystring: { return_to?: string; error?: string } }>('/login', async (req, reply) => {
    const session = sessions.ensure(req, reply);
    const csrf = sessions.csrfToken(session);
    const returnTo = safeReturnTo(req.query.return_to);
    const current = session.user ? await baton.users.find(session.user).catch(() => null) : null;
    if (playground) await seed();
    const picker = playground
      ? html`<section class="card">
  <h2>Continue as</h2>
  <p class="muted">Demo people with the roles the shipped templates need. Switch at any time.</p>
  <ul class="people">${(await demoUsers(baton)).map(
    ({ person, user }) => html`<li><form method="post" action="/login/playground">
      <input type="hidden" name="_csrf" value="${csrf}">
      <input type="hidden" name="who" value="${person.slug}">
      <input type="hidden" name="return_to" value="${returnTo}">
      <button type="submit" class="person"${current?._id === user._id ? html` aria-current="true"` : ''}>
        <span class="avatar" aria-hidden="true">${user.name.slice(0, 1)}</span>
        <span><strong>${user.name}</strong>${current?._id === user._id ? html` <span class="tag">you now</span>` : ''}<br><span class="muted">${person.title}</span></span>
      </button></form></li>`,
  )}</ul></section>`
      : '';
    const buttons = [
      providers.slack
        ? html`<a class="button" href="/auth/slack?return_to=${encodeURIComponent(returnTo)}">Sign in with Slack</a>`
        : '',
      providers.microsoft
        ? html`<a class="button" href="/auth/microsoft?return_to=${encodeURIComponent(returnTo)}">Sign in with Microsoft</a>`
        : '',
    ];
    const none =
      !playground && !providers.slack && !providers.microsoft
        ? html`<p class="error-text">No sign-in is configured. Set <code>SLACK_CLIENT_ID</code> and <code>SLACK_CLIENT_SECRET</code> (Sign in with Slack) or the <code>MICROSOFT_OIDC_*</code> variables, or run on a loopback address to use the playground.</p>`
        : '';
    const error = req.query.error ? html`<p class="error-text" role="alert">${req.query.error}</p>` : '';
    // Already signed in (Switch person): say as whom, and offer the way back without switching.
    const signedIn = current
      ? html`<p class="notice" role="status">You are signed in as <strong>${current.name}</strong>. <a href="${returnTo}">Back to Baton as ${current.name.split(' ')[0]}</a></p>`
      : '';
    return anonymousPage(req, reply, {
      title: 'Sign in',
      body: html`<div class="narrow">
<h1>${current && playground ? 'Switch person' : 'Sign in to Baton'}</h1>
${signedIn}
${error}
${providers.slack || providers.microsoft ? html`<section class="card"><div class="actions">${buttons}</div></section>` : ''}
${none}
${picker}
</div>`,
    });
  });

  app.post<{ Body: { who?: string; return_to?: string } }>('/login/playground', async (req, reply) => {
    if (!playground)
      return reply.status(404).send({ error: 'baton.not_found', message: 'The playground is off.' });
    await seed();
    const slug = typeof req.body?.who === 'string' ? req.body.who : '';
    const person = DEMO_PEOPLE.find((p) => p.slug === slug);
    const user = person ? await baton.users.lookup(`web:${demoIdentity(person.slug)}`) : null;
    if (!user)
      return reply
        .status(400)
        .send({ error: 'baton.validation_failed', message: 'Pick one of the demo people.' });
    // Switching person: remember who it was, so every page offers to switch back.
    const before = sessions.read(req);
    const was = before?.user ? await baton.users.find(before.user).catch(() => null) : null;
    const wasSlug = was ? demoSlug(was) : undefined;
    sessions.signIn(req, reply, user._id, 'playground', wasSlug && wasSlug !== slug ? wasSlug : undefined);
    logger.info({ user: user._id }, 'web: signed in (playground)');
    return reply.redirect(safeReturnTo(req.body?.return_to), 303);
  });

  app.post('/logout', async (req, reply) => {
    sessions.signOut(req, reply);
    return reply.redirect('/login', 303);
  });
}
