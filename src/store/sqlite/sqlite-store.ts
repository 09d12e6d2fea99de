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
 * undoes only itself), and the batch commits once the pending microtasks have run
 * (`BATCH_MICROTASK_HOPS` re-queued microtasks, so callers resumed by the previous
 * commit join in; or earlier, after `BATCH_MAX_OPS` operations or `BATCH_MAX_MS`). Not
 * `setImmediate`: that lets timers and I/O run between a caller's chained store
 * operations, which callers (and tests) written against the unbatched store observed
 * as new intermediate states. Every operation of a batch — reads run
 * while it is open included — settles only after the COMMIT containing it succeeded,
 * so an acknowledged write survives kill -9 and nobody acts on data that could vanish;
 * if the COMMIT fails, the batch is rolled back and every operation in it rejects.
 * Reads with no batch open settle at once. Cost: a write is acknowledged a few
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
import { mkdirSync, statSync } from 'node:fs';
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
import { decodeJson, encodeJson } from './codec.js';
import { filterToSql, isPlainString, isScalarRange, jsonPath, REGEX_FN, sortToSql } from './filter-to-sql.js';
import { applyProjection } from './projection.js';

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
}

/** An Error shaped like the MongoDB driver's duplicate-key error (`code === 11000`). */
export class DuplicateKeyError extends Error {
  readonly code = 11000;
  constructor(message: string) {
    super(message);
    this.name = 'DuplicateKeyError';
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

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
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
  const fns: Mutator[] = [];
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
    fns.push(OPERATORS[op]!(expr));
  }
  return (doc) => {
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

/** Group commit: at most this many operations, or this many milliseconds, per transaction. */
const BATCH_MAX_OPS = 1000;
const BATCH_MAX_MS = 5;
/** Microtask hops a batch waits for before its COMMIT (see `begin`). */
const BATCH_MICROTASK_HOPS = 32;
/** The checkpoint worker truncates the WAL beyond this size. */
const WAL_TRUNCATE_BYTES = 256 * 1024 * 1024;

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
  private closed = false;
  private readonly txn: (fn: () => unknown) => unknown;
  private batch: Batch | null = null;
  private readonly beginStmt: Statement;
  private readonly commitStmt: Statement;
  private checkpointer: Checkpointer | null = null;
  private walFile: string | null = null;
  private commitsSinceWalCheck = 0;

  private constructor(db: DB, file: string | null) {
    this.db = db;
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
      this.checkpointer = new Checkpointer(file);
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
    return new SqliteStore(new Database(file), file);
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
      result = oneStatement ? fn() : (this.txn(fn) as R);
    } catch (err) {
      this.afterOp(b, err);
      return b.done.then(() => Promise.reject(err));
    }
    this.afterOp(b, null);
    return b.done.then(() => result);
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
      return b.done.then(() => Promise.reject(err));
    }
    this.afterOp(b, null);
    return b.done.then(() => result);
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
    const b: Batch = { done, resolve, reject, started: performance.now(), ops: 0 };
    this.batch = b;
    // Commit once the microtasks queued so far (and a few levels of the ones they queue:
    // the continuations of other callers awaiting this store) have run, so concurrent
    // callers share the batch, but before the event loop turns: callers chained on
    // store operations then still progress without timers or I/O interleaving, as
    // with an unbatched store.
    let hops = 0;
    const later = () => {
      if (++hops < BATCH_MICROTASK_HOPS) queueMicrotask(later);
      else this.commit(b);
    };
    queueMicrotask(later);
    return b;
  }

  private afterOp(b: Batch, err: unknown): void {
    if (this.batch !== b) return;
    if (!this.db.inTransaction) {
      // SQLite rolled the whole transaction back (e.g. SQLITE_FULL, SQLITE_IOERR): the batch is lost.
      this.batch = null;
      this.loadTables();
      b.reject(err ?? new Error('The batch transaction was rolled back'));
      return;
    }
    b.ops += 1;
    if (b.ops >= BATCH_MAX_OPS || performance.now() - b.started >= BATCH_MAX_MS) this.commit(b);
  }

  /** Commits `b` if it is still the open batch; settles every operation in it. */
  private commit(b: Batch): void {
    if (this.batch !== b) return;
    this.batch = null;
    try {
      this.commitStmt.run();
    } catch (err) {
      if (this.db.inTransaction) {
        try {
          this.db.exec('ROLLBACK');
        } catch {
          // Already rolled back.
        }
      }
      this.loadTables();
      b.reject(err);
      return;
    }
    b.resolve();
    if (this.walFile !== null && ++this.commitsSinceWalCheck >= 500) {
      this.commitsSinceWalCheck = 0;
      this.truncateWalIfLarge();
    }
  }

  /**
   * Under constant writes the worker's passive checkpoints may never catch up with the end
   * of the WAL, so it is never reset. Past WAL_TRUNCATE_BYTES, truncate it here, between
   * batches: this connection is the only writer and holds no snapshot now, so the
   * checkpoint waits for nobody (it costs one sync, every 256 MB of writes; a smaller limit cost ~7 % of a busy cycle benchmark).
   */
  private truncateWalIfLarge(): void {
    try {
      if (statSync(this.walFile!).size > WAL_TRUNCATE_BYTES) this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // No WAL file yet, or the checkpoint was busy: try again later.
    }
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
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
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

class SqliteCollection<T extends Doc> implements Collection<T> {
  private readonly table: string;
  private readonly q: string;
  /** Cache of `leadingIndexPaths()`; reset by createIndex. */
  private leading: Set<string> | null = null;

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

  private ready(): void {
    this.store.assertOpen();
    this.store.ensureTable(this.table);
  }

  private where(filter: Filter | undefined, scalarPaths?: ReadonlySet<string>): Where {
    if (filter === undefined || filter === null) return { sql: '1', params: [] };
    if (typeof filter !== 'object' || Array.isArray(filter)) throw new Error('A filter must be an object');
    return filterToSql(filter, scalarPaths ? { scalarPaths } : {});
  }

  /** Top-level paths leading some index of this collection (so "does any document hold an array there" is an index probe). */
  private leadingIndexPaths(): Set<string> {
    if (this.leading) return this.leading;
    const out = new Set<string>();
    const rows = this.db
      .prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL")
      .pluck()
      .all(this.table) as string[];
    for (const sql of rows) {
      const m = /\(json_extract\(doc, '\$\."([A-Za-z0-9_\-$]+)"'\)/.exec(sql);
      if (m) out.add(m[1]!);
    }
    this.leading = out;
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
          `SELECT 1 FROM ${this.q} WHERE json_extract(doc, ${p}) >= '[' AND json_extract(doc, ${p}) < '\\' LIMIT 1`,
        )
        .pluck()
        .get();
      if (probe !== undefined) continue;
      out ??= new Set();
      out.add(key);
    }
    return out;
  }

  private encode(doc: Record<string, unknown>): string {
    return encodeJson(doc);
  }

  private insertRaw(doc: Record<string, unknown>): void {
    if (doc._id === undefined) doc._id = randomUUID();
    if (typeof doc._id !== 'string' || doc._id.length === 0)
      throw new Error('_id must be a non-empty string');
    this.store.stmt(`INSERT INTO ${this.q} (id, doc) VALUES (?, jsonb(?))`).run(doc._id, this.encode(doc));
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
      this.wrap(() => this.insertRaw(doc as Record<string, unknown>));
      return { acknowledged: true, insertedId: doc._id };
    }, true);
  }

  insertMany(docs: T[]): Promise<{ acknowledged: boolean; insertedCount: number }> {
    return this.store.write(() => {
      this.ready();
      if (!Array.isArray(docs)) throw new Error('insertMany needs an array');
      this.wrap(() => {
        for (const d of docs) this.insertRaw(d as Record<string, unknown>);
      });
      return { acknowledged: true, insertedCount: docs.length };
    });
  }

  /** Matching rows as [rowid, doc text]. */
  private select(filter: Filter | undefined, opts: FindOptions = {}): [number, string][] {
    const w = this.where(filter, opts.sort ? this.scalarSortPaths(filter) : undefined);
    const order = sortToSql(opts.sort as SortSpec | undefined);
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

  private writeBack(rowid: number, doc: Record<string, unknown>): void {
    this.store.stmt(`UPDATE ${this.q} SET doc = jsonb(?) WHERE rowid = ?`).run(this.encode(doc), rowid);
  }

  private upsertDoc(filter: Filter, update: Update): Record<string, unknown> {
    const doc = seedFromFilter(filter);
    compileModifier(modifierFor(update, true))(doc);
    if (doc._id === undefined) doc._id = randomUUID();
    this.insertRaw(doc);
    return doc;
  }

  private updateImpl(filter: Filter, update: Update, options: UpdateOptions, many: boolean): UpdateResult {
    validateUpdate(update);
    this.ready();
    const apply = compileModifier(modifierFor(update, false));
    return this.wrap((): UpdateResult => {
      const rows = this.select(filter, many ? {} : { limit: 1 });
      if (rows.length === 0) {
        if (options.upsert) {
          const doc = this.upsertDoc(filter, update);
          return { matchedCount: 0, modifiedCount: 0, upsertedCount: 1, upsertedId: doc._id as string };
        }
        return { matchedCount: 0, modifiedCount: 0, upsertedCount: 0, upsertedId: null };
      }
      let modified = 0;
      for (const [rowid, text] of rows) {
        const doc = decodeJson<Record<string, unknown>>(text);
        if (apply(doc)) {
          this.writeBack(rowid, doc);
          modified++;
        }
      }
      return { matchedCount: rows.length, modifiedCount: modified, upsertedCount: 0, upsertedId: null };
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
    const apply = compileModifier(modifierFor(update, false));
    return this.wrap((): T | null => {
      const rows = this.select(filter, { limit: 1, sort: options.sort });
      const row = rows[0];
      if (!row) {
        if (!options.upsert) return null;
        const doc = this.upsertDoc(filter, update);
        return after ? decodeJson<T>(encodeJson(doc)) : null;
      }
      const doc = decodeJson<Record<string, unknown>>(row[1]);
      if (!after) {
        const before = decodeJson<T>(row[1]);
        if (apply(doc)) this.writeBack(row[0], doc);
        return before;
      }
      if (apply(doc)) {
        const text = this.encode(doc);
        this.store.stmt(`UPDATE ${this.q} SET doc = jsonb(?) WHERE rowid = ?`).run(text, row[0]);
        return decodeJson<T>(text);
      }
      return doc as T;
    });
  }

  deleteOne(filter: Filter): Promise<{ deletedCount: number }> {
    return this.store.write(() => {
      this.ready();
      const w = this.where(filter);
      const r = this.store
        .stmt(`DELETE FROM ${this.q} WHERE rowid = (SELECT rowid FROM ${this.q} WHERE ${w.sql} LIMIT 1)`)
        .run(...w.params);
      return { deletedCount: r.changes };
    }, true);
  }

  deleteMany(filter: Filter): Promise<{ deletedCount: number }> {
    return this.store.write(() => {
      this.ready();
      const w = this.where(filter);
      const r = this.store.stmt(`DELETE FROM ${this.q} WHERE ${w.sql}`).run(...w.params);
      return { deletedCount: r.changes };
    }, true);
  }

  countDocuments(filter: Filter = {}): Promise<number> {
    return this.store.read(() => {
      this.ready();
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
    const fields = Object.keys(keys ?? {});
    if (fields.length === 0) throw new Error('createIndex needs at least one key');
    const name = options.name ?? fields.map((f) => `${f}_${keys[f]}`).join('_');
    if (!/^[A-Za-z0-9_.\-$]+$/.test(name)) throw new Error(`Invalid index name "${name}"`);
    const exprs = fields.map((f) => {
      if (keys[f] !== 1 && keys[f] !== -1) throw new Error(`Index direction for "${f}" must be 1 or -1`);
      return f === '_id' ? 'id' : `json_extract(doc, ${jsonPath(f)})`;
    });
    const cols = exprs.map((e, i) => `${e}${keys[fields[i]!] === -1 ? ' DESC' : ''}`).join(', ');
    const idxName = `${this.table}__${name}`;
    const unique = options.unique ? 'UNIQUE ' : '';
    const nonNull = exprs.map((e) => `${e} IS NOT NULL`).join(' AND ');
    const where = options.sparse ? ` WHERE ${nonNull}` : '';
    this.wrap(() => {
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
}
