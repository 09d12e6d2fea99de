import { createHash, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { historyExpiry } from '../../src/core/tasks.js';
import type { HistoryEvent, Request, TaskDoc, User } from '../../src/core/types.js';
import { isAdmin } from '../../src/core/users.js';
import { cancelledStageOf } from '../../src/engine/engine.js';
import { html } from './html.js';
import type { SafeHtml } from './kit.js';
import type { WebDeps } from './plugin.js';
import { fieldValue, renderTask, stageBadge, time } from './render.js';
import { wantsJson } from './shell.js';

/** How many people the reassign form lists in its select; more: a box that takes a name. */
const PEOPLE_LIST_MAX = 300;

/**
 * The form that hands an open task to a person or a group; a refused attempt shows it open again
 * with the reason beside the choice, and the choice kept.
 */
export async function reassignForm(
  deps: WebDeps,
  t: TaskDoc,
  options: { csrf: SafeHtml; returnTo: string; error?: string; to?: string },
): Promise<SafeHtml> {
  const { baton } = deps;
  const { csrf, returnTo, error, to } = options;
  const [people, groups] = await Promise.all([
    baton.users.list({ limit: PEOPLE_LIST_MAX + 1 }),
    baton.groups.list(),
  ]);
  const option = (value: string, label: string) =>
    html`<option value="${value}"${t.assignee_key === (value.startsWith('group:') ? value : `user:${value}`) ? html` disabled` : value === to ? html` selected` : ''}>${label}</option>`;
  const aria = error ? html` aria-invalid="true" aria-describedby="to-${t._id}-error"` : '';
  // More people than a list can hold: a box that takes a name, an email or group:name.
  const control =
    people.length > PEOPLE_LIST_MAX
      ? html`<input id="to-${t._id}" name="to" required list="to-${t._id}-list" autocomplete="off" placeholder="Name, email or group:name" value="${to ?? ''}"${aria}>
<datalist id="to-${t._id}-list">${groups.map((g) => html`<option value="group:${g.name}">${g.name}</option>`)}${people
          .slice(0, PEOPLE_LIST_MAX)
          .map((p) => html`<option value="${p.email ?? p._id}">${p.name}</option>`)}</datalist>`
      : html`<select id="to-${t._id}" name="to" required${aria}><option value="">Choose…</option>
<optgroup label="Groups">${groups.map((g) => option(`group:${g.name}`, g.name))}</optgroup>
<optgroup label="People">${people.map((p) => option(p._id, `${p.name}${p.email ? ` (${p.email})` : ''}`))}</optgroup></select>`;
  return html`<details class="reassign" id="reassign-${t._id}"${error ? html` open` : ''}><summary>Reassign “${t.title}”</summary>
<form method="post" action="/tasks/${t._id}/reassign" class="form">${csrf}<input type="hidden" name="return_to" value="${returnTo}">
<label for="to-${t._id}">To</label>${control}
${error ? html`<p class="field-error" id="to-${t._id}-error">${error}</p>` : ''}
<div class="actions"><button type="submit">Reassign</button></div></form></details>`;
}

const ICONS: Partial<Record<HistoryEvent['type'], string>> = {
  created: '+',
  stage_changed: '→',
  task_assigned: '◷',
  task_completed: '✓',
  task_expired: '⌛',
  task_cancelled: '✕',
  task_reassigned: '⇄',
  request_cancelled: '✕',
  comment: '✎',
  field_changed: '✎',
  notified: '✉',
  problem: '!',
};

/** A history line's mark: a decision that turned something down is not ticked like an approval. */
function eventIcon(e: HistoryEvent): string {
  const outcome = (e.data as { outcome?: unknown } | undefined)?.outcome;
  if (
    e.type === 'task_completed' &&
    typeof outcome === 'string' &&
    /reject|deny|denied|decline/i.test(outcome)
  )
    return '✗';
  return ICONS[e.type] ?? '•';
}

/**
 * A history line as the page shows it: a task's "…, expires 2026-12-08 10:19 UTC" gets its time
 * as a <time>, shown in the reader's zone like the times beside it.
 */
function eventText(e: HistoryEvent, text: string): SafeHtml | string {
  const expiry = historyExpiry(e, text);
  return expiry ? html`${expiry.before}, expires ${time(expiry.at)}` : text;
}

async function whoIs(deps: WebDeps, by: string): Promise<string> {
  if (by.startsWith('recipe:')) return `Recipe ${by.slice('recipe:'.length)}`;
  if (by === 'system') return 'Baton';
  return deps.baton.users.displayName(by);
}

/** The request page's live part: stage, fields, tasks, history. */
async function requestFragment(
  deps: WebDeps,
  req: FastifyRequest,
  user: User,
  request: Request,
): Promise<SafeHtml> {
  const { baton, kit } = deps;
  const view = await baton.views.request(request);
  const types = new Map(
    ((await baton.apps.find(request.app))?.fields ?? []).map((f) => [f.key, f.type as string]),
  );
  const tasks = await baton.tasks.listForRequest(request._id);
  const open = tasks.filter((t) => t.status === 'open');
  const closed = tasks.filter((t) => t.status !== 'open');
  const csrf = kit.csrfField(req);
  const returnTo = `/requests/${request._id}`;
  const openCards = await Promise.all(
    open.map(async (t) => {
      const card = await renderTask(deps, user, t, { csrf, returnTo });
      if ((await baton.tasks.actingAs(user, t)) === null) return card;
      return html`${card}${await reassignForm(deps, t, { csrf, returnTo })}`;
    }),
  );
  const history = await Promise.all(
    [...request.history].reverse().map(async (e) => {
      const who = await whoIs(deps, e.by);
      const comment =
        e.type === 'comment'
          ? (e.data?.comment as string | undefined)
          : e.type === 'task_completed' || e.type === 'task_cancelled' || e.type === 'request_cancelled'
            ? ((e.data?.comment ?? e.data?.reason) as string | undefined)
            : undefined;
      // The comment is shown once, as a quote, not also at the end of the line.
      const text =
        e.type === 'comment'
          ? `${who} commented`
          : comment && e.text.endsWith(`: ${comment}`)
            ? e.text.slice(0, -(comment.length + 2))
            : e.text;
      return html`<li class="event event-${e.type}">
  <span class="dot" aria-hidden="true">${eventIcon(e)}</span>
  <div><p class="event-text">${eventText(e, text)}</p>
  ${comment ? html`<blockquote>${comment}</blockquote>` : ''}
  <p class="muted small">${who} · ${time(e.at)}</p></div>
</li>`;
    }),
  );
  return html`<div class="page-head">
  <div><p class="crumbs"><a href="/apps/${request.app}">${view.app_name}</a></p>
  <h1>${request._id} <span data-testid="stage">${stageBadge(request.stage)}</span></h1>
  <p class="muted">Requested by ${view.requester_name} · filed ${time(request.created_at)}</p></div>
</div>
<div class="columns">
  <div>
    <section class="card"><h2>Details</h2>
      ${
        view.fields.length
          ? html`<dl class="facts">${view.fields.map((f) => html`<dt>${f.label}</dt><dd>${fieldValue(types.get(f.key), f.value)}</dd>`)}</dl>`
          : html`<p class="empty">No details.</p>`
      }
    </section>
    <section aria-labelledby="open-h"><h2 id="open-h">Open tasks</h2>
      ${open.length ? html`<div class="tasks">${openCards}</div>` : html`<p class="empty">No open tasks.</p>`}
      ${
        closed.length
          ? html`<h3 class="small muted">Closed</h3><ul class="closed-tasks">${await Promise.all(
              closed.map(async (t) => {
                const v = await baton.views.task(t);
                return html`<li><strong>${t.title}</strong> — ${v.task.status_text}${t.completed_at ? html` · ${time(t.completed_at)}` : ''}</li>`;
              }),
            )}</ul>`
          : ''
      }
    </section>
  </div>
  <section class="card" aria-labelledby="history-h"><h2 id="history-h">History</h2>
    <ol class="timeline" data-testid="history">${history}</ol>
  </section>
</div>`;
}

/**
 * "Cancel this request", for its requester and admins, when its app has a Cancelled stage it is not
 * in yet and there is something left to cancel (not turned down or run out with nothing under way).
 */
async function cancelSection(
  deps: WebDeps,
  req: FastifyRequest,
  user: User,
  request: Request,
): Promise<SafeHtml | string> {
  if (request.requester !== user._id && !isAdmin(user)) return '';
  const stage = cancelledStageOf(await deps.baton.apps.get(request.app));
  if (stage === undefined || request.stage === stage) return '';
  // Rejected or expired with nothing under way: the core would refuse it (nothing left to cancel).
  if (await deps.baton.engine.nothingLeftToCancel(request)) return '';
  return html`<section class="card narrow-left" aria-labelledby="cancel-h"><h2 id="cancel-h">Cancel this request</h2>
<details><summary>Cancel ${request._id}…</summary>
<form method="post" action="/requests/${request._id}/cancel" class="form">
  ${deps.kit.csrfField(req)}
  <p class="muted">Its open tasks are withdrawn, the recipes working on it stop, and it moves to ${stage}.</p>
  <label for="cancel-reason">Reason (optional)</label>
  <textarea id="cancel-reason" name="reason" rows="2" maxlength="1000"></textarea>
  <div class="actions"><button type="submit" class="button danger">Cancel request</button></div>
</form></details></section>`;
}

/**
 * Admins move a request to another stage by hand (as a recipe's change_stage would: recorded in
 * the history, stage_changed recipes start): the way out for requests in a stage the app no
 * longer has, or a stage the app is to drop.
 */
async function stageForm(deps: WebDeps, req: FastifyRequest, request: Request): Promise<SafeHtml> {
  const app = await deps.baton.apps.get(request.app);
  const stages = app.stages.filter((s) => s !== request.stage);
  if (stages.length === 0) return html``;
  return html`<section class="card narrow-left" aria-labelledby="stage-h"><h2 id="stage-h">Move to another stage</h2>
<form method="post" action="/requests/${request._id}/stage" class="form">
  ${deps.kit.csrfField(req)}
  <label for="request-stage">Stage</label>
  <select id="request-stage" name="stage" required><option value="">Choose…</option>${stages.map((s) => html`<option value="${s}">${s}</option>`)}</select>
  <p class="muted">Admins only. Recorded in the history; recipes that run on this stage change start.</p>
  <div class="actions"><button type="submit">Move</button></div>
</form></section>`;
}

export function registerDetail(deps: WebDeps): void {
  const { app, baton, kit } = deps;

  app.get<{ Params: { id: string } }>('/requests/:id', async (req, reply) => {
    const user = await kit.requireUser(req, reply);
    if (!user) return reply;
    try {
      const request = await baton.requests.get(user, req.params.id);
      return kit.page(req, reply, user, {
        title: request._id,
        active: 'apps',
        body: html`<div id="request" data-live="request" data-request="${request._id}" data-fragment="/requests/${request._id}/fragment">${await requestFragment(deps, req, user, request)}</div>
<section class="card narrow-left" aria-labelledby="comment-h"><h2 id="comment-h">Add a comment</h2>
<form method="post" action="/requests/${request._id}/comment" class="form">
  ${kit.csrfField(req)}<input type="hidden" name="_submission" value="${randomBytes(16).toString('base64url')}">
  <label for="request-comment" class="sr-only">Comment</label>
  <textarea id="request-comment" name="comment" rows="3" maxlength="5000" required></textarea>
  <div class="actions"><button type="submit">Comment</button></div>
</form></section>${await cancelSection(deps, req, user, request)}${user.role === 'admin' ? await stageForm(deps, req, request) : ''}`,
      });
    } catch (err) {
      return kit.fail(req, reply, user, err);
    }
  });

  app.get<{ Params: { id: string } }>('/requests/:id/fragment', async (req, reply) => {
    const user = await kit.requireUser(req, reply);
    if (!user) return reply;
    try {
      const request = await baton.requests.get(user, req.params.id);
      return reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send((await requestFragment(deps, req, user, request)).__html);
    } catch (err) {
      return kit.fail(req, reply, user, err);
    }
  });

  app.post<{ Params: { id: string }; Body: { reason?: string } }>(
    '/requests/:id/cancel',
    async (req, reply) => {
      const user = await kit.requireUser(req, reply);
      if (!user) return reply;
      try {
        const reason = String(req.body?.reason ?? '').trim();
        await baton.engine.cancelRequest(user, req.params.id, reason || undefined);
        if (wantsJson(req)) return reply.send({ ok: true });
        return reply.redirect(`/requests/${encodeURIComponent(req.params.id)}#history-h`, 303);
      } catch (err) {
        return kit.fail(req, reply, user, err);
      }
    },
  );

  app.post<{ Params: { id: string }; Body: { comment?: string; _submission?: string } }>(
    '/requests/:id/comment',
    async (req, reply) => {
      const user = await kit.requireUser(req, reply);
      if (!user) return reply;
      try {
        const text = String(req.body?.comment ?? '');
        // The page's one-time token with what was typed: the same comment posted again (a
        // double click, a form re-posted after a crash) is recorded once; another comment
        // sent from the same page (Back, then typing something else) is a comment of its own.
        const token = typeof req.body?._submission === 'string' ? req.body._submission : '';
        const key = /^[A-Za-z0-9_-]{16,64}$/.test(token)
          ? `${token}:${createHash('sha256').update(text.trim()).digest('base64url').slice(0, 16)}`
          : undefined;
        await baton.requests.comment(user, req.params.id, text, key ? { key } : {});
        if (wantsJson(req)) return reply.send({ ok: true });
        return reply.redirect(`/requests/${encodeURIComponent(req.params.id)}#history-h`, 303);
      } catch (err) {
        return kit.fail(req, reply, user, err);
      }
    },
  );

  app.post<{ Params: { id: string }; Body: { stage?: string } }>(
    '/requests/:id/stage',
    async (req, reply) => {
      const user = await kit.requireUser(req, reply);
      if (!user) return reply;
      try {
        await baton.requests.setStage(user, req.params.id, String(req.body?.stage ?? ''));
        if (wantsJson(req)) return reply.send({ ok: true });
        return reply.redirect(`/requests/${encodeURIComponent(req.params.id)}#history-h`, 303);
      } catch (err) {
        return kit.fail(req, reply, user, err);
      }
    },
  );
}
