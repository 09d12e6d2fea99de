/**
 * Baton's scheduler: a thin wrapper over Agenda, and the only module that touches it.
 *
 * Jobs are one-off and keyed: `scheduleAt(name, when, data, key)` stores one job per
 * key (scheduling the key again replaces it), `cancel(key)` removes it. Job data is
 * stored as `{ key, payload }`; handlers receive `payload`.
 *
 * Latency: Agenda scans every `processEvery` (500 ms by default) and locks every job
 * due before the next scan, arming a timer for its exact time; an in-process
 * notification channel also wakes the processor as soon as a job due now is saved.
 * A due job therefore starts within a few ms of its time (bounded by the scan period
 * when it was saved elsewhere), as long as concurrency is available.
 */
import { hostname } from 'node:os';
import { MongoBackend } from '@agendajs/mongo-backend';
import { Agenda, type AgendaBackend, InMemoryNotificationChannel, type Job, toJobId } from 'agenda';
import type BetterSqlite3 from 'better-sqlite3';
import type { Db as MongoDb } from 'mongodb';
import { ObjectId } from 'mongodb';
import type { Logger } from 'pino';
import { SqliteAgendaBackend } from './sqlite-agenda-backend.js';

export type SchedulerBackendConfig =
  | { kind: 'embedded'; db: import('better-sqlite3').Database }
  | { kind: 'mongodb'; db: import('mongodb').Db };

export interface Scheduler {
  /** Registers the handler for a job name (before start). */
  define(name: string, handler: (data: Record<string, unknown>) => Promise<void>): void;
  /** Schedules a one-off job at `when`; idempotent per `key`: scheduling the same key again replaces the earlier one (never duplicates). A `when` in the past runs as soon as possible. */
  scheduleAt(name: string, when: Date, data: Record<string, unknown>, key: string): Promise<void>;
  /** Cancels the pending job with this key, if any. */
  cancel(key: string): Promise<void>;
  start(): Promise<void>;
  /** Stops taking new jobs and waits for running ones to finish (graceful). */
  stop(): Promise<void>;
  /** Number of jobs running now, and number pending. */
  stats(): Promise<{ running: number; pending: number }>;
}

export type CreateSchedulerOptions = SchedulerBackendConfig & {
  logger: Logger;
  /** How often Agenda scans for due jobs (ms or a duration string). Default 500 ms. */
  processEvery?: string | number;
  /** Handlers running at once (overall and per job name). Default 50. */
  concurrency?: number;
  /** Most jobs one instance holds locked (queued or running) at a time. Default 5000. */
  lockLimit?: number;
  /** A running job whose lock is older than this is considered dead and may run again. Default 10 min. */
  lockLifetime?: number;
};

/** How Baton stores a job's data. */
interface Envelope {
  key: string;
  payload: Record<string, unknown>;
}

interface KeyedJob {
  id: string;
  name: string;
  locked: boolean;
}

/** Backend-specific look-ups Agenda's API does not offer (by `data.key`; pending count). */
interface KeyIndex {
  findByKey(key: string): Promise<KeyedJob[]>;
  countPending(): Promise<number>;
  /** Called before start: releases locks that can only be stale (single-process backends). */
  releaseStaleLocks(): Promise<number>;
}

const MONGO_COLLECTION = 'agendaJobs';
const REFILL_MS = 50;
const SQLITE_TABLE = 'agenda_jobs';

export const SCHEDULER_DEFAULTS = {
  processEvery: 500,
  concurrency: 50,
  lockLimit: 5000,
  lockLifetime: 10 * 60 * 1000,
} as const;

function embedded(db: BetterSqlite3.Database): { backend: SqliteAgendaBackend; index: KeyIndex } {
  const backend = new SqliteAgendaBackend(db, { tableName: SQLITE_TABLE, dataIndexes: ['key'] });
  const repo = backend.repository;
  return {
    backend,
    index: {
      findByKey: async (key) =>
        repo
          .findByDataField('key', key)
          .map((j) => ({ id: String(j._id), name: j.name, locked: j.lockedAt != null })),
      countPending: async () => repo.countPending(),
      releaseStaleLocks: async () => repo.releaseAllLocks(),
    },
  };
}

function mongodb(db: MongoDb): { backend: AgendaBackend; index: KeyIndex; prepare: () => Promise<void> } {
  const backend = new MongoBackend({ mongo: db, collection: MONGO_COLLECTION });
  const jobs = db.collection(MONGO_COLLECTION);
  return {
    backend,
    prepare: async () => {
      await jobs.createIndex({ 'data.key': 1 }, { name: 'batonKey' });
    },
    index: {
      findByKey: async (key) => {
        const docs = await jobs
          .find({ 'data.key': key }, { projection: { _id: 1, name: 1, lockedAt: 1 } })
          .toArray();
        return docs.map((d) => ({
          id: d._id instanceof ObjectId ? d._id.toHexString() : String(d._id),
          name: String(d.name),
          locked: d.lockedAt != null,
        }));
      },
      countPending: async () => jobs.countDocuments({ nextRunAt: { $ne: null }, disabled: { $ne: true } }),
      // several instances may share the collection: other instances' locks are live
      releaseStaleLocks: async () => 0,
    },
  };
}

/**
 * Wraps a backend that is already connected so that Agenda's constructor, which calls
 * `connect()` without handling a rejection, cannot fail (DEPENDENCIES.md, gotcha 10).
 */
function alreadyConnected(backend: AgendaBackend): AgendaBackend {
  return {
    name: backend.name,
    repository: backend.repository,
    notificationChannel: backend.notificationChannel,
    logger: backend.logger,
    ownsConnection: false,
    connect: async () => {},
    disconnect: async () => {},
  };
}

const errorInfo = (err: unknown) =>
  err instanceof Error ? { message: err.message, stack: err.stack } : { message: String(err) };

export async function createScheduler(config: CreateSchedulerOptions): Promise<Scheduler> {
  const log = config.logger.child({ component: 'scheduler' });
  const setup =
    config.kind === 'embedded' ? { ...embedded(config.db), prepare: async () => {} } : mongodb(config.db);

  try {
    await setup.backend.connect();
    await setup.prepare();
  } catch (err) {
    log.error({ err: errorInfo(err), backend: config.kind }, 'scheduler backend failed to connect');
    throw new Error(`scheduler: cannot connect the ${config.kind} backend: ${errorInfo(err).message}`, {
      cause: err,
    });
  }

  const concurrency = config.concurrency ?? SCHEDULER_DEFAULTS.concurrency;
  const instance = `baton:${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  const channel = new InMemoryNotificationChannel();
  const agenda = new Agenda({
    backend: alreadyConnected(setup.backend),
    name: instance,
    processEvery: config.processEvery ?? SCHEDULER_DEFAULTS.processEvery,
    maxConcurrency: concurrency,
    defaultConcurrency: concurrency,
    lockLimit: config.lockLimit ?? SCHEDULER_DEFAULTS.lockLimit,
    defaultLockLifetime: config.lockLifetime ?? SCHEDULER_DEFAULTS.lockLifetime,
    // one-off jobs leave the table once they succeeded; failed ones stay (with failReason) for inspection
    removeOnComplete: true,
    // wakes the processor at once when a job due now is saved by this process
    notificationChannel: channel,
  });
  await agenda.ready;

  agenda.on('error', (err: Error) => {
    // a job cancelled or replaced after this instance had locked it: it is simply not run
    if (/cannot be updated in the database/.test(err.message)) {
      log.debug({ err: errorInfo(err) }, 'scheduled job was cancelled or replaced before it ran');
      return;
    }
    log.error({ err: errorInfo(err) }, 'scheduler error');
  });

  // Agenda locks more jobs only on its periodic scan or on a notification. When more jobs
  // are due than `lockLimit`, a finished job nudges it (at most every REFILL_MS per name)
  // so the queue refills as it drains instead of once per scan.
  const lastRefill = new Map<string, number>();
  const refill = (name: string) => {
    const now = Date.now();
    if (!started || channel.state !== 'connected' || now - (lastRefill.get(name) ?? 0) < REFILL_MS) return;
    lastRefill.set(name, now);
    channel
      .publish({
        jobId: toJobId(`refill:${name}`),
        jobName: name,
        nextRunAt: new Date(now),
        priority: 0,
        timestamp: new Date(now),
      })
      .catch(() => {});
  };

  // Jobs started and not yet complete (by id), to report `running` and let stop() wait.
  const inFlight = new Set<string>();
  let idleWaiters: (() => void)[] = [];
  agenda.on('start', (job: Job, remote?: boolean) => {
    if (remote !== true) inFlight.add(String(job.attrs._id));
  });
  agenda.on('complete', (job: Job, remote?: boolean) => {
    if (remote === true) return;
    inFlight.delete(String(job.attrs._id));
    refill(job.attrs.name);
    if (inFlight.size === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  });
  const idle = () =>
    inFlight.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve));
  const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

  // Operations on one key run one after another, so two calls cannot both insert.
  const keyQueues = new Map<string, Promise<unknown>>();
  const withKey = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const prev = keyQueues.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => {});
    keyQueues.set(key, settled);
    void settled.then(() => {
      if (keyQueues.get(key) === settled) keyQueues.delete(key);
    });
    return next;
  };

  let started = false;

  return {
    define(name, handler) {
      agenda.define(name, async (job: Job<Envelope>) => {
        const envelope = job.attrs.data;
        const startedAt = Date.now();
        try {
          await handler(envelope?.payload ?? {});
        } catch (err) {
          log.error(
            {
              err: errorInfo(err),
              job: name,
              key: envelope?.key,
              jobId: String(job.attrs._id),
              durationMs: Date.now() - startedAt,
            },
            'scheduled job failed',
          );
          throw err;
        }
      });
    },

    scheduleAt(name, when, data, key) {
      return withKey(key, async () => {
        // A copy that is locked (about to run or running) is removed rather than updated:
        // Agenda rewrites a locked job when it finishes, which would lose the new schedule.
        // Removing a locked copy that has not started yet keeps it from running.
        const stale = (await setup.index.findByKey(key)).filter((j) => j.locked || j.name !== name);
        if (stale.length > 0) await agenda.cancel({ ids: stale.map((j) => j.id) });
        const envelope: Envelope = { key, payload: data };
        await agenda.create(name, envelope).unique({ 'data.key': key, lockedAt: null }).schedule(when).save();
      });
    },

    cancel(key) {
      return withKey(key, async () => {
        const jobs = await setup.index.findByKey(key);
        if (jobs.length > 0) await agenda.cancel({ ids: jobs.map((j) => j.id) });
      });
    },

    async start() {
      if (started) return;
      const released = await setup.index.releaseStaleLocks();
      if (released > 0) log.info({ released }, 'released stale job locks');
      await agenda.start();
      started = true;
      log.info({ backend: config.kind, instance }, 'scheduler started');
    },

    async stop() {
      if (!started) return;
      started = false;
      // No new job starts after this; locked jobs that had not started are unlocked.
      await agenda.stop(false);
      // A job that had just been picked may still be saving its start: let it get there.
      await tick();
      await idle();
      // Removal of a completed job follows its 'complete' event.
      await tick();
      log.info({ backend: config.kind }, 'scheduler stopped');
    },

    async stats() {
      return { running: inFlight.size, pending: await setup.index.countPending() };
    },
  };
}
