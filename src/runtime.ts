import path from 'node:path';
import type { Config } from './config.js';
import { Baton } from './core/baton.js';
import type { Logger } from './logger.js';
import { createScheduler, type Scheduler } from './scheduler/scheduler.js';
import { openStore } from './store/index.js';
import type { MongoStore } from './store/mongo/mongo-store.js';
import type { Store } from './store/port.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';

export interface Runtime {
  store: Store;
  scheduler: Scheduler;
  baton: Baton;
  /**
   * Starts the scheduler and recovers what a restart left (once; `startRuntime` does it
   * itself unless `deferStart`).
   */
  start(): Promise<void>;
  /** Stops the scheduler, lets in-flight jobs finish, flushes and closes the store. */
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Install apps and recipes from RECIPES_DIR (default true). */
  installRecipes?: boolean;
  now?: () => Date;
  /**
   * Leave the scheduler and recovery to `runtime.start()`, called once the surfaces listen
   * to the core's events: a timer that fell due while Baton was down (a task expiring)
   * fires right after the start, and the surfaces must hear of it to update their copies.
   */
  deferStart?: boolean;
}

/** Opens the store, the scheduler and the core; installs recipes; recovers what a crash left. */
export async function startRuntime(
  config: Config,
  logger: Logger,
  options: RuntimeOptions = {},
): Promise<Runtime> {
  const store = await openStore({ dataDir: config.DATA_DIR, mongodbUrl: config.MONGODB_URL });
  let scheduler: Scheduler;
  try {
    const backend =
      store instanceof SqliteStore
        ? { kind: 'embedded' as const, db: store.db }
        : { kind: 'mongodb' as const, db: (store as MongoStore).db };
    scheduler = await createScheduler({
      ...backend,
      logger, // the scheduler names itself (component: scheduler); a second child would repeat the key
      processEvery: config.SCHEDULER_POLL_MS,
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  const baton = new Baton({
    store,
    scheduler,
    logger: logger.child({ component: 'core' }),
    bootstrapAdmins: config.BATON_ADMINS,
    ...(options.now ? { now: options.now } : {}),
    // Crash-only: a COMMIT that failed after its writes were acknowledged leaves this process
    // acting on data that is gone. Nothing built on it has left the process (the core's
    // durability barrier), so stopping here and recovering from disk at the next start is safe.
    onLostWrites: (err) => {
      logger.fatal(
        { err },
        'the store lost acknowledged writes (a COMMIT failed); exiting so a restart recovers',
      );
      process.exit(1);
    },
  });
  await baton.init();
  if (options.installRecipes !== false) {
    const report = await baton.recipes.installDirectory(path.resolve(config.RECIPES_DIR));
    logger.info(
      {
        apps: report.apps,
        recipes: report.recipes.map((r) => `${r.name}:${r.state}`),
        problems: report.problems.length,
        ...(report.removed ? { removed: report.removed } : {}),
      },
      'recipes installed',
    );
  }
  let sweep: NodeJS.Timeout | undefined;
  let started: Promise<void> | undefined;
  const start = () => {
    started ??= (async () => {
      await scheduler.start();
      await baton.recover();
      // With several instances on MongoDB, an instance that dies mid-job leaves its lease to
      // lapse; the others pick such jobs up. (The embedded store is single-process: start-up
      // recovery is enough.)
      if (store.kind === 'mongodb') {
        sweep = setInterval(() => {
          baton.recover().catch((err: unknown) => logger.error({ err }, 'recovery sweep failed'));
        }, 60_000);
        sweep.unref();
      }
    })();
    return started;
  };
  if (!options.deferStart) await start();
  let closed = false;
  return {
    store,
    scheduler,
    baton,
    start,
    async close() {
      if (closed) return;
      closed = true;
      if (sweep) clearInterval(sweep);
      await scheduler.stop();
      await baton.engine.drain();
      await store.close();
    },
  };
}
