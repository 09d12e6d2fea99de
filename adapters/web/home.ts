import type { FastifyRequest } from 'fastify';
import { ValidationError } from '../../src/core/errors.js';
import { outcomePhrase } from '../../src/core/tasks.js';
import type { NotificationDoc, User } from '../../src/core/types.js';
import { reassignForm } from './detail.js';
import { personByName } from './forms.js';
import { html } from './html.js';
import type { SafeHtml } from './kit.js';
import type { WebDeps } from './plugin.js';
import { inSentence, renderTask, stageBadge, time } from './render.js';
import { safeReturnTo, wantsJson } from './shell.js';

const INBOX_LIMIT = 50;

/** The texts of a bound card's TextBlocks and facts, in order (nested containers included). */
function cardTexts(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) cardTexts(n, out);
  else if (node && typeof node === 'object') {
    const n = node as Record<string, unknown>;
    if (n.type === 'TextBlock' && typeof n.text === 'string' && n.text.trim()) out.push(n.text.trim());
    if (n.type === 'FactSet' && Array.isArray(n.facts))
      for (const f of n.facts as { title?: unknown; value?: unknown }[])
        if (typeof f.value === 'string' && f.value.trim())
          out.push(`${String(f.title ?? '')}: ${f.value.trim()}`);
    for (const key of ['body', 'items', 'columns']) if (key in n) cardTexts(n[key], out);
  }
  return out;
}

/**
 * What a notification says in the list of updates: its text, or, for one sent as a card only
 * (a recipe's `notify` with `card` and no `text`), the card's own lines.
 */
async function noteText(deps: WebDeps, n: NotificationDoc): Promise<string> {
  if (n.text) return n.text;
  if (n.card && deps.cards.has(n.card)) {
    try {
      const request = n.request_id ? await deps.baton.requests.load(n.request_id) : null;
      const view = request ? await deps.baton.views.request(request) : undefined;
      const url = view ? `/requests/${encodeURIComponent(view.id)}` : '';
      const card = deps.cards.render(n.card, { ...(view ?? {}), text: '', request: view, url });
      const lines = cardTexts((card as { body?: unknown }).body).filter((t) => !t.includes('${'));
      if (lines.length > 0) return lines.slice(0, 4).join(' · ');
    } catch (err) {
      deps.logger.warn(
        { card: n.card, error: (err as Error).message },
        'web: notification card not rendered',
      );
    }
  }
  return n.request_id ? `An update on ${n.request_id}` : 'An update';
}

/** Inbox and recent requests: the part of the home page that live updates replace. */
async function inboxFragment(deps: WebDeps, req: FastifyRequest, user: User): Promise<SafeHtml> {
  const { baton, kit } = deps;
  const page = inboxPage(req);
  const [tasks, total] = await Promise.all([
    baton.tasks.listOpenFor(user, { limit: INBOX_LIMIT + 1, ...(page.after ? { after: page.after } : {}) }),
    baton.tasks.countOpenFor(user),
  ]);
  const shown = tasks.slice(0, INBOX_LIMIT);
  const csrf = kit.csrfField(req);
  const here = page.after ? `/?${pageQuery(page.after, page.from)}` : '/';
  const cards = await Promise.all(shown.map((t) => renderTask(deps, user, t, { csrf, returnTo: here })));
  const last = shown[shown.length - 1];
  // More than one page: say which tasks these are and link to the next (and the first) page.
  const pager =
    last && (tasks.length > INBOX_LIMIT || page.after)
      ? html`<nav class="pager" aria-label="More tasks"><p class="muted" data-testid="inbox-range">Showing ${page.from}–${page.from + shown.length - 1} of ${total} tasks waiting for you, oldest first.</p>
  <div class="actions">${page.after ? html`<a class="button" href="/">First ${INBOX_LIMIT}</a>` : ''}${
    tasks.length > INBOX_LIMIT
      ? html`<a class="button" rel="next" href="/?${pageQuery({ at: last.created_at, id: last._id }, page.from + shown.length)}">Next ${Math.min(INBOX_LIMIT, total - (page.from + shown.length - 1))} tasks</a>`
      : ''
  }</div></nav>`
      : '';
  const mine = await baton.requests.listMine(user, { limit: 10 });
  const notes = await Promise.all(
    (await baton.deliveries.notificationsFor(user, 5)).map(async (n) => ({
      ...n,
      text: await noteText(deps, n),
    })),
  );
  const appNames = new Map((await baton.apps.list()).map((a) => [a._id, a.definition.name]));
  return html`<section aria-labelledby="inbox-h">
  <h2 id="inbox-h">Waiting for you <span class="count" data-testid="inbox-count">${total}</span></h2>
  ${
    shown.length === 0
      ? page.after && total > 0
        ? html`<p class="empty">No more tasks after these. <a href="/">Back to the first tasks</a></p>`
        : html`<p class="empty">Nothing is waiting for you.</p>`
      : html`<div class="tasks">${cards}</div>`
  }
  ${pager}
</section>
${
  notes.length > 0
    ? html`<section aria-labelledby="notes-h">
  <h2 id="notes-h">Updates for you</h2>
  <ul class="notes">${notes.map(
    (n) =>
      html`<li><span>${n.text ?? ''}</span> <span class="muted small">${n.request_id ? html`<a href="/requests/${n.request_id}">${n.request_id}</a> · ` : ''}${time(n.created_at)}</span></li>`,
  )}</ul>
</section>`
    : ''
}
<section aria-labelledby="mine-h">
  <h2 id="mine-h">Your recent requests</h2>
  ${
    mine.length === 0
      ? html`<p class="empty">You have not filed any requests yet.</p>`
      : html`<div class="table-wrap"><table class="list">
    <thead><tr><th scope="col">Request</th><th scope="col">App</th><th scope="col">Stage</th><th scope="col">Filed</th></tr></thead>
    <tbody>${mine.map(
      (r) =>
        html`<tr><td><a href="/requests/${r._id}">${r._id}</a></td><td>${appNames.get(r.app) ?? r.app}</td><td>${stageBadge(r.stage)}</td><td>${time(r.created_at)}</td></tr>`,
    )}</tbody></table></div>`
  }
</section>`;
}

/** Where a page of the inbox starts: after a task (its created_at and id), and its number in the list. */
function inboxPage(req: FastifyRequest): { after?: { at: Date; id: string }; from: number } {
  const q = (req.query ?? {}) as Record<string, unknown>;
  const m = typeof q.after === 'string' ? /^(\d{1,15})\.([A-Za-z0-9_-]{1,100})$/.exec(q.after) : null;
  if (!m) return { from: 1 };
  const from = typeof q.from === 'string' && /^\d{1,7}$/.test(q.from) ? Number(q.from) : 0;
  return { after: { at: new Date(Number(m[1])), id: m[2]! }, from: Math.max(from, 2) };
}

function pageQuery(after: { at: Date; id: string }, from: number): string {
  return `after=${after.at.getTime()}.${encodeURIComponent(after.id)}&from=${from}`;
}

function readInputs(body: Record<string, unknown>): Record<string, string> {
  const inputs: Record<string, string> = {};
  const nested = body.inputs;
  if (nested && typeof nested === 'object' && !Array.isArray(nested)) {
    for (const [k, v] of Object.entries(nested)) if (typeof v === 'string') inputs[k] = v;
  }
  for (const [k, v] of Object.entries(body)) {
    if (k.startsWith('inputs.') && typeof v === 'string') inputs[k.slice('inputs.'.length)] = v;
  }
  return inputs;
}

export function registerHome(deps: WebDeps): void {
  const { app, baton, kit } = deps;

  app.get('/', async (req, reply) => {
    const user = await kit.requireUser(req, reply);
    if (!user) return reply;
    const apps = await baton.apps.list();
    const handed = (req.query as Record<string, unknown> | undefined)?.handed === '1';
    return kit.page(req, reply, user, {
      title: 'Inbox',
      active: 'home',
      body: html`<div class="page-head"><h1>Hello, ${user.name.split(' ')[0]}</h1>
  <div class="actions">${apps.map(
    (a) => html`<a class="button" href="/apps/${a._id}/new">New ${inSentence(a.definition.name)}</a>`,
  )}</div></div>
${handed ? html`<p class="notice" role="status">Task reassigned. Its request is no longer shown to you: you have no task on it now.</p>` : ''}
<div id="inbox" data-live="inbox" data-fragment="/fragments/inbox${req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : ''}">${await inboxFragment(deps, req, user)}</div>`,
    });
  });

  app.get('/fragments/inbox', async (req, reply) => {
    const user = await kit.requireUser(req, reply);
    if (!user) return reply;
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send((await inboxFragment(deps, req, user)).__html);
  });

  app.get('/apps', async (req, reply) => {
    const user = await kit.requireUser(req, reply);
    if (!user) return reply;
    const apps = await baton.apps.list();
    return kit.page(req, reply, user, {
      title: 'Requests',
      active: 'apps',
      body: html`<h1>Apps</h1>
<div class="grid">${apps.map(
        (a) => html`<section class="card app-card"><h2><a href="/apps/${a._id}">${a.definition.name}</a></h2>
  <p class="muted">${a.definition.description ?? ''}</p>
  <div class="actions"><a class="button primary" href="/apps/${a._id}/new">New request</a><a class="button" href="/apps/${a._id}">All requests</a></div></section>`,
      )}</div>
${apps.length === 0 ? html`<p class="empty">No apps are installed yet.</p>` : ''}`,
    });
  });

  /** Hands an open task to someone else or to a group (its assignee, a member of its group, or an admin). */
  app.post<{ Params: { id: string } }>('/tasks/:id/reassign', async (req, reply) => {
    const user = await kit.requireUser(req, reply);
    if (!user) return reply;
    const body = (req.body ?? {}) as Record<string, unknown>;
    try {
      // Typed by name (more people than the form lists): the one person so named.
      let to = typeof body.to === 'string' ? body.to : '';
      const person = await personByName(baton, 'To', to);
      if (person && 'error' in person) throw new ValidationError(person.error, { to: person.error });
      if (person) to = person.id;
      const task = await baton.tasks.reassign(user, req.params.id, to);
      if (wantsJson(req))
        return reply.send({ ok: true, task: { id: task._id, assignee: task.assignee_key } });
      const returnTo = safeReturnTo(body.return_to ?? `/requests/${task.request_id}`);
      // Handing on your only task on a request may take the request out of your sight: the
      // inbox says it was handed on, instead of a "You can't see …" page.
      const request = await baton.requests.load(task.request_id);
      const stillSeen = request ? await baton.requests.canSee(user, request) : false;
      const onRequestPage = returnTo.split(/[?#]/)[0] === `/requests/${encodeURIComponent(task.request_id)}`;
      return reply.redirect(!stillSeen && onRequestPage ? '/?handed=1' : returnTo, 303);
    } catch (err) {
      // A refused choice (a group with no members, an unknown person) shows the task and its
      // form again with the reason, so the person can choose someone else: not a dead end.
      if (!wantsJson(req) && err instanceof ValidationError) {
        const task = await baton.tasks.load(req.params.id).catch(() => null);
        if (task && task.status === 'open' && (await baton.tasks.actingAs(user, task)) !== null) {
          const returnTo = safeReturnTo(body.return_to ?? `/requests/${task.request_id}`);
          return kit.page(req, reply, user, {
            title: 'Problem',
            status: 400,
            active: 'home',
            body: html`<section class="narrow"><h1>${task.title}</h1><p class="error-text" role="alert">${err.message}</p>
${await reassignForm(deps, task, { csrf: kit.csrfField(req), returnTo, error: Object.values(err.fields).join(' ') || err.message, to: typeof body.to === 'string' ? body.to : '' })}
<p><a href="${returnTo}">Back</a></p></section>`,
          });
        }
      }
      return kit.fail(req, reply, user, err);
    }
  });

  /**
   * Completes a task: the same core call as a Slack button (same authorization, same
   * compare-and-set, same "already approved by"). JSON for the page's script, a redirect for
   * the plain form.
   */
  app.post<{ Params: { id: string } }>('/tasks/:id/complete', async (req, reply) => {
    const user = await kit.requireUser(req, reply);
    if (!user) return reply;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const outcome = typeof body.outcome === 'string' ? body.outcome : '';
    const comment = typeof body.comment === 'string' ? body.comment : undefined;
    try {
      const task = await baton.tasks.complete(user, req.params.id, outcome, {
        comment,
        inputs: readInputs(body),
      });
      const phrase = outcomePhrase(task.outcome ?? outcome);
      // Still open: a group task with a quorum recorded this answer and waits for the others.
      const message =
        task.status === 'open'
          ? `Your answer "${outcome}" on ${task.title} is recorded; ${await baton.tasks.waitingFor(task)}.`
          : `${phrase.charAt(0).toUpperCase()}${phrase.slice(1)}: ${task.title}`;
      if (wantsJson(req))
        return reply.send({
          ok: true,
          message,
          task: { id: task._id, status: task.status, outcome: task.outcome, request_id: task.request_id },
        });
      return reply.redirect(safeReturnTo(body.return_to ?? `/requests/${task.request_id}`), 303);
    } catch (err) {
      // Without JavaScript, a refused submit (a required comment or input missing) shows the
      // task's form again with the message and what was typed, rather than a dead end.
      if (!wantsJson(req) && err instanceof ValidationError) {
        const task = await baton.tasks.load(req.params.id).catch(() => null);
        if (task && task.status === 'open' && (await baton.tasks.actingAs(user, task)) !== null) {
          const message = Object.values(err.fields).join(' ') || err.message;
          return kit.page(req, reply, user, {
            title: 'Problem',
            status: 400,
            active: 'home',
            body: html`<section class="narrow"><h1>${task.title}</h1><p class="error-text" role="alert">${message}</p>
${await renderTask(deps, user, task, {
  csrf: kit.csrfField(req),
  returnTo: safeReturnTo(body.return_to ?? `/requests/${task.request_id}`),
  values: { comment, inputs: readInputs(body) },
  error: message,
})}</section>`,
          });
        }
      }
      // Forbidden 403, closed 409 ("Already approved by …"), validation 400 with field messages;
      // a way back to the request the task was about, when the person may see it.
      const task = await baton.tasks.load(req.params.id).catch(() => null);
      const request = task ? await baton.requests.get(user, task.request_id).catch(() => null) : null;
      const back = request
        ? { href: `/requests/${encodeURIComponent(request._id)}`, label: `Back to ${request._id}` }
        : undefined;
      return kit.fail(req, reply, user, err, back ? { back } : {});
    }
  });
}
