import { createHash } from 'node:crypto';
import { type AppService, cancelledStageOf } from '../core/apps.js';
import type { CoreContext } from '../core/context.js';
import { BatonError, ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../core/errors.js';
import type { GroupService } from '../core/groups.js';
import { eventStamp } from '../core/ids.js';
import { recipeFieldValue } from '../core/records.js';
import { PLAIN_PROBLEM, type RequestService, type TriggerSink } from '../core/requests.js';
import type { TaskCloseSink, TaskService } from '../core/tasks.js';
import type {
  CancelInProgress,
  JobDoc,
  NotificationDoc,
  PendingEvent,
  RecipeDoc,
  RequestDoc,
  StepLogEntry,
  StepResult,
  TaskDoc,
  TaskOutcome,
  User,
} from '../core/types.js';
import { isAdmin, requireOperator, type UserService } from '../core/users.js';
import { parseDuration, parseInstant } from '../recipes/duration.js';
import {
  type ExpressionContext,
  evaluateCondition,
  renderDeep,
  renderTemplate,
  renderText,
} from '../recipes/expressions.js';
import type { RecipeDefinition } from '../recipes/schema.js';
import { isDuplicateKeyError } from '../store/port.js';
import { assertSafeId } from '../store/safe.js';
import { type ActionStep, compileRecipe, type Instruction } from './compile.js';

export const WAKE_JOB = 'baton.job.wake';

export { cancelledStageOf };

/**
 * Stages that say a request was turned down or ran out (not Approved: withdrawing approved
 * leave is what cancelling is for). A request in one, with no task open and no recipe at work
 * on it, has nothing left to cancel.
 */
const FINISHED_STAGE = /^(rejected|declined|denied|refused|expired|timed out|closed)$/i;

/** Whether a stage says the request was turned down or ran out (see `FINISHED_STAGE`). */
export function isFinishedStage(stage: string): boolean {
  return FINISHED_STAGE.test(stage.trim());
}

/**
 * Thrown inside a step of a job stopped meanwhile (its request was cancelled while the step
 * ran): the runner ends the job's run quietly instead of recording a failure.
 */
class JobHalted extends Error {
  constructor(jobId: string) {
    super(`Job ${jobId} was stopped`);
  }
}

/** A Baton user id (`u_` and 16 base32 characters, see newId). */
const USER_ID = /^u_[0-9a-z]{16}$/;

/** How long a running job is owned by the instance running it before recovery may take it over. */
const LEASE_MS = 60_000;
/** Stage changes that start recipes that change stages... stop somewhere. */
const MAX_CHAIN_DEPTH = 20;

type StepOutcome =
  | { kind: 'next'; result?: StepResult; request?: RequestDoc }
  | { kind: 'wait'; waiting: NonNullable<JobDoc['waiting']>; result?: StepResult }
  | { kind: 'stop'; reason?: string };

/** Errors whose problem the people concerned were told of already (see `tellProblem`). */
const told = new WeakSet<object>();
function toldAlready<E extends Error>(err: E): E {
  told.add(err);
  return err;
}

function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('base64url').slice(0, 20);
}

/**
 * The id of the job a recipe starts for a trigger event: deterministic (a trigger dispatched
 * twice starts the recipe once), and led by the request's id, so the jobs (and the tasks and
 * notifications whose ids derive from it) of requests filed around the same time sit together
 * in the primary key's index: a random id put each insert on a page of its own, and a COMMIT
 * writes every page it dirtied (measured at 64 cycles in flight: ~20 % less COMMIT time,
 * ~9 % less CPU per cycle). At most the request id's last 40 characters (its number).
 */
export function jobIdFor(requestId: string, eventId: string, recipe: string): string {
  return `j_${requestId.slice(-40)}_${shortHash(`${eventId}|${recipe}`)}`;
}

/** The id the same job had before 2026-12-05 (see `jobIdFor`); checked while recovering. */
function legacyJobIdFor(eventId: string, recipe: string): string {
  return `j_${shortHash(`${eventId}|${recipe}`)}`;
}

/** A recipe names a group (`to: group:<name>`) that does not exist. */
class MissingGroupError extends ValidationError {
  constructor(readonly group: string) {
    super(`No group named "${group}".`);
  }
}

/** What an admin does about a recipe naming a group that does not exist (and which job to rerun). */
function missingGroupFix(name: string, jobId: string): string {
  return `Create the group and add its members ("admin groups create ${name}", then "admin groups add ${name} @someone", after /baton in Slack; or the portal's Admin → Groups), then rerun the job ("admin jobs rerun ${jobId}"; or the portal's Admin → Jobs)`;
}

function taskResult(task: TaskDoc): StepResult {
  const r: StepResult = { status: task.status, task_id: task._id };
  if (task.outcome !== undefined) r.outcome = task.outcome;
  if (task.completed_by !== undefined) r.completed_by = task.completed_by;
  if (task.comment !== undefined) r.comment = task.comment;
  if (task.inputs_values !== undefined) r.inputs = task.inputs_values;
  // Times as ISO 8601 text, like `now` and `request.created_at`: JSONata has no dates, and a
  // Date object showed in texts in JSON quotes and failed $toMillis() and comparisons with now.
  if (task.completed_at !== undefined) r.completed_at = task.completed_at.toISOString();
  // Each member's answer to a group task with a quorum (who, which outcome, their comment).
  if (task.quorum.mode !== 'any' && task.responses.length > 0)
    r.responses = task.responses.map((x) => ({
      by: x.by,
      outcome: x.outcome,
      comment: x.comment ?? null,
      inputs: x.inputs ?? {},
      at: x.at.toISOString(),
    }));
  return r;
}

/** A job's step results with the times stored as dates (by jobs started before they were text) as ISO 8601 text. */
function withTextTimes(steps: Record<string, StepResult>): Record<string, StepResult> {
  const text = (value: unknown): unknown =>
    value instanceof Date
      ? value.toISOString()
      : Array.isArray(value)
        ? value.map(text)
        : value && typeof value === 'object'
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, text(v)]))
          : value;
  return text(steps) as Record<string, StepResult>;
}

/**
 * The recipe engine: starts jobs on triggers, runs their steps, persists the position and
 * context after every step, suspends on tasks and waits, and resumes when a task closes or a
 * timer fires. A waiting job holds nothing in memory: the job document, the task document and
 * the scheduler's timer are the whole state. Every step with an outside effect (a task, a
 * notification, a stage change) is keyed by job and position, so running it again after a
 * crash finds what the first run did instead of doing it twice.
 */
export class RecipeEngine implements TriggerSink, TaskCloseSink {
  private readonly inflight = new Set<Promise<void>>();
  /** Recipe versions by content hash (immutable, so never stale). */
  private readonly versions = new Map<string, RecipeDefinition>();
  /** Content hash of each definition object seen (definitions are never modified once loaded). */
  private readonly hashes = new WeakMap<RecipeDefinition, string>();
  private recipeCache = new Map<string, { at: number; recipes: RecipeDoc[] }>();
  private stopping = false;
  /**
   * While recovering: events recorded by an earlier version may have started their jobs
   * under the former id scheme (`legacyJobIdFor`), which `start` then looks for first.
   */
  private recovering = 0;
  /**
   * Jobs stopped by a cancel while this process may be running one of their steps: the runner
   * checks before each step and before each step's writes (after the step in flight, the
   * job's compare-and-set on `running` would stop it anyway, one step too late).
   */
  private readonly halted = new Set<string>();

  constructor(
    private readonly ctx: CoreContext,
    private readonly users: UserService,
    private readonly groups: GroupService,
    private readonly requests: RequestService,
    private readonly tasks: TaskService,
    private readonly apps: AppService,
  ) {}

  /** Forget cached recipe lists (after a recipe is installed, started or stopped). */
  invalidateRecipes(): void {
    this.recipeCache.clear();
  }

  private async recipesFor(app: string): Promise<RecipeDoc[]> {
    const hit = this.recipeCache.get(app);
    const now = Date.now();
    if (hit && now - hit.at < 2_000) return hit.recipes;
    const recipes = await this.ctx.db.recipes
      .find({ trigger_app: app, state: 'running' }, { sort: { _id: 1 } })
      .toArray();
    this.recipeCache.set(app, { at: now, recipes });
    return recipes;
  }

  private matches(def: RecipeDefinition, event: PendingEvent): boolean {
    const t = def.trigger;
    if (t.type !== event.type) return false;
    if (t.type === 'stage_changed') {
      if (t.to !== undefined && t.to !== event.to) return false;
      if (t.from !== undefined && t.from !== event.from) return false;
    }
    if (t.type === 'task_completed') {
      if (t.task !== undefined && t.task !== event.step_id) return false;
      if (t.outcome !== undefined && t.outcome !== event.outcome) return false;
    }
    return true;
  }

  async wants(app: string, event: PendingEvent): Promise<boolean> {
    const recipes = await this.recipesFor(app);
    return recipes.some((r) => r.definition && this.matches(r.definition, event));
  }

  /** Starts the recipes triggered by the request's pending events, then clears them. Idempotent. */
  async dispatch(request: RequestDoc): Promise<void> {
    for (const event of request.pending ?? []) {
      await this.startMatching(request, event);
      await this.requests.clearPending(request._id, event.id);
    }
  }

  private async startMatching(request: RequestDoc, event: PendingEvent): Promise<void> {
    const recipes = await this.recipesFor(request.app);
    let cancelled: boolean | undefined;
    for (const recipe of recipes) {
      if (!recipe.definition || !this.matches(recipe.definition, event)) continue;
      // A request cancelled since the event happened (a trigger recorded before the cancel and
      // dispatched after it) starts nothing but the recipes of its move to the Cancelled stage.
      cancelled ??=
        request.stage === cancelledStageOf((await this.apps.find(request.app)) ?? { stages: [] }) &&
        !(event.type === 'stage_changed' && event.to === request.stage);
      if (cancelled) {
        this.ctx.logger.info(
          { recipe: recipe.name, request: request._id, event: event.id },
          'not started: the request was cancelled',
        );
        continue;
      }
      const trigger: Record<string, unknown> = { ...event };
      if (this.recovering > 0) {
        const legacy = legacyJobIdFor(event.id, recipe.name);
        if (await this.ctx.db.jobs.findOne({ _id: legacy }, { projection: { _id: 1 } })) continue;
      }
      const jobId = jobIdFor(request._id, event.id, recipe.name);
      await this.start(jobId, recipe.definition, request, trigger);
    }
  }

  private async start(
    jobId: string,
    def: RecipeDefinition,
    request: RequestDoc,
    trigger: Record<string, unknown>,
  ): Promise<void> {
    const now = this.ctx.now();
    const job: JobDoc = {
      _id: jobId,
      recipe: def.name,
      recipe_version: await this.versionOf(def),
      request_id: request._id,
      app: request.app,
      trigger,
      status: 'running',
      pc: 0,
      steps: {},
      log: [],
      reruns: 0,
      lease_until: new Date(now.getTime() + LEASE_MS),
      started_at: now,
      updated_at: now,
    };
    try {
      await this.ctx.db.jobs.insertOne(job);
    } catch (err) {
      if (isDuplicateKeyError(err)) return; // already started by an earlier attempt
      throw err;
    }
    this.ctx.logger.info({ job: jobId, recipe: def.name, request: request._id }, 'job started');
    await this.track(this.run(job));
  }

  /** Stores the definition's snapshot once and returns its id (a hash of its content). */
  private async versionOf(def: RecipeDefinition): Promise<string> {
    let id = this.hashes.get(def);
    if (id === undefined) {
      id = `rv_${createHash('sha256').update(JSON.stringify(def)).digest('base64url').slice(0, 24)}`;
      this.hashes.set(def, id);
    }
    if (this.versions.has(id)) return id;
    try {
      await this.ctx.db.recipeVersions.insertOne({
        _id: id,
        recipe: def.name,
        definition: def,
        created_at: this.ctx.now(),
      });
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
    }
    this.versions.set(id, def);
    return id;
  }

  private async definitionOf(job: JobDoc): Promise<RecipeDefinition> {
    const known = this.versions.get(job.recipe_version);
    if (known) return known;
    const doc = await this.ctx.db.recipeVersions.findOne({ _id: job.recipe_version });
    if (!doc) throw new NotFoundError(`Recipe version ${job.recipe_version} of job ${job._id} is missing.`);
    this.versions.set(doc._id, doc.definition);
    return doc.definition;
  }

  private async track(p: Promise<void>): Promise<void> {
    this.inflight.add(p);
    try {
      await p;
    } finally {
      this.inflight.delete(p);
    }
  }

  /**
   * Runs a job this instance owns (status running, lease held) until it waits, ends or fails.
   * `resumed`: what ended the wait it was in (a task that closed, a timer), logged with the
   * step that waited, so the log does not leave that step 'waiting' for good.
   */
  private async run(job: JobDoc, resumed?: { task?: TaskDoc }): Promise<void> {
    const program = compileRecipe(await this.definitionOf(job));
    let pc = job.pc;
    const steps = withTextTimes(job.steps);
    let cache: { request: RequestDoc; requester: User | null } | null = null;
    let log: StepLogEntry[] = [];
    const waited = resumed ? program[job.pc - 1] : undefined;
    if (waited?.op === 'action') {
      const at = this.ctx.now();
      const task = resumed?.task;
      log.push({
        pc: job.pc - 1,
        step: waited.label,
        action: waited.step.action,
        status: task?.status === 'expired' || task?.status === 'cancelled' ? task.status : 'completed',
        ...(task?.outcome !== undefined ? { outcome: task.outcome } : {}),
        started_at: at,
        finished_at: at,
      });
    }
    const context = async (): Promise<ExpressionContext> => {
      if (!cache) {
        const request = await this.requests.load(job.request_id);
        if (!request) throw new NotFoundError(`Request ${job.request_id} no longer exists.`);
        cache = { request, requester: await this.users.find(request.requester) };
      }
      const { request, requester } = cache;
      return {
        record: request.record,
        request: {
          id: request._id,
          app: request.app,
          stage: request.stage,
          requester: request.requester,
          created_at: request.created_at.toISOString(),
        },
        requester: {
          id: request.requester,
          name: requester?.name ?? request.requester,
          email: requester?.email ?? null,
        },
        steps,
        trigger: job.trigger,
        now: this.ctx.now().toISOString(),
      } as ExpressionContext;
    };

    while (pc < program.length) {
      if (this.stopping) return; // the lease lapses; recovery continues it
      if (this.halted.has(job._id)) {
        this.ctx.logger.info(
          { job: job._id, pc },
          'job stopped before its next step: the request was cancelled',
        );
        return;
      }
      const ins = program[pc] as Instruction;
      const started = this.ctx.now();
      if (ins.op === 'jump') {
        pc = ins.to;
        continue;
      }
      if (ins.op === 'branch') {
        let ok: boolean;
        try {
          ok = await evaluateCondition(ins.condition, await context());
        } catch (err) {
          await this.fail(job, pc, ins.label, err, log, 'if');
          return;
        }
        log.push({
          pc,
          step: ins.label,
          action: 'if',
          status: ok ? 'completed' : 'skipped',
          branch: ok ? 'then' : ins.hasElse ? 'else' : 'none',
          started_at: started,
          finished_at: this.ctx.now(),
        });
        pc = ok ? pc + 1 : ins.elseTo;
        continue;
      }
      let outcome: StepOutcome;
      try {
        outcome = await this.execute(job, pc, ins.step, await context());
      } catch (err) {
        if (err instanceof JobHalted) {
          this.ctx.logger.info({ job: job._id, pc }, 'job stopped in its step: the request was cancelled');
          return;
        }
        await this.fail(job, pc, ins.label, err, log, ins.step.action);
        return;
      }
      const now = this.ctx.now();
      const set: Record<string, unknown> = { updated_at: now, current_step: ins.label };
      if ('result' in outcome && outcome.result && ins.step.id) {
        steps[ins.step.id] = outcome.result;
        set[`steps.${ins.step.id}`] = outcome.result;
      }
      log.push({
        pc,
        step: ins.label,
        action: ins.step.action,
        status: outcome.kind === 'wait' ? 'waiting' : 'completed',
        started_at: started,
        finished_at: now,
      });
      if (outcome.kind === 'wait') {
        set.status = 'waiting';
        set.waiting = outcome.waiting;
        set.pc = pc;
      } else if (outcome.kind === 'stop' || following(program, pc + 1) >= program.length) {
        set.status = 'completed';
        set.pc = program.length;
        set.finished_at = now;
        if (outcome.kind === 'stop' && outcome.reason) set.stop_reason = outcome.reason;
      } else {
        set.pc = following(program, pc + 1);
      }
      const { modifiedCount } = await this.ctx.db.jobs.updateOne(
        { _id: job._id, status: 'running', pc: job.pc },
        {
          $set: { ...set, lease_until: new Date(now.getTime() + LEASE_MS) },
          $push: { log: { $each: log } },
          ...(set.status === 'waiting' ? {} : { $unset: { waiting: '' } }),
        },
      );
      if (modifiedCount === 0) {
        if (this.halted.has(job._id))
          this.ctx.logger.info({ job: job._id, pc }, 'job stopped after its step: the request was cancelled');
        else
          this.ctx.logger.warn({ job: job._id, pc }, 'job was taken over by another runner; stopping here');
        return;
      }
      log = [];
      job.pc = set.pc as number;
      if (outcome.kind === 'wait') {
        await this.afterSuspend(outcome.waiting);
        return;
      }
      if (set.status === 'completed') {
        this.ctx.logger.info({ job: job._id, recipe: job.recipe }, 'job completed');
        this.emitJob(job._id);
        return;
      }
      pc = job.pc;
      // A step that changed the request hands back the request as it left it.
      if (outcome.kind === 'next' && outcome.request) cache = withRequest(cache, outcome.request);
      else if (ins.step.action === 'change_stage' || ins.step.action === 'update_record') cache = null;
    }
    // Ended on a branch/jump past the last step.
    const now = this.ctx.now();
    await this.ctx.db.jobs.updateOne(
      { _id: job._id, status: 'running', pc: job.pc },
      {
        $set: { status: 'completed', pc: program.length, finished_at: now, updated_at: now },
        $push: { log: { $each: log } },
      },
    );
    this.emitJob(job._id);
  }

  /** Marks a job stopped for a runner of this process that may be in its steps (see `halted`). */
  private halt(jobId: string): void {
    this.halted.add(jobId);
    // A runner still in a step is done with it well within a lease.
    setTimeout(() => this.halted.delete(jobId), LEASE_MS).unref();
  }

  private haltCheck(job: JobDoc): void {
    if (this.halted.size > 0 && this.halted.has(job._id)) throw new JobHalted(job._id);
  }

  private emitJob(id: string): void {
    if (this.ctx.events.listenerCount('job.changed') === 0) return;
    void this.ctx.db.jobs.findOne({ _id: id }).then((j) => {
      if (j) this.ctx.events.emit('job.changed', j);
    });
  }

  /** A task that closed while the job was still recording that it waits for it: resume now. */
  private async afterSuspend(waiting: NonNullable<JobDoc['waiting']>): Promise<void> {
    if (waiting.kind !== 'task') return;
    const task = await this.tasks.load(waiting.task_id);
    if (task && task.status !== 'open') await this.taskClosed(task);
  }

  private async fail(
    job: JobDoc,
    pc: number,
    label: string,
    err: unknown,
    log: StepLogEntry[],
    /** The failed step's action (`assign_task`, `if`...), shown in the job's log. */
    action: string,
  ): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    const now = this.ctx.now();
    log.push({
      pc,
      step: label,
      action,
      status: 'failed',
      started_at: now,
      finished_at: now,
      error: message,
    });
    const stopped = await this.ctx.db.jobs.updateOne(
      { _id: job._id, status: 'running', pc: job.pc },
      {
        $set: {
          status: 'failed',
          pc,
          current_step: label,
          error: { step: label, pc, message, at: now },
          updated_at: now,
        },
        $push: { log: { $each: log } },
      },
    );
    const level = err instanceof BatonError ? 'warn' : 'error';
    this.ctx.logger[level]({ job: job._id, recipe: job.recipe, step: label, err: message }, 'job failed');
    this.emitJob(job._id);
    // Another instance took the job over (its lease had lapsed), or told already.
    if (stopped.matchedCount === 0 || (typeof err === 'object' && err !== null && told.has(err))) return;
    // Nobody else would hear of it (the job waits for an admin on the jobs page): the request's
    // history says why it is held up, and the requester and the admins are told.
    const rerun = `Fix the cause (the recipe, a group, the record), then rerun the job ("admin jobs rerun ${job._id}", after /baton in Slack; or the portal's Admin → Jobs)`;
    const what = `The recipe ${job.recipe} stopped at step "${label}": ${message.replace(/\.$/, '')}.`;
    await this.tellProblem(
      job,
      `${job._id.slice(2)}_${pc}:failed:${job.reruns ?? 0}`,
      { problem: 'failed', step: label, error: message },
      {
        history: `${what} ${rerun}.`,
        plain: PLAIN_PROBLEM,
        requester: `Your request ${job.request_id} is held up: the recipe ${job.recipe} stopped with an error. Baton's admins have been told.`,
        admin: `${job.request_id}: ${what} ${rerun}.`,
      },
    );
  }

  private async execute(
    job: JobDoc,
    pc: number,
    step: ActionStep,
    ctx: ExpressionContext,
  ): Promise<StepOutcome> {
    const by = `recipe:${job.recipe}`;
    const key = `${job._id.slice(2)}_${pc}`;
    switch (step.action) {
      case 'assign_task': {
        // `to` may be written as a list of one (`to: ["{{ record.approver }}"]`): each item is a template.
        const to = Array.isArray(step.to)
          ? (await Promise.all(step.to.map((item) => renderTemplate(item, ctx)))).flat()
          : await renderTemplate(step.to, ctx);
        const ref = Array.isArray(to) ? (to.length === 1 ? to[0] : undefined) : to;
        if (typeof ref !== 'string' || ref.trim() === '') {
          throw new ValidationError(
            Array.isArray(to) && to.length > 1
              ? `assign_task "to" gave ${to.length} assignees; assign to one person or a group:<name>`
              : `assign_task "to" gave ${JSON.stringify(to ?? null)}, not a person or group:<name>`,
          );
        }
        const title = await renderText(step.title, ctx, undefined, this.show);
        let assignee: Awaited<ReturnType<TaskService['resolveAssignee']>>;
        try {
          assignee = await this.tasks.resolveAssignee(ref);
        } catch (err) {
          const name = ref.startsWith('group:') ? ref.slice('group:'.length).trim() : '';
          if (!(err instanceof ValidationError) || name === '') throw err;
          // Nobody could be given the task: the job stops here, and the people concerned are told.
          const fix = missingGroupFix(name, job._id);
          await this.tellNobodyCanAct(job, key, title, name, 'missing', fix);
          throw toldAlready(new ValidationError(`No group named "${name}". ${fix}.`));
        }
        const instructions =
          step.instructions !== undefined
            ? await renderText(step.instructions, ctx, undefined, this.show)
            : undefined;
        const outcomes: TaskOutcome[] = (step.outcomes ?? ['Approve', 'Reject']).map((o) =>
          typeof o === 'string'
            ? { label: o, style: defaultStyle(o), comment: 'optional' }
            : { label: o.label, style: o.style ?? defaultStyle(o.label), comment: o.comment ?? 'optional' },
        );
        const expiresAt = step.expires_in
          ? new Date(this.ctx.now().getTime() + parseDuration(step.expires_in))
          : undefined;
        this.haltCheck(job);
        const { task } = await this.tasks.open(
          {
            _id: `t_${key}`,
            request_id: job.request_id,
            app: job.app,
            job_id: job._id,
            step_id: step.id,
            recipe: job.recipe,
            title,
            instructions,
            card: step.card,
            outcomes,
            inputs: (step.inputs ?? []).map((i) => ({
              id: i.id,
              label: i.label,
              type: i.type ?? 'long_text',
              required_for: i.required_for ?? [],
            })),
            assignee,
            quorum: { mode: step.quorum?.mode ?? 'any', count: step.quorum?.count },
            expires_at: expiresAt,
          },
          by,
        );
        if (task.status !== 'open') return { kind: 'next', result: taskResult(task) };
        // Stopped while this step ran (its request cancelled after the cancel withdrew the open
        // tasks): the task just opened is withdrawn too, or it would wait for a job that never resumes.
        const current = await this.ctx.db.jobs.findOne({ _id: job._id });
        if (current?.status === 'stopped') {
          const closed = await this.tasks
            .cancel(by, task._id, current.stop_reason ?? 'The recipe was stopped')
            .catch((err: unknown) => {
              if (err instanceof BatonError) return task; // decided in the meantime
              throw err;
            });
          return { kind: 'next', result: taskResult(closed) };
        }
        if (assignee.type === 'group') {
          const group = await this.groups.find(assignee.name);
          if (group && group.members.length === 0)
            await this.tellNobodyCanAct(
              job,
              key,
              title,
              assignee.name,
              'empty',
              `Add members to ${assignee.name} ("admin groups add ${assignee.name} @someone", after /baton in Slack; or the portal's Admin → Groups): they get the task. Or reassign the task, or decide it as an admin`,
            );
        }
        return { kind: 'wait', waiting: { kind: 'task', task_id: task._id }, result: taskResult(task) };
      }
      case 'change_stage': {
        const stage = await renderTemplate(step.stage, ctx);
        if (typeof stage !== 'string' || stage === '') {
          throw new ValidationError(`change_stage gave ${JSON.stringify(stage ?? null)}, not a stage name`);
        }
        // The stage change's event carries the chain's depth, so recipes that keep triggering
        // each other (A moves to X, B on X moves to Y, A on Y...) stop after MAX_CHAIN_DEPTH.
        // A chain in which a person decided a task (e.g. send back for rework, resubmit) is
        // not a runaway: it starts counting again.
        const personActed = job.log.some((l) => l.action === 'assign_task' && l.status === 'waiting');
        const depth = personActed ? 0 : Number(job.trigger.depth ?? 0);
        if (depth >= MAX_CHAIN_DEPTH)
          throw new ValidationError(
            `Too many recipes triggering each other (a stage loop): ${MAX_CHAIN_DEPTH} stage changes in a row were made by recipes started by the previous one.`,
          );
        this.haltCheck(job);
        const request = await this.requests.changeStage(by, job.request_id, stage, `${job._id}:${pc}`, {
          depth: depth + 1,
          // Not out of the Cancelled stage, unless this job is a recipe of that stage.
          keepCancelled: true,
          ...(job.trigger.type === 'stage_changed' ? { startedOn: String(job.trigger.to) } : {}),
        });
        return { kind: 'next', result: { status: 'completed', value: stage }, request };
      }
      case 'update_record': {
        const app = await this.apps.get(job.app);
        const values: Record<string, unknown> = {};
        for (const [field, value] of Object.entries(step.fields)) {
          const type = app.fields.find((f) => f.key === field)?.type;
          // A text field is read by people, like a notification: a person is shown by name
          // ("Approved by {{ steps.manager.completed_by }}"), not as a user id.
          const text = (type === 'text' || type === 'long_text') && typeof value === 'string';
          // Templates inside lists too: `cities: [Oslo, "{{ record.extra }}"]`.
          values[field] = recipeFieldValue(
            type,
            text ? await renderText(value, ctx, undefined, this.show) : await renderDeep(value, ctx),
          );
        }
        this.haltCheck(job);
        const request = await this.requests.updateFields(by, job.request_id, values, `${job._id}:${pc}`);
        return { kind: 'next', result: { status: 'completed', value: values }, request };
      }
      case 'notify': {
        const empty: string[] = [];
        let recipients: string[];
        try {
          recipients = await this.recipients(step.to, ctx, empty);
        } catch (err) {
          if (!(err instanceof MissingGroupError)) throw err;
          // As for a task: the job stops here, and the requester and the admins are told.
          const fix = missingGroupFix(err.group, job._id);
          await this.tellNobodyCanAct(job, key, null, err.group, 'missing', fix);
          throw toldAlready(new ValidationError(`No group named "${err.group}". ${fix}.`));
        }
        const text =
          step.text !== undefined ? await renderText(step.text, ctx, undefined, this.show) : undefined;
        const now = this.ctx.now();
        let i = 0;
        for (const userId of recipients) {
          const n: NotificationDoc = {
            _id: `n_${key}_${i++}`,
            to: userId,
            text,
            card: step.card,
            request_id: job.request_id,
            job_id: job._id,
            created_at: now,
            status: 'pending',
            deliveries: [],
          };
          this.haltCheck(job);
          try {
            await this.ctx.db.notifications.insertOne(n);
            this.ctx.events.emit('notification', n);
          } catch (err) {
            if (!isDuplicateKeyError(err)) throw err;
          }
        }
        const names = await Promise.all(recipients.map((id) => this.users.displayName(id)));
        await this.requests.appendHistory(job.request_id, {
          id: `${job._id}:${pc}`,
          type: 'notified',
          at: now,
          by,
          text:
            names.length > 0
              ? `Notified ${names.join(', ')}${text ? `: ${text}` : ''}`
              : `Notified nobody: ${empty.map((g) => `group ${g}`).join(', ')} ${empty.length === 1 ? 'has' : 'have'} no members${text ? ` (${text})` : ''}`,
          data: { to: recipients },
        });
        return { kind: 'next', result: { status: 'completed', value: recipients } };
      }
      case 'wait': {
        let until: Date;
        if (step.for !== undefined) until = new Date(this.ctx.now().getTime() + parseDuration(step.for));
        else {
          const v = await renderTemplate(step.until as string, ctx);
          // A number is milliseconds since 1970 ($toMillis(record.start) - 86400000).
          until = v instanceof Date ? v : typeof v === 'number' ? new Date(v) : parseInstant(String(v));
          if (Number.isNaN(until.getTime())) {
            const written = (step.until as string).trim();
            // A blank date field is the usual cause: say so, and how to wait only when there is one.
            if (v === undefined || v === null || v === '') {
              const single = /^\{\{\s*([\s\S]+?)\s*\}\}$/.exec(written)?.[1] ?? '...';
              throw new ValidationError(
                `wait "until" ${written} gave nothing (a blank field?), not a date; to wait only when there is one, put the wait under - if: "$exists(${single})"`,
              );
            }
            throw new ValidationError(`wait "until" ${written} gave ${JSON.stringify(v)}, not a date`);
          }
        }
        if (until.getTime() <= this.ctx.now().getTime())
          return { kind: 'next', result: { status: 'completed' } };
        await this.ctx.scheduler.scheduleAt(
          WAKE_JOB,
          until,
          { job_id: job._id, pc },
          `wake:${job._id}:${pc}`,
        );
        return { kind: 'wait', waiting: { kind: 'timer', until } };
      }
      case 'stop':
        // The reason may use {{ }} like any text: the job shows it rendered, not as written.
        return {
          kind: 'stop',
          reason:
            step.reason !== undefined ? await renderText(step.reason, ctx, undefined, this.show) : undefined,
        };
      default:
        throw new ValidationError(`Unknown action ${(step as { action: string }).action}`);
    }
  }

  /**
   * A value as people read it in a title, instructions, a notification or a stop reason: a
   * Baton user id (a user field, `steps.<id>.completed_by`) becomes the person's name.
   */
  private readonly show = async (value: unknown): Promise<unknown> => {
    if (typeof value === 'string') return USER_ID.test(value) ? this.users.displayName(value) : value;
    if (Array.isArray(value) && value.some((v) => typeof v === 'string' && USER_ID.test(v)))
      return Promise.all(value.map(this.show));
    return value;
  };

  /**
   * A task went to a group nobody is in (`empty`: the task waits for a member), or a task or a
   * notification (`title` null) to a group that does not exist (`missing`: the job fails).
   * Nobody would hear of it, so it goes into the request's history, and the requester and the
   * admins are told (a notification, on every surface). Once per job and step.
   */
  private async tellNobodyCanAct(
    job: JobDoc,
    key: string,
    title: string | null,
    group: string,
    problem: 'empty' | 'missing',
    fix: string,
  ): Promise<void> {
    const what =
      problem === 'empty'
        ? `Nobody can act on "${title}": it is assigned to group ${group}, which has no members.`
        : title === null
          ? `A notification could not be sent: there is no group named "${group}", so the recipe ${job.recipe} stopped.`
          : `"${title}" could not be assigned: there is no group named "${group}", so the recipe ${job.recipe} stopped.`;
    // The requester and approvers read plain words: which recipe stopped, and why, is for admins.
    const plain =
      problem === 'empty'
        ? { held: what, line: what }
        : title === null
          ? {
              held: 'a notification about it could not be sent.',
              line: 'A notification about this request could not be sent, so it is held up.',
            }
          : {
              held: `"${title}" could not be assigned to anyone yet.`,
              line: `"${title}" could not be assigned to anyone yet, so this request is held up.`,
            };
    const fresh = await this.tellProblem(
      job,
      `${key}:nobody`,
      { group, problem },
      {
        history: `${what} ${fix}.`,
        plain: `${plain.line} An admin has been told.`,
        requester: `Your request ${job.request_id} is held up: ${plain.held} Baton's admins have been told.`,
        admin: `${job.request_id}: ${what} ${fix}.`,
      },
    );
    if (fresh)
      this.ctx.logger.warn({ job: job._id, recipe: job.recipe, group, problem }, 'task assigned to nobody');
  }

  /**
   * A problem that holds a request up, told once (per `key`): recorded in the request's history
   * (type `problem`: `history` for admins and operators, `plain` for everyone else), and sent to the requester and the admins as notifications (on every
   * surface); an admin who is the requester gets the admins' version. `key` names the problem
   * within the job's own key space (`<job key>_<pc>:...`). False when told already (a step run
   * again after a crash).
   */
  private async tellProblem(
    job: JobDoc,
    key: string,
    data: Record<string, unknown>,
    texts: { history: string; plain: string; requester: string; admin: string },
  ): Promise<boolean> {
    const now = this.ctx.now();
    const fresh = await this.requests.appendHistory(job.request_id, {
      id: `${job._id}:${key}`,
      type: 'problem',
      at: now,
      by: `recipe:${job.recipe}`,
      text: texts.history,
      plain_text: texts.plain,
      data,
    });
    if (!fresh) return false;
    const request = await this.requests.load(job.request_id);
    const admins = await this.ctx.db.users.find({ role: 'admin' }, { limit: 50 }).toArray();
    const to = new Map<string, string>();
    if (request) to.set(request.requester, texts.requester);
    for (const a of admins) to.set(a._id, texts.admin);
    let i = 0;
    for (const [user, text] of to) {
      const n: NotificationDoc = {
        _id: `n_${key.replaceAll(':', '_')}_${i++}`,
        to: user,
        text,
        request_id: job.request_id,
        job_id: job._id,
        created_at: now,
        status: 'pending',
        deliveries: [],
      };
      try {
        await this.ctx.db.notifications.insertOne(n);
        this.ctx.events.emit('notification', n);
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
      }
    }
    return true;
  }

  /** `to` of a notify step → Baton user ids (groups expand to their members). */
  private async recipients(to: unknown, ctx: ExpressionContext, empty: string[] = []): Promise<string[]> {
    const refs: unknown[] = [];
    for (const item of Array.isArray(to) ? to : [to]) {
      const v = typeof item === 'string' ? await renderTemplate(item, ctx) : item;
      if (Array.isArray(v)) refs.push(...v);
      else refs.push(v);
    }
    const out = new Set<string>();
    // In a list, a blank (an optional user field left empty: `to: [requester, record.cc]`) is
    // skipped; the step fails only when nobody at all is left to tell.
    const blank = (ref: unknown) => ref === undefined || ref === null || ref === '';
    const given = refs.length > 1 ? refs.filter((ref) => !blank(ref)) : refs;
    for (const ref of given.length > 0 ? given : refs) {
      if (typeof ref !== 'string' || ref.trim() === '') {
        throw new ValidationError(
          `notify "to" gave ${JSON.stringify(ref ?? null)}, not a person or group:<name>`,
        );
      }
      if (ref.startsWith('group:')) {
        const group = await this.groups.find(ref.slice(6));
        if (!group) throw new MissingGroupError(ref.slice(6));
        if (group.members.length === 0) empty.push(group.name);
        for (const m of group.members) out.add(m);
      } else {
        const user = await this.users.lookup(ref);
        if (!user) throw new ValidationError(`No person "${ref}" is known to Baton.`);
        out.add(user._id);
      }
    }
    return [...out];
  }

  /** A task closed (completed, expired, cancelled): resume the job waiting on it, start task_completed recipes. */
  async taskClosed(task: TaskDoc): Promise<void> {
    if (task.job_id) {
      const now = this.ctx.now();
      const resumed = await this.ctx.db.jobs.findOneAndUpdate(
        { _id: task.job_id, status: 'waiting', 'waiting.task_id': task._id },
        {
          $set: {
            status: 'running',
            updated_at: now,
            lease_until: new Date(now.getTime() + LEASE_MS),
            ...(task.step_id ? { [`steps.${task.step_id}`]: taskResult(task) } : {}),
          },
          $unset: { waiting: '' },
          $inc: { pc: 1 },
        },
        { returnDocument: 'after' },
      );
      if (resumed) {
        if (task.status === 'completed') {
          await this.startMatchingForTask(task);
        }
        await this.tasks.clearPendingResume(task._id);
        await this.track(this.run(resumed, { task }));
        return;
      }
    }
    if (task.status === 'completed') await this.startMatchingForTask(task);
    const job = task.job_id ? await this.ctx.db.jobs.findOne({ _id: task.job_id }) : null;
    // The job is not waiting on it (yet): leave pending_resume set while it is still running
    // towards its wait; the runner checks the task right after suspending.
    if (job?.status !== 'running') await this.tasks.clearPendingResume(task._id);
  }

  private async startMatchingForTask(task: TaskDoc): Promise<void> {
    const recipes = await this.recipesFor(task.app);
    if (!recipes.some((r) => r.definition?.trigger.type === 'task_completed')) return;
    const request = await this.requests.load(task.request_id);
    if (!request) return;
    await this.startMatching(request, {
      id: `${task._id}:completed`,
      type: 'task_completed',
      task_id: task._id,
      step_id: task.step_id,
      outcome: task.outcome,
      // What a recipe reacting to a decision needs to say about it (the reason, who, what).
      title: task.title,
      ...(task.comment !== undefined ? { comment: task.comment } : {}),
      ...(task.completed_by !== undefined ? { completed_by: task.completed_by } : {}),
      ...(task.inputs_values !== undefined ? { inputs: task.inputs_values } : {}),
    });
  }

  /** A `wait` step's timer fired. */
  async wake(jobId: string, pc: number): Promise<void> {
    const now = this.ctx.now();
    const resumed = await this.ctx.db.jobs.findOneAndUpdate(
      { _id: jobId, status: 'waiting', 'waiting.kind': 'timer', pc },
      {
        $set: { status: 'running', updated_at: now, lease_until: new Date(now.getTime() + LEASE_MS) },
        $unset: { waiting: '' },
        $inc: { pc: 1 },
      },
      { returnDocument: 'after' },
    );
    if (resumed) await this.track(this.run(resumed, {}));
  }

  /**
   * The requester (or an admin) cancels a request: the recipes working on it stop where they
   * are (a job waiting on a task does not resume: a withdrawn request is not a rejected one),
   * its open tasks are cancelled (their Slack and Teams copies lose their buttons), the trail
   * records who cancelled it and why, and it moves to its app's Cancelled stage, so recipes
   * triggered by that stage run (the shipped time-off pack tells the approver). An app
   * without such a stage (`Cancelled`, `Canceled` or `Withdrawn`) has no cancelling.
   */
  /**
   * Whether a request was turned down or ran out (`isFinishedStage`) with no task open and no
   * recipe job running, waiting or failed on it: `cancelRequest` refuses it, and surfaces do not
   * offer cancelling it.
   */
  async nothingLeftToCancel(request: { _id: string; stage: string }): Promise<boolean> {
    if (!isFinishedStage(request.stage)) return false;
    const [jobs, open] = await Promise.all([
      this.ctx.db.jobs.countDocuments({
        request_id: request._id,
        status: { $in: ['running', 'waiting', 'failed'] },
      }),
      this.ctx.db.tasks.countDocuments({ request_id: request._id, status: 'open' }),
    ]);
    return jobs === 0 && open === 0;
  }

  async cancelRequest(
    actor: User,
    requestId: string,
    reason?: string,
  ): Promise<RequestDoc & { withdrawn_tasks: number }> {
    if (typeof requestId !== 'string')
      throw new ValidationError(`Which request? Give its id, e.g. ${await this.requests.exampleId()}.`);
    await this.requests.assertId(requestId);
    const request = await this.requests.load(requestId);
    if (!request) throw new NotFoundError(`No request ${requestId}.`);
    if (request.requester !== actor._id && !isAdmin(actor)) {
      if (!(await this.requests.canSee(actor, request)))
        throw new ForbiddenError(`You can't see ${requestId}.`);
      throw new ForbiddenError(
        `Only ${await this.users.displayName(request.requester)}, who filed ${requestId}, or an admin can cancel it.`,
      );
    }
    const app = await this.apps.get(request.app);
    const stage = cancelledStageOf(app);
    if (stage === undefined) {
      throw new ValidationError(
        `${app.name} requests cannot be cancelled: the app has no Cancelled stage. An admin can add one (admin apps add stage ${app.key} Cancelled).`,
      );
    }
    // A cancel that stopped part-way (a crash, a failed write) is finished as it began.
    if (request.cancelling) return this.finishCancel(request, request.cancelling, stage);
    if (request.stage === stage) throw new ConflictError(`${requestId} is already ${stage}.`);
    const why = typeof reason === 'string' ? reason.trim() : '';
    if (why.length > 1000) {
      throw new ValidationError('A reason must be at most 1000 characters.', {
        reason: 'At most 1000 characters',
      });
    }
    const now = this.ctx.now();
    // Decided and nothing under way: withdrawing it would tell people it was cancelled after all.
    if (await this.nothingLeftToCancel(request))
      throw new ConflictError(`${requestId} is ${request.stage}: there is nothing left to cancel.`);
    // Recorded before anything is stopped: a retry, or the next start, finishes this cancel.
    const cancel: CancelInProgress = {
      by: actor._id,
      by_name: actor.name,
      reason: why || null,
      stamp: eventStamp(now),
      at: now,
      stage_before: request.stage,
    };
    const marked = await this.ctx.db.requests.findOneAndUpdate(
      { _id: requestId, stage: request.stage, cancelling: { $exists: false } },
      { $set: { cancelling: cancel } },
      { returnDocument: 'after' },
    );
    // Someone else cancelled or moved it at this very moment: decide again on what it is now.
    if (!marked) return this.cancelRequest(actor, requestId, reason);
    return this.finishCancel(marked, cancel, stage);
  }

  /**
   * Carries out a cancel recorded on its request (`cancelling`): stops the recipes, withdraws
   * the open tasks, records the cancel and moves the request to `stage`. Each part is done
   * once however often this runs (the trail entries' ids come from the cancel's stamp).
   */
  private async finishCancel(
    request: RequestDoc,
    cancel: CancelInProgress,
    stage: string,
  ): Promise<RequestDoc & { withdrawn_tasks: number }> {
    const requestId = request._id;
    const now = this.ctx.now();
    const why = cancel.reason ?? '';
    // Recipes first, so that cancelling their tasks resumes none of them. A failed job too: a
    // rerun (what its failure notice asks admins for) would carry on with the withdrawn request.
    const jobs = await this.ctx.db.jobs
      .find({ request_id: requestId, status: { $in: ['running', 'waiting', 'failed'] } })
      .toArray();
    for (const job of jobs) {
      const { modifiedCount } = await this.ctx.db.jobs.updateOne(
        { _id: job._id, status: job.status },
        {
          $set: {
            status: 'stopped',
            stop_reason: `${requestId} was cancelled by ${cancel.by_name}`,
            finished_at: now,
            updated_at: now,
          },
          $unset: { waiting: '' },
        },
      );
      if (modifiedCount > 0) {
        this.halt(job._id);
        this.ctx.logger.info({ job: job._id, by: cancel.by }, 'job stopped: request cancelled');
      }
    }
    const open = await this.ctx.db.tasks.find({ request_id: requestId, status: 'open' }).toArray();
    let withdrawn = 0;
    for (const task of open) {
      try {
        await this.tasks.cancel(cancel.by, task._id, why || `${requestId} was cancelled`);
        withdrawn++;
      } catch (err) {
        // Decided or expired in the meantime: it stays as it closed.
        if (!(err instanceof BatonError)) throw err;
      }
    }
    await this.requests.appendHistory(
      requestId,
      {
        id: `${requestId}:cancelled:${cancel.stamp}`,
        type: 'request_cancelled',
        at: cancel.at,
        by: cancel.by,
        text: `${cancel.by_name} cancelled ${requestId}${why ? `: ${why}` : ''}`,
        data: { reason: why || null, stage_before: cancel.stage_before },
      },
      { emit: false },
    );
    const moved = await this.requests.changeStage(
      cancel.by,
      requestId,
      stage,
      `${requestId}:stage:${cancel.stamp}`,
    );
    const done = await this.ctx.db.requests.findOneAndUpdate(
      { _id: requestId, 'cancelling.stamp': cancel.stamp },
      { $unset: { cancelling: '' } },
      { returnDocument: 'after' },
    );
    // How many open tasks it withdrew (not stored: for the reply to the person who cancelled).
    return { ...(done ?? moved), withdrawn_tasks: withdrawn };
  }

  /** Finishes the cancels a crash or a failed write left part-way (at start). */
  async finishCancels(): Promise<number> {
    let finished = 0;
    for (const request of await this.ctx.db.requests
      .find({ 'cancelling.stamp': { $exists: true } }, { limit: 1000 })
      .toArray()) {
      const cancel = request.cancelling;
      const app = await this.apps.get(request.app).catch(() => null);
      const stage = app ? cancelledStageOf(app) : undefined;
      if (!cancel || stage === undefined) continue;
      try {
        await this.finishCancel(request, cancel, stage);
        finished++;
      } catch (err) {
        this.ctx.logger.error({ err, request: request._id }, 'a cancel left part-way could not be finished');
      }
    }
    if (finished > 0) this.ctx.logger.info({ finished }, 'finished cancels left part-way by a restart');
    return finished;
  }

  /** Reruns a failed job from the step that failed (operators and admins). */
  async rerun(actor: User, jobId: string): Promise<JobDoc> {
    requireOperator(actor, 'rerun jobs');
    assertSafeId(jobId, 'job id');
    const now = this.ctx.now();
    const failed = await this.ctx.db.jobs.findOne({ _id: jobId, status: 'failed' });
    const upgrade = failed ? await this.fixedVersionFor(failed) : null;
    const job = await this.ctx.db.jobs.findOneAndUpdate(
      failed && upgrade
        ? { _id: jobId, status: 'failed', pc: failed.pc, recipe_version: failed.recipe_version }
        : { _id: jobId, status: 'failed' },
      {
        $set: {
          status: 'running',
          updated_at: now,
          lease_until: new Date(now.getTime() + LEASE_MS),
          ...(upgrade ?? {}),
        },
        $unset: { error: '' },
        $inc: { reruns: 1 },
      },
      { returnDocument: 'after' },
    );
    if (!job) {
      const existing = await this.ctx.db.jobs.findOne({ _id: jobId });
      if (!existing) throw new NotFoundError(`No job ${jobId}.`);
      throw new ValidationError(`Job ${jobId} is ${existing.status}; only failed jobs can be rerun.`);
    }
    this.ctx.logger.info(
      { job: jobId, by: actor._id, ...(upgrade ? { recipe_version: upgrade.recipe_version } : {}) },
      'job rerun',
    );
    await this.track(this.run(job));
    return (await this.ctx.db.jobs.findOne({ _id: jobId }))!;
  }

  /**
   * A failed job is rerun on its recipe as installed now, when it was changed since the job
   * started (the point of a rerun is usually a fixed recipe): the job moves to the new
   * version at the step with the failed step's label. When the recipe is gone, invalid, or
   * has no single step with that label, the job reruns on its own version.
   */
  private async fixedVersionFor(job: JobDoc): Promise<{ recipe_version: string; pc: number } | null> {
    if (!job.error) return null;
    const current = await this.ctx.db.recipes.findOne({ name: job.recipe });
    if (!current?.definition || current.state === 'invalid') return null;
    const version = await this.versionOf(current.definition);
    if (version === job.recipe_version) return null;
    const program = compileRecipe(current.definition);
    const at = program.flatMap((ins, i) => ('label' in ins && ins.label === job.error!.step ? [i] : []));
    if (at.length !== 1) {
      this.ctx.logger.warn(
        { job: job._id, recipe: job.recipe, step: job.error.step },
        'rerun: the installed recipe has no single step with the failed step label; rerunning the job on its own version',
      );
      return null;
    }
    return { recipe_version: version, pc: at[0]! };
  }

  /**
   * After a crash or restart: dispatch triggers that were recorded but not dispatched, resume
   * jobs whose task closed while nobody resumed them, continue jobs whose runner died.
   * `takeAllRunning` is for a single-process store, where every running job is an orphan at start.
   */
  async recover(options: {
    takeAllRunning: boolean;
  }): Promise<{ dispatched: number; resumed: number; continued: number }> {
    this.recovering++;
    try {
      return await this.recoverNow(options);
    } finally {
      this.recovering--;
    }
  }

  private async recoverNow(options: {
    takeAllRunning: boolean;
  }): Promise<{ dispatched: number; resumed: number; continued: number }> {
    let dispatched = 0;
    let resumed = 0;
    let continued = 0;
    for (const request of await this.requests.withPending()) {
      await this.dispatch(request);
      dispatched++;
    }
    await this.finishCancels();
    for (const task of await this.tasks.pendingResumes()) {
      await this.tasks.finishClose(task);
      resumed++;
    }
    const now = this.ctx.now();
    const filter: Record<string, unknown> = options.takeAllRunning
      ? { status: 'running' }
      : { status: 'running', lease_until: { $lt: now } };
    for (const job of await this.ctx.db.jobs.find(filter, { limit: 1000 }).toArray()) {
      const claimed = await this.ctx.db.jobs.findOneAndUpdate(
        { _id: job._id, status: 'running', pc: job.pc, updated_at: job.updated_at },
        { $set: { lease_until: new Date(now.getTime() + LEASE_MS), updated_at: now } },
        { returnDocument: 'after' },
      );
      if (claimed) {
        continued++;
        await this.track(this.run(claimed));
      }
    }
    // Jobs waiting on a task that is no longer open (the close was recorded, the hand-off lost).
    for (const job of await this.ctx.db.jobs
      .find({ status: 'waiting', 'waiting.kind': 'task' }, { limit: 5000 })
      .toArray()) {
      const waiting = job.waiting as { kind: 'task'; task_id: string };
      const task = await this.tasks.load(waiting.task_id);
      if (task && task.status !== 'open') {
        await this.taskClosed(task);
        resumed++;
      }
    }
    if (dispatched + resumed + continued > 0) {
      this.ctx.logger.info({ dispatched, resumed, continued }, 'recovered work left by a restart');
    }
    return { dispatched, resumed, continued };
  }

  /** Stops starting new steps and waits for in-flight ones to finish (graceful shutdown). */
  async drain(): Promise<void> {
    this.stopping = true;
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  inflightCount(): number {
    return this.inflight.size;
  }
}

/** The context cache of a running job with the request replaced (the requester stays who they were). */
function withRequest(
  cache: { request: RequestDoc; requester: User | null } | null,
  request: RequestDoc,
): { request: RequestDoc; requester: User | null } | null {
  return cache ? { request, requester: cache.requester } : null;
}

/**
 * The instruction a job at `pc` really runs next: unconditional jumps followed (the end of a
 * `then` branch jumping over its `else`). A step whose next instruction jumps past the end
 * completes the job in the same write that records the step.
 */
function following(program: readonly Instruction[], pc: number): number {
  let at = pc;
  for (let hops = 0; hops < program.length; hops++) {
    const ins = program[at];
    if (ins?.op !== 'jump') return at;
    at = ins.to;
  }
  return at;
}

function defaultStyle(label: string): TaskOutcome['style'] {
  const l = label.toLowerCase();
  if (['approve', 'accept', 'grant', 'yes', 'confirm', 'complete', 'done'].includes(l)) return 'primary';
  if (['reject', 'deny', 'decline', 'no', 'revoke'].includes(l)) return 'danger';
  return 'default';
}
