import { randomUUID } from 'node:crypto';
import type {
  App,
  BlockAction,
  ButtonAction,
  OverflowAction,
  RespondFn,
  ViewSubmitAction,
} from '@slack/bolt';
import type { KnownBlock } from '@slack/web-api';
import {
  ForbiddenError,
  isBatonError,
  NotFoundError,
  TaskClosedError,
  ValidationError,
} from '../../src/core/errors.js';
import { outcomePhrase } from '../../src/core/tasks.js';
import type { NotificationDoc, TaskDoc, User } from '../../src/core/types.js';
import type { TaskView } from '../../src/core/views.js';
import { type CardLibrary, loadCards, taskCardName, titleWithRequestId } from '../cards/cards.js';
import { literalMarkdown, toBlockKit, truncate } from './blockkit.js';
import type { SlackDeps } from './deps.js';
import type { HomeTab } from './home.js';
import { createWorkQueue, type WorkQueue } from './queue.js';
import { ackOnce } from './replies.js';

/** Callback id of the small modal that asks for a comment (or inputs) before an outcome. */
export const TASK_MODAL_CALLBACK = 'baton:task:respond';
/** Action ids of task buttons start with this (cards and the Home tab use the same ids). */
export const TASK_ACTION_PREFIX = 'baton:';
/**
 * Action id of the overflow menu ("⋯") of an open task: "<outcome> with comment" for each
 * outcome a button completes in one click, opening the comment modal (comment optional).
 */
export const TASK_COMMENT_ACTION = 'baton:task.comment';

/** One work queue per surface (`deps`) and purpose, made on first use. */
function queueOf(queues: WeakMap<SlackDeps, WorkQueue>, deps: SlackDeps, concurrency: number): WorkQueue {
  let q = queues.get(deps);
  if (!q) {
    q = createWorkQueue({ concurrency });
    queues.set(deps, q);
  }
  return q;
}

/** Outbound work of the Slack surface is paced here (one queue per process). */
const outbound = new WeakMap<SlackDeps, WorkQueue>();
export function slackQueue(deps: SlackDeps): WorkQueue {
  return queueOf(outbound, deps, 8);
}

/** A task button click, as held in the store until carried out. */
interface HeldClick {
  task_id: string;
  outcome: string;
  slack_user: string;
  channel?: string | undefined;
  message_ts?: string | undefined;
  ephemeral: boolean;
  /** Clicked on the person's Home tab: what became of it is shown there (see HomeTab). */
  home?: boolean | undefined;
}

/** Whether an interaction came from a Home tab (its container is the published view). */
function fromHomeTab(body: { view?: { type?: string } | undefined }): boolean {
  return body.view?.type === 'home';
}

const admissions = new WeakMap<SlackDeps, WorkQueue>();
/**
 * Admission control for work done after an ack (completing a task from a click): one at a
 * time, each started in its own turn of the event loop (see `createWorkQueue`). A burst of
 * clicks larger than what the process completes per second then waits here, in order,
 * instead of interleaving hundreds of half-done completions on the event loop while new
 * requests — whose ack must reach Slack within 3 s — queue behind all of them.
 */
export function afterAckQueue(deps: SlackDeps): WorkQueue {
  return queueOf(admissions, deps, 1);
}

// ---------------------------------------------------------------------------------------
// Rendering

export interface SlackMessage {
  blocks: KnownBlock[];
  text: string;
}

/** What a copy says beyond the stored task (a copy whose holder is no longer the assignee). */
export interface CopyOverride {
  reassignedTo?: string;
  /** Who handed it on ("Ada Admin", or "you" on their own copy) and when, if known. */
  reassignedBy?: string;
  reassignedAt?: Date;
  /** The copy's holder already answered this task (a quorum): where it stands, no buttons. */
  answered?: boolean;
}

/** "Reassigned to Hank HR by Ada Admin" (plain text; the date is shown beside it). */
function reassignedText(override: CopyOverride): string {
  return `Reassigned to ${override.reassignedTo}${override.reassignedBy ? ` by ${override.reassignedBy}` : ''}`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A Slack date token that each reader sees in their own time zone ("Dec 1 at 14:02"). */
export function slackDate(at: Date | string): string {
  const d = typeof at === 'string' ? new Date(at) : at;
  const fallback = `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `<!date^${Math.floor(d.getTime() / 1000)}^{date_short_pretty} at {time}|${fallback}>`;
}

/** The button value: only a task reference and an outcome (the store decides the rest). */
export function buttonValue(taskId: string, outcome: string): string {
  return JSON.stringify({ task_id: taskId, outcome });
}

/** Reads a button value; anything that is not `{ task_id, outcome }` strings is null. */
export function parseButtonValue(value: string | undefined): { task_id: string; outcome: string } | null {
  if (typeof value !== 'string' || value.length > 2000) return null;
  try {
    const v = JSON.parse(value) as unknown;
    if (typeof v !== 'object' || v === null) return null;
    const { task_id, outcome } = v as Record<string, unknown>;
    if (typeof task_id !== 'string' || typeof outcome !== 'string') return null;
    if (task_id === '' || outcome === '') return null;
    return { task_id, outcome };
  } catch {
    return null;
  }
}

/**
 * One line saying how a task ended, naming who closed it by name as the open copy names people
 * (a mention would notify them wherever the copy is posted, and read differently from the rest).
 */
function statusLine(view: TaskView, task: TaskDoc, override: CopyOverride): string {
  if (override.reassignedTo)
    return `:arrow_right: ${esc(reassignedText(override))}${override.reassignedAt ? `, ${slackDate(override.reassignedAt)}` : ''}`;
  if (task.status === 'open') return '';
  const when = task.completed_at ? `, ${slackDate(task.completed_at)}` : '';
  let who = esc(view.task.completed_by);
  if (task.status === 'completed') {
    const phrase = view.task.status_text.split(' by ')[0] ?? 'Completed';
    // A quorum decided by several members names them all ("Approved by Alice, Bob and Carol").
    const named = view.task.status_text.slice(phrase.length + 4);
    if (named !== '' && named !== view.task.completed_by) who = esc(named);
    const emoji = task.outcome && /reject|deny|decline/i.test(task.outcome) ? ':x:' : ':white_check_mark:';
    const comment = view.task.comment ? `\n${quoted(view.task.comment)}` : '';
    return `${emoji} *${esc(phrase)}* by ${who}${when}${comment}`;
  }
  if (task.status === 'expired') return `:hourglass: *Expired* without a response${when}`;
  return `:no_entry_sign: *Cancelled*${who ? ` by ${who}` : ''}${when}${view.task.comment ? `\n${quoted(view.task.comment)}` : ''}`;
}

/** Someone's text as a mrkdwn quote: every line marked (Slack quotes only the line a `>` starts). */
function quoted(text: string): string {
  return text
    .split(/\r?\n/)
    .map((line) => `> ${esc(line)}`)
    .join('\n');
}

/** The card library, loaded once per surface (problems are logged at load). */
const libraries = new WeakMap<SlackDeps, CardLibrary | null>();
function cardsOf(deps: SlackDeps): CardLibrary | null {
  if (!libraries.has(deps)) {
    try {
      libraries.set(deps, loadCards(undefined, { logger: deps.logger }));
    } catch (err) {
      deps.logger.error(
        { error: (err as Error).message },
        'slack: cards not loaded; using the built-in layout',
      );
      libraries.set(deps, null);
    }
  }
  return libraries.get(deps) ?? null;
}

/** Renders card `name` (falling back to `fallback`) as Block Kit; null if the library cannot. */
function renderCard(
  deps: SlackDeps,
  names: (string | undefined)[],
  data: unknown,
  text?: string,
): SlackMessage | null {
  const cards = cardsOf(deps);
  if (!cards) return null;
  const name = names.find((n): n is string => typeof n === 'string' && cards.has(n));
  if (!name) return null;
  try {
    // What people typed (and what recipes computed from it) must not become disguised links.
    const out = toBlockKit(cards.render(name, literalMarkdown(data)), text !== undefined ? { text } : {});
    if (out.warnings.length > 0)
      deps.logger.debug({ card: name, warnings: out.warnings }, 'slack: card trimmed');
    return { blocks: out.blocks, text: out.text };
  } catch (err) {
    deps.logger.error(
      { card: name, error: (err as Error).message },
      'slack: card not rendered; using the built-in layout',
    );
    return null;
  }
}

/** Whether the card a notification names (or the notification card) shows its `text` binding. */
const textBinders = new WeakMap<CardLibrary, Map<string, boolean>>();
function bindsText(deps: SlackDeps, name: string | undefined): boolean {
  const cards = cardsOf(deps);
  const chosen = name && cards?.has(name) ? name : 'notification';
  if (!cards?.has(chosen)) return true;
  let known = textBinders.get(cards);
  if (!known) {
    known = new Map();
    textBinders.set(cards, known);
  }
  let binds = known.get(chosen);
  if (binds === undefined) {
    binds = /\$\{[^}]*\btext\b/.test(JSON.stringify(cards.template(chosen)));
    known.set(chosen, binds);
  }
  return binds;
}

function requestUrl(deps: SlackDeps, id: string): string {
  return deps.publicUrl ? `${deps.publicUrl.replace(/\/$/, '')}/requests/${encodeURIComponent(id)}` : '';
}

/**
 * The task card as Block Kit for one person's copy: open with its buttons, or closed with the
 * outcome (no buttons). Rendered from `cards/` (the task's own card if it names one, else
 * `task`), with a built-in layout if the card library cannot render it.
 */
export async function renderTaskMessage(
  deps: SlackDeps,
  task: TaskDoc,
  override: CopyOverride = {},
): Promise<SlackMessage> {
  const view = await deps.baton.views.task(task);
  // A copy whose holder is no longer the assignee: closed for them, saying who handed it on and when.
  const shown: TaskView = override.reassignedTo
    ? {
        ...view,
        task: {
          ...view.task,
          open: false,
          status_text: reassignedText(override),
          completed_at: override.reassignedAt?.toISOString() ?? '',
          comment: '',
        },
      }
    : view;
  const actionable = shown.task.open && !override.answered;
  const data = { ...shown, actionable, url: requestUrl(deps, view.request.id) };
  const fallbackText = `${titleWithRequestId(view.task.title, view.request.id)}: ${shown.task.status_text || shown.task.progress_text || 'Waiting for you'}`;
  // People by name, open or closed ("Approved by Bob Manager"), never as mentions: a mention
  // notifies (a copy posted after the task closed would ping the approver), and turned every
  // occurrence of the name into one, in what the requester typed too, unlike the open copy.
  const cards = cardsOf(deps);
  const card = cards ? taskCardName(cards, task.card) : undefined;
  const fromCard = renderCard(deps, [card, 'task'], data, fallbackText);
  const message = fromCard ?? (await builtinTaskMessage(deps, task, view, override));
  return actionable ? withCommentMenu(task, message) : message;
}

const WITH_COMMENT = ' with comment';

/** The value of a "with comment" option: the task and the outcome's position (Slack allows 150 characters). */
export function commentOptionValue(taskId: string, index: number): string {
  return JSON.stringify({ task_id: taskId, i: index });
}

/**
 * What someone reads when a click or a task form names a task Baton does not have (a message
 * from before its data was restored from a backup, or from another Baton on the same Slack app).
 */
const TASK_GONE =
  'That task no longer exists in Baton, so nothing was recorded. /baton tasks lists the tasks waiting for you.';

function parseCommentOption(value: string | undefined): { task_id: string; i: number } | null {
  if (typeof value !== 'string' || value.length > 150) return null;
  try {
    const v = JSON.parse(value) as { task_id?: unknown; i?: unknown };
    if (typeof v.task_id !== 'string' || v.task_id === '' || !Number.isInteger(v.i)) return null;
    return { task_id: v.task_id, i: v.i as number };
  } catch {
    return null;
  }
}

/**
 * Adds an overflow menu to the task's buttons offering "<outcome> with comment" for the
 * outcomes one click completes (those needing a comment or an input open a modal already), so
 * an approver can always leave a comment. Nothing is added when every outcome opens a modal.
 */
function withCommentMenu(task: TaskDoc, message: SlackMessage): SlackMessage {
  const options = task.outcomes
    .map((o, i) => ({ o, i }))
    .filter(({ o }) => !needsModal(task, o.label))
    .slice(0, 5)
    .map(({ o, i }) => ({
      text: {
        type: 'plain_text' as const,
        text: `${truncate(o.label, 75 - WITH_COMMENT.length)}${WITH_COMMENT}`,
        emoji: true,
      },
      value: commentOptionValue(task._id, i),
    }))
    .filter((o) => o.value.length <= 150);
  if (options.length === 0) return message;
  const isTaskButtons = (b: KnownBlock) =>
    b.type === 'actions' &&
    b.elements.some((e) => e.type === 'button' && parseButtonValue(e.value)?.task_id === task._id);
  const index = message.blocks.findLastIndex(isTaskButtons);
  if (index === -1) return message;
  const block = message.blocks[index] as Extract<KnownBlock, { type: 'actions' }>;
  if (block.elements.length >= 25) return message;
  const blocks = [...message.blocks];
  blocks[index] = {
    ...block,
    elements: [...block.elements, { type: 'overflow', action_id: TASK_COMMENT_ACTION, options }],
  };
  return { ...message, blocks };
}

async function builtinTaskMessage(
  deps: SlackDeps,
  task: TaskDoc,
  view: TaskView,
  override: CopyOverride,
): Promise<SlackMessage> {
  const blocks: KnownBlock[] = [];
  blocks.push({
    type: 'header',
    text: { type: 'plain_text', text: truncate(view.task.title, 150), emoji: true },
  });
  const link = deps.publicUrl
    ? `<${deps.publicUrl.replace(/\/$/, '')}/requests/${encodeURIComponent(view.request.id)}|${esc(view.request.id)}>`
    : `*${esc(view.request.id)}*`;
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `${link} · ${esc(view.request.app_name)} · requested by ${esc(view.request.requester_name)} · stage ${esc(view.request.stage)}`,
      },
    ],
  });
  if (view.task.instructions) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(esc(view.task.instructions), 2900) },
    });
  }
  const fields = view.request.fields.slice(0, 10).map((f) => ({
    type: 'mrkdwn' as const,
    text: `*${esc(f.label)}*\n${truncate(esc(f.value), 1900)}`,
  }));
  if (fields.length > 0) blocks.push({ type: 'section', fields });
  const status = statusLine(view, task, override);
  if (task.status === 'open' && !override.reassignedTo && view.task.progress_text)
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*${esc(view.task.progress_text)}*` } });
  if (task.status === 'open' && !override.reassignedTo && override.answered) {
    // Answered already (a quorum): the progress line above says where it stands.
  } else if (task.status === 'open' && !override.reassignedTo) {
    blocks.push({
      type: 'actions',
      block_id: `baton:task:${task._id}`.slice(0, 255),
      elements: task.outcomes.slice(0, 25).map((o, i) => ({
        type: 'button' as const,
        action_id: `${TASK_ACTION_PREFIX}task:${i}`,
        text: { type: 'plain_text' as const, text: truncate(o.label, 75), emoji: true },
        value: buttonValue(task._id, o.label),
        ...(o.style === 'primary' || o.style === 'danger' ? { style: o.style } : {}),
      })),
    });
    if (task.expires_at) {
      blocks.push({
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `Expires ${slackDate(task.expires_at)}` }],
      });
    }
  } else {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: status } });
  }
  const plainStatus = override.reassignedTo
    ? reassignedText(override)
    : view.task.status_text || view.task.progress_text || 'Waiting for you';
  return { blocks, text: `${titleWithRequestId(view.task.title, view.request.id)}: ${plainStatus}` };
}

// ---------------------------------------------------------------------------------------
// Outbound: task copies and notifications

function errorCode(err: unknown): string {
  const e = err as { data?: { error?: string }; code?: string; message?: string };
  return e?.data?.error ?? e?.code ?? e?.message ?? String(err);
}

/** The people who may act on a task (the assignee, or every member of its group). */
async function assigneesOf(deps: SlackDeps, task: TaskDoc): Promise<string[]> {
  if (task.assignee.type === 'user') return [task.assignee.id];
  const group = await deps.baton.groups.find(task.assignee.name);
  return group ? [...new Set(group.members)] : [];
}

/** How long a claim to post a message holds (see postCopy). */
const POSTING_CLAIM_MS = 2 * 60_000;

/** This surface instance's id, in its posting claims on the embedded store (see postingClaim). */
const claimScopes = new WeakMap<SlackDeps, string>();

/**
 * The dedupe key of a posting claim. On the embedded store one process serves Slack, so a
 * claim left by an earlier process (killed between claiming and posting) is an orphan and
 * must not hold the copy back until a later sweep: claims are per surface instance there.
 * On a shared store (several instances) every instance uses the same key.
 */
function postingClaim(deps: SlackDeps, key: string): string {
  if (deps.baton.ctx.store.kind !== 'embedded') return key;
  let scope = claimScopes.get(deps);
  if (!scope) {
    scope = randomUUID().slice(0, 8);
    claimScopes.set(deps, scope);
  }
  return `${key}:${scope}`;
}

/** DM channel ids by Slack user id: a DM's id never changes, so it is opened once per process. */
const dmChannels = new WeakMap<SlackDeps, Map<string, string>>();

async function openDm(deps: SlackDeps, slackUserId: string): Promise<string> {
  let cache = dmChannels.get(deps);
  if (!cache) {
    cache = new Map();
    dmChannels.set(deps, cache);
  }
  const known = cache.get(slackUserId);
  if (known) return known;
  const res = await slackQueue(deps).call(() => deps.client.conversations.open({ users: slackUserId }));
  const channel = res.channel?.id;
  if (!channel) throw new Error('conversations.open returned no channel');
  if (cache.size > 50_000) cache.clear();
  cache.set(slackUserId, channel);
  return channel;
}

/**
 * Posts one person's copy of a task, unless one is already recorded for them. 'done': posted,
 * recorded before, or nobody to post to on Slack; 'busy': someone else is posting it now.
 */
async function postCopy(deps: SlackDeps, task: TaskDoc, userId: string): Promise<'done' | 'busy'> {
  const { baton, logger } = deps;
  const recorded = await baton.deliveries.taskDeliveries(task._id, 'slack');
  if (recorded.some((d) => d.user === userId)) return 'done';
  const slackId = await deps.users.toSlack(userId);
  if (!slackId) {
    logger.debug({ task: task._id, user: userId }, 'slack: no Slack identity, task copy not posted');
    return 'done';
  }
  // One poster per copy, even with two instances or a re-emitted event.
  // The claim only guards the post in flight; the recorded delivery is the lasting mark. A
  // claim outlives a crash between claim and record by POSTING_CLAIM_MS, after which the
  // next redelivery posts the copy (at least once, rather than never).
  const claim = postingClaim(deps, `slack:task:${task._id}:${userId}`);
  if (!(await baton.deliveries.claimOnce(claim, POSTING_CLAIM_MS))) return 'busy';
  let channel: string;
  let res: Awaited<ReturnType<SlackDeps['client']['chat']['postMessage']>>;
  try {
    channel = await openDm(deps, slackId);
    const message = await renderTaskMessage(deps, task);
    res = await slackQueue(deps).call(() =>
      deps.client.chat.postMessage({ channel, blocks: message.blocks, text: message.text }),
    );
  } catch (err) {
    // Nothing was posted for a passing error: free the copy for the retry (see postToAssignees).
    if (isTransient(err)) await baton.deliveries.releaseClaim(claim).catch(() => undefined);
    throw err;
  }
  const ts = res.ts;
  if (!ts) throw new Error('chat.postMessage returned no ts');
  await baton.deliveries.recordTaskDelivery(task._id, {
    surface: 'slack',
    user: userId,
    ref: { channel: res.channel ?? channel, ts },
  });
  // Check what was recorded: if another copy won (it should not: the claim), remove ours.
  const after = await baton.deliveries.taskDeliveries(task._id, 'slack');
  const mine = after.find((d) => d.user === userId);
  if (mine && mine.ref.ts !== ts) {
    await slackQueue(deps)
      .call(() => deps.client.chat.delete({ channel: res.channel ?? channel, ts }))
      .catch((err: unknown) =>
        logger.warn({ task: task._id, error: errorCode(err) }, 'slack: duplicate copy not removed'),
      );
    return 'done';
  }
  // The task may have closed while we were posting: show that at once.
  const fresh = await baton.tasks.load(task._id);
  if (fresh && fresh.status !== 'open')
    await updateCopy(deps, fresh, { channel: res.channel ?? channel, ts });
  return 'done';
}

async function updateCopy(
  deps: SlackDeps,
  task: TaskDoc,
  ref: Record<string, string>,
  override: CopyOverride = {},
): Promise<void> {
  const channel = ref.channel;
  const ts = ref.ts;
  if (!channel || !ts) return;
  const message = await renderTaskMessage(deps, task, override);
  await slackQueue(deps).call(() =>
    deps.client.chat.update({ channel, ts, blocks: message.blocks, text: message.text }),
  );
}

/** Who last reassigned a task and when, from its request's history (null if it does not say). */
async function lastReassignment(
  deps: SlackDeps,
  task: TaskDoc,
): Promise<{ by: string; name: string | undefined; at: Date } | null> {
  const history = await deps.baton.requests.history(task.request_id).catch(() => []);
  const entry = history.findLast((e) => e.type === 'task_reassigned' && e.data?.task_id === task._id);
  if (!entry?.by) return null;
  const user = await deps.baton.users.find(entry.by).catch(() => null);
  return { by: entry.by, name: user?.name, at: new Date(entry.at) };
}

/** Brings every Slack copy of a task in line with the store (closed, reassigned, reopened). */
async function syncCopies(deps: SlackDeps, taskId: string): Promise<void> {
  const task = await deps.baton.tasks.load(taskId);
  if (!task) return;
  const copies = await deps.baton.deliveries.taskDeliveries(taskId, 'slack');
  const eligible = new Set(await assigneesOf(deps, task));
  const reassignedTo =
    task.status === 'open' ? await deps.baton.tasks.describeAssignee(task.assignee) : undefined;
  const handedOn =
    reassignedTo && copies.some((c) => !eligible.has(c.user)) ? await lastReassignment(deps, task) : null;
  let retry = false;
  await Promise.all(
    copies
      .filter((c) => !c.error)
      .map(async (copy) => {
        const override: CopyOverride =
          task.status === 'open' && !eligible.has(copy.user) && reassignedTo
            ? {
                reassignedTo,
                ...(handedOn
                  ? {
                      reassignedBy: handedOn.by === copy.user ? 'you' : handedOn.name,
                      reassignedAt: handedOn.at,
                    }
                  : {}),
              }
            : task.status === 'open' && task.responses.some((r) => r.by === copy.user)
              ? { answered: true }
              : {};
        try {
          await updateCopy(deps, task, copy.ref, override);
        } catch (err) {
          if (isTransient(err)) retry = true;
          deps.logger.warn(
            { task: taskId, user: copy.user, error: errorCode(err) },
            'slack: task copy not updated',
          );
        }
      }),
  );
  if (task.status === 'open') await postToAssignees(deps, task);
  // Closed and shown so (a passing error leaves it to the next redelivery).
  else if (!retry && task.copies_outdated?.includes('slack'))
    await deps.baton.deliveries.copiesUpdated(taskId, 'slack');
}

/**
 * When a copy that met a passing Slack error is tried again. The redelivery (every few minutes)
 * only looks for tasks nobody has a copy of, so a group member whose copy alone failed would
 * otherwise never get one.
 */
const COPY_RETRY_MS = [5_000, 30_000, 120_000, 600_000];

/** Retries waiting, per surface (cleared when the surface stops). */
const copyRetries = new WeakMap<SlackDeps, Set<NodeJS.Timeout>>();

/**
 * Posts the copies of a task its assignees have not got yet (each member of a group). Once
 * every one is posted, or cannot be (no Slack identity, a refusal for good), the task is marked
 * complete for Slack; until then redelivery hands it out again, so members left without a
 * copy (a crash midway, a passing error) get theirs and nobody gets two.
 */
async function postToAssignees(deps: SlackDeps, task: TaskDoc, only?: string, attempt = 0): Promise<void> {
  const people = only ? [only] : await assigneesOf(deps, task);
  let complete = true;
  await Promise.all(
    people.map(async (userId) => {
      try {
        if ((await postCopy(deps, task, userId)) === 'busy') complete = false;
      } catch (err) {
        const transient = isTransient(err);
        const delay = transient ? COPY_RETRY_MS[attempt] : undefined;
        deps.logger.warn(
          { task: task._id, user: userId, error: errorCode(err), retry_in_ms: delay },
          'slack: task copy not posted',
        );
        if (transient) complete = false;
        else
          await deps.baton.conversations
            .noteUndelivered(task._id, 'slack', userId, `Slack refused the message: ${errorCode(err)}`)
            .catch(() => undefined);
        if (delay !== undefined) retryCopy(deps, task._id, userId, attempt + 1, delay);
      }
    }),
  );
  if (complete && !only && task.status === 'open')
    await deps.baton.deliveries.copiesComplete(task._id, 'slack');
}

function retryCopy(deps: SlackDeps, taskId: string, userId: string, attempt: number, delay: number): void {
  let timers = copyRetries.get(deps);
  if (!timers) {
    timers = new Set();
    copyRetries.set(deps, timers);
  }
  const all = timers;
  const timer = setTimeout(() => {
    all.delete(timer);
    void slackQueue(deps)
      .serial(`task:${taskId}`, async () => {
        const task = await deps.baton.tasks.load(taskId);
        if (task?.status !== 'open') return;
        if (!(await assigneesOf(deps, task)).includes(userId)) return;
        await postToAssignees(deps, task, userId, attempt);
      })
      .catch((err: unknown) =>
        deps.logger.warn(
          { task: taskId, user: userId, error: errorCode(err) },
          'slack: task copy retry failed',
        ),
      );
  }, delay);
  timer.unref();
  all.add(timer);
}

async function deliverNotification(deps: SlackDeps, n: NotificationDoc): Promise<void> {
  const { baton, logger } = deps;
  // Per surface: another surface's delivery (or refusal) does not settle Slack's own post.
  if (baton.deliveries.notificationDoneOn(n, 'slack')) return;
  const slackId = await deps.users.toSlack(n.to);
  if (!slackId) {
    logger.debug(
      { notification: n._id, user: n.to },
      'slack: no Slack identity, notification left to other surfaces',
    );
    return;
  }
  const claim = postingClaim(deps, `slack:notification:${n._id}`);
  if (!(await baton.deliveries.claimOnce(claim, POSTING_CLAIM_MS))) return;
  try {
    const channel = await openDm(deps, slackId);
    const message = await renderNotification(deps, n);
    const res = await slackQueue(deps).call(() =>
      deps.client.chat.postMessage({ channel, text: message.text, blocks: message.blocks }),
    );
    await baton.deliveries.notificationDelivered(n._id, {
      surface: 'slack',
      user: n.to,
      ref: { channel: res.channel ?? channel, ts: res.ts ?? '' },
    });
  } catch (err) {
    const code = errorCode(err);
    if (isTransient(err)) {
      // Slack or the network had a hiccup: the notification stays pending, and the next
      // redelivery (every few minutes) posts it.
      logger.warn(
        { notification: n._id, user: n.to, error: code },
        'slack: notification not delivered yet; it is tried again at the next redelivery',
      );
      await baton.deliveries.releaseClaim(claim).catch(() => undefined);
      await baton.deliveries.notificationOwed(n._id, 'slack');
      return;
    }
    logger.warn({ notification: n._id, user: n.to, error: code }, 'slack: notification not delivered');
    await baton.deliveries.notificationUndeliverable(n._id, 'slack', code);
  }
}

/** Slack's answers that say "not now" rather than "never" (a later try may well succeed). */
const TRANSIENT_SLACK_ERRORS = new Set([
  'ratelimited',
  'fatal_error',
  'internal_error',
  'service_unavailable',
  'request_timeout',
]);

/**
 * Slack's answers that refuse Baton's own token (revoked, expired, the app uninstalled or its
 * workspace deactivated), whoever the message is for: nothing is wrong with the person, and
 * once an admin fixes SLACK_BOT_TOKEN the next start or redelivery posts what is waiting.
 */
const TOKEN_SLACK_ERRORS = new Set([
  'invalid_auth',
  'not_authed',
  'token_revoked',
  'token_expired',
  'account_inactive',
]);

/**
 * Whether a Web API call failed for a passing reason: the network, an HTTP error from Slack's
 * edge, rate limits that outlasted the retries, a Slack error that says so, or Baton's token
 * refused (a message for the person is still owed to them).
 */
function isTransient(err: unknown): boolean {
  const e = err as { code?: unknown; data?: { error?: unknown } } | null;
  if (
    e?.code === 'slack_webapi_request_error' ||
    e?.code === 'slack_webapi_http_error' ||
    e?.code === 'slack_webapi_rate_limited_error'
  )
    return true;
  return (
    typeof e?.data?.error === 'string' &&
    (TRANSIENT_SLACK_ERRORS.has(e.data.error) || TOKEN_SLACK_ERRORS.has(e.data.error))
  );
}

async function renderNotification(deps: SlackDeps, n: NotificationDoc): Promise<SlackMessage> {
  const text = n.text ?? '';
  const request = n.request_id ? await deps.baton.requests.load(n.request_id) : null;
  const requestView = request ? await deps.baton.views.request(request) : undefined;
  // The request's fields at the root too: `card: request` (which binds a RequestView at its root)
  // then shows the request instead of its raw `${...}` bindings.
  const data = {
    ...(requestView ?? {}),
    text,
    ...(requestView ? { request: requestView, url: requestUrl(deps, requestView.id) } : {}),
  };
  // The task card needs a task, which a notification has none of (`npm run validate` warns).
  const card = n.card === 'task' ? undefined : n.card;
  const fromCard = renderCard(deps, [card, 'notification'], data, text || undefined);
  if (fromCard) {
    // A card that does not show the step's text (the shipped `request` card) gets it on top.
    if (text && !bindsText(deps, card))
      fromCard.blocks.unshift({ type: 'section', text: { type: 'mrkdwn', text: truncate(esc(text), 2900) } });
    return fromCard;
  }
  const blocks: KnownBlock[] = [];
  if (text) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(esc(text), 2900) } });
  if (requestView) {
    {
      const view = requestView;
      const link = deps.publicUrl
        ? `<${deps.publicUrl.replace(/\/$/, '')}/requests/${encodeURIComponent(view.id)}|${esc(view.id)}>`
        : `*${esc(view.id)}*`;
      blocks.push({
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `${link} · ${esc(view.app_name)} · stage ${esc(view.stage)}` }],
      });
    }
  }
  return { blocks, text: text || `Update on ${n.request_id ?? 'your request'}` };
}

/**
 * Posts and updates Slack copies of tasks and notifications as the core reports changes.
 * Returns a function that stops listening.
 */
export function startTaskDelivery(deps: SlackDeps): () => void {
  const { baton, logger } = deps;
  const q = slackQueue(deps);
  const fail = (what: string, id: string) => (err: unknown) =>
    logger.error({ id, error: errorCode(err) }, `slack: ${what} failed`);

  const onOpened = (task: TaskDoc) => {
    q.serial(`task:${task._id}`, () => postToAssignees(deps, task)).catch(fail('posting a task', task._id));
  };
  const onChanged = (task: TaskDoc) => {
    q.serial(`task:${task._id}`, () => syncCopies(deps, task._id)).catch(fail('updating a task', task._id));
  };
  const onNotification = (n: NotificationDoc) => {
    q.serial(`notification:${n._id}`, () => deliverNotification(deps, n)).catch(
      fail('a notification', n._id),
    );
  };
  const onUndelivered = (task: TaskDoc, surfaces: string[]) => {
    if (surfaces.includes('slack')) onOpened(task);
  };
  const onOutdated = (task: TaskDoc, surfaces: string[]) => {
    if (surfaces.includes('slack')) onChanged(task);
  };
  // Someone who joins a group gets a copy of each task the group has open, like its members did.
  const onGroupChanged = ({ name, added }: { name: string; added?: string }) => {
    if (!added) return;
    void (async () => {
      for (const task of await baton.tasks.listOpenForGroup(name)) {
        q.serial(`task:${task._id}`, () => postToAssignees(deps, task, added)).catch(
          fail('posting a task to a new group member', task._id),
        );
      }
    })().catch(fail('posting tasks to a new group member', name));
  };
  const unregister = baton.registerDeliverySurface('slack');
  baton.events.on('task.undelivered', onUndelivered);
  baton.events.on('task.outdated', onOutdated);
  baton.events.on('task.opened', onOpened);
  baton.events.on('task.closed', onChanged);
  baton.events.on('task.reassigned', onChanged);
  // A member answered a task with a quorum: every copy shows where it stands.
  baton.events.on('task.responded', onChanged);
  baton.events.on('notification', onNotification);
  baton.events.on('group.changed', onGroupChanged);
  // Tasks that closed after this process started but before this surface listened (an
  // expiry that fell due while Baton was down fires as the scheduler starts): their copies
  // still show buttons, so bring them up to date now.
  void (async () => {
    const closed = await baton.ctx.db.tasks
      .find({ status: { $in: ['completed', 'expired', 'cancelled'] }, updated_at: { $gte: baton.startedAt } })
      .toArray();
    await baton.durable();
    for (const task of closed) {
      if (task.deliveries?.some((d) => d.surface === 'slack')) onChanged(task);
    }
  })().catch(fail('updating tasks closed at start', 'start'));
  return () => {
    unregister();
    for (const timer of copyRetries.get(deps) ?? []) clearTimeout(timer);
    copyRetries.delete(deps);
    baton.events.off('task.undelivered', onUndelivered);
    baton.events.off('task.outdated', onOutdated);
    baton.events.off('task.opened', onOpened);
    baton.events.off('task.closed', onChanged);
    baton.events.off('task.reassigned', onChanged);
    baton.events.off('task.responded', onChanged);
    baton.events.off('notification', onNotification);
    baton.events.off('group.changed', onGroupChanged);
  };
}

// ---------------------------------------------------------------------------------------
// Inbound: buttons and the comment modal

/** Whether an outcome needs more than a click: a required comment or an input required for it. */
export function needsModal(task: TaskDoc, outcome: string): boolean {
  const chosen = task.outcomes.find((o) => o.label === outcome);
  if (!chosen) return false;
  return chosen.comment === 'required' || task.inputs.some((i) => i.required_for.includes(outcome));
}

/**
 * The comment (and inputs) modal of an outcome. `from.listUrl`: the response_url of the ephemeral
 * `/baton tasks` list the click came from, re-rendered once the modal completes the task;
 * `from.home`: the click came from the Home tab, which shows what became of it.
 */
function modalFor(
  task: TaskDoc,
  outcome: string,
  from: { listUrl?: string | undefined; home?: boolean } = {},
) {
  const chosen = task.outcomes.find((o) => o.label === outcome);
  // A task title is a rendered template of any length: Slack refuses a modal whose text passes 3000.
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `*${truncate(esc(task.title), 2990)}*` } },
  ];
  const hasCommentInput = task.inputs.some((i) => i.id === 'comment');
  if (!hasCommentInput) {
    blocks.push({
      type: 'input',
      block_id: 'comment',
      optional: chosen?.comment !== 'required',
      label: { type: 'plain_text', text: 'Comment' },
      element: { type: 'plain_text_input', action_id: 'value', multiline: true, max_length: 3000 },
    });
  }
  for (const input of task.inputs) {
    blocks.push({
      type: 'input',
      block_id: `input:${input.id}`,
      optional: !input.required_for.includes(outcome),
      label: { type: 'plain_text', text: truncate(input.label, 2000) },
      element: { type: 'plain_text_input', action_id: 'value', multiline: input.type === 'long_text' },
    });
  }
  return {
    type: 'modal' as const,
    callback_id: TASK_MODAL_CALLBACK,
    private_metadata: JSON.stringify({
      task_id: task._id,
      outcome,
      ...(from.listUrl ? { list: from.listUrl } : {}),
      ...(from.home ? { home: true } : {}),
    }),
    title: { type: 'plain_text' as const, text: truncate(outcome, 24) },
    submit: { type: 'plain_text' as const, text: truncate(outcome, 24) },
    close: { type: 'plain_text' as const, text: 'Cancel' },
    blocks,
  };
}

/** Where a task modal was opened from (see modalFor): the ephemeral list's response_url, or the Home tab. */
function openedFrom(privateMetadata: string): { listUrl?: string; home: boolean } {
  try {
    const meta = JSON.parse(privateMetadata) as { list?: unknown; home?: unknown };
    const list = meta.list;
    return {
      ...(typeof list === 'string' && /^https?:\/\//.test(list) ? { listUrl: list } : {}),
      home: meta.home === true,
    };
  } catch {
    return { home: false };
  }
}

/** Answers through a response_url (what Bolt's `respond` does, for a view submission that has none). */
async function postToResponseUrl(url: string, message: Record<string, unknown>): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(message),
  });
  if (!res.ok) throw new Error(`response_url answered ${res.status}`);
}

/** What someone who just decided a task is shown where they clicked (the list, the Home tab). */
function decidedText(task: TaskDoc, outcome: string): string {
  return `:white_check_mark: *${esc(task.title)}*: ${esc(outcomePhrase(task.outcome ?? outcome))} by you.`;
}

/** The message someone gets when their click lost: who closed the task, and when. */
function closedText(err: TaskClosedError): string {
  const t = err.task;
  const when = t.completed_at ? ` ${slackDate(t.completed_at)}` : '';
  if (t.status === 'completed')
    return `Already ${esc(outcomePhrase(t.outcome ?? 'completed'))} by ${esc(t.completed_by_name ?? 'someone')}${when}.`;
  if (t.status === 'expired') return `This task expired${when}.`;
  if (t.status === 'cancelled')
    return `This task was cancelled${t.completed_by_name ? ` by ${esc(t.completed_by_name)}` : ''}${when}.`;
  return 'This task is no longer open.';
}

/** What the task handlers offer the surface once registered. */
export interface TaskHandlers {
  /**
   * Carries out the task clicks that were acked but never carried out (the process died in
   * between): those held longer than `staleMs`. At start on the embedded store every held
   * click is an orphan (staleMs 0); with several servers on MongoDB, only old ones are.
   */
  recoverHeldClicks(staleMs: number): Promise<void>;
}

export function registerTaskHandlers(
  app: App,
  deps: SlackDeps,
  options: { home?: HomeTab } = {},
): TaskHandlers {
  const { baton, logger } = deps;
  const { home } = options;

  /** Shows `note` on top of the person's Home tab (their click came from there). */
  const noteOnHome = async (slackUser: string, note: string) => {
    if (!home) return;
    await home.show(await deps.users.toBaton(slackUser), slackUser, note);
  };

  /**
   * Where what became of a click is shown in place: the Home tab it came from, or the ephemeral
   * list (`refreshList`); undefined for a task's own message (its copies are updated instead).
   */
  const shownWhere = (
    click: HeldClick,
    refreshList: ((note: string) => Promise<void>) | undefined,
  ): ((note: string) => Promise<void>) | undefined => {
    if (click.home && home) return (note) => noteOnHome(click.slack_user, note);
    return click.ephemeral ? refreshList : undefined;
  };

  /**
   * Re-renders the ephemeral `/baton tasks` list a click came from with `note` on top, through
   * its response_url (`post`: Bolt's `respond`, or a plain POST for a modal's submission).
   */
  const listRefresher =
    (post: RespondFn | ((message: Record<string, unknown>) => Promise<void>), slackUser: string) =>
    async (note: string): Promise<void> => {
      await post({
        replace_original: true,
        response_type: 'ephemeral',
        ...(await renderOpenTaskList(deps, await deps.users.toBaton(slackUser), note)),
      });
    };

  const ephemeral = async (slackUser: string, channel: string | undefined, text: string) => {
    const ch = channel ?? (await openDm(deps, slackUser));
    await slackQueue(deps).call(() => deps.client.chat.postEphemeral({ channel: ch, user: slackUser, text }));
  };

  app.action<BlockAction<ButtonAction>>(
    { type: 'block_actions', action_id: new RegExp(`^${TASK_ACTION_PREFIX}`) },
    async ({ action, next }) => {
      // Other `baton:` buttons (the transport's own) are not task buttons: leave them alone.
      if (action.type === 'button' && parseButtonValue(action.value)) await next();
    },
    async ({ ack, body, action, respond, context }) => {
      const ref = parseButtonValue(action.value);
      if (!ref) {
        await ack();
        return;
      }
      // Slack delivering this click again (it got no answer in time): X-Slack-Retry-Num.
      const retried = typeof context.retryNum === 'number' && context.retryNum > 0;
      const click: HeldClick = {
        task_id: ref.task_id,
        outcome: ref.outcome,
        slack_user: body.user.id,
        channel: body.channel?.id ?? (body.container?.channel_id as string | undefined),
        message_ts: body.message?.ts ?? (body.container?.message_ts as string | undefined),
        // A click on the ephemeral `/baton tasks` list: chat.update cannot reach that message,
        // its response_url can — the list is re-rendered in place once the click is decided.
        ephemeral: body.container?.is_ephemeral === true && body.response_url !== undefined,
        home: fromHomeTab(body),
      };
      const refreshList = listRefresher(respond, click.slack_user);
      const task = await baton.tasks.load(ref.task_id).catch(() => null);
      if (task?.status === 'open' && needsModal(task, ref.outcome)) {
        // Not queued: the modal must open while the click's trigger_id is valid (3 s).
        await ack();
        try {
          const actor = await deps.users.toBaton(click.slack_user);
          if (!(await baton.tasks.canAnswer(actor, task))) {
            // Let the core word the refusal (it names the assignee, or what they answered).
            await baton.tasks.complete(actor, task._id, ref.outcome);
          }
          const listUrl = click.ephemeral ? body.response_url : undefined;
          await slackQueue(deps).call(() =>
            deps.client.views.open({
              trigger_id: body.trigger_id,
              view: modalFor(task, ref.outcome, { listUrl, home: click.home === true }),
            }),
          );
        } catch (err) {
          await handleClickError(err, click, refreshList);
        }
        return;
      }
      // Held in the store before the ack: if this process dies before carrying the click out,
      // the next start does (Slack never sends an acked interaction again).
      let held: string | undefined;
      try {
        held = await baton.deliveries.holdAction('slack', { kind: 'task_click', ...click });
      } catch (err) {
        logger.warn(
          { task: ref.task_id, error: errorCode(err) },
          'slack: could not hold a click; carrying it out unheld',
        );
      }
      await ack();
      await carryOut(click, held, refreshList, false, retried);
    },
  );

  /**
   * Completes the task a click asked for (in turn, see afterAckQueue), tells the person when
   * it cannot, and releases the held click. `refreshList` re-renders an ephemeral task list; a
   * click on the Home tab has it published again, with what became of the click on top.
   */
  async function carryOut(
    click: HeldClick,
    held: string | undefined,
    refreshList?: (note: string) => Promise<void>,
    replayed = false,
    retried = false,
  ): Promise<void> {
    const show = shownWhere(click, refreshList);
    const refresh = async (note: string) => {
      if (!show) return;
      try {
        await show(note);
      } catch (err) {
        logger.warn(
          { task: click.task_id, error: errorCode(err) },
          `slack: could not refresh the ${click.home ? 'Home tab' : 'task list'}`,
        );
      }
    };
    try {
      const actor = await deps.users.toBaton(click.slack_user);
      const done = await afterAckQueue(deps).call(() =>
        baton.tasks.complete(actor, click.task_id, click.outcome),
      );
      if (done.status === 'open') {
        // A group task with a quorum: the answer is recorded and the task waits for others.
        if (show) await refresh(await confirmation(click.outcome, done));
        else await confirmResponse(click, done);
        return;
      }
      // Every recorded copy (the DMs) is updated by the task.closed listener.
      await refresh(decidedText(done, click.outcome));
    } catch (err) {
      if (replayed && err instanceof TaskClosedError && (await carriedOutBefore(err, click))) {
        // The dead process completed the task for this click but died before releasing it
        // (and maybe before updating the copies): nothing to tell, bring every copy up to date.
        await slackQueue(deps)
          .serial(`task:${click.task_id}`, () => syncCopies(deps, click.task_id))
          .catch((e: unknown) =>
            logger.warn({ task: click.task_id, error: errorCode(e) }, 'slack: copies not updated'),
          );
        return;
      }
      // Slack's retry of a click whose first delivery was carried out: that one answered it.
      if (
        retried &&
        ((err instanceof TaskClosedError && (await carriedOutBefore(err, click))) ||
          (err instanceof ValidationError &&
            (await answeredAlready(click.slack_user, click.task_id, click.outcome, undefined))))
      ) {
        logger.info({ task: click.task_id }, 'slack: a click delivered again, carried out already');
        return;
      }
      await handleClickError(err, click, refreshList);
    } finally {
      if (held) await baton.deliveries.releaseAction(held).catch(() => undefined);
    }
  }

  async function recoverHeldClicks(staleMs: number): Promise<void> {
    const actions = await baton.deliveries.claimHeldActions('slack', staleMs);
    for (const a of actions) {
      const p = a.payload as Partial<HeldClick> & { kind?: string };
      if (
        p.kind !== 'task_click' ||
        typeof p.task_id !== 'string' ||
        typeof p.outcome !== 'string' ||
        typeof p.slack_user !== 'string'
      ) {
        await baton.deliveries.releaseAction(a._id);
        continue;
      }
      logger.info({ task: p.task_id }, 'slack: carrying out a click held before a restart');
      // The ephemeral list's response_url may have expired: no refresh, only DMs are updated.
      await carryOut({ ...(p as HeldClick), ephemeral: false }, a._id, undefined, true);
    }
  }

  /** Whether this very answer of the person (outcome and comment) is recorded in the task's responses. */
  async function answeredAlready(
    slackUser: string,
    taskId: string,
    outcome: string,
    comment: string | undefined,
  ): Promise<boolean> {
    const actor = await deps.users.toBaton(slackUser).catch(() => null);
    const task = await baton.tasks.load(taskId).catch(() => null);
    const same = (r: TaskDoc['responses'][number]) =>
      r.by === actor?._id && r.outcome === outcome && (r.comment ?? '') === (comment ?? '').trim();
    return actor !== null && (task?.responses ?? []).some(same);
  }

  /** Whether a closed task was completed by this very click (same person, same outcome). */
  async function carriedOutBefore(err: TaskClosedError, click: HeldClick): Promise<boolean> {
    if (err.task.status !== 'completed' || err.task.outcome !== click.outcome) return false;
    const actor = await deps.users.toBaton(click.slack_user).catch(() => null);
    return actor !== null && err.task.completed_by === actor._id;
  }

  /**
   * Tells someone whose answer to a group task with a quorum was recorded without deciding it
   * (the task stays open for the others): an ephemeral line. Their copy (every copy) is
   * updated by the task.responded listener: where it stands, without buttons for them.
   */
  async function confirmResponse(click: HeldClick, task: TaskDoc): Promise<void> {
    try {
      await ephemeral(click.slack_user, click.channel, await confirmation(click.outcome, task));
    } catch (err) {
      logger.warn({ task: task._id, error: errorCode(err) }, 'slack: could not confirm a response');
    }
  }

  /** "Your answer *Yes* on *Offsite?* is recorded; the task waits for 1 more response." */
  async function confirmation(outcome: string, task: TaskDoc): Promise<string> {
    const waiting = await baton.tasks.waitingFor(task);
    return `:ballot_box_with_check: Your answer *${esc(outcome)}* on *${esc(truncate(task.title, 150))}* is recorded; ${esc(waiting)}.`;
  }

  /**
   * Tells someone `text` where they clicked: in place (the Home tab, the ephemeral list through
   * `refreshList`) — on the Home tab an ephemeral line would land in the Messages tab, and in a
   * channel Baton is not a member of (a slash command works in any) Slack refuses one — else in
   * an ephemeral message beside the task's copy. True when it went in place.
   */
  async function say(
    click: HeldClick,
    text: string,
    refreshList?: (note: string) => Promise<void>,
  ): Promise<boolean> {
    const show = shownWhere(click, refreshList);
    if (show) {
      try {
        await show(text);
        return true;
      } catch (inPlace) {
        // A list's response_url lasts 30 minutes: say it beside the task instead.
        logger.warn(
          { task: click.task_id, error: errorCode(inPlace) },
          'slack: could not answer a click in place',
        );
      }
    }
    await ephemeral(click.slack_user, click.channel, text);
    return false;
  }

  /** Whether `err` says the task a click or form names is not in Baton (any more). */
  async function taskGone(err: unknown, taskId: string): Promise<boolean> {
    return err instanceof NotFoundError && (await baton.tasks.load(taskId).catch(() => null)) === null;
  }

  /**
   * Tells someone why their click was not carried out: where they clicked (the Home tab, the
   * ephemeral list through `refreshList`, re-rendered without a task that closed), else in an
   * ephemeral message beside the task's copy, which is brought up to date.
   */
  async function handleClickError(
    err: unknown,
    click: HeldClick,
    refreshList?: (note: string) => Promise<void>,
  ): Promise<void> {
    const { channel, task_id: taskId } = click;
    // An ephemeral message cannot be updated with chat.update.
    const messageTs = click.ephemeral ? undefined : click.message_ts;
    let text: string;
    if (err instanceof TaskClosedError) text = closedText(err);
    else if (await taskGone(err, taskId)) text = `:wastebasket: ${esc(TASK_GONE)}`;
    else if (err instanceof ForbiddenError || err instanceof ValidationError || err instanceof NotFoundError)
      text = `:no_entry: ${esc(err.message)}`;
    else if (errorCode(err) === 'expired_trigger_id') {
      // The comment form opened too late (Slack allows 3 s from the click): a click again opens it.
      logger.warn({ task: taskId }, 'slack: a task form opened too late (expired trigger_id)');
      text = `:hourglass: Slack gives Baton 3 seconds to open a form and the one for *${esc(click.outcome)}* took longer (Baton is busy right now). Nothing was recorded: click *${esc(click.outcome)}* again.`;
    } else {
      logger.error({ task: taskId, error: errorCode(err) }, 'slack: task button failed');
      text = 'Something went wrong on our side; please try again in a moment.';
    }
    try {
      const inPlace = await say(click, text, refreshList);
      if (!inPlace && err instanceof TaskClosedError) {
        // Refresh the stale copy the person clicked on.
        const task = await baton.tasks.load(taskId);
        if (task && channel && messageTs) await updateCopy(deps, task, { channel, ts: messageTs });
      }
    } catch (inner) {
      logger.error({ task: taskId, error: errorCode(inner) }, 'slack: could not tell the user');
    }
  }

  // "<outcome> with comment" from a task's overflow menu: the comment modal, comment optional.
  app.action<BlockAction<OverflowAction>>(
    { type: 'block_actions', action_id: TASK_COMMENT_ACTION },
    async ({ ack, body, action, respond }) => {
      await ack();
      const ref = parseCommentOption(action.selected_option?.value);
      if (!ref) return;
      const task = await baton.tasks.load(ref.task_id).catch(() => null);
      const outcome = task?.outcomes[ref.i]?.label;
      const click: HeldClick = {
        task_id: ref.task_id,
        outcome: outcome ?? '',
        slack_user: body.user.id,
        channel: body.channel?.id ?? (body.container?.channel_id as string | undefined),
        message_ts: body.message?.ts ?? (body.container?.message_ts as string | undefined),
        ephemeral: body.container?.is_ephemeral === true,
        home: fromHomeTab(body),
      };
      const listUrl = click.ephemeral ? (body as { response_url?: string }).response_url : undefined;
      try {
        if (!task) throw new NotFoundError(`No task ${ref.task_id}.`);
        if (outcome === undefined) throw new ValidationError(`That is not an outcome of "${task.title}".`);
        const actor = await deps.users.toBaton(body.user.id);
        if (!(await baton.tasks.canAnswer(actor, task))) {
          // Not allowed, answered already, or closed: the core words the refusal (closed tasks never reopen).
          await baton.tasks.complete(actor, task._id, outcome);
          return;
        }
        await slackQueue(deps).call(() =>
          deps.client.views.open({
            trigger_id: body.trigger_id,
            view: modalFor(task, outcome, { listUrl, home: click.home === true }),
          }),
        );
      } catch (err) {
        await handleClickError(err, click, listRefresher(respond, click.slack_user));
      }
    },
  );

  app.view<ViewSubmitAction>(TASK_MODAL_CALLBACK, async ({ ack, body, view }) => {
    let meta: { task_id: string; outcome: string } | null = null;
    try {
      meta = parseButtonValue(view.private_metadata);
    } catch {
      meta = null;
    }
    if (!meta) {
      await ackOnce(ack);
      return;
    }
    const values = view.state.values;
    const read = (block: string): string | undefined => {
      const v = values[block]?.value?.value;
      return typeof v === 'string' ? v : undefined;
    };
    const task = await baton.tasks.load(meta.task_id).catch(() => null);
    const inputs: Record<string, string> = {};
    for (const input of task?.inputs ?? []) {
      const v = read(`input:${input.id}`);
      if (v !== undefined) inputs[input.id] = v;
    }
    const hasCommentInput = task?.inputs.some((i) => i.id === 'comment') ?? false;
    const commentBlock = hasCommentInput ? 'input:comment' : 'comment';
    const firstBlock =
      (view.blocks as { type: string; block_id?: string }[]).find((b) => b.type === 'input')?.block_id ??
      commentBlock;
    // Opened from the ephemeral `/baton tasks` list or the Home tab: what became of the answer
    // is shown there (the list without the task just decided, or just answered for a quorum).
    const from = openedFrom(view.private_metadata);
    const click: HeldClick = {
      task_id: meta.task_id,
      outcome: meta.outcome,
      slack_user: body.user.id,
      ephemeral: from.listUrl !== undefined,
      home: from.home,
    };
    const listUrl = from.listUrl;
    const refreshList = listUrl
      ? listRefresher((message: Record<string, unknown>) => postToResponseUrl(listUrl, message), body.user.id)
      : undefined;
    const inPlace = shownWhere(click, refreshList);
    try {
      const actor = await deps.users.toBaton(body.user.id);
      const done = await baton.tasks.complete(actor, meta.task_id, meta.outcome, {
        comment: hasCommentInput ? undefined : read('comment'),
        inputs,
      });
      // Answered already (the receiver's safety timeout closed the modal): the answer is in.
      await ackOnce(ack);
      if (inPlace) {
        const note =
          done.status === 'open' ? await confirmation(meta.outcome, done) : decidedText(done, meta.outcome);
        await inPlace(note).catch((err: unknown) =>
          logger.warn(
            { task: meta.task_id, error: errorCode(err) },
            'slack: could not show the answer in place',
          ),
        );
      } else if (done.status === 'open') {
        // Recorded, not decided (a quorum): confirm in their DM, on their copy if they have one.
        const copy = (await baton.deliveries.taskDeliveries(done._id, 'slack')).find(
          (d) => d.user === actor._id && !d.error,
        );
        await confirmResponse(
          {
            task_id: done._id,
            outcome: meta.outcome,
            slack_user: body.user.id,
            channel: copy?.ref.channel,
            message_ts: copy?.ref.ts,
            ephemeral: false,
          },
          done,
        );
      }
    } catch (err) {
      // The same person's same answer again (Slack resending a submission it got no answer
      // for in time, a double submit): answered as the first one was, the modal closes.
      const comment = hasCommentInput ? inputs.comment : read('comment');
      if (
        (err instanceof TaskClosedError || err instanceof ValidationError) &&
        (await answeredAlready(body.user.id, meta.task_id, meta.outcome, comment))
      ) {
        await ackOnce(ack);
        return;
      }
      const errors: Record<string, string> = {};
      if (err instanceof ValidationError) {
        for (const [key, message] of Object.entries(err.fields)) {
          const block = key === 'comment' ? commentBlock : `input:${key}`;
          const exists = (view.blocks as { block_id?: string }[]).some((b) => b.block_id === block);
          errors[exists ? block : firstBlock] = message;
        }
        if (Object.keys(errors).length === 0) errors[firstBlock] = err.message;
      } else if (err instanceof TaskClosedError) {
        // Modal errors are plain text: the core's sentence, not the mrkdwn one (no &amp;, no <!date>).
        errors[firstBlock] = err.message;
      } else if (await taskGone(err, meta.task_id)) {
        errors[firstBlock] = TASK_GONE;
      } else if (isBatonError(err)) {
        errors[firstBlock] = err.message;
      } else {
        logger.error({ task: meta.task_id, error: errorCode(err) }, 'slack: task modal failed');
        errors[firstBlock] = 'Something went wrong on our side; please try again.';
      }
      if (await ackOnce(ack, { response_action: 'errors', errors })) return;
      // The modal closed before its errors could be shown on it: say so where they clicked.
      const text = `:warning: Your answer *${esc(meta.outcome)}* on *${esc(truncate(task?.title ?? meta.task_id, 150))}* was not recorded: ${esc([...new Set(Object.values(errors))].join('; '))}`;
      await say(click, text, refreshList).catch((e: unknown) =>
        logger.error({ task: meta.task_id, error: errorCode(e) }, 'slack: could not tell the user'),
      );
    }
  });

  return { recoverHeldClicks };
}

/**
 * `/baton tasks`: the person's open tasks, each as its card with its outcome buttons (the
 * same ones as in the task's DM). Also re-rendered in place after a click on the list, so
 * the ephemeral reply never offers a task that is already closed.
 */
export async function renderOpenTaskList(
  deps: SlackDeps,
  actor: User,
  note?: string,
): Promise<{ text: string; blocks: KnownBlock[] }> {
  // One more than shown, to say "20+" when there are more than 20.
  const open = await deps.baton.tasks.listOpenFor(actor, { limit: 21 });
  const list = open.slice(0, 20);
  const more = open.length > list.length ? '+' : '';
  const blocks: KnownBlock[] = note ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: note }] }] : [];
  if (list.length === 0) {
    const text = 'You have no open tasks. :tada:';
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text } });
    return { text, blocks };
  }
  blocks.push({
    type: 'section',
    text: { type: 'mrkdwn', text: `*Your open tasks* (${list.length}${more})` },
  });
  let shown = 0;
  for (const t of list) {
    // A task with a quorum the person already answered: where it stands, no buttons.
    const answered = t.responses.some((r) => r.by === actor._id);
    const card = await renderTaskMessage(deps, t, answered ? { answered } : {});
    if (blocks.length + card.blocks.length + 2 > 50) break;
    blocks.push({ type: 'divider' }, ...card.blocks);
    shown++;
  }
  if (shown < list.length) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `…and ${list.length - shown}${more} more: see Baton's Home tab.` }],
    });
  }
  // The fallback text is mrkdwn too (notifications): titles are user text, escaped like the blocks.
  const summary = truncate(esc(`Your open tasks: ${list.map((t) => t.title).join('; ')}`), 3000);
  return { text: summary, blocks };
}

/**
 * For the Home tab: the buttons of an open task, exactly as on its card (same action ids and
 * values); for a viewer who already answered it (a quorum), where it stands instead.
 */
export async function taskButtons(deps: SlackDeps, task: TaskDoc, viewer?: User): Promise<KnownBlock[]> {
  if (viewer && task.responses.some((r) => r.by === viewer._id)) {
    const progress = (await deps.baton.views.task(task)).task.progress_text;
    return progress ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: esc(progress) }] }] : [];
  }
  const message = await renderTaskMessage(deps, task);
  return message.blocks.filter((b) => b.type === 'actions');
}
