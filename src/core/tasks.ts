import { type Filter, isDuplicateKeyError } from '../store/port.js';
import { assertSafeId, assertSafeValue } from '../store/safe.js';
import type { CoreContext } from './context.js';
import { DeliveryService } from './deliveries.js';
import { ForbiddenError, NotFoundError, TaskClosedError, ValidationError } from './errors.js';
import type { GroupService } from './groups.js';
import { eventStamp } from './ids.js';
import type { RequestService } from './requests.js';
import {
  type Assignee,
  type HistoryEvent,
  MAX_COMMENT_LENGTH,
  type TaskDoc,
  type TaskFields,
  type TaskResponse,
  type User,
} from './types.js';
import { isAdmin, type UserService } from './users.js';

/** One task's expiry timer (what earlier versions scheduled; still run if found). */
export const EXPIRE_JOB = 'baton.task.expire';
/** The expiry timer of every task due in one bucket of time: it expires the open tasks due by then. */
export const EXPIRE_DUE_JOB = 'baton.tasks.expire-due';
/** Width of an expiry bucket: a task expires at most this much after its deadline (plus the work). */
export const EXPIRY_BUCKET_MS = 250;
/** Tasks one sweep of a bucket expires at once. */
const EXPIRE_CONCURRENCY = 20;
/**
 * How long a click acknowledged before a task's deadline (held by a surface, see
 * `DeliveryService.holdAction`) holds the task's expiry back while it is carried out: since it
 * was last claimed, or since this process started (a click held by a process that died is
 * carried out by the next start). Past that, the expiry goes ahead.
 */
const HELD_CLICK_GRACE_MS = 2 * 60_000;
/** How soon the expiry of a task held back by a click is tried again. */
const HELD_CLICK_RETRY_MS = 1000;

/** Receives tasks that closed, so the waiting job resumes; set by the engine. */
export interface TaskCloseSink {
  taskClosed(task: TaskDoc): Promise<void>;
}

export type NewTask = Omit<
  TaskFields,
  'status' | 'responses' | 'created_at' | 'updated_at' | 'assignee_key' | 'pending_resume'
>;

export interface CompleteOptions {
  comment?: string | undefined;
  inputs?: Record<string, string> | undefined;
}

const PAST_TENSE: Record<string, string> = {
  approve: 'approved',
  reject: 'rejected',
  deny: 'denied',
  decline: 'declined',
  accept: 'accepted',
  grant: 'granted',
  complete: 'completed',
  completed: 'completed',
  done: 'done',
  escalate: 'escalated',
  forward: 'forwarded',
  acknowledge: 'acknowledged',
  confirm: 'confirmed',
  cancel: 'cancelled',
  close: 'closed',
  return: 'returned',
  reopen: 'reopened',
  assign: 'assigned',
  hold: 'put on hold',
  defer: 'deferred',
};

/** "Alice", "Alice and Bob", "Alice, Bob and Carol"; past `max` names, "and 3 others". */
export function listOf(names: string[], last: 'and' | 'or', max = 5): string {
  if (names.length > max) {
    const more = names.length - (max - 1);
    return `${names.slice(0, max - 1).join(', ')} ${last} ${more} others`;
  }
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} ${last} ${names.at(-1)}`;
}

/**
 * "approved" for Approve, "escalated" for Escalate...; an outcome that is not a known verb
 * reads as an answer: `answered "Needs info"` ("Already answered "Needs info" by Ada").
 */
export function outcomePhrase(outcome: string): string {
  return PAST_TENSE[outcome.trim().toLowerCase()] ?? `answered "${outcome}"`;
}

/**
 * What someone did to a task, for its history: `approved "Leave"`, `marked "Close ticket" done`,
 * `put "Order" on hold`, `answered "Needs info" on "Triage"` (a label that is not a verb).
 */
function outcomeOn(outcome: string, title: string): string {
  const key = outcome.trim().toLowerCase();
  const quoted = `"${title}"`;
  // Labels that are not verbs in the past tense before a title ("done "Close ticket"").
  if (key === 'done') return `marked ${quoted} done`;
  if (key === 'hold') return `put ${quoted} on hold`;
  const known = PAST_TENSE[key];
  return known ? `${known} ${quoted}` : `answered "${outcome}" on ${quoted}`;
}

/** A time for a sentence people read: `2026-11-25 14:05 UTC`. */
export function readableTime(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A task's expiry at the end of its "assigned" history line, as `readableTime` writes it. */
const EXPIRES_TEXT = /, expires (\d{4}-\d\d-\d\d \d\d:\d\d) UTC$/;

/**
 * A task_assigned history line's "…, expires 2026-12-08 10:19 UTC" split for surfaces that show
 * times in the reader's zone: the text before ", expires" and the expiry as a time (kept beside
 * the text in `data.expires_at`; entries written before it was kept read it from the text). Null
 * when the line says no expiry. `text` is the line as shown (the entry's own text by default).
 */
export function historyExpiry(e: HistoryEvent, text = e.text): { before: string; at: Date } | null {
  const m = e.type === 'task_assigned' ? EXPIRES_TEXT.exec(text) : null;
  if (!m) return null;
  const kept = e.data?.expires_at;
  const at =
    kept instanceof Date || typeof kept === 'string'
      ? new Date(kept)
      : new Date(`${m[1]!.replace(' ', 'T')}:00Z`);
  if (Number.isNaN(at.getTime())) return null;
  return { before: text.slice(0, m.index), at };
}

export function assigneeKey(a: Assignee): string {
  return a.type === 'user' ? `user:${a.id}` : `group:${a.name}`;
}

export class TaskService {
  sink: TaskCloseSink | undefined;

  constructor(
    private readonly ctx: CoreContext,
    private readonly users: UserService,
    private readonly groups: GroupService,
    private readonly requests: RequestService,
  ) {
    this.startedAt = ctx.now().getTime();
    this.deliveries = new DeliveryService(ctx);
  }

  /** Where surfaces hold the clicks they acknowledged before carrying them out. */
  private readonly deliveries: DeliveryService;

  /** When this process started (a click held before that was held by a process that died). */
  private readonly startedAt: number;

  /**
   * Expiry buckets this process has scheduled (by their time), each with its scheduling while
   * that is under way: a task due in one needs no write, and tasks opened together (many in
   * flight) wait for the one scheduling of their bucket instead of each scheduling it again.
   */
  private readonly expiryBuckets = new Map<number, Promise<void> | true>();

  /**
   * Makes sure the expiry timer of the bucket `at` falls in is scheduled. One timer serves
   * every task due in its bucket (one Agenda job per task cost an insert, a delete and three
   * look-ups per task); the task document and that job remain the whole state.
   */
  private async scheduleExpiry(at: Date): Promise<void> {
    const bucket = Math.ceil(at.getTime() / EXPIRY_BUCKET_MS) * EXPIRY_BUCKET_MS;
    const now = Date.now();
    const known = this.expiryBuckets.get(bucket);
    // Being scheduled: that scheduling serves this task too.
    if (known instanceof Promise) return known;
    // Known and still well ahead: already scheduled. A bucket due soon or past is scheduled
    // again (its timer may have run already); scheduling a key again replaces it.
    if (known && bucket > now + 1000) return;
    const scheduling = this.ctx.scheduler
      .scheduleAt(EXPIRE_DUE_JOB, new Date(bucket), { until: bucket }, `expire-due:${bucket}`)
      .then(
        () => {
          this.expiryBuckets.set(bucket, true);
        },
        (err: unknown) => {
          this.expiryBuckets.delete(bucket);
          throw err;
        },
      );
    this.expiryBuckets.set(bucket, scheduling);
    if (this.expiryBuckets.size > 10_000) {
      for (const [b, state] of this.expiryBuckets)
        if (b <= now && state === true) this.expiryBuckets.delete(b);
    }
    return scheduling;
  }

  /**
   * The timer of an expiry bucket (scheduler): expires every open task due by `until` (or by
   * now, if it fired early), a few at a time. Returns how many it expired.
   */
  async expireDue(until: number): Promise<number> {
    const now = this.ctx.now();
    const limit = new Date(Math.min(until, now.getTime()));
    const seen = new Set<string>();
    let expired = 0;
    for (;;) {
      const due = (
        await this.ctx.db.tasks
          .find({ status: 'open', expires_at: { $lte: limit } }, { sort: { expires_at: 1 }, limit: 200 })
          .toArray()
      ).filter((t) => !seen.has(t._id));
      if (due.length === 0) break;
      for (let i = 0; i < due.length; i += EXPIRE_CONCURRENCY) {
        const results = await Promise.all(
          due.slice(i, i + EXPIRE_CONCURRENCY).map((t) => {
            seen.add(t._id);
            return this.expire(t._id).catch((err: unknown) => {
              this.ctx.logger.error({ task: t._id, err }, 'task expiry failed');
              return null;
            });
          }),
        );
        expired += results.filter((r) => r !== null).length;
      }
    }
    // Fired early (clock skew between instances): come back at the bucket's time.
    if (until > now.getTime()) await this.scheduleExpiry(new Date(until));
    return expired;
  }

  /**
   * Opens a task (idempotent per `spec._id`: a retry after a crash finds the same task).
   * Records `task_assigned` on the request and schedules the expiry.
   */
  async open(spec: NewTask, by: string): Promise<{ task: TaskDoc; created: boolean }> {
    const now = this.ctx.now();
    const task: TaskDoc = {
      ...spec,
      assignee_key: assigneeKey(spec.assignee),
      status: 'open',
      responses: [],
      created_at: now,
      updated_at: now,
    };
    let created = true;
    try {
      await this.ctx.db.tasks.insertOne(task);
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      created = false;
    }
    const stored = created ? task : ((await this.ctx.db.tasks.findOne({ _id: spec._id })) ?? task);
    const who = await this.describeAssignee(stored.assignee);
    await this.requests.appendHistory(stored.request_id, {
      id: `${stored._id}:assigned`,
      type: 'task_assigned',
      at: now,
      by,
      text: `Task "${stored.title}" assigned to ${who}${stored.expires_at ? `, expires ${readableTime(stored.expires_at)}` : ''}`,
      data: {
        task_id: stored._id,
        assignee: stored.assignee_key,
        outcomes: stored.outcomes.map((o) => o.label),
        // The text's "expires … UTC" as a time, for surfaces that show times in the reader's zone.
        ...(stored.expires_at ? { expires_at: stored.expires_at } : {}),
      },
    });
    if (stored.status === 'open' && stored.expires_at) await this.scheduleExpiry(stored.expires_at);
    if (created) this.ctx.events.emit('task.opened', stored);
    return { task: stored, created };
  }

  async load(id: string): Promise<TaskDoc | null> {
    assertSafeId(id, 'task id');
    return this.ctx.db.tasks.findOne({ _id: id });
  }

  async get(actor: User, id: string): Promise<TaskDoc> {
    const task = await this.load(id);
    if (!task) throw new NotFoundError(`No task ${id}.`);
    if ((await this.actingAs(actor, task)) === null) {
      const request = await this.requests.load(task.request_id);
      if (!request || !(await this.requests.canSee(actor, request)))
        throw new ForbiddenError("You can't see that task.");
    }
    return task;
  }

  /** How the actor may act on the task: as its assignee, a member of its group, an admin; or null. */
  async actingAs(actor: User, task: TaskDoc): Promise<TaskResponse['as'] | null> {
    if (task.assignee.type === 'user' && task.assignee.id === actor._id) return 'assignee';
    if (task.assignee.type === 'group' && (await this.groups.isMember(task.assignee.name, actor._id))) {
      return 'group_member';
    }
    if (isAdmin(actor)) return 'admin';
    return null;
  }

  /**
   * Whether the actor may answer the task now: it is open, they may act on it, and they have
   * not answered it already (a member of a group task with a quorum answers once). Surfaces
   * show the buttons only then.
   */
  async canAnswer(actor: User, task: TaskDoc): Promise<boolean> {
    if (task.status !== 'open') return false;
    const as = await this.actingAs(actor, task);
    if (as === null) return false;
    return as === 'admin' || !task.responses.some((r) => r.by === actor._id);
  }

  /**
   * The open tasks waiting for a person (theirs and their groups'), oldest first. `after` (the
   * last task of the previous page: its created_at and id) gives the next page.
   */
  async listOpenFor(
    actor: User,
    options: { limit?: number; after?: { at: Date; id: string } } = {},
  ): Promise<TaskDoc[]> {
    const keys = await this.openKeys(actor);
    const limit = options.limit ?? 100;
    const after = options.after
      ? {
          $or: [
            { created_at: { $gt: options.after.at } },
            { created_at: options.after.at, _id: { $gt: options.after.id } },
          ],
        }
      : {};
    // One indexed, ordered query per key ({assignee_key, status, created_at}), merged here:
    // an $in over several keys would make the store sort every open task of all of them.
    const lists = await Promise.all(
      keys.map((key) =>
        this.ctx.db.tasks
          .find({ ...this.openFilter(actor, key), ...after }, { sort: { created_at: 1, _id: 1 }, limit })
          .toArray(),
      ),
    );
    return lists
      .flat()
      .sort((a, b) => a.created_at.getTime() - b.created_at.getTime() || (a._id < b._id ? -1 : 1))
      .slice(0, limit);
  }

  /** How many open tasks wait for a person: what listOpenFor would list without a limit. */
  async countOpenFor(actor: User): Promise<number> {
    const keys = await this.openKeys(actor);
    const counts = await Promise.all(
      keys.map((key) => this.ctx.db.tasks.countDocuments(this.openFilter(actor, key))),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  private async openKeys(actor: User): Promise<string[]> {
    const groups = await this.ctx.db.groups.find({ members: actor._id }).toArray();
    return [`user:${actor._id}`, ...groups.map((g) => `group:${g.name}`)];
  }

  /**
   * A group task with a quorum the actor has answered already waits on the others, not on
   * them: left out by the query, before the limit (left out after it, the list came up short).
   */
  private openFilter(actor: User, key: string): Filter {
    return key.startsWith('group:')
      ? { assignee_key: key, status: 'open', 'responses.by': { $ne: actor._id } }
      : { assignee_key: key, status: 'open' };
  }

  /** The open tasks of a group (oldest first), e.g. to give someone who just joined it their copies. */
  async listOpenForGroup(name: string, options: { limit?: number } = {}): Promise<TaskDoc[]> {
    return this.ctx.db.tasks
      .find(
        { assignee_key: `group:${String(name)}`, status: 'open' },
        { sort: { created_at: 1 }, limit: options.limit ?? 500 },
      )
      .toArray();
  }

  async listForRequest(requestId: string): Promise<TaskDoc[]> {
    return this.ctx.db.tasks.find({ request_id: requestId }, { sort: { created_at: 1 } }).toArray();
  }

  /**
   * Completes an open task with one of its outcomes. A compare-and-set on `status: open`:
   * of a double click, two approvers at once, or a click racing the expiry, exactly one wins;
   * the others get TaskClosedError saying who won and when.
   */
  async complete(
    actor: User,
    taskId: string,
    outcome: string,
    options: CompleteOptions = {},
  ): Promise<TaskDoc> {
    const task = await this.load(taskId);
    if (!task) throw new NotFoundError(`No task ${taskId}.`);
    const as = await this.actingAs(actor, task);
    if (as === null) {
      throw new ForbiddenError(
        `You can't act on "${task.title}": it is assigned to ${await this.describeAssignee(task.assignee)}.`,
      );
    }
    if (task.status !== 'open') throw await this.closedError(task);
    const chosen = task.outcomes.find((o) => o.label === outcome);
    if (!chosen) {
      throw new ValidationError(
        `"${outcome}" is not an outcome of this task. Choose one of: ${task.outcomes.map((o) => o.label).join(', ')}.`,
      );
    }
    const comment = typeof options.comment === 'string' ? options.comment.trim() : '';
    const inputs: Record<string, string> = {};
    const fieldErrors: Record<string, string> = {};
    if (options.inputs !== undefined) assertSafeValue(options.inputs, 'inputs');
    for (const input of task.inputs) {
      const raw = options.inputs?.[input.id];
      const value = typeof raw === 'string' ? raw.trim() : '';
      if (value.length > MAX_COMMENT_LENGTH)
        fieldErrors[input.id] = `${input.label} must be at most ${MAX_COMMENT_LENGTH} characters`;
      else if (value !== '') inputs[input.id] = value;
      else if (input.required_for.includes(outcome))
        fieldErrors[input.id] = `${input.label} is required to ${outcome}`;
    }
    if (chosen.comment === 'required' && comment === '' && inputs.comment === undefined) {
      fieldErrors.comment = `A comment is required to ${outcome}`;
    }
    if (comment.length > MAX_COMMENT_LENGTH)
      fieldErrors.comment = `A comment must be at most ${MAX_COMMENT_LENGTH} characters`;
    if (Object.keys(fieldErrors).length > 0) {
      throw new ValidationError(Object.values(fieldErrors).join('; '), fieldErrors);
    }
    const now = this.ctx.now();
    const finalComment = comment !== '' ? comment : inputs.comment;
    const response: TaskResponse = { by: actor._id, outcome, at: now, as };
    if (finalComment !== undefined) response.comment = finalComment;
    if (Object.keys(inputs).length > 0) response.inputs = inputs;
    const set: Record<string, unknown> = {
      status: 'completed',
      outcome,
      completed_by: actor._id,
      completed_as: as,
      completed_at: now,
      updated_at: now,
      pending_resume: true,
    };
    if (finalComment !== undefined) set.comment = finalComment;
    if (Object.keys(inputs).length > 0) set.inputs_values = inputs;
    if (task.quorum.mode !== 'any' && task.assignee.type === 'group' && as !== 'admin') {
      return this.respond(task, actor, response, set);
    }
    // Also on the assignee the permission was checked against (unless an admin acts): a
    // reassignment landing in between leaves the former assignee nothing to decide.
    const updated = await this.ctx.db.tasks.findOneAndUpdate(
      as === 'admin'
        ? { _id: task._id, status: 'open' }
        : { _id: task._id, status: 'open', assignee_key: task.assignee_key },
      { $set: set, $push: { responses: response } },
      { returnDocument: 'after' },
    );
    if (!updated) {
      const now2 = (await this.load(task._id)) ?? task;
      if (now2.status === 'open') throw await this.movedError(now2);
      throw await this.closedError(now2);
    }
    this.ctx.logger.info({ task: task._id, outcome, by: actor._id, as }, 'task completed');
    await this.finishClose(updated);
    return updated;
  }

  /**
   * A member's response to a group task with a quorum (`all` members, or `count` of them): it
   * is recorded, and decides the task once that many members chose one outcome, or once no
   * outcome can get there any more (with `all`, the first dissent decides). Each member
   * answers once. Every write is a compare-and-set on the responses so far, so members
   * answering at once are counted one by one and exactly one of them decides.
   */
  private async respond(
    task: TaskDoc,
    actor: User,
    response: TaskResponse,
    decide: Record<string, unknown>,
  ): Promise<TaskDoc> {
    let current = task;
    for (let attempt = 0; ; attempt++) {
      if (current.status !== 'open') throw await this.closedError(current);
      const earlier = current.responses.find((r) => r.by === actor._id);
      if (earlier) {
        throw new ValidationError(
          `You already answered ${earlier.outcome} on "${current.title}"; ${await this.waitingFor(current)}.`,
        );
      }
      const responses = [...current.responses, response];
      const { required, outcome } = await this.tally(current, responses);
      const filter = {
        _id: current._id,
        status: 'open',
        assignee_key: current.assignee_key,
        responses: { $size: current.responses.length },
      };
      if (outcome !== undefined) {
        const updated = await this.ctx.db.tasks.findOneAndUpdate(
          filter,
          { $set: { ...decide, outcome }, $push: { responses: response } },
          { returnDocument: 'after' },
        );
        if (updated) {
          this.ctx.logger.info(
            { task: current._id, outcome, by: actor._id, responses: responses.length },
            'task completed (quorum)',
          );
          await this.finishClose(updated);
          return updated;
        }
      } else {
        const updated = await this.ctx.db.tasks.findOneAndUpdate(
          filter,
          { $set: { updated_at: response.at }, $push: { responses: response } },
          { returnDocument: 'after' },
        );
        if (updated) {
          const votes = responses.filter((r) => r.outcome === response.outcome).length;
          // What the member typed into the task's inputs, as a deciding answer's entry shows it.
          const typed = current.inputs
            .filter((i) => i.id !== 'comment' && response.inputs?.[i.id] !== undefined)
            .map((i) => `${i.label}: ${response.inputs![i.id]}; `)
            .join('');
          await this.requests.appendHistory(current.request_id, {
            id: `${current._id}:response:${actor._id}`,
            type: 'task_response',
            at: response.at,
            by: actor._id,
            text: `${actor.name} ${outcomeOn(response.outcome, current.title)}${
              response.comment ? `: ${response.comment}` : ''
            } (${typed}${votes} of ${required} needed)`,
            data: {
              task_id: current._id,
              outcome: response.outcome,
              comment: response.comment ?? null,
              inputs: response.inputs ?? null,
              votes,
              required,
            },
          });
          this.ctx.events.emit('task.responded', updated);
          return updated;
        }
      }
      // Someone else answered at the same moment: count again with their response.
      const fresh = await this.load(current._id);
      if (!fresh || attempt >= 20) throw await this.closedError(fresh ?? current);
      // Or it was reassigned meanwhile: the answer was given to the former assignee's task.
      if (fresh.status === 'open' && fresh.assignee_key !== current.assignee_key)
        throw await this.movedError(fresh);
      current = fresh;
    }
  }

  /** How many members must choose one outcome, and the outcome the responses decide (if any yet). */
  private async tally(
    task: TaskDoc,
    responses: TaskResponse[],
  ): Promise<{ required: number; best: number; outcome: string | undefined }> {
    const group = task.assignee.type === 'group' ? await this.groups.find(task.assignee.name) : null;
    const members = group?.members ?? [];
    const size = Math.max(1, members.length);
    const required = task.quorum.mode === 'count' ? Math.min(task.quorum.count ?? 1, size) : size;
    const votes = new Map<string, number>();
    for (const r of countedResponses(responses, members))
      votes.set(r.outcome, (votes.get(r.outcome) ?? 0) + 1);
    // The most votes any of the task's outcomes has.
    const best = Math.max(0, ...task.outcomes.map((o) => votes.get(o.label) ?? 0));
    for (const [outcome, n] of votes) if (n >= required) return { required, best, outcome };
    const answered = new Set(responses.map((r) => r.by));
    const remaining = members.filter((m) => !answered.has(m)).length;
    const reachable = task.outcomes.some((o) => (votes.get(o.label) ?? 0) + remaining >= required);
    // No outcome can reach the quorum any more: the response that made it so decides.
    return { required, best, outcome: reachable ? undefined : responses.at(-1)?.outcome };
  }

  /** "the task waits for 2 more responses" (what a group task with a quorum still needs). */
  async waitingFor(task: TaskDoc): Promise<string> {
    const { required, best } = await this.tally(task, task.responses);
    const more = Math.max(1, required - best);
    return `the task waits for ${more} more response${more === 1 ? '' : 's'}`;
  }

  /**
   * Whether someone answered the task before its deadline and a surface acknowledged the
   * answer but has not carried it out yet (a Slack click waiting behind others, on a slow
   * Slack API, or held by a process that died): that answer decides the task, not the timer.
   */
  private async answerHeldBeforeDeadline(taskId: string, now: Date): Promise<boolean> {
    // Held clicks are few: look there first.
    const held = await this.deliveries.heldForTask(taskId);
    if (held.length === 0) return false;
    const task = await this.load(taskId);
    const deadline = task?.status === 'open' ? task.expires_at : undefined;
    if (!deadline || deadline > now) return false;
    const since = now.getTime() - HELD_CLICK_GRACE_MS;
    return held.some(
      (h) =>
        h.created_at <= deadline &&
        (this.startedAt > since || (h.claimed_at ?? h.created_at).getTime() > since),
    );
  }

  /** Expires a task whose deadline has passed (scheduler). A no-op if it closed first. */
  async expire(taskId: string): Promise<TaskDoc | null> {
    const now = this.ctx.now();
    if (await this.answerHeldBeforeDeadline(taskId, now)) {
      this.ctx.logger.info(
        { task: taskId },
        'task expiry held back: an answer from before its deadline is being carried out',
      );
      await this.scheduleExpiry(new Date(now.getTime() + HELD_CLICK_RETRY_MS));
      return null;
    }
    const updated = await this.ctx.db.tasks.findOneAndUpdate(
      { _id: taskId, status: 'open', expires_at: { $lte: now } },
      { $set: { status: 'expired', completed_at: now, updated_at: now, pending_resume: true } },
      { returnDocument: 'after' },
    );
    if (!updated) {
      const task = await this.load(taskId);
      // Fired early (clock skew between instances): schedule again for the real deadline.
      if (task?.status === 'open' && task.expires_at && task.expires_at > now) {
        await this.scheduleExpiry(task.expires_at);
      }
      return null;
    }
    this.ctx.logger.info({ task: taskId }, 'task expired');
    await this.finishClose(updated);
    return updated;
  }

  /** Cancels an open task: admins, or the recipe (`by` = `recipe:<name>`). */
  async cancel(actor: User | string, taskId: string, reason?: string): Promise<TaskDoc> {
    const task = await this.load(taskId);
    if (!task) throw new NotFoundError(`No task ${taskId}.`);
    if (typeof actor !== 'string' && !isAdmin(actor))
      throw new ForbiddenError('Only admins can cancel tasks.');
    if (task.status !== 'open') throw await this.closedError(task);
    const now = this.ctx.now();
    const by = typeof actor === 'string' ? actor : actor._id;
    const updated = await this.ctx.db.tasks.findOneAndUpdate(
      { _id: taskId, status: 'open' },
      {
        $set: {
          status: 'cancelled',
          completed_by: by,
          completed_at: now,
          updated_at: now,
          pending_resume: true,
          comment: reason,
        },
      },
      { returnDocument: 'after' },
    );
    if (!updated) throw await this.closedError((await this.load(taskId)) ?? task);
    await this.finishClose(updated);
    return updated;
  }

  /** Hands an open task to another user or group: its assignee (or a member of its group) or an admin. */
  async reassign(actor: User, taskId: string, to: string): Promise<TaskDoc> {
    const task = await this.load(taskId);
    if (!task) throw new NotFoundError(`No task ${taskId}.`);
    const as = await this.actingAs(actor, task);
    if (as === null) throw new ForbiddenError('Only the assignee or an admin can reassign this task.');
    if (task.status !== 'open') throw await this.closedError(task);
    const assignee = await this.resolveAssignee(to);
    if (assignee.type === 'group' && ((await this.groups.find(assignee.name))?.members.length ?? 0) === 0) {
      throw new ValidationError(
        `Group ${assignee.name} has no members: nobody could act on "${task.title}". Add someone to it first, or choose someone else.`,
        { to: `Group ${assignee.name} has no members` },
      );
    }
    if (assigneeKey(assignee) === task.assignee_key) {
      throw new ValidationError(
        `"${task.title}" is already assigned to ${await this.describeAssignee(assignee)}.`,
        { to: 'Choose someone else' },
      );
    }
    const now = this.ctx.now();
    const updated = await this.ctx.db.tasks.findOneAndUpdate(
      { _id: taskId, status: 'open' },
      {
        $set: {
          assignee,
          assignee_key: assigneeKey(assignee),
          updated_at: now,
          delegated_from: task.assignee_key,
        },
        // New assignees: until the surfaces have handed them their copies, redelivery retries.
        $unset: { copies_complete: '' },
      },
      { returnDocument: 'after' },
    );
    if (!updated) throw await this.closedError((await this.load(taskId)) ?? task);
    const from = await this.describeAssignee(task.assignee);
    const toText = await this.describeAssignee(assignee);
    await this.requests.appendHistory(task.request_id, {
      id: `${taskId}:reassigned:${eventStamp(now)}`,
      type: 'task_reassigned',
      at: now,
      by: actor._id,
      text: `${actor.name} reassigned "${task.title}" from ${from} to ${toText}`,
      data: { task_id: taskId, from: task.assignee_key, to: assigneeKey(assignee) },
    });
    this.ctx.events.emit('task.reassigned', updated);
    return updated;
  }

  /** `group:<name>`, a Baton user id, an email or `provider:id` → an assignee that exists. */
  async resolveAssignee(ref: string): Promise<Assignee> {
    if (typeof ref !== 'string' || ref.trim() === '')
      throw new ValidationError('A task needs someone to assign it to.');
    const value = ref.trim();
    if (value.startsWith('group:')) {
      const name = value.slice('group:'.length);
      const group = await this.groups.find(name);
      if (!group) throw new ValidationError(`No group named "${name}".`);
      return { type: 'group', name: group.name };
    }
    const user = await this.users.lookup(value);
    if (!user) throw new ValidationError(`No person "${value}" is known to Baton.`);
    return { type: 'user', id: user._id };
  }

  async describeAssignee(a: Assignee): Promise<string> {
    if (a.type === 'group') return `group ${a.name}`;
    return this.users.displayName(a.id);
  }

  /** Hands closed tasks whose job has not resumed yet to the engine (crash recovery). */
  async pendingResumes(limit = 500): Promise<TaskDoc[]> {
    return this.ctx.db.tasks.find({ pending_resume: true }, { limit }).toArray();
  }

  async clearPendingResume(taskId: string): Promise<void> {
    await this.ctx.db.tasks.updateOne({ _id: taskId }, { $unset: { pending_resume: '' } });
  }

  /**
   * Everything that follows a task closing, derived from the stored task alone so that
   * crash recovery can run it again: the history entry (once), the timer, the surfaces,
   * the waiting job.
   */
  async finishClose(task: TaskDoc): Promise<void> {
    await this.requests.appendHistory(task.request_id, await this.closeEvent(task));
    // Until each surface has updated its copies, they show buttons: recorded before the job
    // resumes (and pending_resume is cleared), so a crash before the updates leaves this mark.
    const copies = [...(task.deliveries ?? []), ...(task.listed_copies ?? [])];
    const surfaces = [...new Set(copies.filter((d) => !d.error).map((d) => d.surface))];
    if (surfaces.length > 0)
      await this.ctx.db.tasks.updateOne({ _id: task._id }, { $set: { copies_outdated: surfaces } });
    // Surfaces hear of it once the waiting job has moved on, so the closed card they render
    // shows the request as the decision left it (its new stage), not the stage before.
    try {
      if (this.sink) await this.sink.taskClosed(task);
      else await this.clearPendingResume(task._id);
    } finally {
      this.ctx.events.emit('task.closed', task);
    }
  }

  private async closeEvent(task: TaskDoc): Promise<HistoryEvent> {
    const at = task.completed_at ?? this.ctx.now();
    const base = { id: `${task._id}:closed`, at };
    if (task.status === 'expired') {
      // A group task with a quorum may have had some answers, not enough to decide.
      const n = task.responses?.length ?? 0;
      return {
        ...base,
        type: 'task_expired',
        by: 'system',
        text:
          n > 0
            ? `Task "${task.title}" expired without a decision (${n} response${n === 1 ? '' : 's'}, not enough)`
            : `Task "${task.title}" expired without a response`,
        data: { task_id: task._id },
      };
    }
    const by = task.completed_by ?? 'system';
    const name = by.startsWith('u_') ? await this.users.displayName(by) : by;
    if (task.status === 'cancelled') {
      return {
        ...base,
        type: 'task_cancelled',
        by,
        text: `${name} cancelled "${task.title}"${task.comment ? `: ${task.comment}` : ''}`,
        data: { task_id: task._id, reason: task.comment ?? null },
      };
    }
    const asText = task.completed_as === 'admin' ? ' (as admin)' : '';
    // What the person typed into the task's inputs (a tracking number, a reason) is part of the decision.
    const typed = task.inputs
      .filter((i) => i.id !== 'comment' && task.inputs_values?.[i.id] !== undefined)
      .map((i) => `${i.label}: ${task.inputs_values![i.id]}`)
      .join('; ');
    return {
      ...base,
      type: 'task_completed',
      by,
      text: `${name}${asText} ${outcomeOn(task.outcome ?? 'completed', task.title)}${task.comment ? `: ${task.comment}` : ''}${typed ? ` (${typed})` : ''}`,
      data: {
        task_id: task._id,
        outcome: task.outcome ?? null,
        as: task.completed_as ?? null,
        comment: task.comment ?? null,
        inputs: task.inputs_values ?? null,
      },
    };
  }

  /** The refusal for someone whose task was reassigned while they answered it. */
  private async movedError(task: TaskDoc): Promise<ForbiddenError> {
    return new ForbiddenError(
      `You can't act on "${task.title}" any more: it was just reassigned to ${await this.describeAssignee(task.assignee)}.`,
    );
  }

  private async closedError(task: TaskDoc): Promise<TaskClosedError> {
    let name: string | undefined;
    if (task.completed_by) {
      name = task.completed_by.startsWith('u_')
        ? await this.users.displayName(task.completed_by)
        : task.completed_by;
    }
    // A quorum decided by several members names them all, as the task's copies do.
    if (task.status === 'completed' && task.quorum.mode !== 'any' && task.completed_as !== 'admin') {
      const deciders = task.responses.filter((r) => r.outcome === task.outcome);
      if (deciders.length > 1)
        name = listOf(await Promise.all(deciders.map((r) => this.users.displayName(r.by))), 'and');
    }
    const when = task.completed_at ? ` at ${readableTime(task.completed_at)}` : '';
    let message: string;
    if (task.status === 'completed')
      message = `Already ${outcomePhrase(task.outcome ?? 'completed')} by ${name}${when}.`;
    else if (task.status === 'expired') message = `This task expired${when}.`;
    else if (task.status === 'cancelled')
      message = `This task was cancelled${name ? ` by ${name}` : ''}${when}.`;
    else message = 'This task is no longer open.';
    return new TaskClosedError(message, {
      id: task._id,
      status: task.status,
      outcome: task.outcome,
      completed_by: task.completed_by,
      completed_by_name: name,
      completed_at: task.completed_at,
    });
  }
}

/**
 * The responses that count towards a group task's quorum: those of the group's members now
 * (a member removed after answering no longer counts, as the quorum is reckoned on the
 * members there are); all of them when the group has no members left.
 */
export function countedResponses(responses: TaskResponse[], members: string[]): TaskResponse[] {
  if (members.length === 0) return responses;
  const current = new Set(members);
  return responses.filter((r) => current.has(r.by));
}
