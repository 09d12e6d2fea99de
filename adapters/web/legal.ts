import type { FastifyReply, FastifyRequest } from 'fastify';
import { html } from './html.js';
import type { PageOptions } from './kit.js';
import type { WebDeps } from './plugin.js';

type AnonymousPage = (req: FastifyRequest, reply: FastifyReply, opts: PageOptions) => FastifyReply;

/**
 * `/privacy` and `/terms`: the pages the Teams app manifest links to (privacyUrl,
 * termsOfUseUrl). Readable without signing in: Teams shows these links to people and to
 * admins who have no portal session. They describe Baton honestly as self-hosted software:
 * the organization running this server is responsible for it, and the data stays in its
 * own store, except what the chat surfaces carry.
 */
export function registerLegal(deps: WebDeps, anonymousPage: AnonymousPage): void {
  const { app, config } = deps;
  const where = config.BATON_PUBLIC_URL
    ? html`This Baton, at ${config.BATON_PUBLIC_URL},`
    : html`This Baton server`;
  const store = config.MONGODB_URL
    ? html`a MongoDB database chosen by the organization (<code>MONGODB_URL</code>)`
    : html`an embedded SQLite database on this server's disk (<code>DATA_DIR</code>, file <code>baton.db</code>)`;

  app.get('/privacy', async (req, reply) =>
    anonymousPage(req, reply.header('cache-control', 'public, max-age=3600'), {
      title: 'Privacy',
      body: html`<article class="card narrow prose">
<h1>Privacy</h1>
<p><strong>Who runs this.</strong> Baton is open-source, self-hosted software. ${where} is run by the organization that installed it, not by Baton's authors: they
receive nothing from it. Questions about your data, and requests to see or delete it, go to
that organization's administrators.</p>
<h2>What is stored</h2>
<p>Everything Baton keeps is in ${store}, in these data tables:</p>
<ul>
<li><strong>users</strong>, <strong>identities</strong>: your name, email address and
role, and your ids on Slack, Microsoft Teams (Entra object id) or the sign-in provider, so
one person is one Baton user on every surface;</li>
<li><strong>groups</strong>: who belongs to which group of approvers;</li>
<li><strong>apps</strong>, <strong>recipes</strong>, <strong>recipe_versions</strong>:
the workflows the administrators configured;</li>
<li><strong>requests</strong>, <strong>history</strong>, <strong>counters</strong>: the
requests people filed, with what they typed in the form, and the trail of who did what
and when (including comments);</li>
<li><strong>tasks</strong>, <strong>jobs</strong>, <strong>notifications</strong>: work
assigned to people, the progress of each workflow run, and the messages sent to people,
with where each copy was posted (message ids);</li>
<li><strong>conversation_refs</strong>: how to reach you in Microsoft Teams (the chat's
id and the service address Teams gave);</li>
<li><strong>dedupe</strong>, <strong>held_actions</strong>, and the scheduler's timers:
short-lived bookkeeping so a click or a retried message is carried out once.</li>
</ul>
<p>The web portal sets one signed, http-only cookie holding your session (which user you
are and a token against forged forms). There are no analytics, trackers or third-party
scripts. The server logs requests and errors to its own output, with tokens and
passwords removed.</p>
<h2>What goes to Slack and Microsoft Teams</h2>
<p>When Baton is connected to Slack or Teams, it sends them what people need to see
there: task messages (the title, instructions and the request's fields), answers to
commands, forms, and notifications. Those copies are then stored by Slack or Microsoft
under the organization's agreement with them. Baton asks them for your name and email
address to link your accounts. Signing in to the portal with Slack or Microsoft gives
Baton your id, name and email from them. Recipes configured by the administrators may
send request data to other services they chose.</p>
<h2>How long</h2>
<p>Data is kept until the administrators delete it. Baton sends it nowhere beyond what is
described above.</p>
<p><a href="/terms">Terms of use</a></p>
</article>`,
    }),
  );

  app.get('/terms', async (req, reply) =>
    anonymousPage(req, reply.header('cache-control', 'public, max-age=3600'), {
      title: 'Terms of use',
      body: html`<article class="card narrow prose">
<h1>Terms of use</h1>
<p>${where} is a workflow tool run by the organization that installed it,
for its own people. Use it for that organization's requests and approvals, under that
organization's own rules; its administrators decide who may use it and what it does.</p>
<p>Baton is open-source software under the Apache License 2.0, provided "as is", without
warranties or conditions of any kind. Its authors do not operate this server and are not
a party to its use.</p>
<p>What Baton stores and what it sends to Slack and Microsoft Teams is described in the
<a href="/privacy">privacy page</a>.</p>
</article>`,
    }),
  );
}
