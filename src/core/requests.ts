import { type AppDefinition, idPrefixFor, onForm } from '../recipes/schema.js';
import { isDuplicateKeyError } from '../store/port.js';
import { assertSafeId, assertSafeValue } from '../store/safe.js';
import { type AppService, cancelledStageOf } from './apps.js';
import type { CoreContext } from './context.js';
import { DeliveryService } from './deliveries.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from './errors.js';
import type { GroupService } from './groups.js';
import { eventStamp } from './ids.js';
import { displayValue, selectedLabels, validateRecord } from './records.js';
import {
  type HistoryDoc,
  type HistoryEvent,
  MAX_COMMENT_LENGTH,
  type PendingEvent,
  type Request,
  type RequestDoc,
  type User,
} from './types.js';
import { isOperator, requireAdmin, type UserService } from './users.js';

const REQUEST_ID = /^[A-Z][A-Z0-9]*-\d{1,12}$/;

/** How many applied change ids a request keeps for retry detection. */
const APPLIED_KEPT = 50;

let lastSeq = 0;
/** A number that orders history events: their time in µs, strictly increasing within this process. */
function nextSeq(at: Date): number {
  lastSeq = Math.max(lastSeq + 1, at.getTime() * 1000);
  return lastSeq;
}

/** `example`: a request id as this Baton's look (see `RequestService.exampleId`). */
export function assertRequestId(id: string, example = 'PTO-42'): void {
  if (typeof id !== 'string' || !REQUEST_ID.test(id)) {
    throw new ValidationError(`"${String(id)}" is not a request id (like ${example}).`);
  }
}

/** Called after a change that may start recipes; set by the engine. */
export interface TriggerSink {
  dispatch(request: RequestDoc): Promise<void>;
  /** Whether a running recipe of the app is triggered by the event (so it must be recorded as pending). */
  wants(app: string, event: PendingEvent): Promise<boolean>;
}

/** How long `fileOnce` remembers a submission key. */
const FILE_ONCE_TTL_MS = 24 * 3600_000;

export class RequestService {
  sink: TriggerSink | undefined;

  constructor(
    private readonly ctx: CoreContext,
    private readonly apps: AppService,
    private readonly users: UserService,
    private readonly groups: GroupService,
  ) {
    this.claims = new DeliveryService(ctx);
  }

  /**
   * The claim-once keys (`fileOnce`), used here directly, not through the durable facade: the
   * key and the request it files must be written in the same chain, one COMMIT.
   */
  private readonly claims: DeliveryService;

  /**
   * Files a new request: validates the record, numbers it, records history, starts the app's
   * recipes. `formShowedDefaults`: the input is a form that started with the defaults, so a
   * field left blank was cleared on purpose and gets no default (see `validateRecord`).
   */
  async file(
    actor: User,
    appKey: string,
    input: Record<string, unknown>,
    options: { formShowedDefaults?: boolean } = {},
  ): Promise<RequestDoc> {
    const { app, record } = await this.prepared(appKey, input, options);
    return this.create(actor, app, record);
  }

  /**
   * `file`, once per `key` (a platform's id of the submitted form, e.g. `slack:view:<id>`): a
   * second call with the key files nothing and answers with the request the first one filed
   * (`repeat`), or null while the first is still being filed. The key is taken in the same chain
   * of writes (one batch, one COMMIT) as the request: a crash leaves both or neither. (A key
   * claimed by a call of its own was committed before the request: a crash in between turned
   * the person's second Submit into a silent no-op, and nothing was ever filed.) A refused
   * record takes no key, so the corrected form can be submitted again.
   */
  async fileOnce(
    actor: User,
    appKey: string,
    input: Record<string, unknown>,
    key: string,
    options: { formShowedDefaults?: boolean } = {},
  ): Promise<{ request: RequestDoc; repeat: boolean } | null> {
    assertSafeId(key, 'submission key');
    const earlier = await this.filedFor(key);
    if (earlier !== undefined) return earlier;
    const { app, record } = await this.prepared(appKey, input, options);
    if (!(await this.claims.claimOnce(key, FILE_ONCE_TTL_MS))) return (await this.filedFor(key)) ?? null;
    try {
      const request = await this.create(actor, app, record, async (id) => {
        await this.claims.claimResult(key, id);
      });
      return { request, repeat: false };
    } catch (err) {
      await this.claims.releaseClaim(key).catch(() => undefined);
      throw err;
    }
  }

  /**
   * What became of an earlier `fileOnce` with `key`: undefined (none), null (still filing), or
   * its request. A key taken over a minute ago that filed nothing was abandoned (the process
   * died; or an older version claimed it on its own): it is given back.
   */
  private async filedFor(key: string): Promise<{ request: RequestDoc; repeat: boolean } | null | undefined> {
    const filed = await this.claims.claimResult(key);
    if (filed !== null) {
      const request = await this.load(filed);
      return request ? { request, repeat: true } : null;
    }
    if (!(await this.claims.isClaimed(key))) return undefined;
    return (await this.claims.releaseStaleClaim(key, FILE_ONCE_TTL_MS, 60_000)) ? undefined : null;
  }

  private async prepared(
    appKey: string,
    input: Record<string, unknown>,
    options: { formShowedDefaults?: boolean },
  ): Promise<{ app: AppDefinition; record: Record<string, unknown> }> {
    const app = await this.apps.get(appKey);
    assertSafeValue(input, 'record');
    input = withoutOffFormFields(app, input);
    const record = await this.validated(app, input, {
      formShowedDefaults: options.formShowedDefaults === true,
    });
    return { app, record };
  }

  /** Numbers and stores a validated request; `stored` runs once it is (before its recipes start). */
  private async create(
    actor: User,
    app: AppDefinition,
    record: Record<string, unknown>,
    stored?: (id: string) => Promise<void>,
  ): Promise<RequestDoc> {
    const counter = await this.ctx.db.counters.findOneAndUpdate(
      { _id: `request:${app.key}` },
      { $inc: { seq: 1 } },
      { upsert: true, returnDocument: 'after' },
    );
    const number = counter?.seq ?? 1;
    const id = `${idPrefixFor(app)}-${number}`;
    const now = this.ctx.now();
    const stage = app.stages[0]!;
    const request: RequestDoc = {
      _id: id,
      app: app.key,
      number,
      requester: actor._id,
      stage,
      record,
      pending: [{ id: `${id}:created`, type: 'new_request' }],
      has_pending: true,
      created_at: now,
      updated_at: now,
    };
    // History first: if we die before the request is stored, the number is simply skipped.
    await this.appendHistory(id, {
      id: `${id}:created`,
      type: 'created',
      at: now,
      by: actor._id,
      text: `${actor.name} filed ${id} in ${app.name} (stage ${stage})`,
      data: { record },
    });
    await this.ctx.db.requests.insertOne(request);
    await stored?.(id);
    this.ctx.logger.info({ request: id, app: app.key, requester: actor._id }, 'request filed');
    this.ctx.events.emit('request.created', request);
    if (!this.sink) return request;
    await this.sink.dispatch(request);
    // As its recipes left it (a first step may have moved it on): what the filer is told.
    return (await this.load(id)) ?? request;
  }

  /**
   * Validates a record and resolves its people; every field's problem is reported at once
   * (an unknown person beside a number out of range), not the people only once the rest is right.
   */
  private async validated(
    app: AppDefinition,
    input: Record<string, unknown>,
    options: Parameters<typeof validateRecord>[2] = {},
  ): Promise<Record<string, unknown>> {
    let record: Record<string, unknown>;
    try {
      record = validateRecord(app, input, options);
    } catch (err) {
      if (!(err instanceof ValidationError) || Object.keys(err.fields).length === 0) throw err;
      const people: Record<string, unknown> = {};
      for (const field of app.fields) {
        const value = input[field.key];
        if (field.type === 'user' && err.fields[field.key] === undefined && typeof value === 'string')
          people[field.key] = value.trim();
      }
      let unknown: Record<string, string> = {};
      try {
        await this.resolveUsers(app, people);
      } catch (inner) {
        if (!(inner instanceof ValidationError)) throw inner;
        unknown = inner.fields;
      }
      if (Object.keys(unknown).length === 0) throw err;
      const fields: Record<string, string> = {};
      for (const key of Object.keys(input))
        if (err.fields[key] && !app.fields.some((f) => f.key === key)) fields[key] = err.fields[key];
      for (const field of app.fields) {
        const message = err.fields[field.key] ?? unknown[field.key];
        if (message !== undefined) fields[field.key] = message;
      }
      throw new ValidationError(`Please fix: ${Object.values(fields).join('; ')}.`, fields);
    }
    return this.resolveUsers(app, record);
  }

  /** Replaces user references (Baton id, email, provider:id) by Baton user ids; unknown people are field errors. */
  async resolveUsers(app: AppDefinition, record: Record<string, unknown>): Promise<Record<string, unknown>> {
    const errors: Record<string, string> = {};
    for (const field of app.fields) {
      if (field.type !== 'user') continue;
      const value = record[field.key];
      if (typeof value !== 'string') continue;
      const user = await this.users.lookup(value);
      if (user) record[field.key] = user._id;
      else errors[field.key] = `${field.label}: no person named "${value}" is known to Baton`;
    }
    if (Object.keys(errors).length > 0)
      throw new ValidationError(`Please fix: ${Object.values(errors).join('; ')}.`, errors);
    return record;
  }

  /** A request id for messages, as this Baton's look: an installed app's prefix (PTO-42 when none is). */
  async exampleId(): Promise<string> {
    const apps = await this.apps.list().catch(() => []);
    const app = apps.find((a) => a.definition)?.definition;
    return `${app ? idPrefixFor(app) : 'PTO'}-42`;
  }

  /** `assertRequestId`, with an example from this Baton's apps (not a time-off id it may not have). */
  async assertId(id: string): Promise<void> {
    if (typeof id === 'string' && REQUEST_ID.test(id)) return;
    assertRequestId(id, await this.exampleId());
  }

  /** A request, if the actor may see it: its requester, someone with a task on it, operators and admins. */
  async get(actor: User, id: string): Promise<Request> {
    await this.assertId(id);
    const request = await this.ctx.db.requests.findOne({ _id: id });
    if (!request) throw new NotFoundError(`No request ${id}.`);
    if (!(await this.canSee(actor, request))) throw new ForbiddenError(`You can't see ${id}.`);
    return this.withHistory(request, actor);
  }

  /** Internal read without authorization (engine, surfaces rendering a task the actor was given). */
  async load(id: string): Promise<RequestDoc | null> {
    return this.ctx.db.requests.findOne({ _id: id });
  }

  async canSee(actor: User, request: RequestDoc): Promise<boolean> {
    if (request.requester === actor._id || isOperator(actor)) return true;
    const tasks = await this.ctx.db.tasks.find({ request_id: request._id }).toArray();
    for (const t of tasks) {
      if (t.assignee.type === 'user' && (t.assignee.id === actor._id || t.completed_by === actor._id))
        return true;
      if (t.assignee.type === 'group' && (await this.groups.isMember(t.assignee.name, actor._id)))
        return true;
    }
    return false;
  }

  /** The actor's own requests, newest first. */
  async listMine(actor: User, options: { limit?: number; app?: string } = {}): Promise<RequestDoc[]> {
    const filter: Record<string, unknown> = { requester: actor._id };
    if (options.app) filter.app = options.app;
    return this.ctx.db.requests
      .find(filter, { sort: { created_at: -1 }, limit: Math.min(options.limit ?? 20, 200) })
      .toArray();
  }

  /** Requests of one app (operators and admins). */
  async listForApp(
    actor: User,
    appKey: string,
    options: { stage?: string; limit?: number; skip?: number } = {},
  ): Promise<RequestDoc[]> {
    if (!isOperator(actor))
      throw new ForbiddenError('Only admins and operators can list all requests of an app.');
    await this.apps.get(appKey);
    const filter: Record<string, unknown> = { app: appKey };
    if (options.stage !== undefined) {
      assertSafeValue(options.stage, 'stage');
      filter.stage = options.stage;
    }
    return this.ctx.db.requests
      .find(filter, {
        sort: { created_at: -1 },
        limit: Math.min(options.limit ?? 50, 500),
        skip: options.skip ?? 0,
      })
      .toArray();
  }

  /**
   * Moves a request to a stage of its app. Idempotent per `eventId`: the history entry and
   * the trigger are recorded once even if the caller retries after a crash.
   */
  async changeStage(
    by: string,
    requestId: string,
    stage: string,
    eventId: string,
    /**
     * keepCancelled: a request in the app's Cancelled stage stays there (a recipe's step), unless
     * the recipe was started by the move into that stage (`startedOn`, the stage it entered).
     */
    options: { depth?: number; keepCancelled?: boolean; startedOn?: string } = {},
  ): Promise<RequestDoc> {
    const historyKey = `${requestId}/${eventId}`;
    /** Whether this call wrote the trail entry (an earlier try of its own that lost the race). */
    let wrote = false;
    // The write is a compare-and-set on the stage read: another change landing in between (a
    // cancel, an admin's move, another recipe) is read again and the rules applied to it.
    for (let attempt = 0; ; attempt++) {
      const request = await this.load(requestId);
      if (!request) throw new NotFoundError(`No request ${requestId}.`);
      const app = await this.apps.get(request.app);
      if (!app.stages.includes(stage)) {
        throw new ValidationError(`${app.name} has no stage "${stage}". Stages: ${app.stages.join(', ')}.`);
      }
      if (request.applied?.includes(eventId)) return request;
      const cancelled =
        options.keepCancelled &&
        request.stage === cancelledStageOf(app) &&
        options.startedOn !== request.stage;
      // Already there: nothing changes, so nothing is recorded and no stage_changed recipe starts.
      if (cancelled || request.stage === stage) {
        // The trail entry of a try of this call that lost the race goes.
        if (wrote) await this.ctx.db.history.deleteOne({ _id: historyKey });
        if (cancelled)
          this.ctx.logger.info(
            { request: requestId, stage, by },
            'stage not changed: the request was cancelled',
          );
        return request;
      }
      if (attempt >= 20)
        throw new ConflictError(`${requestId} keeps changing stage; please try again in a moment.`);
      const now = this.ctx.now();
      const from = request.stage;
      const event: HistoryEvent = {
        id: eventId,
        type: 'stage_changed',
        at: now,
        by,
        text: `Stage changed from ${from} to ${stage}`,
        data: { from, to: stage },
      };
      const pending: PendingEvent = {
        id: eventId,
        type: 'stage_changed',
        from,
        to: stage,
        by,
        ...(options.depth !== undefined ? { depth: options.depth } : {}),
      };
      if (!(await this.appendHistory(requestId, event, { emit: false }))) {
        // Written by an earlier try (or a call that crashed before its write): it now says what
        // this write does, in its place.
        await this.ctx.db.history.updateOne(
          { _id: historyKey },
          { $set: { at: now, by, text: event.text, data: event.data, seq: nextSeq(now) } },
        );
      }
      wrote = true;
      // Recorded as pending (crash recovery starts its recipes) only when some recipe is
      // triggered by it: an event no recipe listens to needs neither the record nor its clearing.
      const wanted = this.sink ? await this.sink.wants(request.app, pending) : false;
      const updated = await this.ctx.db.requests.findOneAndUpdate(
        { _id: requestId, stage: from, applied: { $ne: eventId } },
        wanted
          ? {
              $set: { stage, updated_at: now, has_pending: true },
              $push: { pending, applied: { $each: [eventId], $slice: -APPLIED_KEPT } },
            }
          : {
              $set: { stage, updated_at: now },
              $push: { applied: { $each: [eventId], $slice: -APPLIED_KEPT } },
            },
        { returnDocument: 'after' },
      );
      if (!updated) continue; // applied meanwhile, or moved by someone else: read it again
      this.ctx.events.emit('request.changed', updated);
      await this.sink?.dispatch(updated);
      return updated;
    }
  }

  /** Admins may move a request by hand. */
  async setStage(actor: User, requestId: string, stage: string): Promise<RequestDoc> {
    requireAdmin(actor, 'change the stage of a request by hand');
    await this.assertId(requestId);
    return this.changeStage(actor._id, requestId, stage, `${requestId}:stage:${eventStamp(this.ctx.now())}`);
  }

  /** Updates fields (validated like a form); one history entry per changed field. Idempotent per `eventId`. */
  async updateFields(
    by: string,
    requestId: string,
    input: Record<string, unknown>,
    eventId: string,
  ): Promise<RequestDoc> {
    const request = await this.load(requestId);
    if (!request) throw new NotFoundError(`No request ${requestId}.`);
    if (request.applied?.includes(eventId)) return request;
    assertSafeValue(input, 'record');
    const app = await this.apps.get(request.app);
    const values = await this.validated(app, input, { partial: true });
    const set: Record<string, unknown> = { updated_at: this.ctx.now() };
    const events: HistoryEvent[] = [];
    for (const [key, value] of Object.entries(values)) {
      const before = request.record[key];
      // Empty to empty (a blank field set from a template that gave nothing) changes nothing.
      if (JSON.stringify(before) === JSON.stringify(value) || (isBlank(before) && isBlank(value))) continue;
      const field = app.fields.find((f) => f.key === key);
      const label = field?.label ?? key;
      set[`record.${key}`] = value;
      events.push({
        id: `${eventId}:${key}`,
        type: 'field_changed',
        at: this.ctx.now(),
        by,
        // As the request shows them: people by name, choices by their labels.
        text: `${label} changed from ${await this.shown(field, before)} to ${await this.shown(field, value)}`,
        data: { field: key, from: before ?? null, to: value },
      });
    }
    if (events.length === 0) return request;
    for (const event of events) await this.appendHistory(requestId, event, { emit: false });
    const updated = await this.ctx.db.requests.findOneAndUpdate(
      { _id: requestId, applied: { $ne: eventId } },
      { $set: set, $push: { applied: { $each: [eventId], $slice: -APPLIED_KEPT } } },
      { returnDocument: 'after' },
    );
    if (!updated) return (await this.load(requestId))!;
    this.ctx.events.emit('request.changed', updated);
    return updated;
  }

  /** A field's value as people read it: a person's name, a choice's label. */
  private async shown(field: AppDefinition['fields'][number] | undefined, value: unknown): Promise<string> {
    if (value === undefined || value === null || value === '') return displayValue(undefined);
    if (field?.type === 'user' && typeof value === 'string') return this.users.displayName(value);
    if (field?.type === 'select' || field?.type === 'multi_select')
      return selectedLabels(field.options ?? [], value);
    return displayValue(value);
  }

  /** Adds a comment to the trail (the requester, anyone with a task on it, operators, admins). */
  /**
   * Adds a comment to the history. `key` (a form's one-time token and what was typed): the same
   * comment sent again with it (a double click, a re-posted form) is recorded once.
   */
  async comment(
    actor: User,
    requestId: string,
    text: string,
    options: { key?: string } = {},
  ): Promise<Request> {
    if (options.key !== undefined) assertSafeId(options.key, 'comment key');
    const request = await this.get(actor, requestId);
    const body = typeof text === 'string' ? text.trim() : '';
    if (body === '')
      throw new ValidationError('A comment needs some text.', { comment: 'Comment is required' });
    if (body.length > MAX_COMMENT_LENGTH)
      throw new ValidationError(`A comment must be at most ${MAX_COMMENT_LENGTH} characters.`);
    const now = this.ctx.now();
    const event: HistoryEvent = {
      id: options.key
        ? `${request._id}:comment:${actor._id}:${options.key}`
        : `${request._id}:comment:${eventStamp(now)}:${actor._id}`,
      type: 'comment',
      at: now,
      by: actor._id,
      text: `${actor.name}: ${body}`,
      data: { comment: body },
    };
    await this.appendHistory(request._id, event);
    return this.withHistory((await this.load(request._id))!, actor);
  }

  /** Records one history event unless one with the same id is already there. */
  async appendHistory(
    requestId: string,
    event: HistoryEvent,
    options: { emit?: boolean } = {},
  ): Promise<boolean> {
    // The request id leads the key, so the entries of a request, and of requests filed around
    // the same time, sit together in the key's index (an event id alone, often led by a job's
    // hash, put each insert on a page of its own: ~4 index pages written per cycle instead of ~1).
    const doc: HistoryDoc = {
      ...event,
      _id: `${requestId}/${event.id}`,
      request_id: requestId,
      seq: nextSeq(event.at),
    };
    try {
      await this.ctx.db.history.insertOne(doc);
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
    if (options.emit !== false && this.ctx.events.listenerCount('request.changed') > 0) {
      const updated = await this.load(requestId);
      if (updated) this.ctx.events.emit('request.changed', updated);
    }
    return true;
  }

  /** A request's history trail, oldest first. */
  async history(requestId: string): Promise<HistoryEvent[]> {
    // Its entries' keys begin with `<request id>/` ('0' follows '/'): a range of the primary key.
    const docs = await this.ctx.db.history
      .find({ _id: { $gte: `${requestId}/`, $lt: `${requestId}0` } })
      .toArray();
    docs.sort((a, b) => a.seq - b.seq);
    return docs.map(({ _id, request_id, seq, ...event }) => event as HistoryEvent);
  }

  /** The request with its history as `reader` may read it (see `historyFor`). */
  private async withHistory(request: RequestDoc, reader: User): Promise<Request> {
    return { ...request, history: (await this.history(request._id)).map((e) => historyFor(e, reader)) };
  }

  /** Marks a pending trigger event as dispatched. */
  async clearPending(requestId: string, eventId: string): Promise<void> {
    // The usual case, the only pending event: one write.
    const only = await this.ctx.db.requests.updateOne(
      { _id: requestId, pending: { $size: 1, $elemMatch: { id: eventId } } },
      { $set: { pending: [] }, $unset: { has_pending: '' } },
    );
    if (only.matchedCount === 1) return;
    await this.ctx.db.requests.updateOne({ _id: requestId }, { $pull: { pending: { id: eventId } } });
    await this.ctx.db.requests.updateOne(
      { _id: requestId, pending: { $size: 0 } },
      { $unset: { has_pending: '' } },
    );
  }

  /** Requests with triggers not yet dispatched (crash recovery). */
  async withPending(limit = 500): Promise<RequestDoc[]> {
    return this.ctx.db.requests.find({ has_pending: true }, { limit }).toArray();
  }
}

/** What someone who is not an admin or operator reads of a problem that held the request up. */
export const PLAIN_PROBLEM = 'Something went wrong processing this request; an admin has been told.';

/**
 * A history entry as `reader` may read it: a `problem` says what an admin does about it (the
 * error with the expression's source, the job to rerun, the commands to type), which only admins
 * and operators can act on; everyone else (the requester, approvers) reads its plain text.
 */
export function historyFor(event: HistoryEvent, reader: User): HistoryEvent {
  if (event.type !== 'problem' || isOperator(reader)) return event;
  const { plain_text, data, ...rest } = event;
  return {
    ...rest,
    text: plain_text ?? PLAIN_PROBLEM,
    ...(typeof data?.problem === 'string' ? { data: { problem: data.problem } } : {}),
  };
}

/**
 * What is filed of `input`: a field with `on_form: false` is not asked when filing (a recipe sets
 * it later), so a value given for one (a crafted post, a script) is refused, naming the field, and
 * a blank one is left out (its default, if any, applies as for a field left out).
 */
function withoutOffFormFields(app: AppDefinition, input: Record<string, unknown>): Record<string, unknown> {
  const off = app.fields.filter((f) => !onForm(f) && Object.hasOwn(input, f.key));
  if (off.length === 0) return input;
  const errors: Record<string, string> = {};
  for (const field of off)
    if (!isBlank(input[field.key]))
      errors[field.key] =
        `${field.label} is not filled in when filing: it is not on the request form of ${app.name}, and is set later (by its recipes)`;
  if (Object.keys(errors).length > 0)
    throw new ValidationError(`Please fix: ${Object.values(errors).join('; ')}.`, errors);
  const rest = { ...input };
  for (const field of off) delete rest[field.key];
  return rest;
}

/** No value: missing, null, an empty text or an empty list (false and 0 are values). */
function isBlank(value: unknown): boolean {
  return (
    value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)
  );
}
