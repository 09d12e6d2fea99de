/**
 * Renderer: core results → Adaptive Cards for Teams, from the shared templates in `cards/`
 * (Teams shows them natively), with a small built-in layout when the library is missing.
 */
import { MAX_COMMENT_LENGTH, type NotificationDoc, type TaskDoc } from '../../src/core/types.js';
import type { RequestView, TaskView } from '../../src/core/views.js';
import { type AdaptiveCardJson, type CardJsonObject, taskCardName, withCommentBox } from '../cards/cards.js';
import { ADAPTIVE_CARD, type TeamsDeps } from './deps.js';

/** Verbs of Baton's Action.Execute buttons. */
export const VERB = {
  completeTask: 'task.complete',
  refreshTask: 'task.refresh',
  submitRequest: 'request.submit',
  openForm: 'request.form',
  createApp: 'admin.apps.create',
  addField: 'admin.apps.add_field',
} as const;

/** Teams shows at most 60 user ids in a card's `refresh.userIds`. */
export const MAX_REFRESH_USERS = 60;

/**
 * Teams refuses a message larger than about 28 KB (413, "Message size too large"), and the
 * activity around the card takes some of that: cards are kept under this many bytes of JSON.
 */
export const MAX_CARD_BYTES = 24 * 1024;

const SHORTENED_NOTE = 'Some long text is shortened here to fit in Teams.';

/**
 * Teams (web and desktop) shows at most this many of a card's `actions` and silently drops
 * the rest; an `ActionSet` in the body shows as many again.
 */
export const MAX_TEAMS_ACTIONS = 6;

/**
 * The card with every button shown in Teams: when it has more actions than Teams shows, they
 * go, in order, into ActionSets of at most `MAX_TEAMS_ACTIONS` at the end of the body.
 */
export function fitActions(card: AdaptiveCardJson): AdaptiveCardJson {
  const actions = card.actions ?? [];
  if (actions.length <= MAX_TEAMS_ACTIONS) return card;
  const sets: CardJsonObject[] = [];
  for (let i = 0; i < actions.length; i += MAX_TEAMS_ACTIONS)
    sets.push({ type: 'ActionSet', actions: actions.slice(i, i + MAX_TEAMS_ACTIONS) });
  const { actions: _moved, ...rest } = card;
  return { ...rest, body: [...(card.body ?? []), ...sets] };
}

/** The data key carrying an Action.Execute's verb in its Action.Submit fallback (no field or input id starts with `_`). */
export const FALLBACK_VERB_KEY = '_verb';

/**
 * The card with an `Action.Submit` fallback on every `Action.Execute` (Microsoft's advice for
 * Teams clients without Universal Actions): such a client shows the button and sends its data
 * and the inputs as a message activity with `value`, the verb under `FALLBACK_VERB_KEY`.
 */
export function withSubmitFallbacks(input: AdaptiveCardJson): AdaptiveCardJson {
  const card = structuredClone(input);
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (o.type === 'Action.Execute' && o.fallback === undefined && typeof o.verb === 'string') {
      const data = o.data && typeof o.data === 'object' ? (o.data as Record<string, unknown>) : {};
      o.fallback = {
        type: 'Action.Submit',
        ...(typeof o.title === 'string' ? { title: o.title } : {}),
        ...(typeof o.style === 'string' ? { style: o.style } : {}),
        data: { ...data, [FALLBACK_VERB_KEY]: o.verb },
      };
    }
    for (const key of ['body', 'actions', 'items', 'columns', 'card', 'inlineAction', 'selectAction'])
      if (key in o) walk(o[key]);
  };
  walk(card.body);
  walk(card.actions);
  return card;
}

/** Adaptive Card date/time functions: `{{DATE(2025-03-04T09:00:00Z, SHORT)}}`, `{{TIME(...)}}`. */
const DATE_FUNCTION =
  /\{\{(DATE|TIME)\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))(?:,\s*(?:COMPACT|SHORT|LONG))?\)\}\}/g;

/**
 * A moment as a TextBlock shows it in the reader's zone and language: `{{DATE(…, SHORT)}} at
 * {{TIME(…)}}` (only in a TextBlock's text: a FactSet gets `plainDates`).
 */
export function cardDate(d: Date): string {
  const iso = `${d.toISOString().slice(0, 19)}Z`;
  return `{{DATE(${iso}, SHORT)}} at {{TIME(${iso})}}`;
}

/**
 * Date functions as plain text, in UTC and saying so: `DATE` → `2025-03-04 09:00 UTC`, `TIME` →
 * `09:00 UTC` (a `DATE … at TIME …` of one moment reads as the first alone).
 */
export function plainDates(text: string): string {
  return text
    .replace(/(\{\{DATE\(([^,)]+)[^}]*\}\}) at \{\{TIME\(\2\)\}\}/g, '$1')
    .replace(DATE_FUNCTION, (whole, fn: string, iso: string) => {
      const date = new Date(iso);
      if (Number.isNaN(date.getTime())) return whole;
      const t = date.toISOString();
      return fn === 'DATE' ? `${t.slice(0, 10)} ${t.slice(11, 16)} UTC` : `${t.slice(11, 16)} UTC`;
    });
}

/**
 * Microsoft documents the DATE() and TIME() functions for a TextBlock's text only: in a
 * FactSet (a template's `"Filed": "{{DATE(…)}}"`) a Teams client may show them as written. There
 * they become plain text (`plainDates`).
 */
function factDates(card: AdaptiveCardJson): AdaptiveCardJson {
  if (!JSON.stringify(card).includes('{{')) return card;
  const copy = structuredClone(card);
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (o.type === 'FactSet' && Array.isArray(o.facts))
      for (const f of o.facts as Record<string, unknown>[])
        for (const key of ['title', 'value'])
          if (typeof f?.[key] === 'string') f[key] = plainDates(f[key] as string);
    for (const key of ['body', 'items', 'columns', 'card', 'actions']) if (key in o) walk(o[key]);
  };
  walk(copy.body);
  walk(copy.actions);
  return copy;
}

/**
 * The card as Teams can show it: its buttons all visible (`fitActions`), with an Action.Submit
 * fallback for older clients (`withSubmitFallbacks`), dates in facts as plain text (`factDates`),
 * and shortened to fit
 * in a Teams message: while its JSON is over `maxBytes`, the
 * longest text shown (a TextBlock's text, a fact's value or title) is cut, at a character
 * boundary, with "…"; inputs and actions are never touched. A note says text was shortened.
 */
export function fitCard(input: AdaptiveCardJson, maxBytes = MAX_CARD_BYTES): AdaptiveCardJson {
  const card = withSubmitFallbacks(fitActions(factDates(input)));
  const bytes = (c: unknown) => Buffer.byteLength(JSON.stringify(c));
  if (bytes(card) <= maxBytes) return card;
  const copy = structuredClone(card) as AdaptiveCardJson;
  const slots: { owner: Record<string, unknown>; key: string }[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (o.type === 'TextBlock' && typeof o.text === 'string') slots.push({ owner: o, key: 'text' });
    if (o.type === 'TextRun' && typeof o.text === 'string') slots.push({ owner: o, key: 'text' });
    if (Array.isArray(o.facts))
      for (const f of o.facts as Record<string, unknown>[]) {
        if (typeof f?.value === 'string') slots.push({ owner: f, key: 'value' });
        if (typeof f?.title === 'string') slots.push({ owner: f, key: 'title' });
      }
    for (const key of ['body', 'items', 'columns', 'inlines', 'card']) if (key in o) walk(o[key]);
  };
  walk(copy.body);
  let over = bytes(copy) - maxBytes;
  while (over > 0) {
    let longest: (typeof slots)[number] | undefined;
    let longestBytes = 0;
    for (const slot of slots) {
      const n = Buffer.byteLength(String(slot.owner[slot.key]));
      if (n > longestBytes) {
        longest = slot;
        longestBytes = n;
      }
    }
    if (!longest || longestBytes <= 80) break; // nothing left worth cutting
    const chars = Array.from(String(longest.owner[longest.key]));
    // Cut what is over (plus a margin), but never more than half of it at once.
    const keepBytes = Math.max(longestBytes - over - 64, Math.floor(longestBytes / 2), 60);
    let kept = 0;
    let i = 0;
    while (i < chars.length && kept + Buffer.byteLength(chars[i]!) <= keepBytes)
      kept += Buffer.byteLength(chars[i++]!);
    let cut = chars.slice(0, i).join('');
    // Never half a date function ("{{DATE(2026-12-0…" would show as written): cut before it.
    const open = cut.lastIndexOf('{{');
    if (open >= 0 && !cut.includes('}}', open)) cut = cut.slice(0, open);
    longest.owner[longest.key] = `${cut.trimEnd()}…`;
    over = bytes(copy) - maxBytes;
  }
  copy.body = [
    ...(copy.body ?? []),
    { type: 'TextBlock', text: SHORTENED_NOTE, isSubtle: true, size: 'Small', wrap: true },
  ];
  return copy;
}

/** An activity's `summary` (the preview in the chat list and notifications): one short line. */
export function summaryText(text: string, max = 200): string {
  const chars = Array.from(text.replace(/\s+/g, ' ').trim());
  return chars.length <= max
    ? chars.join('')
    : `${chars
        .slice(0, max - 1)
        .join('')
        .trimEnd()}…`;
}

export function attachment(card: AdaptiveCardJson): { contentType: string; content: AdaptiveCardJson } {
  return { contentType: ADAPTIVE_CARD, content: fitCard(card) };
}

export function requestUrl(deps: TeamsDeps, id: string): string {
  return deps.publicUrl ? `${deps.publicUrl.replace(/\/$/, '')}/requests/${encodeURIComponent(id)}` : '';
}

/**
 * Text people typed (field values, comments, titles and names built from them), made inert
 * for the markdown Teams applies to card text and messages: `[label](https://…)` would show
 * a link whose address is hidden. An invisible word joiner goes between `]` and `(`, so no
 * Teams client (desktop, web or mobile) reads a link there; the text reads as typed.
 * (Backslash escapes are not enough: Teams mobile ignores some of them.)
 */
export function inertText(text: string): string {
  return text.replace(/\](?=\()/g, ']\u2060');
}

/**
 * A core text as read on Teams. Fix texts name the way to type a command on each surface
 * (`"admin jobs rerun j_…", after /baton in Slack; or the portal's Admin → Jobs`): on Teams the
 * command is typed to Baton as written, so the Slack part goes.
 */
export function forTeams(text: string): string {
  return text.replace(/, after \/baton in Slack(?=;)/g, '');
}

/** Every string in card data made inert (`inertText`), except what buttons send back and URLs. */
export function inertData<T>(data: T): T {
  const walk = (value: unknown, key: string): unknown => {
    if (typeof value === 'string') return key === 'url' ? value : inertText(value);
    if (Array.isArray(value)) return value.map((v) => walk(v, key));
    if (!value || typeof value !== 'object' || value instanceof Date) return value;
    // Outcome labels and input ids go back in Action.Execute data: they must stay as written.
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k === 'outcomes' || k === 'inputs' ? v : walk(v, k)]),
    );
  };
  return walk(data, '') as T;
}

function textBlock(text: string, extra: Record<string, unknown> = {}): CardJsonObject {
  return { type: 'TextBlock', text: inertText(text), wrap: true, ...extra };
}

/**
 * A card of paragraphs for a reply whose text has times in it (`cardDate`, which only a
 * TextBlock shows in the reader's zone): the first paragraph as its heading, each one a TextBlock.
 */
export function textCard(heading: string, paragraphs: string[]): AdaptiveCardJson {
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body: [textBlock(heading, { weight: 'Bolder' }), ...paragraphs.map((p) => textBlock(forTeams(p)))],
  };
}

/** A small card with a line of text (and an optional note under it): replies, refusals. */
export function messageCard(
  text: string,
  note?: string,
  color?: 'Attention' | 'Good' | 'Warning',
): AdaptiveCardJson {
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body: [
      textBlock(text, color ? { color, weight: 'Bolder' } : {}),
      ...(note ? [textBlock(note, { isSubtle: true, size: 'Small' })] : []),
    ],
  };
}

function render(deps: TeamsDeps, names: (string | undefined)[], data: unknown): AdaptiveCardJson | null {
  const cards = deps.cards;
  if (!cards) return null;
  const name = names.find((n): n is string => typeof n === 'string' && cards.has(n));
  if (!name) return null;
  try {
    return cards.render(name, inertData(data));
  } catch (err) {
    deps.logger.error({ card: name, error: (err as Error).message }, 'teams: card not rendered');
    return null;
  }
}

export interface TaskCardOptions {
  /** May the viewer act (an assignee's live view)? */
  actionable: boolean;
  /** Teams ids of the people who get the live view through `refresh` (≤ 60). */
  refreshUserIds?: string[];
  /** Inputs typed before a refused submit, kept in the re-rendered card. */
  values?: Record<string, string>;
  /** Messages to show next to inputs (by input id), or on top (`_`). */
  errors?: Record<string, string>;
  /** A line on top of the card ("You can't act on this task…"). */
  notice?: string;
  /** A plain line on top of the card, under the notice ("You answered Approve…"). */
  note?: string;
  /** What the copy says beyond the stored task (a copy whose holder is no longer the assignee). */
  reassignedTo?: string;
}

/**
 * The task card for Teams: `cards/task.json` (or the task's own card), whose Action.Execute
 * buttons Teams sends back as `adaptiveCard/action` invokes. While open, `refresh` names the
 * assignees so each of them sees the actionable view and everyone else the read-only one.
 */
export async function renderTaskCard(
  deps: TeamsDeps,
  task: TaskDoc,
  options: TaskCardOptions,
): Promise<AdaptiveCardJson> {
  const view = await deps.baton.views.task(task);
  const shown: TaskView = options.reassignedTo
    ? { ...view, task: { ...view.task, open: false, status_text: `Reassigned to ${options.reassignedTo}` } }
    : view;
  const actionable = options.actionable && shown.task.open;
  const data = { ...shown, actionable, url: requestUrl(deps, view.request.id) };
  const named = deps.cards ? taskCardName(deps.cards, task.card) : undefined;
  const rendered = render(deps, [named, 'task'], data) ?? builtinTaskCard(shown, actionable);
  const card = actionable ? withCommentBox(rendered, MAX_COMMENT_LENGTH) : rendered;
  card.version = versionAtLeast(card.version, '1.5');
  const body = card.body ?? [];
  if (actionable) {
    for (const element of body) {
      const id = typeof element.id === 'string' ? element.id : undefined;
      if (!id || !String(element.type ?? '').startsWith('Input.')) continue;
      const value = options.values?.[id];
      if (value !== undefined && fitsInput(element, value)) element.value = value;
    }
    if (options.errors) addErrors(body, options.errors);
  }
  if (options.note) body.unshift(textBlock(options.note, { weight: 'Bolder' }));
  if (options.notice) body.unshift(textBlock(options.notice, { color: 'Attention', weight: 'Bolder' }));
  card.body = body;
  if (shown.task.open && options.refreshUserIds && options.refreshUserIds.length > 0) {
    card.refresh = {
      action: {
        type: 'Action.Execute',
        title: 'Refresh',
        verb: VERB.refreshTask,
        data: { task_id: task._id },
      },
      userIds: options.refreshUserIds.slice(0, MAX_REFRESH_USERS),
    };
  }
  // Hosts ignore unknown properties, but keep the cards Teams receives clean.
  for (const action of card.actions ?? []) delete action['x-baton-inputs'];
  return card;
}

/**
 * Whether a typed value may go back into its input: not longer than the input allows (nor, for
 * one without a limit, than the core takes). A crafted or pasted value over it is refused by
 * the core, and echoing it would make the card too large for Teams.
 */
export function fitsInput(element: CardJsonObject, value: string): boolean {
  const max = typeof element.maxLength === 'number' ? element.maxLength : MAX_COMMENT_LENGTH;
  return value.length <= max;
}

/** Puts each message right after the input it is about (`_` or unknown ids: on top). */
export function addErrors(body: CardJsonObject[], errors: Record<string, string>): void {
  const top: string[] = [];
  for (const [id, message] of Object.entries(errors)) {
    const at = body.findIndex((e) => e.id === id);
    if (at === -1) top.push(message);
    else body.splice(at + 1, 0, textBlock(message, { color: 'Attention', size: 'Small', spacing: 'None' }));
  }
  if (top.length > 0) body.unshift(textBlock(top.join('\n\n'), { color: 'Attention', weight: 'Bolder' }));
}

function versionAtLeast(version: string | undefined, min: string): string {
  const n = (v: string) => v.split('.').map(Number) as [number, number];
  if (!version) return min;
  const [a, b] = n(version);
  const [c, d] = n(min);
  return a > c || (a === c && b >= d) ? version : min;
}

function builtinTaskCard(view: TaskView, actionable: boolean): AdaptiveCardJson {
  const body: CardJsonObject[] = [
    textBlock(`${view.request.id} · ${view.request.app_name}`, { isSubtle: true, size: 'Small' }),
    textBlock(view.task.title, { size: 'Large', weight: 'Bolder' }),
  ];
  if (view.task.instructions) body.push(textBlock(view.task.instructions));
  if (view.request.fields.length > 0)
    body.push({
      type: 'FactSet',
      facts: view.request.fields.map((f) => ({ title: inertText(f.label), value: inertText(f.value) })),
    });
  if (view.task.open && view.task.progress_text)
    body.push(textBlock(view.task.progress_text, { weight: 'Bolder' }));
  if (!view.task.open) body.push(textBlock(view.task.status_text, { weight: 'Bolder' }));
  if (actionable && view.task.outcomes.some((o) => o.comment === 'required'))
    body.push({
      type: 'Input.Text',
      id: 'comment',
      label: 'Comment',
      isMultiline: true,
      maxLength: MAX_COMMENT_LENGTH,
    });
  const actions = actionable
    ? view.task.outcomes.map((o) => ({
        type: 'Action.Execute',
        title: o.label,
        verb: VERB.completeTask,
        data: { task_id: view.task.id, outcome: o.label },
        style: o.style === 'primary' ? 'positive' : o.style === 'danger' ? 'destructive' : 'default',
      }))
    : [];
  return { type: 'AdaptiveCard', version: '1.5', body, actions };
}

/** A request (for `show`), from `cards/request.json`, with its open tasks and latest history. */
export function renderRequestCard(
  deps: TeamsDeps,
  view: RequestView,
  extra: { openTasks: string[]; history: string[]; historyTotal?: number },
): AdaptiveCardJson {
  const card = render(deps, ['request'], { ...view, url: requestUrl(deps, view.id) }) ?? {
    type: 'AdaptiveCard',
    version: '1.5',
    body: [
      textBlock(`${view.id} · ${view.app_name}`, { weight: 'Bolder', size: 'Medium' }),
      textBlock(`Stage: ${view.stage} · requested by ${view.requester_name}`, { isSubtle: true }),
      {
        type: 'FactSet',
        facts: view.fields.map((f) => ({ title: inertText(f.label), value: inertText(f.value) })),
      },
    ],
  };
  const body = card.body ?? [];
  if (extra.openTasks.length > 0) {
    body.push(textBlock('Open tasks', { weight: 'Bolder', separator: true }));
    body.push(textBlock(extra.openTasks.map((t) => `- ${t}`).join('\n')));
  }
  if (extra.history.length > 0) {
    // Only the latest entries fit a card: say so, as Slack's `show` does, rather than look complete.
    const total = extra.historyTotal ?? extra.history.length;
    const heading =
      total > extra.history.length ? `History (latest ${extra.history.length} of ${total})` : 'History';
    body.push(textBlock(heading, { weight: 'Bolder', separator: true }));
    body.push(textBlock(extra.history.map((h) => `- ${forTeams(h)}`).join('\n'), { size: 'Small' }));
  }
  card.body = body;
  return card;
}

/** A notification (recipe `notify` step), from `cards/notification.json` or the step's own card. */
export async function renderNotificationCard(deps: TeamsDeps, n: NotificationDoc): Promise<AdaptiveCardJson> {
  const text = forTeams(n.text ?? '');
  const request = n.request_id ? await deps.baton.requests.load(n.request_id) : null;
  const view = request ? await deps.baton.views.request(request) : undefined;
  // The request's view at the top too, so a step's `card: request` (which binds a RequestView)
  // shows the request, as in the portal; `text` and `request` serve notification.json.
  const data = {
    ...(view ?? {}),
    text,
    ...(view ? { request: view, url: requestUrl(deps, view.id) } : {}),
  };
  const card = render(deps, [n.card, 'notification'], data);
  if (!card)
    return messageCard(
      text || `Update on ${n.request_id ?? 'your request'}`,
      view ? `${view.id} · ${view.stage}` : undefined,
    );
  // A step with both `text` and a card that does not show it: the text goes on top.
  if (text && !JSON.stringify(card).includes(JSON.stringify(inertText(text)).slice(1, -1)))
    card.body = [textBlock(text), ...(card.body ?? [])];
  return card;
}
