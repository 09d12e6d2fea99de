/**
 * Agenda storage backend on SQLite (better-sqlite3), for Baton's embedded mode.
 *
 * Jobs live in one table (default `agenda_jobs`) of the database Baton's embedded
 * document store already uses. Semantics follow `@agendajs/mongo-backend`'s
 * `MongoJobRepository` (the reference implementation checked by Agenda's shared
 * backend test suite): same upsert rules for `single` and `unique` jobs, same
 * lock / unlock / next-job-to-run conditions, same query and overview results.
 *
 * better-sqlite3 is synchronous, so each method body is atomic within the process;
 * multi-statement operations also run in `BEGIN IMMEDIATE` transactions so they stay
 * atomic if another process opens the same database file.
 */
import { randomBytes } from 'node:crypto';
import type {
  AgendaBackend,
  JobId,
  JobParameters,
  JobRepository,
  JobRepositoryOptions,
  JobsOverview,
  JobsQueryOptions,
  JobsResult,
  JobsSort,
  JobWithState,
  RemoveJobsOptions,
} from 'agenda';
import { computeJobState, toJobId } from 'agenda';
import type BetterSqlite3 from 'better-sqlite3';

type Db = BetterSqlite3.Database;
type SqlValue = string | number | bigint | null;

export interface SqliteAgendaBackendOptions {
  /** Table holding the jobs (default `agenda_jobs`). Must be a plain SQL identifier. */
  tableName?: string;
  /**
   * Paths inside `data` (e.g. `'key'` for `data.key`) that get an expression index,
   * so `unique({ 'data.key': ... })` upserts and lookups by that field stay indexed.
   */
  dataIndexes?: string[];
}

/** A job row as stored. Dates are epoch milliseconds. */
interface JobRow {
  id: string;
  name: string;
  priority: number;
  type: string;
  next_run_at: number | null;
  locked_at: number | null;
  last_run_at: number | null;
  last_finished_at: number | null;
  failed_at: number | null;
  fail_count: number | null;
  fail_reason: string | null;
  disabled: number;
  repeat_interval: string | null;
  repeat_timezone: string | null;
  repeat_at: string | null;
  start_date: number | null;
  end_date: number | null;
  skip_days: string | null;
  progress: number | null;
  fork: number | null;
  debounce_started_at: number | null;
  last_modified_by: string | null;
  data: string | null;
}

type Encoder = (value: unknown) => SqlValue;

const dateCol: Encoder = (v) => toMs(v);
const textCol: Encoder = (v) => (v === undefined || v === null ? null : String(v));
const numCol: Encoder = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const boolCol: Encoder = (v) => (v === undefined || v === null ? null : v ? 1 : 0);
const jsonCol: Encoder = (v) => (v === undefined || v === null ? null : JSON.stringify(v));

/** JobParameters field → column and how to encode it. `_id`, `unique`, `uniqueOpts` are not stored (as in the Mongo backend). */
const FIELDS: Record<string, { col: keyof JobRow; enc: Encoder }> = {
  name: { col: 'name', enc: textCol },
  priority: { col: 'priority', enc: (v) => numCol(v) ?? 0 },
  type: { col: 'type', enc: (v) => (v === 'single' ? 'single' : 'normal') },
  nextRunAt: { col: 'next_run_at', enc: dateCol },
  lockedAt: { col: 'locked_at', enc: dateCol },
  lastRunAt: { col: 'last_run_at', enc: dateCol },
  lastFinishedAt: { col: 'last_finished_at', enc: dateCol },
  failedAt: { col: 'failed_at', enc: dateCol },
  failCount: { col: 'fail_count', enc: numCol },
  failReason: { col: 'fail_reason', enc: textCol },
  disabled: { col: 'disabled', enc: (v) => (v === true ? 1 : 0) },
  repeatInterval: { col: 'repeat_interval', enc: jsonCol },
  repeatTimezone: { col: 'repeat_timezone', enc: textCol },
  repeatAt: { col: 'repeat_at', enc: textCol },
  startDate: { col: 'start_date', enc: dateCol },
  endDate: { col: 'end_date', enc: dateCol },
  skipDays: { col: 'skip_days', enc: jsonCol },
  progress: { col: 'progress', enc: numCol },
  fork: { col: 'fork', enc: boolCol },
  debounceStartedAt: { col: 'debounce_started_at', enc: dateCol },
  lastModifiedBy: { col: 'last_modified_by', enc: textCol },
  data: { col: 'data', enc: (v) => encodeData(v) },
};

const SORT_COLUMNS: Record<keyof JobsSort, string> = {
  nextRunAt: 'next_run_at',
  lastRunAt: 'last_run_at',
  lastFinishedAt: 'last_finished_at',
  priority: 'priority',
  name: 'name',
  data: 'data',
};

function toMs(v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (v instanceof Date) {
    const t = v.getTime();
    return Number.isNaN(t) ? null : t;
  }
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

const fromMs = (v: number | null): Date | undefined => (v === null ? undefined : new Date(v));

/** JSON with Dates preserved as `{ "$date": iso }` (MongoDB keeps Dates inside `data`; so do we). */
function encodeData(value: unknown): string | null {
  if (value === undefined) return null;
  return JSON.stringify(value, function (this: Record<string, unknown>, key, v) {
    const raw = this[key];
    return raw instanceof Date ? { $date: raw.toISOString() } : v;
  });
}

function decodeData(text: string | null): unknown {
  if (text === null) return undefined;
  return JSON.parse(text, (_key, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === '$date' && typeof v.$date === 'string') return new Date(v.$date);
    }
    return v;
  });
}

function parseJson<T>(text: string | null): T | undefined {
  return text === null ? undefined : (JSON.parse(text) as T);
}

/** Random per process: with the counter, ids of one process never collide, and two processes' almost never. */
const ID_PREFIX = randomBytes(3).toString('hex');
let idCounter = randomBytes(3).readUIntBE(0, 3);

/** ObjectId-like 24-hex id: 6 bytes of milliseconds, 3 random per process, a 3-byte counter (sorts by creation time). */
function newId(): string {
  idCounter = (idCounter + 1) & 0xffffff;
  return (
    Date.now().toString(16).padStart(12, '0').slice(-12) + ID_PREFIX + idCounter.toString(16).padStart(6, '0')
  );
}

/** `data.a.b` path segments → a SQLite JSON path (`$.a.b`, quoting where needed). */
function jsonPath(segments: string[]): string {
  let path = '$';
  for (const seg of segments) {
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) path += `.${seg}`;
    else if (/^\d+$/.test(seg)) path += `[${seg}]`;
    else path += `."${seg.replace(/"/g, '\\"')}"`;
  }
  return path;
}

function rowToJob<DATA = unknown>(row: JobRow): JobParameters<DATA> & { _id: JobId } {
  return {
    _id: toJobId(row.id),
    name: row.name,
    priority: row.priority,
    nextRunAt: row.next_run_at === null ? null : new Date(row.next_run_at),
    type: row.type === 'single' ? 'single' : 'normal',
    data: decodeData(row.data) as DATA,
    lockedAt: fromMs(row.locked_at),
    lastFinishedAt: fromMs(row.last_finished_at),
    failedAt: fromMs(row.failed_at),
    failCount: row.fail_count || undefined,
    failReason: row.fail_reason || undefined,
    repeatTimezone: row.repeat_timezone ?? undefined,
    lastRunAt: fromMs(row.last_run_at),
    repeatInterval: parseJson<string | number>(row.repeat_interval),
    repeatAt: row.repeat_at ?? undefined,
    disabled: row.disabled === 1,
    progress: row.progress ?? undefined,
    lastModifiedBy: row.last_modified_by ?? undefined,
    fork: row.fork === null ? undefined : row.fork === 1,
    debounceStartedAt: fromMs(row.debounce_started_at),
    startDate: fromMs(row.start_date),
    endDate: fromMs(row.end_date),
    skipDays: parseJson<number[]>(row.skip_days),
  };
}

/** Comparison of later-is-better: `a` runs before `b` under (nextRunAt asc, priority desc), nulls first as in MongoDB. */
function runsBefore(a: JobRow, b: JobRow): boolean {
  const an = a.next_run_at ?? Number.NEGATIVE_INFINITY;
  const bn = b.next_run_at ?? Number.NEGATIVE_INFINITY;
  if (an !== bn) return an < bn;
  return a.priority > b.priority;
}

interface Where {
  sql: string[];
  params: SqlValue[];
}

export class SqliteJobRepository implements JobRepository {
  private readonly table: string;
  private readonly dataIndexes: string[];
  private connected = false;
  private readonly stmtCache = new Map<string, BetterSqlite3.Statement>();

  constructor(
    private readonly db: Db,
    options: SqliteAgendaBackendOptions = {},
  ) {
    const table = options.tableName ?? 'agenda_jobs';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) throw new Error(`invalid agenda table name: ${table}`);
    this.table = table;
    this.dataIndexes = options.dataIndexes ?? [];
  }

  /** The table this repository stores jobs in. */
  get tableName(): string {
    return this.table;
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    if (!this.db.open) throw new Error('SQLite database is not open');
    const t = this.table;
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS ${t} (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        type TEXT NOT NULL DEFAULT 'normal',
        next_run_at INTEGER,
        locked_at INTEGER,
        last_run_at INTEGER,
        last_finished_at INTEGER,
        failed_at INTEGER,
        fail_count INTEGER,
        fail_reason TEXT,
        disabled INTEGER NOT NULL DEFAULT 0,
        repeat_interval TEXT,
        repeat_timezone TEXT,
        repeat_at TEXT,
        start_date INTEGER,
        end_date INTEGER,
        skip_days TEXT,
        progress REAL,
        fork INTEGER,
        debounce_started_at INTEGER,
        last_modified_by TEXT,
        data TEXT
      );
      CREATE INDEX IF NOT EXISTS ${t}_next_to_run ON ${t} (name, next_run_at, priority DESC)
        WHERE locked_at IS NULL AND disabled = 0;
      CREATE INDEX IF NOT EXISTS ${t}_locked ON ${t} (name, locked_at) WHERE locked_at IS NOT NULL;
      CREATE INDEX IF NOT EXISTS ${t}_next_run_at ON ${t} (next_run_at);
    `);
    // Only `single` jobs are looked up by (name, type): a partial index is not touched by the
    // insert and removal of every one-off job. An earlier version indexed every row.
    const nameType = this.db
      .prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?")
      .pluck()
      .get(`${t}_name_type`) as string | undefined;
    if (nameType !== undefined && !/WHERE/i.test(nameType)) this.db.exec(`DROP INDEX ${t}_name_type`);
    this.db.exec(`CREATE INDEX IF NOT EXISTS ${t}_name_type ON ${t} (name, type) WHERE type = 'single'`);
    for (const path of this.dataIndexes) {
      const segs = path.split('.');
      const idxName = `${t}_data_${segs.join('_').replace(/[^A-Za-z0-9_]/g, '_')}`;
      this.db.exec(
        `CREATE INDEX IF NOT EXISTS ${idxName} ON ${t} (json_extract(data, '${jsonPath(segs).replace(/'/g, "''")}'))`,
      );
    }
    this.connected = true;
  }

  private stmt(sql: string): BetterSqlite3.Statement {
    let s = this.stmtCache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmtCache.set(sql, s);
    }
    return s;
  }

  private all(sql: string, params: SqlValue[] = []): JobRow[] {
    return this.stmt(sql).all(...params) as JobRow[];
  }

  private get(sql: string, params: SqlValue[] = []): JobRow | undefined {
    return this.stmt(sql).get(...params) as JobRow | undefined;
  }

  private run(sql: string, params: SqlValue[] = []): number {
    return this.stmt(sql).run(...params).changes;
  }

  /** Runs `fn` in a BEGIN IMMEDIATE transaction (or inside the caller's transaction). */
  private tx<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    return this.db.transaction(fn).immediate();
  }

  private byId(id: string): JobRow | undefined {
    return this.get(`SELECT * FROM ${this.table} WHERE id = ?`, [id]);
  }

  async getJobById(id: string): Promise<JobParameters | null> {
    const row = this.byId(String(id));
    return row ? rowToJob(row) : null;
  }

  // ---------------------------------------------------------------- queries

  private orderBy(sort?: JobsSort): string {
    const parts: string[] = [];
    if (sort) {
      for (const key of Object.keys(sort) as (keyof JobsSort)[]) {
        const dir = sort[key];
        const col = SORT_COLUMNS[key];
        if (!col || dir === undefined) continue;
        parts.push(`${col} ${dir === 'asc' ? 'ASC' : 'DESC'}`);
      }
    }
    if (parts.length === 0) parts.push('next_run_at DESC', 'last_run_at DESC');
    parts.push('rowid ASC');
    return parts.join(', ');
  }

  async queryJobs(options: JobsQueryOptions = {}): Promise<JobsResult> {
    const {
      name,
      names,
      state,
      id,
      ids,
      search,
      data,
      includeDisabled = true,
      sort,
      skip = 0,
      limit = 0,
    } = options;
    const now = new Date();
    const w: Where = { sql: [], params: [] };

    if (typeof search === 'string' && search.length > 0) {
      // as in the Mongo backend, a search replaces the name filter
      w.sql.push('instr(lower(name), lower(?)) > 0');
      w.params.push(search);
    } else if (name && typeof name === 'string') {
      w.sql.push('name = ?');
      w.params.push(name);
    } else if (Array.isArray(names)) {
      const valid = names.filter((n): n is string => typeof n === 'string');
      if (valid.length > 0) {
        w.sql.push(`name IN (${valid.map(() => '?').join(', ')})`);
        w.params.push(...valid);
      }
    }
    if (id && typeof id === 'string') {
      w.sql.push('id = ?');
      w.params.push(id);
    } else if (Array.isArray(ids)) {
      const valid = ids.filter((i): i is string => typeof i === 'string');
      if (valid.length > 0) {
        w.sql.push(`id IN (${valid.map(() => '?').join(', ')})`);
        w.params.push(...valid);
      }
    }
    if (data !== undefined) {
      w.sql.push('data IS ?');
      w.params.push(encodeData(data));
    }
    if (!includeDisabled) w.sql.push('disabled = 0');

    const where = w.sql.length > 0 ? `WHERE ${w.sql.join(' AND ')}` : '';
    const rows = this.all(`SELECT * FROM ${this.table} ${where} ORDER BY ${this.orderBy(sort)}`, w.params);

    let jobs: JobWithState[] = rows
      .map((row) => {
        const job = rowToJob(row);
        return { ...job, state: computeJobState(job, now) };
      })
      .filter((job) => {
        if (!state) return true;
        if (state === 'paused') return job.disabled === true;
        return job.state === state;
      });

    const total = jobs.length;
    if (limit > 0) jobs = jobs.slice(skip, skip + limit);
    else if (skip > 0) jobs = jobs.slice(skip);
    return { jobs, total };
  }

  async getJobsOverview(): Promise<JobsOverview[]> {
    const now = new Date();
    const byName = new Map<string, JobsOverview>();
    for (const name of await this.getDistinctJobNames()) {
      byName.set(name, {
        name,
        total: 0,
        running: 0,
        scheduled: 0,
        queued: 0,
        completed: 0,
        failed: 0,
        repeating: 0,
        paused: 0,
      });
    }
    for (const row of this.stmt(`SELECT * FROM ${this.table}`).iterate() as IterableIterator<JobRow>) {
      const overview = byName.get(row.name);
      if (!overview) continue;
      const job = rowToJob(row);
      overview.total++;
      overview[computeJobState(job, now)]++;
      if (job.disabled === true) overview.paused++;
    }
    return [...byName.values()];
  }

  async getDistinctJobNames(): Promise<string[]> {
    return (
      this.stmt(`SELECT DISTINCT name FROM ${this.table} ORDER BY name`).all() as { name: string }[]
    ).map((r) => r.name);
  }

  async getQueueSize(): Promise<number> {
    const r = this.stmt(`SELECT count(*) AS n FROM ${this.table} WHERE next_run_at < ?`).get(Date.now()) as {
      n: number;
    };
    return r.n;
  }

  // ---------------------------------------------------------------- bulk remove / disable / enable

  /** Builds the filter for remove/disable/enable; `null` when no criterion was given (then nothing happens). */
  private filterFromOptions(options: RemoveJobsOptions): Where | null {
    const w: Where = { sql: [], params: [] };
    if (options.id) {
      w.sql.push('id = ?');
      w.params.push(String(options.id));
    } else if (Array.isArray(options.ids) && options.ids.length > 0) {
      w.sql.push(`id IN (${options.ids.map(() => '?').join(', ')})`);
      w.params.push(...options.ids.map(String));
    }
    if (options.name && typeof options.name === 'string') {
      w.sql.push('name = ?');
      w.params.push(options.name);
    } else if (Array.isArray(options.names) && options.names.length > 0) {
      const valid = options.names.filter((n): n is string => typeof n === 'string');
      if (valid.length > 0) {
        w.sql.push(`name IN (${valid.map(() => '?').join(', ')})`);
        w.params.push(...valid);
      }
    } else if (Array.isArray(options.notNames) && options.notNames.length > 0) {
      const valid = options.notNames.filter((n): n is string => typeof n === 'string');
      if (valid.length > 0) {
        w.sql.push(`name NOT IN (${valid.map(() => '?').join(', ')})`);
        w.params.push(...valid);
      }
    }
    if (options.data !== undefined) {
      w.sql.push('data IS ?');
      w.params.push(encodeData(options.data));
    }
    return w.sql.length > 0 ? w : null;
  }

  async removeJobs(options: RemoveJobsOptions): Promise<number> {
    const w = this.filterFromOptions(options);
    if (!w) return 0;
    return this.run(`DELETE FROM ${this.table} WHERE ${w.sql.join(' AND ')}`, w.params);
  }

  async disableJobs(options: RemoveJobsOptions): Promise<number> {
    const w = this.filterFromOptions(options);
    if (!w) return 0;
    return this.run(
      `UPDATE ${this.table} SET disabled = 1 WHERE disabled = 0 AND ${w.sql.join(' AND ')}`,
      w.params,
    );
  }

  async enableJobs(options: RemoveJobsOptions): Promise<number> {
    const w = this.filterFromOptions(options);
    if (!w) return 0;
    return this.run(
      `UPDATE ${this.table} SET disabled = 0 WHERE disabled = 1 AND ${w.sql.join(' AND ')}`,
      w.params,
    );
  }

  async purgeAllJobs(): Promise<number> {
    return this.run(`DELETE FROM ${this.table}`);
  }

  // ---------------------------------------------------------------- locking

  async unlockJob(job: JobParameters): Promise<void> {
    if (!job._id) return;
    // only unlock jobs which are not currently processed (nextRunAt is not null)
    this.run(`UPDATE ${this.table} SET locked_at = NULL WHERE id = ? AND next_run_at IS NOT NULL`, [
      String(job._id),
    ]);
  }

  async unlockJobs(jobIds: (JobId | string)[]): Promise<void> {
    if (jobIds.length === 0) return;
    const ids = jobIds.map(String);
    this.tx(() => {
      // chunked to stay under SQLite's bound-parameter limit
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500);
        this.run(
          `UPDATE ${this.table} SET locked_at = NULL WHERE id IN (${chunk.map(() => '?').join(', ')})`,
          chunk,
        );
      }
    });
  }

  async lockJob(
    job: JobParameters,
    options: JobRepositoryOptions | undefined,
  ): Promise<JobParameters | undefined> {
    if (!job._id) return undefined;
    const row = this.get(
      `UPDATE ${this.table} SET locked_at = ?, last_modified_by = ?
       WHERE id = ? AND name = ? AND locked_at IS NULL AND next_run_at IS ? AND disabled = 0
       RETURNING *`,
      [Date.now(), options?.lastModifiedBy ?? null, String(job._id), job.name, toMs(job.nextRunAt)],
    );
    return row ? rowToJob(row) : undefined;
  }

  async getNextJobToRun(
    jobName: string,
    nextScanAt: Date,
    lockDeadline: Date,
    now: Date | undefined,
    options: JobRepositoryOptions | undefined,
  ): Promise<JobParameters | undefined> {
    const lockTime = (now ?? new Date()).getTime();
    const row = this.tx(() => {
      // Two index-backed candidates instead of one OR query (which would sort every due row):
      // an unlocked job due before the next scan, and a job whose lock has expired.
      const due = this.get(
        `SELECT * FROM ${this.table}
         WHERE name = ? AND locked_at IS NULL AND disabled = 0 AND next_run_at <= ?
         ORDER BY next_run_at ASC, priority DESC LIMIT 1`,
        [jobName, nextScanAt.getTime()],
      );
      const expired = this.get(
        `SELECT * FROM ${this.table}
         WHERE name = ? AND locked_at IS NOT NULL AND locked_at <= ? AND disabled = 0
         ORDER BY next_run_at ASC, priority DESC LIMIT 1`,
        [jobName, lockDeadline.getTime()],
      );
      const pick = due && expired ? (runsBefore(expired, due) ? expired : due) : (due ?? expired);
      if (!pick) return undefined;
      return this.get(
        `UPDATE ${this.table} SET locked_at = ?, last_modified_by = ? WHERE id = ? RETURNING *`,
        [lockTime, options?.lastModifiedBy ?? null, pick.id],
      );
    });
    return row ? rowToJob(row) : undefined;
  }

  // ---------------------------------------------------------------- saving

  async saveJobState(job: JobParameters, options: JobRepositoryOptions | undefined): Promise<void> {
    if (!job._id) throw new Error('Cannot save job state without job ID');
    const changes = this.run(
      `UPDATE ${this.table} SET locked_at = ?, next_run_at = ?, last_run_at = ?, progress = ?, fail_reason = ?,
         fail_count = ?, failed_at = ?, last_finished_at = ?, last_modified_by = ?
       WHERE id = ? AND name = ?`,
      [
        toMs(job.lockedAt),
        toMs(job.nextRunAt),
        toMs(job.lastRunAt),
        numCol(job.progress),
        textCol(job.failReason),
        numCol(job.failCount),
        toMs(job.failedAt),
        toMs(job.lastFinishedAt),
        options?.lastModifiedBy ?? null,
        String(job._id),
        job.name,
      ],
    );
    if (changes !== 1) {
      throw new Error(
        `job ${job._id} (name: ${job.name}) cannot be updated in the database, maybe it does not exist anymore?`,
      );
    }
  }

  /** Column/value pairs for the fields present in `props` (present-but-undefined clears the column, like `$set`). */
  private columnsOf(props: Record<string, unknown>): { cols: string[]; vals: SqlValue[] } {
    const cols: string[] = [];
    const vals: SqlValue[] = [];
    for (const key of Object.keys(props)) {
      const field = FIELDS[key];
      if (!field) continue;
      cols.push(field.col);
      vals.push(field.enc(props[key]));
    }
    return { cols, vals };
  }

  private insertRow(props: Record<string, unknown>): JobRow {
    const { cols, vals } = this.columnsOf(props);
    const all = ['id', ...cols];
    const row = this.get(
      `INSERT INTO ${this.table} (${all.join(', ')}) VALUES (${all.map(() => '?').join(', ')}) RETURNING *`,
      [newId(), ...vals],
    );
    if (!row) throw new Error('insert returned no row');
    return row;
  }

  private updateRow(id: string, props: Record<string, unknown>): JobRow {
    const { cols, vals } = this.columnsOf(props);
    if (cols.length === 0) return this.byId(id)!;
    const row = this.get(
      `UPDATE ${this.table} SET ${cols.map((c) => `${c} = ?`).join(', ')} WHERE id = ? RETURNING *`,
      [...vals, id],
    );
    if (!row) throw new Error(`job ${id} vanished during update`);
    return row;
  }

  /** SQL condition for one `unique` entry (`'data.x.y'` or a top-level field), with MongoDB equality semantics. */
  private uniqueCondition(key: string, value: unknown, w: Where): void {
    if (key === '_id') {
      w.sql.push('id = ?');
      w.params.push(String(value));
      return;
    }
    const segs = key.split('.');
    if (segs[0] === 'data') {
      const path = jsonPath(segs.slice(1));
      if (segs.length === 1) {
        w.sql.push('data IS ?');
        w.params.push(encodeData(value));
        return;
      }
      const ex = `json_extract(data, '${path.replace(/'/g, "''")}')`;
      const ty = `json_type(data, '${path.replace(/'/g, "''")}')`;
      if (value === null || value === undefined) {
        w.sql.push(`(${ty} IS NULL OR ${ty} = 'null')`);
      } else if (typeof value === 'string') {
        w.sql.push(`${ex} = ? AND ${ty} = 'text'`);
        w.params.push(value);
      } else if (typeof value === 'number') {
        w.sql.push(`${ex} = ? AND ${ty} IN ('integer', 'real')`);
        w.params.push(value);
      } else if (typeof value === 'boolean') {
        w.sql.push(`${ty} = '${value ? 'true' : 'false'}'`);
      } else {
        w.sql.push(`${ex} = json(?)`);
        w.params.push(encodeData(value));
      }
      return;
    }
    const field = FIELDS[key];
    if (!field || key === 'data') throw new Error(`unsupported unique constraint field: ${key}`);
    w.sql.push(`${field.col} IS ?`);
    w.params.push(field.enc(value));
  }

  async saveJob<DATA = unknown>(
    job: JobParameters<DATA>,
    options: JobRepositoryOptions | undefined,
  ): Promise<JobParameters<DATA>> {
    const { _id, unique, uniqueOpts, ...rest } = job;
    const props: Record<string, unknown> = { ...rest, lastModifiedBy: options?.lastModifiedBy };
    const now = new Date();

    const row = this.tx((): JobRow | undefined => {
      if (_id) {
        const existing = this.get(`SELECT id FROM ${this.table} WHERE id = ? AND name = ?`, [
          String(_id),
          String(props.name),
        ]);
        // a job removed meanwhile is not resurrected: the caller gets its data back unchanged
        return existing ? this.updateRow(existing.id, props) : undefined;
      }

      if (props.type === 'single') {
        const existing = this.get(
          `SELECT * FROM ${this.table} WHERE name = ? AND type = 'single' ORDER BY rowid LIMIT 1`,
          [String(props.name)],
        );
        if (!existing) return this.insertRow(props);
        // a nextRunAt already due is only set on insert: re-defining an every() job keeps its pending run
        const nextRunAt = props.nextRunAt as Date | null | undefined;
        const update = { ...props };
        if (nextRunAt && toMs(nextRunAt)! <= now.getTime()) delete update.nextRunAt;
        return this.updateRow(existing.id, update);
      }

      if (unique) {
        const w: Where = { sql: ['name = ?'], params: [String(props.name)] };
        for (const [key, value] of Object.entries(unique)) this.uniqueCondition(key, value, w);
        const existing = this.get(
          `SELECT * FROM ${this.table} WHERE ${w.sql.join(' AND ')} ORDER BY rowid LIMIT 1`,
          w.params,
        );
        const debounce = uniqueOpts?.debounce;

        if (debounce) {
          if (existing) {
            const startedAt = existing.debounce_started_at ?? now.getTime();
            if (debounce.strategy === 'leading') {
              // leading: keep the original run time, take the new data
              return this.updateRow(existing.id, {
                ...props,
                nextRunAt: fromMs(existing.next_run_at) ?? null,
                debounceStartedAt: new Date(startedAt),
              });
            }
            const update = { ...props };
            if (debounce.maxWait && now.getTime() - startedAt >= debounce.maxWait) {
              update.nextRunAt = now;
              update.debounceStartedAt = undefined;
            } else {
              update.nextRunAt = new Date(now.getTime() + debounce.delay);
              update.debounceStartedAt = new Date(startedAt);
            }
            return this.updateRow(existing.id, update);
          }
          const insert: Record<string, unknown> = { ...props, debounceStartedAt: now };
          if (debounce.strategy !== 'leading') insert.nextRunAt = new Date(now.getTime() + debounce.delay);
          return this.insertRow(insert);
        }

        if (existing) return uniqueOpts?.insertOnly ? existing : this.updateRow(existing.id, props);
        return this.insertRow(props);
      }

      return this.insertRow(props);
    });

    return row ? rowToJob<DATA>(row) : job;
  }

  // ---------------------------------------------------------------- helpers for Baton's scheduler

  /** Jobs whose `data` has `value` at `path` (e.g. `'key'`), oldest first. */
  findByDataField(path: string, value: string): JobParameters[] {
    const p = jsonPath(path.split('.')).replace(/'/g, "''");
    return this.all(`SELECT * FROM ${this.table} WHERE json_extract(data, '${p}') = ? ORDER BY rowid`, [
      value,
    ]).map((r) => rowToJob(r));
  }

  /**
   * Clears every lock. Only for single-process use at start-up: locks left by a process
   * that died would otherwise hold their jobs until the lock lifetime runs out.
   */
  releaseAllLocks(): number {
    return this.run(`UPDATE ${this.table} SET locked_at = NULL WHERE locked_at IS NOT NULL`);
  }

  /** Jobs waiting to run (nextRunAt set, not disabled). */
  countPending(): number {
    const r = this.stmt(
      `SELECT count(*) AS n FROM ${this.table} WHERE next_run_at IS NOT NULL AND disabled = 0`,
    ).get() as {
      n: number;
    };
    return r.n;
  }
}

/** Agenda backend on a better-sqlite3 database owned by the caller (never closed here). */
export class SqliteAgendaBackend implements AgendaBackend {
  readonly name = 'sqlite';
  readonly repository: SqliteJobRepository;
  readonly ownsConnection = false;

  constructor(db: Db, options: SqliteAgendaBackendOptions = {}) {
    this.repository = new SqliteJobRepository(db, options);
  }

  async connect(): Promise<void> {
    await this.repository.connect();
  }

  async disconnect(): Promise<void> {
    // the database belongs to Baton's embedded store: nothing to close
  }
}
