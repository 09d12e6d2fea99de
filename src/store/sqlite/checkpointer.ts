/**
 * WAL checkpoints off the main thread.
 *
 * The store's own connection runs with `wal_autocheckpoint = 0`, so a commit never
 * pays for a checkpoint (which copies WAL pages into the database file and fsyncs
 * it). Instead a `worker_threads` worker with its own connection to the same file
 * runs `PRAGMA wal_checkpoint(PASSIVE)` every `intervalMs`. PASSIVE never blocks writers;
 * once every frame is checkpointed the next writer restarts the WAL from its beginning,
 * and `journal_size_limit` trims the file then, so the WAL stays bounded. (TRUNCATE or
 * RESTART would block writers while they wait for readers and sync the file: seen to
 * hold the write lock for more than 5 s on a busy disk, failing writes with SQLITE_BUSY.)
 * The worker reports how far each checkpoint got (`onProgress`): under constant writes it
 * never reaches the end of the WAL, and the store finishes the last few frames itself
 * (`SqliteStore.afterCheckpoint`) so that the WAL restarts.
 * The worker is `unref`'d: it never keeps the process alive.
 *
 * The worker is an eval'd CommonJS script that `require`s better-sqlite3 by the path
 * resolved here, so it runs the same way under tsx, vitest and compiled JavaScript.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
function checkpoint() {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    if (r && r.log > 0) parentPort.postMessage({ log: r.log, checkpointed: r.checkpointed });
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
}
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort.close();
  }
});
`;

export interface CheckpointerOptions {
  /** Passive checkpoint period (default 250 ms). */
  intervalMs?: number;
  /** Called with checkpoint errors (they are otherwise ignored: the next tick retries). */
  onError?: (message: string) => void;
  /** Called after each checkpoint of a WAL that has frames: how many, and how many are now in the database file. */
  onProgress?: (progress: { log: number; checkpointed: number }) => void;
}

export class Checkpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  constructor(file: string, options: CheckpointerOptions = {}) {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        module,
        file,
        intervalMs: options.intervalMs ?? 250,
      },
    });
    this.worker.unref();
    this.worker.on('message', (m: { error?: string; log?: number; checkpointed?: number }) => {
      if (m?.error) options.onError?.(m.error);
      else if (typeof m?.log === 'number' && typeof m.checkpointed === 'number')
        options.onProgress?.({ log: m.log, checkpointed: m.checkpointed });
    });
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.once('error', (err) => {
        options.onError?.(String(err));
        resolve();
      });
    });
  }

  /** Stops the worker and waits until its connection is closed. */
  async stop(): Promise<void> {
    this.worker.postMessage('stop');
    const timer = setTimeout(() => void this.worker.terminate(), 2000);
    await this.exited;
    clearTimeout(timer);
  }
}
