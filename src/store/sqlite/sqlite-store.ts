/**
 * The embedded store engine: SQLite through better-sqlite3.
 *
 * Layout: one table per collection, `c_<name> (id TEXT PRIMARY KEY, doc BLOB NOT NULL)`,
 * `doc` holding the whole document (including `_id`) as SQLite JSONB (`jsonb(?)` on
 * write, `json(doc)` on read; the JSON functions and indexes read JSONB without
 * re-parsing text; a table from an earlier version holding JSON text still works, as
 * every JSON function accepts both). Dates are encoded as the string U+E000 + ISO-8601
 * (see `codec.ts` for why); they come back as `Date`. Filters become SQL WHERE clauses
 * (`filter-to-sql.ts`); updates are applied in JS with mingo's updater; `createIndex`
 * creates expression indexes on `json_extract(doc, '$."a"."b"')`, which the generated
 * WHERE clauses and ORDER BY terms can use.
 *
 * Sorting is on the raw `json_extract` value (see `sortToSql`): right for fields that
 * hold one type in every document (Baton's do); mixed-type fields that involve
 * booleans, objects or arrays sort differently from MongoDB. For a sorted query, a
 * plain string equality on a top-level field that leads an index, and that no
 * document holds an array in (an index probe, run in the same synchronous step),
 * compiles to a bare `json_extract(doc, path) = ?`, so that one index serves the
 * filter and the ORDER BY + LIMIT (no temporary B-tree) — e.g. `{app}` sorted by
 * `created_at` on an `{app: 1, created_at: -1}` index.
 *
 * Checkpoints: the connection runs with `wal_autocheckpoint = 0`; a worker thread with
 * its own connection checkpoints the WAL (`checkpointer.ts`), `close()` stops it and
 * truncates the WAL. In-memory stores have no worker.
 *
 * Durability: WAL mode with `synchronous = NORMAL`. A write whose promise resolved
 * survives a crash (kill -9) of the process; a power loss or OS crash may lose the
 * last transactions committed since the previous checkpoint/fsync (the database stays
 * consistent).
 *
 * Group commit: every operation runs synchronously when called (single process, one
 * connection, so each call is atomic with respect to the others — this is what makes
 * compare-and-set with `updateOne`/`findOneAndUpdate` safe). Writes share ONE open
 * transaction per burst of synchronous work and its microtasks: the first write opens it (`BEGIN IMMEDIATE`), each
 * write runs in its own SAVEPOINT (a failing operation, e.g. a unique-key violation,
 * undoes only itself), and the batch commits once the microtask queue has run dry (so
 * callers resumed by the previous operations — a chain of awaits moving through a job's
 * steps, concurrent requests — join in, and commit together once they all wait for
 * something else; or earlier, after `BATCH_MAX_OPS` operations or `BATCH_MAX_MS`). Inside a batch,
 * an update that changes no unique index value is applied to the document cache at once and
 * written to its row once, with the document's latest content, before the COMMIT or before
 * SQL next reads that table (`SqliteCollection.unwritten`); so is an insert into a table with
 * no unique index but `_id`, while that pays (`SqliteCollection.insertsSeen`). Not
 * `setImmediate`: that lets timers and I/O run between a caller's chained store
 * operations, which callers (and tests) written against the unbatched store observed
 * as new intermediate states. Every operation of a batch — reads run
 * while it is open included — settles only after the COMMIT containing it succeeded,
 * so an acknowledged write survives kill -9 and nobody acts on data that could vanish;
 * if the COMMIT fails, the batch is rolled back and every operation in it rejects.
 * Reads with no batch open settle at once. With `acknowledgeOnApply` (what the core uses)
 * operations settle as soon as they are applied instead, so a chain of dependent operations
 * shares one COMMIT, and the caller keeps the durability barrier (`durable()`) before
 * anything leaves the process. Cost (default mode): a write is acknowledged a few
 * dozen microtasks later than before (microseconds) plus its share of the COMMIT. Statements
 * that other components run on the shared handle (`db`) while a batch is open, inline
 * when `db.inTransaction` (as the Agenda backend does), join the batch: they commit
 * with it, and are rolled back with it if that COMMIT fails.
 *
 * Known differences from MongoDB: unique indexes on array-valued fields are not
 * multikey (the whole array is the key); `true`/`false` and `1`/`0` collide in unique
 * indexes; sorting on an array field orders by its JSON text rather than by its
 * min/max element; strings compare by UTF-8 bytes (like MongoDB's default, unlike JS).
 */

import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as mingoUpdateOps from 'mingo/operators/update';
import type {
  Collection,
  Cursor,
  Doc,
  Filter,
  FindOneAndUpdateOptions,
  FindOptions,
  IndexOptions,
  SortSpec,
  Store,
  Update,
  UpdateOptions,
  UpdateResult,
} from '../port.js';
import { Checkpointer } from './checkpointer.js';
import { DATE_MARK, decodeJson, fromStorable, isPlainObject, toStorable } from './codec.js';
import { matchRest } from './doc-match.js';
import {
  filterToSql,
  isPlainString,
  isScalarRange,
  jsonPath,
  REGEX_FN,
  sortToSql,
  splitPath,
} from './filter-to-sql.js';
import { applyProjection } from './projection.js';
import { compileStoredUpdate } from './stored-update.js';

type DB = Database.Database;
type Statement = Database.Statement;

const COLLECTION_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const UPDATE_OPS = new Set([
  '$set',
  '$unset',
  '$inc',
  '$push',
  '$pull',
  '$addToSet',
  '$setOnInsert',
  '$min',
  '$max',
]);

export interface SqliteStoreOptions {
  /** File name inside `dataDir` (default `baton.db`), or `':memory:'` for an in-memory database. */
  filename?: string;
  /** Tuning for tests: WAL frames past which the WAL is restarted under load (default 16,384). */
  walResetFrames?: number;
  /** Tuning for tests: the checkpoint worker's period (default 250 ms). */
  checkpointIntervalMs?: number;
}

/** Another live process holds the database file (the embedded store is one process at a time). */
export class StoreInUseError extends Error {
  readonly code = 'BATON_DATA_DIR_IN_USE';
  constructor(message: string) {
    super(message);
    this.name = 'StoreInUseError';
  }
}

/** Locks held by this process, by lock file: how many open stores share each, and their release. */
const heldLocks = new Map<string, { count: number; owner: Database.Database }>();

/**
 * Takes the database for this process, so a second Baton on the same DATA_DIR stops at start
 * instead of writing beside the first (whose document cache assumes it is the only writer).
 * The lock is the kernel's: an exclusive SQLite lock held on `<file>.owner` for as long as the
 * store is open, which the kernel drops when the process dies (kill -9 included) and which a
 * process in another PID namespace (a container on the same volume, a rolling update) meets
 * too. (A pid file alone was taken over by a Baton whose namespace did not have that pid:
 * two writers on one database.) `<file>.lock` holds the owner's pid and host, for the message.
 * Returns the release.
 */
function lockDatabase(file: string): () => void {
  const lock = `${file}.lock`;
  const release = () => {
    const held = heldLocks.get(lock);
    if (!held) return;
    if (--held.count > 0) return;
    heldLocks.delete(lock);
    try {
      if (readFileSync(lock, 'utf8').split(/\s/)[0] === String(process.pid)) unlinkSync(lock);
    } catch {
      // Already gone.
    }
    held.owner.close();
  };
  const held = heldLocks.get(lock);
  if (held !== undefined) {
    held.count++;
    return release;
  }
  const owner = new Database(`${file}.owner`, { timeout: 0 });
  try {
    owner.pragma('locking_mode = EXCLUSIVE');
    owner.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    owner.close();
    if ((err as { code?: unknown }).code !== 'SQLITE_BUSY') throw err;
    let holder = '';
    try {
      const [pid, host] = readFileSync(lock, 'utf8').trim().split(/\s+/);
      if (pid) holder = ` (pid ${pid}${host && host !== hostname() ? ` on ${host}` : ''})`;
    } catch {
      // Not written yet.
    }
    throw new StoreInUseError(
      `${file} is in use by another Baton process${holder}. The embedded store allows one process at a time: stop that one, or give this one another DATA_DIR.`,
    );
  }
  writeFileSync(lock, `${process.pid} ${hostname()}\n`);
  heldLocks.set(lock, { count: 1, owner });
  return release;
}

/** An Error shaped like the MongoDB driver's duplicate-key error (`code === 11000`). */
export class DuplicateKeyError extends Error {
  readonly code = 11000;
  constructor(message: string) {
    super(message);
    this.name = 'DuplicateKeyError';
  }
}

/** No index of that name (MongoDB's IndexNotFound). */
export class IndexNotFoundError extends Error {
  readonly code = 27;
  readonly codeName = 'IndexNotFound';
  constructor(message: string) {
    super(message);
    this.name = 'IndexNotFoundError';
  }
}

function translateError(err: unknown, table: string): unknown {
  const code = (err as { code?: unknown })?.code;
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const msg = (err as Error).message;
    return new DuplicateKeyError(`E11000 duplicate key error collection: ${table} (${msg})`);
  }
  return err;
}

function validateUpdate(update: Update): void {
  if (typeof update !== 'object' || update === null || Array.isArray(update)) {
    throw new Error('An update must be an object of update operators');
  }
  const keys = Object.keys(update);
  if (keys.length === 0) throw new Error('An update must not be empty');
  for (const k of keys) {
    if (!k.startsWith('$')) {
      throw new Error(
        'Replacement documents are not supported: the update must use operators ($set, $inc, ...)',
      );
    }
    if (!UPDATE_OPS.has(k)) throw new Error(`Unsupported update operator ${k}`);
  }
}

/** Splits `$setOnInsert` away; when inserting, it is merged into `$set`. */
function modifierFor(update: Update, inserting: boolean): Record<string, unknown> | null {
  const { $setOnInsert, ...rest } = update as Record<string, unknown>;
  if (inserting && $setOnInsert && typeof $setOnInsert === 'object') {
    rest.$set = { ...(rest.$set as Record<string, unknown> | undefined), ...($setOnInsert as object) };
  }
  return Object.keys(rest).length > 0 ? rest : null;
}

function setPath(doc: Record<string, unknown>, path: string, value: unknown): void {
  const segs = path.split('.');
  let cur = doc;
  for (let i = 0; i < segs.length - 1; i++) {
    const s = segs[i]!;
    if (!isPlainObject(cur[s])) cur[s] = {};
    cur = cur[s] as Record<string, unknown>;
  }
  cur[segs[segs.length - 1]!] = value;
}

/** The column of an indexed path (see SqliteCollection): `"f:<path>"`. */
const columnName = (path: string) => `"f:${path}"`;

/** An indexed path's column: its SQL name, and the expression it stands for in generated SQL. */
interface IndexColumn {
  path: string;
  segs: string[];
  name: string;
  expr: string;
}

/**
 * What `json_extract(doc, path)` yields for `doc` (stored or revived form), computed in JS:
 * NULL for a missing value or one below a non-object, 1/0 for booleans, a marked string for
 * a Date, the JSON text of an array or object, else the value itself. An index column holds
 * exactly this, so a query comparing the column answers as one comparing `json_extract`.
 */
function columnValue(doc: Record<string, unknown>, segs: readonly string[]): unknown {
  let cur: unknown = doc;
  for (const s of segs) {
    if (!isPlainObject(cur) || !Object.hasOwn(cur, s)) return null;
    cur = cur[s];
  }
  switch (typeof cur) {
    case 'string':
      return cur;
    case 'number':
      return Number.isFinite(cur) ? cur + 0 : null;
    case 'boolean':
      return cur ? 1 : 0;
    case 'object':
      if (cur === null) return null;
      if (cur instanceof Date) return Number.isNaN(cur.getTime()) ? null : DATE_MARK + cur.toISOString();
      // The document may be in the stored form (dates already marked strings).
      return JSON.stringify(toStorable(cur, true));
    default:
      return null;
  }
}

/** Seed document for an upsert: the filter's equality conditions (incl. inside `$and`, and `$eq`). */
function seedFromFilter(filter: Filter, out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const key of Object.keys(filter)) {
    const v = filter[key];
    if (key === '$and' && Array.isArray(v)) {
      for (const sub of v) seedFromFilter(sub as Filter, out);
      continue;
    }
    if (key.startsWith('$')) continue;
    if (v instanceof RegExp) continue;
    if (isPlainObject(v) && Object.keys(v).some((k) => k.startsWith('$'))) {
      if ('$eq' in v) setPath(out, key, structuredClone(v.$eq));
      continue;
    }
    setPath(out, key, structuredClone(v));
  }
  return out;
}

type Mutator = (doc: Record<string, unknown>) => string[];
type OperatorFactory = (expr: Record<string, unknown>) => Mutator;

/** mingo's update operators, used directly (the `update()` helper rebuilds its whole context on every call). */
const OPERATORS: Record<string, OperatorFactory> = {
  $set: mingoUpdateOps.$set as OperatorFactory,
  $unset: mingoUpdateOps.$unset as OperatorFactory,
  $inc: mingoUpdateOps.$inc as OperatorFactory,
  $push: mingoUpdateOps.$push as OperatorFactory,
  $pull: mingoUpdateOps.$pull as OperatorFactory,
  $addToSet: mingoUpdateOps.$addToSet as OperatorFactory,
  $min: mingoUpdateOps.$min as OperatorFactory,
  $max: mingoUpdateOps.$max as OperatorFactory,
};

/** Compiles a modifier (without `$setOnInsert`) into a function returning whether the document changed. */
function compileModifier(
  modifier: Record<string, unknown> | null,
): (doc: Record<string, unknown>) => boolean {
  if (!modifier) return () => false;
  const paths: string[] = [];
  for (const op of Object.keys(modifier)) {
    const expr = modifier[op];
    if (!isPlainObject(expr)) throw new Error(`${op} needs an object of field paths`);
    for (const path of Object.keys(expr)) {
      if (path === '_id' || path.startsWith('_id.')) {
        throw new Error(`Performing an update on the path '${path}' would modify the immutable field '_id'`);
      }
      for (const other of paths) {
        if (other === path || other.startsWith(`${path}.`) || path.startsWith(`${other}.`)) {
          throw new Error(`Updating the path '${path}' would create a conflict at '${other}'`);
        }
      }
      paths.push(path);
    }
  }
  // mingo's operators are built on first use: most updates are applied by compileStoredUpdate.
  let fns: Mutator[] | null = null;
  return (doc) => {
    fns ??= Object.keys(modifier).map((op) => OPERATORS[op]!(modifier[op] as Record<string, unknown>));
    let modified = false;
    for (const fn of fns) if (fn(doc).length > 0) modified = true;
    return modified;
  };
}

/** Compiled pieces of a filter, cached per collection by a cheap structural key. */
interface Where {
  sql: string;
  params: unknown[];
}

/**
 * Group commit: at most this many operations, or this many milliseconds, per transaction.
 * A batch normally ends when the microtask queue runs dry; these bound a burst that keeps it
 * busy (many callers in lockstep, a sweep). The window is long enough for a burst of many
 * callers each taking one step to share a batch: at 64 cycles in flight, each round of steps
 * takes ~15–20 ms of CPU, and a 5 ms window cut it into pieces, so a cycle's consecutive
 * updates of one document (a job moving through its steps, a task completed then handed off)
 * fell in different batches and cost an UPDATE each (15.8 statements per cycle, against 13.7
 * with 20 ms; 0.12 COMMITs per cycle, against 0.03). An acknowledgement waiting for the
 * COMMIT (`durable()`) waits at most this long behind such a burst.
 */
const BATCH_MAX_OPS = 1000;
const BATCH_MAX_MS = 20;
/** Deferred inserts (see `SqliteCollection.insertsSeen`): how many are counted per trial, and how many inserts are not deferred after a trial that did not pay. */
const DEFER_TRIAL = 64;
const DEFER_PAUSE = 1024;
/** Documents kept per collection by the write-through cache (see SqliteCollection). */
const CACHE_ENTRIES = 1024;
/** Past this size the WAL is truncated at the next quiet moment (no COMMIT for WAL_IDLE_MS). */
const WAL_TRUNCATE_BYTES = 256 * 1024 * 1024;
/** Past this size it is truncated between two batches even while writes keep coming. */
const WAL_FORCE_TRUNCATE_BYTES = 1024 * 1024 * 1024;
const WAL_IDLE_MS = 200;
/** Past this many frames (64 MB of 4 KB pages) the store helps the worker's checkpoints reach the WAL's end (see `afterCheckpoint`). */
const WAL_RESET_FRAMES = 16_384;
/** ...when at most this many frames were left behind by the worker's last checkpoint. */
const WAL_TOPUP_MAX_LAG = 2_048;

/** The open write transaction shared by the operations of one burst (see `begin`). */
interface Batch {
  /** Settles when the batch's COMMIT succeeded (or rejects when it failed). */
  readonly done: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
  readonly started: number;
  ops: number;
}

export class SqliteStore implements Store {
  readonly kind = 'embedded' as const;
  /** The better-sqlite3 handle (other components may create their own tables on it). */
  readonly db: DB;
  private readonly stmts = new Map<string, Statement>();
  private readonly tables = new Set<string>();
  private readonly collections = new Map<string, SqliteCollection<Doc>>();
  /** Collections holding updates not yet written to their table (see `SqliteCollection.unwritten`). */
  private readonly unwritten = new Set<SqliteCollection<Doc>>();
  /** True while a multi-statement operation runs in its savepoint: its updates are written at once. */
  private inSavepoint = false;
  private closed = false;
  private readonly txn: (fn: () => unknown) => unknown;
  private batch: Batch | null = null;
  private readonly beginStmt: Statement;
  private readonly commitStmt: Statement;
  private checkpointer: Checkpointer | null = null;
  private walFile: string | null = null;
  private commitsSinceWalCheck = 0;
  /** COMMITs of batches so far (benchmarks report COMMITs per unit of work). */
  commitCount = 0;
  private lastCommitAt = 0;
  private walTimer: NodeJS.Timeout | null = null;
  private topUpQueued = false;
  /** Set by `acknowledgeOnApply`: writes settle when applied; called when a COMMIT loses them. */
  private onLost: ((err: unknown) => void) | null = null;

  private readonly unlock: () => void;

  private readonly walResetFrames: number;

  private constructor(
    db: DB,
    file: string | null,
    unlock: () => void = () => {},
    options: SqliteStoreOptions = {},
  ) {
    this.db = db;
    this.unlock = unlock;
    this.walResetFrames = options.walResetFrames ?? WAL_RESET_FRAMES;
    this.txn = db.transaction((fn: () => unknown) => fn());
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: commits survive a process crash; a power loss may lose the last transactions.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    // Larger page cache than the 2 MB default.
    db.pragma('cache_size = -32768');
    if (file !== null) {
      // Checkpoints (which fsync) run in a worker thread on its own connection, never in a commit.
      db.pragma('wal_autocheckpoint = 0');
      // Once checkpointed and reset, a WAL file larger than this is truncated back to it.
      db.pragma(`journal_size_limit = ${WAL_TRUNCATE_BYTES}`);
      this.checkpointer = new Checkpointer(file, {
        onProgress: (p) => this.afterCheckpoint(p),
        ...(options.checkpointIntervalMs !== undefined ? { intervalMs: options.checkpointIntervalMs } : {}),
      });
      this.walFile = `${file}-wal`;
    }
    this.beginStmt = db.prepare('BEGIN IMMEDIATE');
    this.commitStmt = db.prepare('COMMIT');
    const cache = new Map<string, RegExp>();
    db.function(REGEX_FN, { deterministic: true }, (pattern: unknown, flags: unknown, value: unknown) => {
      if (typeof value !== 'string') return 0;
      const key = `${flags as string}/${pattern as string}`;
      let re = cache.get(key);
      if (!re) {
        re = new RegExp(pattern as string, flags as string);
        if (cache.size > 500) cache.clear();
        cache.set(key, re);
      }
      return re.test(value) ? 1 : 0;
    });
    this.loadTables();
  }

  private loadTables(): void {
    this.tables.clear();
    for (const row of this.db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'c\\_%' ESCAPE '\\'")
      .all() as { name: string }[]) {
      this.tables.add(row.name);
    }
  }

  /**
   * Opens (creating if needed) `dataDir/baton.db`. Pass `{ filename: ':memory:' }` for an
   * in-memory database (tests).
   */
  static open(dataDir: string, options: SqliteStoreOptions = {}): SqliteStore {
    const filename = options.filename ?? 'baton.db';
    if (filename === ':memory:') return new SqliteStore(new Database(':memory:'), null);
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, filename);
    const unlock = lockDatabase(file);
    try {
      return new SqliteStore(new Database(file), file, unlock, options);
    } catch (err) {
      unlock();
      throw err;
    }
  }

  /** A cached prepared statement for `sql`. */
  stmt(sql: string): Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  /** Runs `fn` inside a transaction (nested calls become savepoints). */
  transaction<R>(fn: () => R): R {
    return this.txn(fn) as R;
  }

  /**
   * Runs a writing operation now, synchronously, inside the current batch transaction
   * (opened if needed) and in its own savepoint, so a failure undoes only this operation.
   * `oneStatement`: `fn` modifies the database with at most one SQL statement, which
   * SQLite already undoes on its own when it fails, so no savepoint is needed.
   * The promise settles after the COMMIT that contains the operation succeeded.
   */
  write<R>(fn: () => R, oneStatement = false): Promise<R> {
    let b: Batch;
    try {
      this.assertOpen();
      b = this.batch ?? this.begin();
    } catch (err) {
      return Promise.reject(err);
    }
    let result: R;
    try {
      result = oneStatement ? fn() : this.inOwnSavepoint(fn);
    } catch (err) {
      this.afterOp(b, err);
      return this.failed(b, err);
    }
    this.afterOp(b, null);
    return this.settled(b, result);
  }

  /**
   * Runs a multi-statement operation in a savepoint of its own. Updates deferred by earlier
   * operations are written first, outside it: rolling the savepoint back must not undo them.
   */
  private inOwnSavepoint<R>(fn: () => R): R {
    this.writeDeferred();
    this.inSavepoint = true;
    try {
      return this.txn(fn) as R;
    } catch (err) {
      // The savepoint's rollback also undid a table it created (a first write that failed):
      // the set of tables known must not keep it.
      this.loadTables();
      throw err;
    } finally {
      this.inSavepoint = false;
    }
  }

  /** Whether an update may stay in the cache until the batch commits (not inside a savepoint). */
  get deferring(): boolean {
    return this.batch !== null && !this.inSavepoint;
  }

  /** A collection now holds a deferred update: write it before the COMMIT. */
  deferred(c: SqliteCollection<Doc>): void {
    this.unwritten.add(c);
  }

  /** Writes every deferred update to its table (before a COMMIT, or a savepoint). */
  private writeDeferred(): void {
    for (const c of this.unwritten) {
      c.writeDeferred();
      this.unwritten.delete(c);
    }
  }

  /** How an operation of batch `b` settles: at once when acknowledging on apply, else after the COMMIT. */
  private settled<R>(b: Batch, value: R): Promise<R> {
    return this.onLost ? Promise.resolve(value) : b.done.then(() => value);
  }

  private failed(b: Batch, err: unknown): Promise<never> {
    return this.onLost ? Promise.reject(err) : b.done.then(() => Promise.reject(err));
  }

  /**
   * From now on every operation settles as soon as it is applied, without waiting for the
   * COMMIT of its batch: the caller keeps the durability barrier (nothing leaves the process
   * before `durable()`), and `onLost` hears of a COMMIT that failed after its writes had been
   * acknowledged. Chains of dependent operations then share one COMMIT instead of one each.
   */
  acknowledgeOnApply(onLost: (err: unknown) => void): void {
    this.onLost = onLost;
  }

  /** Resolves once every write applied so far is committed (rejects if that COMMIT fails). */
  durable(): Promise<void> {
    return this.batch?.done ?? Promise.resolve();
  }

  /** The open batch's COMMIT, when there is one. */
  pending(): Promise<void> | null {
    return this.batch?.done ?? null;
  }

  /** The batch transaction open right now, if any (cache entries remember the batch that wrote them). */
  get openBatch(): object | null {
    return this.batch;
  }

  /**
   * Like `read`, for a read that knows what it saw: `fn` returns the value and whether it
   * depends on a write of the open batch. One that does not settles at once, even inside
   * a batch (a cached document last written by an already committed batch).
   */
  readKnown<R>(fn: () => { value: R; uncommitted: boolean }): Promise<R> {
    const b = this.batch;
    let out: { value: R; uncommitted: boolean };
    try {
      this.assertOpen();
      out = fn();
    } catch (err) {
      if (b === null) return Promise.reject(err);
      this.afterOp(b, err);
      return this.failed(b, err);
    }
    if (b === null || !out.uncommitted) return Promise.resolve(out.value);
    this.afterOp(b, null);
    return this.settled(b, out.value);
  }

  /**
   * Runs a reading operation now. Outside a batch it settles at once (it saw committed
   * data only); inside one it may have seen the batch's uncommitted writes, so it settles
   * after that batch's COMMIT.
   */
  read<R>(fn: () => R): Promise<R> {
    const b = this.batch;
    if (b === null) {
      try {
        this.assertOpen();
        return Promise.resolve(fn());
      } catch (err) {
        return Promise.reject(err);
      }
    }
    let result: R;
    try {
      result = fn();
    } catch (err) {
      this.afterOp(b, err);
      return this.failed(b, err);
    }
    this.afterOp(b, null);
    return this.settled(b, result);
  }

  private begin(): Batch {
    if (this.db.inTransaction) {
      throw new Error('The embedded store was called inside a foreign transaction on its connection');
    }
    this.beginStmt.run();
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Nobody may be waiting on a batch whose operations were acknowledged on apply.
    done.catch(() => {});
    const b: Batch = { done, resolve, reject, started: performance.now(), ops: 0 };
    this.batch = b;
    // Commit once the microtask queue has run dry: callers resumed by operations of the
    // batch (the continuations awaiting them: a job moving through its steps, concurrent
    // requests) share it, and it commits before the event loop turns, so callers chained on
    // store operations progress without timers or I/O interleaving, as with an unbatched
    // store. A tick queued from a microtask runs once the microtask queue is empty (Node
    // runs its tick queue after each full drain), hence the microtask first. (Committing
    // after a fixed number of microtask rounds cut chains of dependent operations into
    // several batches, each with its COMMIT, and cost a queued microtask per round.)
    // (Tried on 2026-12-04: leaving the batch open until the check phase when acknowledging on
    // apply, so that the I/O callbacks of one poll phase share a COMMIT. COMMITs per Slack round
    // trip fell from 9.1 to 2.0, but CPU per round trip rose ~20 % and the ack p99 doubled: each
    // surface call waits for the durability barrier, so a click's chain of calls then took one
    // turn of the event loop per call.)
    queueMicrotask(() => process.nextTick(() => this.commit(b)));
    return b;
  }

  private afterOp(b: Batch, err: unknown): void {
    if (this.batch !== b) return;
    if (!this.db.inTransaction) {
      // SQLite rolled the whole transaction back (e.g. SQLITE_FULL, SQLITE_IOERR): the batch is lost.
      this.batch = null;
      this.loadTables();
      this.clearCaches();
      const lost = err ?? new Error('The batch transaction was rolled back');
      b.reject(lost);
      this.onLost?.(lost);
      return;
    }
    b.ops += 1;
    if (b.ops >= BATCH_MAX_OPS || performance.now() - b.started >= BATCH_MAX_MS) this.commit(b);
  }

  /** Commits `b` if it is still the open batch; settles every operation in it. */
  private commit(b: Batch): void {
    if (this.batch !== b) return;
    try {
      // SQLite may have rolled the transaction back on its own (SQLITE_FULL, SQLITE_IOERR...).
      if (!this.db.inTransaction) throw new Error('The batch transaction was rolled back');
      this.writeDeferred();
    } catch (err) {
      this.batch = null;
      this.abandon(b, err);
      return;
    }
    this.batch = null;
    try {
      this.commitStmt.run();
    } catch (err) {
      this.abandon(b, err);
      return;
    }
    b.resolve();
    this.commitCount += 1;
    this.lastCommitAt = performance.now();
    if (this.topUpQueued) this.topUp();
    if (this.walFile !== null && ++this.commitsSinceWalCheck >= 500) {
      this.commitsSinceWalCheck = 0;
      this.truncateWalIfLarge();
    }
  }

  /** A batch that could not be committed: rolled back, its operations rejected (or reported lost). */
  private abandon(b: Batch, err: unknown): void {
    if (this.db.inTransaction) {
      try {
        this.db.exec('ROLLBACK');
      } catch {
        // Already rolled back.
      }
    }
    this.loadTables();
    this.clearCaches();
    b.reject(err);
    this.onLost?.(err);
  }

  /**
   * The worker reports each checkpoint. Under constant writes its checkpoints never reach the
   * end of the WAL (frames keep coming while it copies), so the WAL is never restarted and
   * grows until the forced truncation below stalls the process (over a second at 1 GB on a
   * slow machine: acks waited behind it). So once the WAL holds WAL_RESET_FRAMES and the
   * worker left only a few frames behind, this connection checkpoints those few itself,
   * between two batches (a few ms: most of the copying and syncing is done), and the next
   * BEGIN restarts the WAL from its beginning. The WAL then stays near 64 MB under load.
   */
  private afterCheckpoint(p: { log: number; checkpointed: number }): void {
    if (p.log < this.walResetFrames || p.log - p.checkpointed > WAL_TOPUP_MAX_LAG || this.topUpQueued) return;
    this.topUpQueued = true;
    setImmediate(() => this.topUp());
  }

  /** The top-up checkpoint (see `afterCheckpoint`), between two batches: a batch in progress runs it after its COMMIT. */
  private topUp(): void {
    if (!this.topUpQueued || this.closed || this.batch !== null || this.db.inTransaction) return;
    this.topUpQueued = false;
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Busy (the worker is checkpointing): the next report tries again.
    }
  }

  /**
   * Under constant writes the worker's passive checkpoints may never catch up with the end
   * of the WAL, so it is never reset. Truncate it here, between batches: this connection is
   * the only writer and holds no snapshot then, so the checkpoint waits for nobody. It blocks
   * the event loop for its duration (~100 ms: the backfill and one sync), so past
   * WAL_TRUNCATE_BYTES it waits for a quiet moment (no COMMIT for WAL_IDLE_MS) — a burst of
   * requests is not stalled in its middle — and only past WAL_FORCE_TRUNCATE_BYTES does it
   * run while writes keep coming (bounded disk use). A smaller limit cost ~7 % of a busy
   * cycle benchmark; truncating mid-burst put ~100 ms on the Slack bench's ack p99.
   */
  private truncateWalIfLarge(): void {
    let size: number;
    try {
      size = statSync(this.walFile!).size;
    } catch {
      return; // No WAL file yet.
    }
    if (size > WAL_FORCE_TRUNCATE_BYTES) this.truncateWal();
    else if (size > WAL_TRUNCATE_BYTES && this.walTimer === null) this.truncateWhenQuiet();
  }

  private truncateWhenQuiet(): void {
    this.walTimer = setTimeout(() => {
      this.walTimer = null;
      if (this.closed) return;
      if (this.batch !== null || performance.now() - this.lastCommitAt < WAL_IDLE_MS) {
        this.truncateWhenQuiet();
        return;
      }
      this.truncateWal();
    }, WAL_IDLE_MS);
    this.walTimer.unref();
  }

  private truncateWal(): void {
    if (this.batch !== null || this.db.inTransaction) return;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // The checkpoint was busy: try again later.
    }
  }

  /** Forgets every cached document (after a rollback, or when tables are dropped). */
  private clearCaches(): void {
    for (const c of this.collections.values()) c.clearCache();
    this.unwritten.clear();
  }

  hasTable(table: string): boolean {
    return this.tables.has(table);
  }

  /** Creates the collection's table if needed. */
  ensureTable(table: string): void {
    if (this.tables.has(table)) return;
    this.db.exec(`CREATE TABLE IF NOT EXISTS "${table}" (id TEXT PRIMARY KEY, doc BLOB NOT NULL)`);
    this.tables.add(table);
  }

  collection<T extends Doc = Doc>(name: string): Collection<T> {
    this.assertOpen();
    if (typeof name !== 'string' || !COLLECTION_NAME.test(name)) {
      throw new Error(`Invalid collection name "${name}": must match [A-Za-z_][A-Za-z0-9_]*`);
    }
    let c = this.collections.get(name);
    if (!c) {
      c = new SqliteCollection<Doc>(this, name);
      this.collections.set(name, c);
    }
    return c as unknown as Collection<T>;
  }

  async dropAll(): Promise<void> {
    await this.write(() => {
      const names = (
        this.db
          .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'c\\_%' ESCAPE '\\'")
          .all() as { name: string }[]
      ).map((r) => r.name);
      this.stmts.clear();
      for (const n of names) this.db.exec(`DROP TABLE IF EXISTS "${n}"`);
      this.tables.clear();
      this.clearCaches();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.walTimer) clearTimeout(this.walTimer);
    this.walTimer = null;
    if (this.batch) this.commit(this.batch);
    this.closed = true;
    this.stmts.clear();
    const checkpointer = this.checkpointer;
    this.checkpointer = null;
    try {
      await checkpointer?.stop();
    } catch {
      // The final checkpoint below does its work anyway.
    }
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
      this.unlock();
    }
  }

  assertOpen(): void {
    if (this.closed) throw new Error('The store is closed');
  }
}

class ArrayCursor<T> implements Cursor<T> {
  constructor(private readonly run: () => Promise<T[]>) {}
  toArray(): Promise<T[]> {
    return this.run();
  }
}

/** An `unwritten` entry for a document inserted in the open batch and not written yet. */
interface PendingInsert {
  /** Whether it was updated since (the deferral saved an UPDATE). */
  updated: boolean;
}

/** A cached document: its rowid and its stored form (never handed out; callers get copies). */
interface CacheEntry {
  rowid: number;
  doc: Record<string, unknown>;
  /** The batch open when the entry was written or loaded: while it is open, the entry may hold uncommitted data. */
  batch: object | null;
}

/** The `_id` of a filter anchored on one document by a plain string `_id`, else undefined. */
function anchorId(filter: Filter | undefined): string | undefined {
  if (filter === null || typeof filter !== 'object') return undefined;
  const id = (filter as Record<string, unknown>)._id;
  return typeof id === 'string' && !id.startsWith(DATE_MARK) ? id : undefined;
}

/**
 * Write-through document cache: the last CACHE_ENTRIES documents read or written by `_id`,
 * in stored form. This process is the only writer of its tables (the embedded store is
 * single-process), every write of this collection goes through this object and updates
 * or evicts the entry after its SQL statement succeeded, and a rollback clears the
 * cache; so a cached document is always what a SELECT would return now. `_id` reads and
 * `_id`-anchored compare-and-set updates then skip the SELECT and the JSON decoding; the
 * rest of their filter is checked in memory (`matchRest`) when that is exact, else in SQL.
 */
class SqliteCollection<T extends Doc> implements Collection<T> {
  private readonly table: string;
  private readonly q: string;
  /** Cache of `leadingIndexPaths()`; reset by createIndex. */
  private leading: Set<string> | null = null;
  /** Top-level paths that are the first two columns of an index (see `scalarSortPaths`). */
  private seconds: [string, string][] = [];
  private readonly cache = new Map<string, CacheEntry>();
  /**
   * Updated documents whose new content is so far only in the cache, by `_id`, with the index
   * column values their row still holds. Inside a batch an update that changes no value of a
   * unique index is not written at once: the row is written once, with its latest content,
   * before the batch commits or before SQL reads this table — so a document updated several
   * times in one batch (a job moving through its steps, a task completed then handed off) costs
   * one UPDATE instead of one each. Such entries are never evicted from the cache.
   */
  private readonly unwritten = new Map<string, unknown[] | PendingInsert>();
  /**
   * Inserts are deferred too (the row is inserted once, with the document's latest content,
   * when the batch's updates are written), for tables with no unique index but `_id`, while
   * the documents inserted tend to be updated again in the same batch: a job is inserted and
   * then saved at its first wait, a request inserted and then its triggers marked delivered.
   * A deferred insert probes the table for its `_id` (a duplicate fails at once, as a plain
   * INSERT does), a statement for nothing when nothing updates the document before the COMMIT
   * (history entries, notifications): so each run of DEFER_TRIAL deferred inserts is counted,
   * and when fewer than a quarter of them were updated again, the next DEFER_PAUSE inserts are
   * not deferred.
   */
  private insertsSeen = 0;
  private deferAgainAt = 0;
  private deferTried = 0;
  private deferUpdated = 0;
  /** Indexed paths that have a column of their own (loaded from the table; null: not loaded yet). */
  private columns: IndexColumn[] | null = null;
  /** Positions (in `indexColumns()`) of the columns some unique index covers (null: not loaded yet). */
  private uniques: number[] | null = null;
  /**
   * The statements every write runs, prepared once for the table's columns (the store's
   * statement cache is keyed by SQL text, which the hot paths would otherwise rebuild and
   * hash on every call): the INSERT, the `_id` read, and an UPDATE per set of changed columns.
   */
  private prepared: {
    insert: Statement;
    byId: Statement;
    exists: Statement;
    updates: Map<string, Statement>;
  } | null = null;

  constructor(
    private readonly store: SqliteStore,
    readonly name: string,
  ) {
    this.table = `c_${name}`;
    this.q = `"${this.table}"`;
  }

  private get db(): DB {
    return this.store.db;
  }

  clearCache(): void {
    this.cache.clear();
    this.unwritten.clear();
    this.deferTried = 0;
    this.deferUpdated = 0;
    this.columns = null;
    this.uniques = null;
    this.leading = null;
    this.prepared = null;
  }

  private statements(): NonNullable<SqliteCollection<T>['prepared']> {
    if (this.prepared) return this.prepared;
    const cols = this.indexColumns();
    this.prepared = {
      insert: this.db.prepare(
        `INSERT INTO ${this.q} (id, doc${cols.map((c) => `, ${c.name}`).join('')}) VALUES (?, jsonb(?)${', ?'.repeat(cols.length)})`,
      ),
      byId: this.db.prepare(`SELECT rowid, json(doc) FROM ${this.q} WHERE id = ?`).raw(true),
      exists: this.db.prepare(`SELECT 1 FROM ${this.q} WHERE id = ?`).pluck(),
      updates: new Map(),
    };
    return this.prepared;
  }

  /** Writes the deferred inserts and updates of this collection to its table (see `unwritten`). */
  writeDeferred(): void {
    for (const [id, inRow] of this.unwritten) {
      const entry = this.cache.get(id)!;
      if (Array.isArray(inRow)) this.writeStored(entry.rowid, entry.doc, inRow);
      else {
        entry.rowid = this.insertRow(id, entry.doc);
        this.deferTried += 1;
        if (inRow.updated) this.deferUpdated += 1;
        if (this.deferTried >= DEFER_TRIAL) {
          if (this.deferUpdated * 4 < this.deferTried) this.deferAgainAt = this.insertsSeen + DEFER_PAUSE;
          this.deferTried = 0;
          this.deferUpdated = 0;
        }
      }
      this.unwritten.delete(id);
    }
  }

  /**
   * Inserts `doc` as a deferred insert (see `insertsSeen`) when that is allowed now and its
   * `_id` is free; returns the `_id`, or undefined when the caller must insert it now (which
   * also reports a duplicate `_id` or an invalid document as usual).
   */
  private deferInsert(doc: Record<string, unknown>): string | undefined {
    this.insertsSeen += 1;
    if (!this.store.deferring || this.insertsSeen < this.deferAgainAt || this.uniqueColumns().length > 0)
      return undefined;
    if (doc._id === undefined) doc._id = randomUUID();
    const id = doc._id;
    if (typeof id !== 'string' || id.length === 0) return undefined;
    if (this.cache.has(id)) {
      // Taken: a document inserted but not written yet must be, for the INSERT to fail as a duplicate.
      if (this.unwritten.size > 0) this.writeDeferred();
      return undefined;
    }
    if (this.statements().exists.get(id) !== undefined) return undefined;
    const stored = toStorable(doc) as Record<string, unknown>;
    this.unwritten.set(id, { updated: false });
    this.remember(id, -1, stored);
    this.store.deferred(this as unknown as SqliteCollection<Doc>);
    return id;
  }

  /** The positions of the index columns that a unique index covers. */
  private uniqueColumns(): number[] {
    if (this.uniques) return this.uniques;
    const paths = new Set<string>();
    const rows = this.db
      .prepare(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql LIKE 'CREATE UNIQUE%'",
      )
      .pluck()
      .all(this.table) as string[];
    for (const sql of rows) for (const m of sql.matchAll(/"f:([^"]+)"/g)) paths.add(m[1]!);
    const cols = this.indexColumns();
    this.uniques = cols.flatMap((c, i) => (paths.has(c.path) ? [i] : []));
    return this.uniques;
  }

  /**
   * Records `next` as the new content of a document (`current`: its content until now, as the
   * cache or the table had it): deferred inside a batch when no unique index value changes
   * (see `unwritten`), else written now. The caller then remembers `next` in the cache.
   */
  private save(
    id: string,
    rowid: number,
    current: Record<string, unknown>,
    next: Record<string, unknown>,
  ): void {
    const held = this.unwritten.get(id);
    let row = rowid;
    if (held !== undefined && !Array.isArray(held)) {
      // Inserted in this batch and not written yet: the INSERT will carry `next`.
      held.updated = true;
      if (this.store.deferring) return;
      this.writeDeferred();
      row = this.cache.get(id)!.rowid;
    }
    const inRow = (Array.isArray(held) ? held : undefined) ?? this.columnValues(current);
    if (
      this.store.deferring &&
      !this.uniqueColumns().some((i) => columnValue(next, this.indexColumns()[i]!.segs) !== inRow[i])
    ) {
      this.unwritten.set(id, inRow);
      this.store.deferred(this as unknown as SqliteCollection<Doc>);
      return;
    }
    this.writeStored(row, next, inRow);
    this.unwritten.delete(id);
  }

  /**
   * The index columns of the table. Every path a `createIndex` names gets a column
   * `"f:<path>"` holding what `json_extract(doc, path)` would yield, written with the
   * document, and the index is built on the columns. An UPDATE then names only the
   * columns whose values changed, and SQLite rewrites only the indexes on those: an
   * expression index on `doc` is rewritten on every UPDATE of the document, changed or
   * not (measured: an UPDATE of a table with 6 such indexes cost 30–35 µs, with columns
   * 12–15 µs). Queries are unchanged: `json_extract(doc, path)` in the generated SQL is
   * replaced by the column (`sqlFor`).
   */
  private indexColumns(): IndexColumn[] {
    if (this.columns) return this.columns;
    const out: IndexColumn[] = [];
    if (this.store.hasTable(this.table)) {
      for (const row of this.db.prepare(`PRAGMA table_info(${this.q})`).all() as { name: string }[]) {
        if (!row.name.startsWith('f:')) continue;
        const path = row.name.slice(2);
        out.push({
          path,
          segs: splitPath(path),
          name: columnName(path),
          expr: `json_extract(doc, ${jsonPath(path)})`,
        });
      }
    }
    this.columns = out;
    return out;
  }

  /** Generated SQL with `json_extract(doc, path)` replaced by the path's index column. */
  private sqlFor(sql: string): string {
    const cols = this.indexColumns();
    if (cols.length === 0 || !sql.includes('json_extract(doc, ')) return sql;
    for (const c of cols) if (sql.includes(c.expr)) sql = sql.split(c.expr).join(c.name);
    return sql;
  }

  /** The index column values of a document (stored or revived form). */
  private columnValues(doc: Record<string, unknown>): unknown[] {
    const cols = this.indexColumns();
    const out = new Array(cols.length);
    for (let i = 0; i < cols.length; i++) out[i] = columnValue(doc, cols[i]!.segs);
    return out;
  }

  private remember(id: string, rowid: number, doc: Record<string, unknown>): CacheEntry {
    // -1: the rowid of a deferred insert (see `deferInsert`), which may have been written since.
    const entry = {
      rowid: rowid < 0 ? (this.cache.get(id)?.rowid ?? rowid) : rowid,
      doc,
      batch: this.store.openBatch,
    };
    this.cache.delete(id);
    this.cache.set(id, entry);
    if (this.cache.size > CACHE_ENTRIES) {
      // The least recently used entry whose row is written (deferred updates live only here).
      for (const key of this.cache.keys()) {
        if (this.unwritten.has(key)) continue;
        this.cache.delete(key);
        break;
      }
    }
    return entry;
  }

  /** The document with this `_id` (stored form), from the cache or the table; null when absent. */
  private byId(id: string): CacheEntry | null {
    const hit = this.cache.get(id);
    if (hit) {
      // Most recently used goes last.
      this.cache.delete(id);
      this.cache.set(id, hit);
      return hit;
    }
    const row = this.statements().byId.get(id) as [number, string] | undefined;
    if (!row) return null;
    return this.remember(id, row[0], JSON.parse(row[1]) as Record<string, unknown>);
  }

  /**
   * For a filter anchored on an `_id`: the matching document's entry, null when no document
   * matches, or undefined when the rest of the filter must be decided in SQL.
   */
  private anchored(id: string, filter: Filter): CacheEntry | null | undefined {
    const entry = this.byId(id);
    if (!entry) return null;
    const m = matchRest(entry.doc, filter);
    if (m === undefined) return undefined;
    return m ? entry : null;
  }

  private ready(): void {
    this.store.assertOpen();
    this.store.ensureTable(this.table);
  }

  private where(filter: Filter | undefined, scalarPaths?: ReadonlySet<string>): Where {
    if (filter === undefined || filter === null) return { sql: '1', params: [] };
    if (typeof filter !== 'object' || Array.isArray(filter)) throw new Error('A filter must be an object');
    const w = filterToSql(filter, scalarPaths ? { scalarPaths } : {});
    w.sql = this.sqlFor(w.sql);
    return w;
  }

  /** Top-level paths leading some index of this collection (so "does any document hold an array there" is an index probe). */
  private leadingIndexPaths(): Set<string> {
    if (this.leading) return this.leading;
    const out = new Set<string>();
    const pairs: [string, string][] = [];
    const rows = this.db
      .prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL")
      .pluck()
      .all(this.table) as string[];
    for (const sql of rows) {
      const m = /\((?:json_extract\(doc, '\$\."|"f:)([A-Za-z0-9_\-$]+)["']/.exec(sql);
      if (m) out.add(m[1]!);
      // The first two columns of an index on columns of their own: ("f:a", "f:b" DESC, ...).
      const cols = /\(("f:[^"]+"[^,)]*(?:,\s*"f:[^"]+"[^,)]*)*)\)/.exec(sql)?.[1];
      const names = cols ? [...cols.matchAll(/"f:([^"]+)"/g)].map((x) => x[1]!) : [];
      if (names.length >= 2 && !names[0]!.includes('.') && !names[1]!.includes('.'))
        pairs.push([names[0]!, names[1]!]);
    }
    this.leading = out;
    this.seconds = pairs;
    return out;
  }

  /**
   * For a sorted query: the top-level fields compared by plain string equality, that lead
   * an index and that no document holds an array in (checked now with an index probe).
   * Their equality then compiles to a bare `json_extract(doc, path) = ?`, so the index can
   * serve the ORDER BY as well (with the array-membership disjunct, SQLite must sort).
   */
  private scalarSortPaths(filter: Filter | undefined): Set<string> | undefined {
    if (!filter || typeof filter !== 'object') return undefined;
    let out: Set<string> | undefined;
    const leading = this.leadingIndexPaths();
    for (const key of Object.keys(filter)) {
      if (!leading.has(key) || !(isPlainString(filter[key]) || isScalarRange(filter[key]))) continue;
      const p = jsonPath(key);
      const probe = this.store
        .stmt(
          this.sqlFor(
            `SELECT 1 FROM ${this.q} WHERE json_extract(doc, ${p}) >= '[' AND json_extract(doc, ${p}) < '\\' LIMIT 1`,
          ),
        )
        .pluck()
        .get();
      if (probe !== undefined) continue;
      out ??= new Set();
      out.add(key);
    }
    // A range (or string equality) on the second column of an index whose first column the
    // filter fixes to a string that holds no arrays: when no document with that first value
    // holds an array in the second (an index probe), its condition compiles bare too, and the
    // index serves the range as well as the ORDER BY (`{status: 'open', created_at: {$gte}}`
    // sorted by created_at walked every open task to find the recent ones).
    for (const [first, second] of this.seconds) {
      const cond = filter[second];
      if (!out?.has(first) || out.has(second) || !isPlainString(filter[first])) continue;
      if (!(isPlainString(cond) || isScalarRange(cond))) continue;
      const p1 = jsonPath(first);
      const p2 = jsonPath(second);
      const probe = this.store
        .stmt(
          this.sqlFor(
            `SELECT 1 FROM ${this.q} WHERE json_extract(doc, ${p1}) = ? AND json_extract(doc, ${p2}) >= '[' AND json_extract(doc, ${p2}) < '\\' LIMIT 1`,
          ),
        )
        .pluck()
        .get(filter[first]);
      if (probe === undefined) out.add(second);
    }
    return out;
  }

  /** Inserts; returns the new row's entry (for the cache, once the whole operation succeeded). */
  private insertRaw(doc: Record<string, unknown>): [string, Pick<CacheEntry, 'rowid' | 'doc'>] {
    if (doc._id === undefined) doc._id = randomUUID();
    if (typeof doc._id !== 'string' || doc._id.length === 0)
      throw new Error('_id must be a non-empty string');
    const stored = toStorable(doc) as Record<string, unknown>;
    return [doc._id, { rowid: this.insertRow(doc._id, stored), doc: stored }];
  }

  /** Inserts the row of a document in stored form, with its index columns; returns its rowid. */
  private insertRow(id: string, stored: Record<string, unknown>): number {
    const info = this.statements().insert.run(id, JSON.stringify(stored), ...this.columnValues(stored));
    return Number(info.lastInsertRowid);
  }

  private wrap<R>(fn: () => R): R {
    try {
      return fn();
    } catch (err) {
      throw translateError(err, this.table);
    }
  }

  insertOne(doc: T): Promise<{ acknowledged: boolean; insertedId: string }> {
    return this.store.write(() => {
      this.ready();
      const deferred = this.wrap(() => this.deferInsert(doc as Record<string, unknown>));
      if (deferred !== undefined) return { acknowledged: true, insertedId: deferred };
      const [id, entry] = this.wrap(() => this.insertRaw(doc as Record<string, unknown>));
      this.remember(id, entry.rowid, entry.doc);
      return { acknowledged: true, insertedId: doc._id };
    }, true);
  }

  insertMany(docs: T[]): Promise<{ acknowledged: boolean; insertedCount: number }> {
    return this.store.write(() => {
      this.ready();
      if (!Array.isArray(docs)) throw new Error('insertMany needs an array');
      const inserted = this.wrap(() => docs.map((d) => this.insertRaw(d as Record<string, unknown>)));
      // Only documents that fit in the cache are worth remembering.
      for (const [id, entry] of inserted.slice(-CACHE_ENTRIES)) this.remember(id, entry.rowid, entry.doc);
      return { acknowledged: true, insertedCount: docs.length };
    });
  }

  /** Matching rows as [rowid, doc text]. */
  private select(filter: Filter | undefined, opts: FindOptions = {}): [number, string][] {
    if (this.unwritten.size > 0) this.writeDeferred();
    const w = this.where(filter, opts.sort ? this.scalarSortPaths(filter) : undefined);
    const order = this.sqlFor(sortToSql(opts.sort as SortSpec | undefined));
    let sql = `SELECT rowid, json(doc) FROM ${this.q} WHERE ${w.sql}`;
    if (order) sql += ` ORDER BY ${order}, rowid`;
    const params = w.params;
    const limit = opts.limit ?? 0;
    const skip = opts.skip ?? 0;
    if (!Number.isInteger(limit) || limit < 0) throw new Error('limit must be a non-negative integer');
    if (!Number.isInteger(skip) || skip < 0) throw new Error('skip must be a non-negative integer');
    if (limit > 0 || skip > 0) {
      sql += ' LIMIT ? OFFSET ?';
      params.push(limit > 0 ? limit : -1, skip);
    }
    return this.store
      .stmt(sql)
      .raw(true)
      .all(...params) as [number, string][];
  }

  private materialize(text: string, projection: FindOptions['projection']): T {
    const doc = decodeJson<T>(text);
    return projection ? applyProjection(doc, projection) : doc;
  }

  findOne(filter: Filter, options: FindOptions = {}): Promise<T | null> {
    const id = anchorId(filter);
    if (id !== undefined && !options.skip) {
      // A document read from the cache that no write of the open batch touched settles at once.
      let viaSql = false;
      const found = this.store.readKnown(() => {
        this.ready();
        const open = this.store.openBatch;
        const entry = this.anchored(id, filter);
        if (entry === undefined) {
          viaSql = true;
          return { value: null, uncommitted: false };
        }
        // A miss (no such document) may be the effect of an uncommitted delete: wait for the batch.
        if (entry === null) return { value: null, uncommitted: open !== null };
        const doc = fromStorable(entry.doc) as T;
        return {
          value: options.projection ? applyProjection(doc, options.projection) : doc,
          uncommitted: open !== null && entry.batch === open,
        };
      });
      if (!viaSql) return found;
    }
    return this.store.read(() => {
      this.ready();
      const rows = this.select(filter, { ...options, limit: 1 });
      const row = rows[0];
      return row ? this.materialize(row[1], options.projection) : null;
    });
  }

  find(filter: Filter, options: FindOptions = {}): Cursor<T> {
    return new ArrayCursor(() =>
      this.store.read(() => {
        this.ready();
        return this.select(filter, options).map((r) => this.materialize(r[1], options.projection));
      }),
    );
  }

  /**
   * Writes a stored document back to its row, with the index columns whose values differ
   * from `before` (the row's column values before the change); returns it.
   */
  private writeStored(
    rowid: number,
    stored: Record<string, unknown>,
    before: unknown[],
  ): Record<string, unknown> {
    const cols = this.indexColumns();
    let changed = '';
    const params: unknown[] = [JSON.stringify(stored)];
    for (let i = 0; i < cols.length; i++) {
      const v = columnValue(stored, cols[i]!.segs);
      if (v === before[i]) continue;
      changed += `${i},`;
      params.push(v);
    }
    params.push(rowid);
    const { updates } = this.statements();
    let update = updates.get(changed);
    if (!update) {
      const sets = changed
        .split(',')
        .filter((i) => i !== '')
        .map((i) => `, ${cols[Number(i)]!.name} = ?`)
        .join('');
      update = this.db.prepare(`UPDATE ${this.q} SET doc = jsonb(?)${sets} WHERE rowid = ?`);
      updates.set(changed, update);
    }
    update.run(...params);
    return stored;
  }

  private upsertDoc(filter: Filter, update: Update): [string, Pick<CacheEntry, 'rowid' | 'doc'>] {
    const doc = seedFromFilter(filter);
    compileModifier(modifierFor(update, true))(doc);
    if (doc._id === undefined) doc._id = randomUUID();
    return this.insertRaw(doc);
  }

  /**
   * The matching rows as [rowid, stored document] (at most one unless `many`), through the
   * cache when anchored. The documents are the cache's or freshly parsed: never modify them.
   */
  private matching(filter: Filter, many: boolean, sort?: SortSpec): [number, Record<string, unknown>][] {
    const id = anchorId(filter);
    if (id !== undefined) {
      const entry = this.anchored(id, filter);
      if (entry === null) return [];
      if (entry !== undefined) return [[entry.rowid, entry.doc]];
    }
    return this.select(filter, many ? { sort } : { limit: 1, sort }).map(([rowid, text]) => [
      rowid,
      JSON.parse(text) as Record<string, unknown>,
    ]);
  }

  /**
   * Applies a modifier to a stored document; writes and returns the new stored form, or
   * null when nothing changed. The common operators work on the stored form directly
   * (stored-update.ts); the rest through mingo on a revived copy.
   */
  private applyTo(
    rowid: number,
    stored: Record<string, unknown>,
    apply: (doc: Record<string, unknown>) => boolean,
    fast: ReturnType<typeof compileStoredUpdate>,
  ): Record<string, unknown> | null {
    let next: Record<string, unknown>;
    const quick = fast?.(stored);
    if (quick) {
      if (!quick.modified) return null;
      next = quick.doc;
    } else {
      const doc = fromStorable(stored) as Record<string, unknown>;
      if (!apply(doc)) return null;
      next = toStorable(doc) as Record<string, unknown>;
    }
    this.save(stored._id as string, rowid, stored, next);
    return next;
  }

  private updateImpl(filter: Filter, update: Update, options: UpdateOptions, many: boolean): UpdateResult {
    validateUpdate(update);
    this.ready();
    const modifier = modifierFor(update, false);
    const apply = compileModifier(modifier);
    const fast = compileStoredUpdate(modifier);
    return this.wrap((): UpdateResult => {
      const rows = this.matching(filter, many);
      if (rows.length === 0) {
        if (options.upsert) {
          const [id, entry] = this.upsertDoc(filter, update);
          this.remember(id, entry.rowid, entry.doc);
          return { matchedCount: 0, modifiedCount: 0, upsertedCount: 1, upsertedId: id };
        }
        return { matchedCount: 0, modifiedCount: 0, upsertedCount: 0, upsertedId: null };
      }
      const written: [string, number, Record<string, unknown>][] = [];
      for (const [rowid, stored] of rows) {
        const next = this.applyTo(rowid, stored, apply, fast);
        if (next) written.push([stored._id as string, rowid, next]);
      }
      for (const [id, rowid, stored] of written) this.remember(id, rowid, stored);
      return { matchedCount: rows.length, modifiedCount: written.length, upsertedCount: 0, upsertedId: null };
    });
  }

  updateOne(filter: Filter, update: Update, options: UpdateOptions = {}): Promise<UpdateResult> {
    return this.store.write(() => this.updateImpl(filter, update, options, false), true);
  }

  updateMany(filter: Filter, update: Update, options: UpdateOptions = {}): Promise<UpdateResult> {
    return this.store.write(() => this.updateImpl(filter, update, options, true));
  }

  findOneAndUpdate(filter: Filter, update: Update, options: FindOneAndUpdateOptions = {}): Promise<T | null> {
    return this.store.write(() => this.findOneAndUpdateImpl(filter, update, options), true);
  }

  private findOneAndUpdateImpl(filter: Filter, update: Update, options: FindOneAndUpdateOptions): T | null {
    validateUpdate(update);
    this.ready();
    const after = options.returnDocument === 'after';
    const modifier = modifierFor(update, false);
    const apply = compileModifier(modifier);
    const fast = compileStoredUpdate(modifier);
    return this.wrap((): T | null => {
      const row = this.matching(filter, false, options.sort)[0];
      if (!row) {
        if (!options.upsert) return null;
        const [id, entry] = this.upsertDoc(filter, update);
        this.remember(id, entry.rowid, entry.doc);
        return after ? (fromStorable(entry.doc) as T) : null;
      }
      const [rowid, stored] = row;
      const next = this.applyTo(rowid, stored, apply, fast);
      if (next) this.remember(stored._id as string, rowid, next);
      return fromStorable(after ? (next ?? stored) : stored) as T;
    });
  }

  deleteOne(filter: Filter): Promise<{ deletedCount: number }> {
    return this.store.write(() => {
      this.ready();
      if (this.unwritten.size > 0) this.writeDeferred();
      const w = this.where(filter);
      const ids = this.store
        .stmt(
          `DELETE FROM ${this.q} WHERE rowid = (SELECT rowid FROM ${this.q} WHERE ${w.sql} LIMIT 1) RETURNING id`,
        )
        .pluck()
        .all(...w.params) as string[];
      for (const id of ids) this.cache.delete(id);
      return { deletedCount: ids.length };
    }, true);
  }

  deleteMany(filter: Filter): Promise<{ deletedCount: number }> {
    return this.store.write(() => {
      this.ready();
      if (this.unwritten.size > 0) this.writeDeferred();
      const w = this.where(filter);
      const ids = this.store
        .stmt(`DELETE FROM ${this.q} WHERE ${w.sql} RETURNING id`)
        .pluck()
        .all(...w.params) as string[];
      if (ids.length > this.cache.size) this.cache.clear();
      else for (const id of ids) this.cache.delete(id);
      return { deletedCount: ids.length };
    }, true);
  }

  countDocuments(filter: Filter = {}): Promise<number> {
    return this.store.read(() => {
      this.ready();
      if (this.unwritten.size > 0) this.writeDeferred();
      const w = this.where(filter);
      const row = this.store
        .stmt(`SELECT count(*) FROM ${this.q} WHERE ${w.sql}`)
        .raw(true)
        .get(...w.params) as [number];
      return row[0];
    });
  }

  createIndex(keys: SortSpec, options: IndexOptions = {}): Promise<string> {
    return this.store.write(() => this.createIndexImpl(keys, options));
  }

  private createIndexImpl(keys: SortSpec, options: IndexOptions): string {
    this.ready();
    this.leading = null;
    this.uniques = null;
    const fields = Object.keys(keys ?? {});
    if (fields.length === 0) throw new Error('createIndex needs at least one key');
    const name = options.name ?? fields.map((f) => `${f}_${keys[f]}`).join('_');
    if (!/^[A-Za-z0-9_.\-$]+$/.test(name)) throw new Error(`Invalid index name "${name}"`);
    for (const f of fields) {
      if (keys[f] !== 1 && keys[f] !== -1) throw new Error(`Index direction for "${f}" must be 1 or -1`);
      if (f !== '_id') splitPath(f);
    }
    const idxName = `${this.table}__${name}`;
    this.wrap(() => {
      // Each indexed path gets its column, filled from the documents already stored.
      const have = new Set(this.indexColumns().map((c) => c.path));
      for (const f of fields) {
        if (f === '_id' || have.has(f)) continue;
        this.db.exec(`ALTER TABLE ${this.q} ADD COLUMN ${columnName(f)}`);
        this.db.exec(`UPDATE ${this.q} SET ${columnName(f)} = json_extract(doc, ${jsonPath(f)})`);
        have.add(f);
        this.columns = null;
        this.prepared = null;
      }
      const exprs = fields.map((f) => (f === '_id' ? 'id' : columnName(f)));
      const cols = exprs.map((e, i) => `${e}${keys[fields[i]!] === -1 ? ' DESC' : ''}`).join(', ');
      const unique = options.unique ? 'UNIQUE ' : '';
      const nonNull = exprs.map((e) => `${e} IS NOT NULL`).join(' AND ');
      const where = options.sparse ? ` WHERE ${nonNull}` : '';
      // An index of an earlier version, on `json_extract(doc, ...)` expressions, is rebuilt on the columns.
      const existing = this.db
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND name IN (?, ?) AND sql LIKE '%json_extract(doc,%'",
        )
        .pluck()
        .all(idxName, `${idxName}__nulls`) as string[];
      for (const old of existing) this.db.exec(`DROP INDEX "${old}"`);
      this.db.exec(`CREATE ${unique}INDEX IF NOT EXISTS "${idxName}" ON ${this.q} (${cols})${where}`);
      if (options.unique && !options.sparse) {
        // MongoDB treats a missing field as null in a (non-sparse) unique index: at most one
        // document may lack it. SQLite's UNIQUE ignores NULLs, so enforce that separately.
        const anyNull = exprs.map((e) => `${e} IS NULL`).join(' OR ');
        const keyed = exprs.map((e) => `ifnull(${e}, x'00')`).join(', ');
        this.db.exec(
          `CREATE UNIQUE INDEX IF NOT EXISTS "${idxName}__nulls" ON ${this.q} (${keyed}) WHERE ${anyNull}`,
        );
      }
    });
    return name;
  }

  dropIndex(name: string): Promise<unknown> {
    return this.store.write(() => this.dropIndexImpl(name));
  }

  /**
   * Drops the index and the columns no remaining index covers (an indexed path's column is
   * written with every document: see `indexColumns`), so writes stop paying for them.
   */
  private dropIndexImpl(name: string): { ok: 1 } {
    this.store.assertOpen();
    if (typeof name !== 'string' || !/^[A-Za-z0-9_.\-$]+$/.test(name))
      throw new Error(`Invalid index name "${name}"`);
    const idxName = `${this.table}__${name}`;
    const found = this.db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name IN (?, ?)")
      .pluck()
      .all(idxName, `${idxName}__nulls`) as string[];
    if (!found.includes(idxName)) throw new IndexNotFoundError(`index not found with name [${name}]`);
    this.ready();
    this.wrap(() => {
      for (const idx of found) this.db.exec(`DROP INDEX "${idx}"`);
      const still = new Set<string>();
      const rows = this.db
        .prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL")
        .pluck()
        .all(this.table) as string[];
      for (const sql of rows) for (const m of sql.matchAll(/"f:([^"]+)"/g)) still.add(m[1]!);
      for (const c of this.indexColumns()) {
        if (!still.has(c.path)) this.db.exec(`ALTER TABLE ${this.q} DROP COLUMN ${c.name}`);
      }
      this.columns = null;
      this.prepared = null;
      this.leading = null;
      this.uniques = null;
    });
    return { ok: 1 };
  }
}
