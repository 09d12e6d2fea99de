/**
 * Tasks on Teams. Outbound: each assignee gets their copy of the task card in their 1:1 chat
 * with the bot (recorded in the core, so every copy can be updated after a restart, and
 * claimed, so a retry or a second instance never posts twice); every copy is updated when
 * the task closes, expires or is reassigned; `notify` steps become DMs. Inbound: the cards'
 * Action.Execute buttons arrive as `adaptiveCard/action` invokes and complete the task
 * through the core, exactly like a Slack click.
 */
import { randomUUID } from 'node:crypto';
import {
  ForbiddenError,
  isBatonError,
  NotFoundError,
  TaskClosedError,
  ValidationError,
} from '../../src/core/errors.js';
import { outcomePhrase } from '../../src/core/tasks.js';
import type { NotificationDoc, TaskDoc, User } from '../../src/core/types.js';
import { type AdaptiveCardJson, titleWithRequestId } from '../cards/cards.js';
import { ConnectorError } from './connector.js';
import type { TeamsDeps } from './deps.js';
import {
  attachment,
  forTeams,
  messageCard,
  renderNotificationCard,
  renderTaskCard,
  summaryText,
  type TaskCardOptions,
} from './render.js';
import type { TeamsReach } from './users.js';

const SURFACE = 'teams';
/** How long a claim to post a message holds; the recorded delivery is the lasting mark. */
const POSTING_CLAIM_MS = 2 * 60_000;

/** This surface instance's id, in its posting claims on the embedded store (see postingClaim). */
const claimScopes = new WeakMap<TeamsDeps, string>();

/**
 * The dedupe key of a posting claim. On the embedded store one process serves Teams, so a
 * claim left by an earlier process (killed between claiming and posting) is an orphan and
 * must not hold the copy back from the redelivery at start until a sweep minutes later:
 * claims are per surface instance there. On a shared store (several instances) every
 * instance uses the same key.
 */
function postingClaim(deps: TeamsDeps, key: string): string {
  if (deps.baton.ctx.store.kind !== 'embedded') return key;
  let scope = claimScopes.get(deps);
  if (!scope) {
    scope = randomUUID().slice(0, 8);
    claimScopes.set(deps, scope);
  }
  return `${key}:${scope}`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A post Teams refused for good: the person blocked the bot or removed it from that chat
 * (403), the chat is gone (404), or the message itself is refused (400, 413). Trying again
 * every few minutes would be refused the same way. Anything else (no answer, a refused token,
 * 429 or a 5xx after the connector's own retries) passes, and the next redelivery tries again.
 */
function refusedForGood(err: unknown): err is ConnectorError {
  return err instanceof ConnectorError && [400, 403, 404, 413].includes(err.status);
}

/** Why Teams refused a post to someone's chat with Baton, in words for a job log. */
async function refusalText(deps: TeamsDeps, userId: string, err: ConnectorError): Promise<string> {
  const name = await deps.baton.users.displayName(userId);
  const why =
    err.status === 403
      ? `${name} blocked Baton or removed it from their chat`
      : err.status === 404
        ? `${name}'s chat with Baton no longer exists`
        : 'Teams did not accept the message';
  return `Teams refused the message to ${name} (HTTP ${err.status}: ${why}).`;
}

/**
 * After a refused post: a chat that no longer exists is forgotten, so the next message to this
 * person asks the connector for a new one (or notes why it cannot) instead of posting into it.
 */
async function afterRefusal(deps: TeamsDeps, userId: string, err: ConnectorError): Promise<void> {
  if (err.status === 404) await deps.baton.conversations.forget(SURFACE, userId, ['conversationId']);
}

/** The people who may act on a task (the assignee, or every member of its group). */
async function assigneesOf(deps: TeamsDeps, task: TaskDoc): Promise<string[]> {
  if (task.assignee.type === 'user') return [task.assignee.id];
  const group = await deps.baton.groups.find(task.assignee.name);
  return group ? [...new Set(group.members)] : [];
}

/** Teams ids (`29:…`) of the assignees Baton can name in `refresh.userIds`. */
async function refreshIds(deps: TeamsDeps, task: TaskDoc): Promise<string[]> {
  const ids: string[] = [];
  for (const user of await assigneesOf(deps, task)) {
    const reach = await deps.users.reach(user);
    if (reach) ids.push(reach.userId);
  }
  return ids;
}

/**
 * What a member who already answered an open group task with a quorum sees: their answer and
 * what the task still waits for (each member answers once, so no buttons). Undefined for
 * everyone else, and once the task is closed.
 */
async function answeredNote(deps: TeamsDeps, task: TaskDoc, userId: string): Promise<string | undefined> {
  if (task.status !== 'open') return undefined;
  const mine = (task.responses ?? []).find((r) => r.by === userId);
  if (!mine) return undefined;
  return `You answered "${mine.outcome}"; ${await deps.baton.tasks.waitingFor(task)}.`;
}

/** One person's view of a task: actionable when they may act and have not answered it yet. */
async function personalView(
  deps: TeamsDeps,
  task: TaskDoc,
  userId: string,
  canAct: boolean,
  refreshUserIds: string[],
): Promise<TaskCardOptions> {
  const note = await answeredNote(deps, task, userId);
  return note ? { actionable: false, refreshUserIds, note } : { actionable: canAct, refreshUserIds };
}

/**
 * The 1:1 conversation of a user: the stored one, or one created through the connector
 * (possible when the bot is installed for them, e.g. org-wide). Null with the reason when
 * the bot cannot reach them.
 */
/**
 * People the connector refused a 1:1 chat with, and when: redelivery runs every few minutes,
 * and asking again at each run for everyone who has not installed the bot would be waste.
 * (Installing the bot stores the chat, which is used without asking.)
 */
const refused = new WeakMap<TeamsDeps, Map<string, { at: number; reason: string }>>();
const REFUSAL_TTL_MS = 15 * 60_000;

export async function personalConversation(
  deps: TeamsDeps,
  userId: string,
): Promise<{ reach: TeamsReach; conversationId: string } | { reason: string; passing?: true }> {
  const reach = await deps.users.reach(userId);
  if (!reach) {
    const name = await deps.baton.users.displayName(userId);
    return {
      reason: `${name} has not installed Baton in Microsoft Teams or talked to it yet, so the bot cannot message them.`,
    };
  }
  if (reach.conversationId) return { reach, conversationId: reach.conversationId };
  if (!reach.botId || !reach.tenantId)
    return { reason: 'the stored Teams reference has no bot or tenant id' };
  let cache = refused.get(deps);
  if (!cache) {
    cache = new Map();
    refused.set(deps, cache);
  }
  const known = cache.get(userId);
  if (known && Date.now() - known.at < REFUSAL_TTL_MS) return { reason: known.reason };
  try {
    const conversationId = await deps.queue.call(() =>
      deps.connector.createConversation(reach.serviceUrl, {
        botId: reach.botId,
        userId: reach.userId,
        tenantId: reach.tenantId,
      }),
    );
    await deps.users.saveConversation(userId, conversationId);
    return { reach, conversationId };
  } catch (err) {
    const name = await deps.baton.users.displayName(userId);
    const status = err instanceof ConnectorError ? err.status : 0;
    if (status === 403 || status === 404) {
      const reason = `${name} does not have Baton installed in Microsoft Teams (the connector refused a 1:1 chat).`;
      if (cache.size > 10_000) cache.clear();
      cache.set(userId, { at: Date.now(), reason });
      return { reason };
    }
    // No answer, a 429 or a 5xx after the connector's retries: a later try may well work.
    return { reason: `Teams could not open a chat with ${name}: ${errorText(err)}`, passing: true };
  }
}

/**
 * Posts one person's copy of a task, unless one is already recorded for them. 'done': posted,
 * recorded before, or nobody to post to on Teams (noted in the job's log); 'busy': someone
 * else is posting it now.
 */
async function postCopy(deps: TeamsDeps, task: TaskDoc, userId: string): Promise<'done' | 'busy'> {
  const { baton } = deps;
  const recorded = await baton.deliveries.taskDeliveries(task._id, SURFACE);
  if (recorded.some((d) => d.user === userId)) return 'done';
  const identity = await deps.users.teamsIdentity(userId);
  if (!identity) {
    // Not a Teams user: Slack delivers to someone it knows. Someone no chat knows (met on the
    // portal only) would otherwise wait unseen: said in the job's log (and logged), once.
    const user = await baton.users.find(userId).catch(() => null);
    if (!user || user.identities.some((i) => i.provider === 'slack')) return 'done';
    await baton.conversations.noteUndelivered(
      task._id,
      SURFACE,
      userId,
      `${user.name} has not opened Baton in Microsoft Teams yet (Teams gives a bot no way to find people by email), so the bot cannot message them; they can act on the task in the portal, or get it once they open Baton in Teams.`,
    );
    return 'done';
  }
  const target = await personalConversation(deps, userId);
  if ('reason' in target) {
    // A passing failure leaves the copy owed: the next redelivery asks again.
    if (target.passing) throw new Error(target.reason);
    await baton.conversations.noteUndelivered(task._id, SURFACE, userId, target.reason);
    return 'done';
  }
  const claim = postingClaim(deps, `teams:task:${task._id}:${userId}`);
  if (!(await baton.deliveries.claimOnce(claim, POSTING_CLAIM_MS))) return 'busy';
  const card = await renderTaskCard(
    deps,
    task,
    await personalView(deps, task, userId, true, await refreshIds(deps, task)),
  );
  let activityId: string;
  try {
    activityId = await deps.queue.call(() =>
      deps.connector.send(target.reach.serviceUrl, target.conversationId, {
        type: 'message',
        summary: summaryText(titleWithRequestId(task.title, task.request_id)),
        attachments: [attachment(card)],
      }),
    );
  } catch (err) {
    if (!refusedForGood(err)) {
      // Nothing was posted for sure: the next redelivery may post at once.
      if (!(err instanceof ConnectorError && err.ambiguous))
        await baton.deliveries.releaseClaim(claim).catch(() => undefined);
      throw err;
    }
    // Said in the job's log, like someone Baton cannot reach at all; the task waits in
    // `tasks` and the portal, and installing Baton again brings the card.
    await afterRefusal(deps, userId, err);
    await baton.conversations.noteUndelivered(
      task._id,
      SURFACE,
      userId,
      await refusalText(deps, userId, err),
    );
    await baton.deliveries.releaseClaim(claim).catch(() => undefined);
    return 'done';
  }
  await baton.deliveries.recordTaskDelivery(task._id, {
    surface: SURFACE,
    user: userId,
    ref: { serviceUrl: target.reach.serviceUrl, conversation: target.conversationId, activity: activityId },
  });
  // Another copy was recorded first (a claim that outlived a crash): remove ours.
  const mine = (await baton.deliveries.taskDeliveries(task._id, SURFACE)).find((d) => d.user === userId);
  if (mine && mine.ref.activity !== activityId) {
    await deps.queue
      .call(() => deps.connector.delete(target.reach.serviceUrl, target.conversationId, activityId))
      .catch((err: unknown) =>
        deps.logger.warn({ task: task._id, error: errorText(err) }, 'teams: duplicate copy not removed'),
      );
    return 'done';
  }
  // The task may have closed while we were posting: show that at once.
  const fresh = await baton.tasks.load(task._id);
  if (fresh && fresh.status !== 'open') await syncCopies(deps, fresh._id);
  return 'done';
}

/**
 * Posts the copies of a task its assignees have not got yet (each member of a group). Once
 * every one is posted or cannot be, the task is marked complete for Teams; until then
 * redelivery hands it out again, so members a crash or an error left without a copy get
 * theirs (and nobody gets two: each copy is recorded).
 */
async function postToAssignees(deps: TeamsDeps, task: TaskDoc, only?: string): Promise<void> {
  const people = only ? [only] : await assigneesOf(deps, task);
  let complete = true;
  await Promise.all(
    people.map(async (userId) => {
      try {
        if ((await postCopy(deps, task, userId)) === 'busy') complete = false;
      } catch (err) {
        complete = false;
        deps.logger.warn(
          { task: task._id, user: userId, error: errorText(err) },
          'teams: task copy not posted; it is tried again at the next redelivery',
        );
      }
    }),
  );
  if (complete && !only && task.status === 'open')
    await deps.baton.deliveries.copiesComplete(task._id, SURFACE);
}

/**
 * Posts the open tasks of someone who just installed the bot (tasks assigned before Baton
 * could reach them), skipping those they already have a copy of.
 */
export async function deliverOpenTasks(deps: TeamsDeps, user: User): Promise<number> {
  const open = await deps.baton.tasks.listOpenFor(user, { limit: 50 });
  let posted = 0;
  for (const task of open) {
    await deps.queue.serial(`task:${task._id}`, async () => {
      const before = (await deps.baton.deliveries.taskDeliveries(task._id, SURFACE)).length;
      await postCopy(deps, task, user._id);
      if ((await deps.baton.deliveries.taskDeliveries(task._id, SURFACE)).length > before) posted++;
    });
  }
  return posted;
}

/**
 * Brings every Teams copy of a task in line with the store (closed, expired, reassigned), or
 * only `onlyUser`'s copy (their answer to a group task with a quorum).
 */
export async function syncCopies(deps: TeamsDeps, taskId: string, onlyUser?: string): Promise<void> {
  const task = await deps.baton.tasks.load(taskId);
  if (!task) return;
  // Its own copies and those posted in answer to `tasks`.
  const copies = (await deps.baton.deliveries.taskCopies(taskId, SURFACE)).filter(
    (c) => onlyUser === undefined || c.user === onlyUser,
  );
  const eligible = new Set(await assigneesOf(deps, task));
  const reassignedTo =
    task.status === 'open' ? await deps.baton.tasks.describeAssignee(task.assignee) : undefined;
  const ids = task.status === 'open' ? await refreshIds(deps, task) : [];
  let retry = false;
  await Promise.all(
    copies
      .filter((c) => !c.error && c.ref.activity && c.ref.conversation && c.ref.serviceUrl)
      .map(async (copy) => {
        const gone = task.status === 'open' && !eligible.has(copy.user);
        // A member who answered a task with a quorum: where it stands, without buttons.
        const options: TaskCardOptions =
          gone && reassignedTo
            ? { actionable: false, reassignedTo }
            : await personalView(deps, task, copy.user, true, ids);
        try {
          const card = await renderTaskCard(deps, task, options);
          await deps.queue.call(() =>
            deps.connector.update(copy.ref.serviceUrl!, copy.ref.conversation!, copy.ref.activity!, {
              type: 'message',
              attachments: [attachment(card)],
            }),
          );
        } catch (err) {
          if (err instanceof ConnectorError && (err.status === 0 || err.status === 429 || err.status >= 500))
            retry = true;
          deps.logger.warn(
            { task: taskId, user: copy.user, error: errorText(err) },
            'teams: task copy not updated',
          );
        }
      }),
  );
  if (task.status === 'open' && onlyUser === undefined) await postToAssignees(deps, task);
  // Closed and shown so (a passing error leaves it to the next redelivery).
  else if (task.status !== 'open' && !retry && task.copies_outdated?.includes(SURFACE))
    await deps.baton.deliveries.copiesUpdated(taskId, SURFACE);
}

async function deliverNotification(deps: TeamsDeps, n: NotificationDoc): Promise<void> {
  const { baton, logger } = deps;
  // Per surface: another surface's delivery (or refusal) does not settle Teams' own post.
  if (baton.deliveries.notificationDoneOn(n, SURFACE)) return;
  if (!(await deps.users.teamsIdentity(n.to))) return; // left to other surfaces
  const target = await personalConversation(deps, n.to);
  if ('reason' in target) {
    logger.info(
      { notification: n._id, user: n.to, reason: target.reason },
      'teams: notification not delivered',
    );
    // Teams could not open the chat this time: the next redelivery asks again.
    if (target.passing) await baton.deliveries.notificationOwed(n._id, SURFACE);
    return;
  }
  const claim = postingClaim(deps, `teams:notification:${n._id}`);
  if (!(await baton.deliveries.claimOnce(claim, POSTING_CLAIM_MS))) return;
  try {
    const card = await renderNotificationCard(deps, n);
    const activityId = await deps.queue.call(() =>
      deps.connector.send(target.reach.serviceUrl, target.conversationId, {
        type: 'message',
        summary: summaryText(forTeams(n.text ?? 'Update from Baton')),
        attachments: [attachment(card)],
      }),
    );
    await baton.deliveries.notificationDelivered(n._id, {
      surface: SURFACE,
      user: n.to,
      ref: { serviceUrl: target.reach.serviceUrl, conversation: target.conversationId, activity: activityId },
    });
  } catch (err) {
    if (!refusedForGood(err)) {
      // Teams or the network had a hiccup (no answer, 429 or a 5xx after the connector's own
      // retries, a refused token): the notification stays pending and the next redelivery
      // (every few minutes) posts it.
      logger.warn(
        { notification: n._id, user: n.to, error: errorText(err) },
        'teams: notification not delivered yet; it is tried again at the next redelivery',
      );
      if (!(err instanceof ConnectorError && err.ambiguous))
        await baton.deliveries.releaseClaim(claim).catch(() => undefined);
      await baton.deliveries.notificationOwed(n._id, SURFACE);
      return;
    }
    logger.warn(
      { notification: n._id, user: n.to, error: errorText(err) },
      'teams: notification not delivered',
    );
    await afterRefusal(deps, n.to, err);
    await baton.deliveries.notificationUndeliverable(n._id, SURFACE, await refusalText(deps, n.to, err));
  }
}

/** Posts and updates Teams copies of tasks and notifications as the core reports changes. Returns a stop function. */
export function startTaskDelivery(deps: TeamsDeps): () => void {
  const { baton, logger, queue } = deps;
  const fail = (what: string, id: string) => (err: unknown) =>
    logger.error({ id, error: errorText(err) }, `teams: ${what} failed`);
  const onOpened = (task: TaskDoc) => {
    deps.track(
      queue
        .serial(`task:${task._id}`, () => postToAssignees(deps, task))
        .catch(fail('posting a task', task._id)),
    );
  };
  const onChanged = (task: TaskDoc) => {
    deps.track(
      queue
        .serial(`task:${task._id}`, () => syncCopies(deps, task._id))
        .catch(fail('updating a task', task._id)),
    );
  };
  const onNotification = (n: NotificationDoc) => {
    deps.track(
      queue
        .serial(`notification:${n._id}`, () => deliverNotification(deps, n))
        .catch(fail('a notification', n._id)),
    );
  };
  const onUndelivered = (task: TaskDoc, surfaces: string[]) => {
    if (surfaces.includes(SURFACE)) onOpened(task);
  };
  const onOutdated = (task: TaskDoc, surfaces: string[]) => {
    if (surfaces.includes(SURFACE)) onChanged(task);
  };
  // Someone who joins a group gets a copy of each task the group has open, like its members did.
  const onGroupChanged = ({ name, added }: { name: string; added?: string }) => {
    if (!added) return;
    deps.track(
      (async () => {
        for (const task of await baton.tasks.listOpenForGroup(name))
          await queue.serial(`task:${task._id}`, () => postToAssignees(deps, task, added));
      })().catch(fail('posting tasks to a new group member', name)),
    );
  };
  const unregister = baton.registerDeliverySurface(SURFACE);
  baton.events.on('task.undelivered', onUndelivered);
  baton.events.on('task.outdated', onOutdated);
  baton.events.on('task.opened', onOpened);
  baton.events.on('task.closed', onChanged);
  baton.events.on('task.reassigned', onChanged);
  // A member answered a task with a quorum: every copy shows where it stands.
  baton.events.on('task.responded', onChanged);
  baton.events.on('notification', onNotification);
  baton.events.on('group.changed', onGroupChanged);
  return () => {
    unregister();
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
// Inbound: Action.Execute on task cards

/** The message someone gets when their click lost: who closed the task, and when. */
export function closedText(err: TaskClosedError): string {
  const t = err.task;
  const when = t.completed_at
    ? ` on ${new Date(t.completed_at).toISOString().slice(0, 16).replace('T', ' ')} UTC`
    : '';
  if (t.status === 'completed')
    return `Already ${outcomePhrase(t.outcome ?? 'completed')} by ${t.completed_by_name ?? 'someone'}${when}.`;
  if (t.status === 'expired') return `This task expired${when}.`;
  if (t.status === 'cancelled')
    return `This task was cancelled${t.completed_by_name ? ` by ${t.completed_by_name}` : ''}${when}.`;
  return 'This task is no longer open.';
}

function stringData(data: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** Whether `actor` may see a task's details: they may see its request, or were sent a copy of it. */
async function mayView(deps: TeamsDeps, actor: User, task: TaskDoc): Promise<boolean> {
  const request = await deps.baton.requests.load(task.request_id);
  if (request && (await deps.baton.requests.canSee(actor, request))) return true;
  const copies = await deps.baton.deliveries.taskDeliveries(task._id, SURFACE);
  return copies.some((c) => c.user === actor._id);
}

/**
 * `task.complete` (a button) and `task.refresh` (Teams asking for a viewer's view): the
 * card to answer the invoke with. Completion goes through the core (authorization,
 * compare-and-set); the other copies are updated by the task.closed listener, after the answer.
 */
export async function handleTaskAction(
  deps: TeamsDeps,
  actor: User,
  verb: string,
  data: Record<string, unknown>,
): Promise<AdaptiveCardJson> {
  const { baton, logger } = deps;
  const taskId = typeof data.task_id === 'string' ? data.task_id : '';
  if (!taskId)
    return messageCard('This card is missing its task: it may come from an older version of Baton.');
  const task = await baton.tasks.load(taskId).catch(() => null);
  if (!task) return messageCard('This task no longer exists.');
  // Someone who may not see the request and never had a copy of this task (a forged or
  // forwarded action) learns nothing of it beyond the core's refusal.
  const viewer = await mayView(deps, actor, task);
  const refreshUserIds = await refreshIds(deps, task);
  if (verb !== 'task.complete') {
    if (!viewer) return messageCard(`You can't see ${task.request_id}.`, undefined, 'Attention');
    // A member who already answered a task with a quorum sees where it stands, no buttons.
    const canAct = await baton.tasks.canAnswer(actor, task);
    return renderTaskCard(deps, task, await personalView(deps, task, actor._id, canAct, refreshUserIds));
  }
  const outcome = typeof data.outcome === 'string' ? data.outcome : '';
  const values = stringData(data);
  const inputs: Record<string, string> = {};
  for (const input of task.inputs) if (values[input.id] !== undefined) inputs[input.id] = values[input.id]!;
  const hasCommentInput = task.inputs.some((i) => i.id === 'comment');
  try {
    const done = await baton.tasks.complete(actor, taskId, outcome, {
      comment: hasCommentInput ? undefined : values.comment,
      inputs,
    });
    // A response to a group task with a quorum leaves it open: say what was recorded.
    if (done.status === 'open')
      return renderTaskCard(deps, done, await personalView(deps, done, actor._id, false, refreshUserIds));
    return renderTaskCard(deps, done, { actionable: false });
  } catch (err) {
    if (!viewer) {
      const text =
        err instanceof TaskClosedError
          ? closedText(err)
          : isBatonError(err)
            ? err.message
            : 'Something went wrong on our side; please try again in a moment.';
      return messageCard(text, undefined, 'Attention');
    }
    const fresh = (await baton.tasks.load(taskId).catch(() => null)) ?? task;
    if (err instanceof TaskClosedError) {
      // The same person's same click again (Teams retries an invoke it got no answer for in
      // time, or a double click): answer as the first one did.
      const t = err.task;
      if (t.status === 'completed' && t.completed_by === actor._id && t.outcome === outcome)
        return renderTaskCard(deps, fresh, { actionable: false });
      return renderTaskCard(deps, fresh, { actionable: false, notice: closedText(err) });
    }
    const mine = fresh.status === 'open' ? fresh.responses.find((r) => r.by === actor._id) : undefined;
    if (mine) {
      // This member answered already (Teams retrying the invoke, a double click, another
      // device): the same answer is told as the first click was; another one is refused.
      const view = await personalView(deps, fresh, actor._id, false, refreshUserIds);
      return renderTaskCard(
        deps,
        fresh,
        mine.outcome === outcome ? view : { actionable: false, refreshUserIds, notice: errorText(err) },
      );
    }
    if (err instanceof ValidationError) {
      const errors = Object.keys(err.fields).length > 0 ? { ...err.fields } : { _: err.message };
      return renderTaskCard(deps, fresh, { actionable: true, refreshUserIds, values, errors });
    }
    if (err instanceof ForbiddenError || err instanceof NotFoundError || isBatonError(err)) {
      return renderTaskCard(deps, fresh, { actionable: false, refreshUserIds, notice: err.message });
    }
    logger.error({ task: taskId, error: errorText(err) }, 'teams: task action failed');
    return renderTaskCard(deps, fresh, {
      actionable: true,
      refreshUserIds,
      values,
      notice: 'Something went wrong on our side; please try again in a moment.',
    });
  }
}

/**
 * A task's card posted in answer to `tasks` (`ref`: where): recorded beside the task's own
 * copies, so it is updated with them. A task that closed while it was being posted is shown
 * closed at once (its copies were updated before this one was recorded).
 */
export async function listedCopyPosted(
  deps: TeamsDeps,
  taskId: string,
  userId: string,
  ref: { serviceUrl: string; conversation: string; activity: string },
): Promise<void> {
  await deps.baton.deliveries.recordListedCopy(taskId, { surface: SURFACE, user: userId, ref: { ...ref } });
  const fresh = await deps.baton.tasks.load(taskId);
  if (fresh && fresh.status !== 'open')
    await deps.queue.serial(`task:${taskId}`, () => syncCopies(deps, taskId));
}

/** A task card as a message for `actor` (the `tasks` command): actionable when they may act. */
export async function taskCardActivity(
  deps: TeamsDeps,
  task: TaskDoc,
  actor: User,
): Promise<{ type: 'message'; attachments: ReturnType<typeof attachment>[] }> {
  const canAct = await deps.baton.tasks.canAnswer(actor, task);
  const card = await renderTaskCard(
    deps,
    task,
    await personalView(deps, task, actor._id, canAct, await refreshIds(deps, task)),
  );
  return { type: 'message', attachments: [attachment(card)] };
}
