import { EventEmitter } from 'node:events';
import type { Logger } from '../logger.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { type Collection, dropIndexIfExists, isDuplicateKeyError, type Store } from '../store/port.js';
import type {
  AppDoc,
  Group,
  HistoryDoc,
  IdentityDoc,
  JobDoc,
  NotificationDoc,
  RecipeDoc,
  RecipeVersionDoc,
  RequestDoc,
  TaskDoc,
  User,
} from './types.js';

/** What surfaces can listen to. Emitted after the change is stored. */
export interface BatonEvents {
  'task.opened': [TaskDoc];
  /** Redelivery: an open task that the listed surfaces (registered ones) have no copy of. */
  'task.undelivered': [TaskDoc, string[]];
  'task.closed': [TaskDoc];
  /** Redelivery: a closed task whose copies on the listed surfaces may still show it open. */
  'task.outdated': [TaskDoc, string[]];
  /** A member answered a group task with a quorum, and the task waits for more answers. */
  'task.responded': [TaskDoc];
  'task.reassigned': [TaskDoc];
  'request.created': [RequestDoc];
  'request.changed': [RequestDoc];
  notification: [NotificationDoc];
  'job.changed': [JobDoc];
  /** Someone joined or left a group (surfaces give a new member the group's open tasks). */
  'group.changed': [{ name: string; added?: string; removed?: string }];
  /** An app or a recipe was created, changed, started or stopped (admin views refresh). */
  'catalog.changed': [{ kind: 'app' | 'recipe'; key?: string | undefined }];
}

interface Queued {
  /** Settles when the writes the event reports are durable (null: nothing was pending). */
  barrier: Promise<void> | null;
  name: keyof BatonEvents;
  args: unknown[];
  /** Callers of `settled()` waiting for this entry to be handed out. */
  waiters?: (() => void)[];
}

/**
 * The core's events. When the store acknowledges writes on apply (see `Store.acknowledgeOnApply`),
 * an event is handed to listeners only once the writes it reports are durable — listeners are
 * the surfaces, which tell people and platforms — in the order the events were emitted. An event
 * whose writes were lost (a failed COMMIT) is dropped. Without a barrier events go out at once.
 */
export class BatonEventBus extends EventEmitter<BatonEvents> {
  private readonly queue: Queued[] = [];
  private draining = false;
  private readonly passed = new WeakSet<Promise<void>>();

  constructor(
    private readonly barrier: () => Promise<void> | null = () => null,
    private readonly onListenerError: (err: unknown, event: string) => void = () => {},
  ) {
    super();
  }

  override emit<K extends keyof BatonEvents>(name: K, ...args: BatonEvents[K]): boolean {
    const barrier = this.barrier();
    if (barrier === null && this.queue.length === 0) return this.deliver(name, args);
    this.queue.push({ barrier, name, args });
    if (!this.draining) void this.drain();
    return this.listenerCount(name) > 0;
  }

  /** Resolves once every event emitted so far has been handed to its listeners (or dropped). */
  settled(): Promise<void> {
    const tail = this.queue[this.queue.length - 1];
    if (!tail) return Promise.resolve();
    return new Promise((resolve) => {
      tail.waiters ??= [];
      tail.waiters.push(resolve);
    });
  }

  private deliver(name: keyof BatonEvents, args: unknown[]): boolean {
    try {
      return (super.emit as (n: string, ...a: unknown[]) => boolean)(name, ...args);
    } catch (err) {
      if (this.queue.length === 0 && !this.draining) throw err;
      this.onListenerError(err, name);
      return true;
    }
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const head = this.queue[0]!;
        let lost = false;
        if (head.barrier !== null && !this.passed.has(head.barrier)) {
          try {
            await head.barrier;
            this.passed.add(head.barrier);
          } catch {
            lost = true;
          }
        }
        this.queue.shift();
        if (!lost) this.deliver(head.name, head.args);
        for (const w of head.waiters ?? []) w();
      }
    } finally {
      this.draining = false;
    }
  }
}

export interface Collections {
  users: Collection<User>;
  identities: Collection<IdentityDoc>;
  groups: Collection<Group>;
  apps: Collection<AppDoc>;
  recipes: Collection<RecipeDoc>;
  recipeVersions: Collection<RecipeVersionDoc>;
  requests: Collection<RequestDoc>;
  history: Collection<HistoryDoc>;
  counters: Collection<{ _id: string; seq: number }>;
  tasks: Collection<TaskDoc>;
  jobs: Collection<JobDoc>;
  notifications: Collection<NotificationDoc>;
}

export interface CoreContext {
  store: Store;
  db: Collections;
  scheduler: Scheduler;
  logger: Logger;
  events: BatonEventBus;
  /** Platform ids or emails that are admins from the start (BATON_ADMINS). */
  bootstrapAdmins: string[];
  now: () => Date;
}

export function collectionsOf(store: Store): Collections {
  return {
    users: store.collection<User>('users'),
    identities: store.collection<IdentityDoc>('identities'),
    groups: store.collection<Group>('groups'),
    apps: store.collection<AppDoc>('apps'),
    recipes: store.collection<RecipeDoc>('recipes'),
    recipeVersions: store.collection<RecipeVersionDoc>('recipe_versions'),
    requests: store.collection<RequestDoc>('requests'),
    history: store.collection<HistoryDoc>('history'),
    counters: store.collection<{ _id: string; seq: number }>('counters'),
    tasks: store.collection<TaskDoc>('tasks'),
    jobs: store.collection<JobDoc>('jobs'),
    notifications: store.collection<NotificationDoc>('notifications'),
  };
}

/** The indexes every query path relies on. Idempotent. */
export async function ensureIndexes(db: Collections, logger?: Logger): Promise<void> {
  await db.users.createIndex({ email: 1 }, { unique: true, sparse: true });
  await db.requests.createIndex({ app: 1, created_at: -1 });
  await db.requests.createIndex({ requester: 1, created_at: -1 });
  await db.requests.createIndex({ app: 1, stage: 1 });
  await db.requests.createIndex({ has_pending: 1 }, { sparse: true });
  await db.requests.createIndex({ 'cancelling.stamp': 1 }, { sparse: true });
  await db.tasks.createIndex({ assignee_key: 1, status: 1, created_at: 1 });
  await db.tasks.createIndex({ request_id: 1 });
  await db.tasks.createIndex({ status: 1, expires_at: 1 });
  await db.tasks.createIndex({ pending_resume: 1 }, { sparse: true });
  await db.tasks.createIndex({ copies_outdated: 1 }, { sparse: true });
  await db.jobs.createIndex({ status: 1, updated_at: -1 });
  await db.jobs.createIndex({ request_id: 1 });
  await db.jobs.createIndex({ recipe: 1, started_at: -1 });
  await db.recipes.createIndex({ trigger_app: 1 });
  await db.notifications.createIndex({ to: 1, created_at: -1 });
  await db.notifications.createIndex({ status: 1 });
  await db.notifications.createIndex({ owed: 1 }, { sparse: true });
  await db.requests.createIndex({ requester: 1, stage: 1 });
  // Dashboard (stats.ts): open tasks by age, tasks completed in a window.
  await db.tasks.createIndex({ status: 1, created_at: 1 });
  await db.tasks.createIndex({ status: 1, completed_at: 1 });
  // A request's history entries are read by their key's prefix (`<request id>/`, see
  // RequestService.history): the index on (request_id, seq) of earlier versions cost every
  // entry's insert a second index (~4 % of a request-task-completion cycle's CPU).
  // The index still there means a version from before the rekey ran on this store (the first
  // upgrade, or a rollback since): its entries are rekeyed whether or not that was done before.
  const olderVersionRan = await dropIndexIfExists(db.history, 'request_id_1_seq_1');
  await rekeyHistory(db, logger, olderVersionRan);
}

const HISTORY_REKEYED = 'migration:history-keys';

/**
 * History entries written before 2026-12-04 have their event id as `_id`; since then
 * `<request id>/<event id>`, which `RequestService.history` reads by prefix. Gives the former
 * their new key, once per store (a scan of the history, in pages of 1,000 moved at once, without
 * holding it). A store of months holds hundreds of thousands of entries (several seconds per
 * 100,000): the log says why start-up takes that long, how far it got and when it is done.
 */
async function rekeyHistory(db: Collections, logger?: Logger, again = false): Promise<void> {
  if (!again && (await db.counters.findOne({ _id: HISTORY_REKEYED }))) return;
  const started = Date.now();
  let total: number | undefined;
  let rekeyed = 0;
  let told = started;
  let after = '';
  for (;;) {
    const page = await db.history.find({ _id: { $gt: after } }, { sort: { _id: 1 }, limit: 1000 }).toArray();
    if (page.length === 0) break;
    after = page[page.length - 1]!._id;
    const old = page.filter(
      (doc) => typeof doc.request_id === 'string' && !doc._id.startsWith(`${doc.request_id}/`),
    );
    if (old.length === 0) continue;
    if (total === undefined) {
      total = await db.history.countDocuments({});
      logger?.info(
        { entries: total },
        'upgrading the store: giving history entries of an earlier version their new key (once; Baton starts when done)',
      );
    }
    const rekeyedDocs = old.map((doc) => ({ ...doc, _id: `${doc.request_id}/${doc._id}` }));
    try {
      await db.history.insertMany(rekeyedDocs);
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      // Some were rekeyed by an earlier, interrupted run: one at a time.
      for (const doc of rekeyedDocs) {
        try {
          await db.history.insertOne(doc);
        } catch (e) {
          if (!isDuplicateKeyError(e)) throw e;
        }
      }
    }
    await db.history.deleteMany({ _id: { $in: old.map((doc) => doc._id) } });
    rekeyed += old.length;
    if (total !== undefined && Date.now() - told >= 10_000) {
      told = Date.now();
      logger?.info({ rekeyed, entries: total }, 'upgrading the store: history entries rekeyed so far');
    }
  }
  await db.counters.updateOne({ _id: HISTORY_REKEYED }, { $set: { seq: 1 } }, { upsert: true });
  if (total !== undefined)
    logger?.info({ rekeyed, ms: Date.now() - started }, 'upgrading the store: history entries rekeyed');
}
