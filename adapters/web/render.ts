import { MAX_COMMENT_LENGTH, type TaskDoc, type User } from '../../src/core/types.js';
import { taskCardName, withCommentBox } from '../cards/cards.js';
import { html, jsonScript } from './html.js';
import type { SafeHtml } from './kit.js';
import type { WebDeps } from './plugin.js';

/** `<time>` that the page's script shows in the reader's own time zone; UTC text until then. */
export function time(at: Date | string | undefined, style: 'datetime' | 'date' = 'datetime'): SafeHtml {
  if (!at) return html``;
  const d = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(d.getTime())) return html``;
  const iso = d.toISOString();
  const text = style === 'date' ? iso.slice(0, 10) : `${iso.slice(0, 16).replace('T', ' ')} UTC`;
  return html`<time datetime="${iso}" data-style="${style}">${text}</time>`;
}

/**
 * A field's shown value: a web address (a receipt, a ticket) is a link that opens in a new
 * tab, an email address a mail link; anything else plain text.
 */
export function fieldValue(type: string | undefined, value: string): SafeHtml | string {
  if (type === 'url' && /^https?:\/\/\S+$/i.test(value))
    return html`<a href="${value}" target="_blank" rel="noopener noreferrer">${value}</a>`;
  if (type === 'email' && /^[^\s@]+@[^\s@]+$/.test(value))
    return html`<a href="mailto:${value}">${value}</a>`;
  return value;
}

/** A stage as a small badge whose colour hints at how it ended. */
export function stageBadge(stage: string): SafeHtml {
  const s = stage.toLowerCase();
  const tone = /reject|denied|declin|cancel/.test(s)
    ? 'bad'
    : /expire/.test(s)
      ? 'warn'
      : /approved|paid|done|complete|granted/.test(s)
        ? 'good'
        : 'neutral';
  return html`<span class="stage stage-${tone}">${stage}</span>`;
}

/**
 * One task as the portal shows it: the card from `cards/` (the task's own card or `task`),
 * bound on the server with adaptivecards-templating and rendered in the browser with the
 * adaptivecards library; a plain HTML form underneath works without JavaScript.
 */
export async function renderTask(
  deps: WebDeps,
  viewer: User,
  task: TaskDoc,
  options: {
    csrf: SafeHtml;
    returnTo: string;
    /** What was typed in the plain form before a refused submit (comment, inputs by id). */
    values?: { comment?: string | undefined; inputs?: Record<string, string> };
    /** Why that submit was refused, shown above the form's buttons. */
    error?: string;
  },
): Promise<SafeHtml> {
  const typed = options.values ?? {};
  const view = await deps.baton.views.task(task);
  // A member who already answered a group task with a quorum sees where it stands, no buttons.
  const actionable = await deps.baton.tasks.canAnswer(viewer, task);
  const mine = task.status === 'open' ? (task.responses ?? []).find((r) => r.by === viewer._id) : undefined;
  const waiting = mine ? await deps.baton.tasks.waitingFor(task) : '';
  const url = `/requests/${encodeURIComponent(task.request_id)}`;
  const name = taskCardName(deps.cards, task.card);
  let card: unknown = null;
  try {
    card = deps.cards.render(name, { ...view, actionable, url });
  } catch (err) {
    deps.logger.error({ card: name, error: (err as Error).message }, 'web: card not rendered');
  }
  if (actionable) card = withCommentBox(card, MAX_COMMENT_LENGTH);
  // On the request page itself, "View request" would only reload it.
  if (options.returnTo === url) card = withoutLinkTo(card, url);
  const requiresComment = view.task.outcomes.filter((o) => o.comment === 'required').map((o) => o.label);
  const fallback = html`<div class="task-fallback">
  <p class="muted small"><a href="${url}">${view.request.id}</a> · ${view.request.app_name}</p>
  <h3>${view.task.title}</h3>
  ${view.task.instructions ? html`<p>${view.task.instructions}</p>` : ''}
  <dl class="facts">${view.request.fields.map((f) => html`<dt>${f.label}</dt><dd>${f.value}</dd>`)}</dl>
  <p class="muted small">Requested by ${view.request.requester_name} · Stage: ${view.request.stage}</p>
  ${task.status !== 'open' ? html`<p><strong>${view.task.status_text}</strong></p>` : ''}
  ${task.status === 'open' && view.task.progress_text ? html`<p class="task-progress"><strong>${view.task.progress_text}</strong></p>` : ''}
  ${mine ? html`<p class="task-answered">${`You answered "${mine.outcome}"; ${waiting}`}</p>` : ''}
  ${
    actionable
      ? html`<form method="post" action="/tasks/${task._id}/complete" class="task-form">
    ${options.csrf}
    <input type="hidden" name="return_to" value="${options.returnTo}">
    ${
      view.task.inputs.some((i) => i.id === 'comment')
        ? ''
        : html`<label>Comment${requiresComment.length ? html` <span class="muted">(required for ${requiresComment.join(', ')})</span>` : ''}
      <textarea name="comment" rows="2" maxlength="${MAX_COMMENT_LENGTH}">${typed.comment ?? ''}</textarea></label>`
    }
    ${view.task.inputs.map(
      (i) =>
        html`<label>${i.label}${i.type === 'long_text' ? html`<textarea name="inputs.${i.id}" rows="2">${typed.inputs?.[i.id] ?? ''}</textarea>` : html`<input name="inputs.${i.id}" value="${typed.inputs?.[i.id] ?? ''}">`}</label>`,
    )}
    ${options.error ? html`<p class="error-text" role="alert">${options.error}</p>` : ''}
    <div class="actions">${view.task.outcomes.map(
      (o) =>
        html`<button type="submit" name="outcome" value="${o.label}" class="${o.style === 'primary' ? 'primary' : o.style === 'danger' ? 'danger' : ''}">${o.label}</button>`,
    )}</div>
  </form>`
      : ''
  }
</div>`;
  return html`<article class="task card" id="task-${task._id}" data-task="${task._id}" data-request="${task.request_id}" data-actionable="${actionable ? 'true' : 'false'}">
${card ? html`<script type="application/json" class="card-json">${jsonScript(card)}</script>` : ''}
<div class="card-host"></div>
${fallback}
<p class="task-message" role="status" aria-live="polite"></p>
</article>`;
}

/** A card without its Action.OpenUrl buttons to `url`. */
function withoutLinkTo(card: unknown, url: string): unknown {
  if (!card || typeof card !== 'object') return card;
  const actions = (card as { actions?: unknown }).actions;
  if (!Array.isArray(actions)) return card;
  const kept = actions.filter((a) => {
    const action = a as { type?: unknown; url?: unknown } | null;
    return !(action?.type === 'Action.OpenUrl' && action.url === url);
  });
  return { ...(card as object), actions: kept };
}

/**
 * An app's name inside a sentence ("New time off"): capitalised words are lowered, but
 * acronyms and names with inner capitals stay as written ("New IT equipment", "New PTO",
 * "New iPhone order").
 */
export function inSentence(name: string): string {
  return name.replace(/\p{L}[\p{L}\p{N}]*/gu, (word) =>
    /^\p{Lu}[\p{Ll}\p{N}]*$/u.test(word) ? word.toLowerCase() : word,
  );
}
