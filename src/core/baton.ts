import { RecipeEngine, WAKE_JOB } from '../engine/engine.js';
import type { Logger } from '../logger.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { Store } from '../store/port.js';
import { AppService } from './apps.js';
import { BatonEventBus, type CoreContext, collectionsOf, ensureIndexes } from './context.js';
import { ConversationService } from './conversations.js';
import { DeliveryService } from './deliveries.js';
import { GroupService } from './groups.js';
import { RecipeService } from './recipes.js';
import { RequestService } from './requests.js';
import { StatsService } from './stats.js';
import { EXPIRE_DUE_JOB, EXPIRE_JOB, TaskService } from './tasks.js';
import type { TaskDoc } from './types.js';
import { UserService } from './users.js';
import { ViewService } from './views.js';

export interface BatonOptions {
  store: Store;
  scheduler: Scheduler;
  logger: Logger;
  bootstrapAdmins?: string[];
  now?: () => Date;
  /**
   * Let the store acknowledge writes once applied rather than committed, where it can (the
   * embedded store), and keep the durability barrier here instead (default true). See
   * `durableFacade`.
   */
  acknowledgeOnApply?: boolean;
  /**
   * A COMMIT failed after its writes had been acknowledged: what this process did since rests
   * on writes that are gone. Default: log it (the runtime ends the process; a restart recovers
   * from what is durable).
   */
  onLostWrites?: (err: unknown) => void;
}

/**
 * Wraps a service so that every promise it returns settles only once the writes made so far
 * are durable and the events emitted so far have reached their listeners. Everything a
 * surface gets from the core — a reply to a person, a message to post — therefore rests on
 * committed data, even though the core's own chains of writes do not wait for each COMMIT.
 * `this` inside the service stays the service itself, so calls between services do not wait.
 */
function durableFacade<T extends object>(service: T, barrier: () => Promise<void>): T {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(service, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      let fn = wrapped.get(prop);
      if (fn === undefined) {
        const method = value as (...args: unknown[]) => unknown;
        fn = (...args: unknown[]) => {
          const out = method.apply(target, args);
          if (!(out instanceof Promise)) return out;
          return out.then(
            (v) => barrier().then(() => v),
            (err: unknown) =>
              barrier().then(
                () => Promise.reject(err),
                () => Promise.reject(err),
              ),
          );
        };
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}

/**
 * The core: every service a surface calls. Surfaces never touch the store; they call these
 * services with a Baton user as the actor, and every mutation is authorized here.
 */
export class Baton {
  readonly ctx: CoreContext;
  readonly events: BatonEventBus;
  readonly users: UserService;
  readonly groups: GroupService;
  readonly apps: AppService;
  readonly requests: RequestService;
  readonly tasks: TaskService;
  readonly recipes: RecipeService;
  readonly engine: RecipeEngine;
  readonly deliveries: DeliveryService;
  readonly views: ViewService;
  /** Where surfaces can reach people later (Teams conversation references). */
  readonly conversations: ConversationService;
  readonly stats: StatsService;
  readonly startedAt = new Date();
  /** Surfaces that post copies of tasks (each registers while it listens). */
  private readonly deliverySurfaces = new Map<string, number>();

  constructor(options: BatonOptions) {
    const store = options.store;
    const onApply = options.acknowledgeOnApply !== false && typeof store.acknowledgeOnApply === 'function';
    if (onApply) {
      store.acknowledgeOnApply!(
        options.onLostWrites ??
          ((err) => options.logger.fatal({ err }, 'a COMMIT failed after its writes were acknowledged')),
      );
    }
    const pending = onApply && store.pending ? () => store.pending!() : () => null;
    this.events = new BatonEventBus(pending, (err, event) =>
      options.logger.error({ err, event }, 'an event listener failed'),
    );
    this.events.setMaxListeners(100);
    this.ctx = {
      store: options.store,
      db: collectionsOf(options.store),
      scheduler: options.scheduler,
      logger: options.logger,
      events: this.events,
      bootstrapAdmins: options.bootstrapAdmins ?? [],
      now: options.now ?? (() => new Date()),
    };
    const users = new UserService(this.ctx);
    const groups = new GroupService(this.ctx, users);
    const apps = new AppService(this.ctx);
    const requests = new RequestService(this.ctx, apps, users, groups);
    const tasks = new TaskService(this.ctx, users, groups, requests);
    const recipes = new RecipeService(this.ctx, apps);
    const engine = new RecipeEngine(this.ctx, users, groups, requests, tasks, apps);
    requests.sink = engine;
    tasks.sink = engine;
    recipes.onChange = () => {
      engine.invalidateRecipes();
      this.ctx.events.emit('catalog.changed', { kind: 'recipe' });
    };
    // What surfaces call: settles once durable (see durableFacade).
    const barrier = () => this.durable();
    const facade = onApply ? <T extends object>(s: T) => durableFacade(s, barrier) : <T>(s: T) => s;
    this.users = facade(users);
    this.groups = facade(groups);
    this.apps = facade(apps);
    this.requests = facade(requests);
    this.tasks = facade(tasks);
    this.recipes = facade(recipes);
    this.engine = facade(engine);
    this.deliveries = facade(new DeliveryService(this.ctx));
    this.views = facade(new ViewService(this.ctx, apps, users));
    this.conversations = facade(new ConversationService(this.ctx));
    this.stats = facade(new StatsService(this.ctx, apps));
    options.scheduler.define(EXPIRE_DUE_JOB, async (data) => {
      await this.tasks.expireDue(Number(data.until));
    });
    options.scheduler.define(EXPIRE_JOB, async (data) => {
      await this.tasks.expire(String(data.task_id));
    });
    options.scheduler.define(WAKE_JOB, async (data) => {
      await this.engine.wake(String(data.job_id), Number(data.pc));
    });
  }

  /**
   * The durability barrier (what every facade result waits for): resolves once the writes made
   * so far are committed and the events emitted so far have reached their listeners. For code
   * that reads the store directly and hands the result out (a reply, a message).
   */
  durable(): Promise<void> {
    return Promise.all([this.ctx.store.durable(), this.events.settled()]).then(() => undefined);
  }

  /** Indexes, bootstrap admins. Call once before serving. */
  async init(): Promise<void> {
    await ensureIndexes(this.ctx.db, this.ctx.logger);
    await this.users.applyBootstrapAdmins();
  }

  /** Picks up what a crash or restart left: undispatched triggers, unresumed jobs. */
  async recover(): Promise<void> {
    await this.engine.recover({ takeAllRunning: this.ctx.store.kind === 'embedded' });
  }

  /**
   * A surface that posts copies of tasks says so while it listens, so `redeliver` can find
   * the open tasks that surface has no copy of (even when another surface has one).
   * Returns the call that unregisters it.
   */
  registerDeliverySurface(surface: string): () => void {
    this.deliverySurfaces.set(surface, (this.deliverySurfaces.get(surface) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.deliverySurfaces.get(surface) ?? 1) - 1;
      if (n > 0) this.deliverySurfaces.set(surface, n);
      else this.deliverySurfaces.delete(surface);
    };
  }

  /**
   * Hands surfaces (once they listen) what a restart may have left undelivered: pending
   * notifications, and open tasks a listening surface has not finished handing out (per
   * surface: a task posted on Slack whose Teams post never happened is handed out again; a
   * group task whose process died after some members' copies went out is handed out again,
   * so the others get theirs). With no surface registered, the open tasks nobody has a copy
   * of. Surfaces skip the copies they already posted, so this is safe to call at every start.
   */
  async redeliver(
    options: {
      limit?: number;
      olderThanMs?: number;
      /**
       * Only tasks and notifications created this recently (the periodic sweeps: the open
       * tasks' query cannot be served by an index, and walking 100,000 open tasks paused the
       * whole process ~200 ms per surface at every sweep).
       */
      withinMs?: number;
    } = {},
  ): Promise<{ notifications: number; tasks: number }> {
    const { db } = this.ctx;
    const limit = options.limit ?? 1000;
    const now = this.ctx.now().getTime();
    const created: Record<string, Date> = {};
    if (options.olderThanMs) created.$lt = new Date(now - options.olderThanMs);
    if (options.withinMs) created.$gte = new Date(now - options.withinMs);
    const age = Object.keys(created).length > 0 ? { created_at: created } : {};
    const notes = await db.notifications
      .find({ status: 'pending', ...age }, { sort: { created_at: 1 }, limit })
      .toArray();
    const surfaces = [...this.deliverySurfaces.keys()].sort();
    // And those a listening surface still owes after a passing failure, whatever other
    // surfaces did meanwhile (delivered it, or refused it for good).
    if (surfaces.length > 0) {
      const owed = await db.notifications
        .find(
          { owed: { $in: surfaces }, status: { $ne: 'pending' }, ...age },
          { sort: { created_at: 1 }, limit },
        )
        .toArray();
      notes.push(...owed);
    }
    for (const n of notes) this.events.emit('notification', n);
    // Per task, the listening surfaces that have no copy of it.
    const tasks = new Map<string, { task: TaskDoc; missing: string[] }>();
    if (surfaces.length === 0) {
      const none = await db.tasks
        .find({ status: 'open', deliveries: { $exists: false }, ...age }, { sort: { created_at: -1 }, limit })
        .toArray();
      for (const t of none) {
        this.events.emit('task.opened', t);
        tasks.set(t._id, { task: t, missing: [] });
      }
    }
    for (const surface of surfaces) {
      const missing = await db.tasks
        .find(
          // Not `no copy on this surface`: some members of a group may have theirs and others not.
          { status: 'open', copies_complete: { $ne: surface }, ...age },
          { sort: { created_at: -1 }, limit },
        )
        .toArray();
      for (const t of missing) {
        const entry = tasks.get(t._id);
        if (entry) entry.missing.push(surface);
        else if (tasks.size < limit) tasks.set(t._id, { task: t, missing: [surface] });
      }
    }
    // Only the surfaces concerned act on these (not a new task: pages showing tasks need no update).
    for (const { task, missing } of tasks.values())
      if (missing.length > 0) this.events.emit('task.undelivered', task, missing);
    // Closed tasks whose copies a surface had not updated yet (the process died in between).
    const closedAge = options.olderThanMs
      ? { updated_at: { $lt: new Date(this.ctx.now().getTime() - options.olderThanMs) } }
      : {};
    // (`$in` the listening surfaces, which the index on copies_outdated serves: `$exists` scanned every task.)
    const outdated =
      surfaces.length === 0
        ? []
        : await db.tasks.find({ copies_outdated: { $in: surfaces }, ...closedAge }, { limit }).toArray();
    for (const task of outdated) {
      const stale = (task.copies_outdated ?? []).filter((s) => surfaces.includes(s));
      if (stale.length > 0) this.events.emit('task.outdated', task, stale);
    }
    if (notes.length + tasks.size > 0) {
      this.ctx.logger.debug(
        { notifications: notes.length, tasks: tasks.size, surfaces },
        'handed undelivered work to surfaces',
      );
    }
    return { notifications: notes.length, tasks: tasks.size };
  }

  /** What /healthz shows. */
  async health(): Promise<{
    store: string;
    uptime_s: number;
    open_tasks: number;
    jobs: { running: number; waiting: number; failed: number };
    scheduler: { running: number; pending: number };
  }> {
    const { db } = this.ctx;
    const [open, running, waiting, failed, sched] = await Promise.all([
      db.tasks.countDocuments({ status: 'open' }),
      db.jobs.countDocuments({ status: 'running' }),
      db.jobs.countDocuments({ status: 'waiting' }),
      db.jobs.countDocuments({ status: 'failed' }),
      this.ctx.scheduler.stats(),
    ]);
    return {
      store: this.ctx.store.kind,
      uptime_s: Math.round((Date.now() - this.startedAt.getTime()) / 1000),
      open_tasks: open,
      jobs: { running, waiting, failed },
      scheduler: sched,
    };
  }
}
