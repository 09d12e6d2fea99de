import { type AppDefinition, checkFieldValue } from '../recipes/schema.js';
import { assertSafeValue } from '../store/safe.js';
import type { Baton } from './baton.js';
import { ValidationError } from './errors.js';
import type { RequestDoc, User } from './types.js';
import { isOperator } from './users.js';

/**
 * One app's requests as a table: filter by stage and field values, full-text search, sort by
 * any column, keyset pagination (a cursor holds the last row's sort value and number, so page
 * 1,000 costs what page 1 does), and what a person may see: operators and admins see every
 * request, others their own and those with a task for them or their groups.
 */

export interface TableQuery {
  stage?: string | undefined;
  /** Field key → value (equality; text fields: case-insensitive substring). */
  filters?: Record<string, string> | undefined;
  /** Words searched in the id and every text-like field. */
  q?: string | undefined;
  /** `created` (default), `updated`, `id`, `stage`, `requester`, or a field key. */
  sort?: string | undefined;
  dir?: 'asc' | 'desc' | undefined;
  /** The `next` cursor of the previous page. */
  after?: string | undefined;
  limit?: number | undefined;
}

export interface TablePage {
  rows: RequestDoc[];
  /** Cursor of the next page, or null on the last one. */
  next: string | null;
  /** Matching requests (all pages). */
  total: number;
  sort: string;
  dir: 'asc' | 'desc';
}

/**
 * Sortable built-in columns → stored paths. `created` sorts by the request number: numbers are
 * handed out in filing order, and `{app, number}` is one index scan with no ties to break.
 */
const BUILTIN_SORTS: Record<string, string> = {
  created: 'number',
  updated: 'updated_at',
  id: 'number',
  stage: 'stage',
  requester: 'requester',
};

const TEXTUAL = new Set(['text', 'long_text', 'email', 'url']);

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A page cursor: the last row's sort value and number (exported for tests). */
type Cursor = { v: unknown; n: number; d?: true };

export function encodeCursor(value: unknown, number: number): string {
  const c: Cursor =
    value instanceof Date ? { v: value.toISOString(), n: number, d: true } : { v: value ?? null, n: number };
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(s: string): { v: unknown; n: number } {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Cursor;
    if (typeof c.n !== 'number' || !Number.isInteger(c.n)) throw new Error('bad');
    const v = c.d && typeof c.v === 'string' ? new Date(c.v) : c.v;
    if (v !== null && !['string', 'number', 'boolean'].includes(typeof v) && !(v instanceof Date))
      throw new Error('bad');
    return { v, n: c.n };
  } catch {
    throw new ValidationError('That page link is not valid any more; start from the first page.');
  }
}

function valueAt(doc: RequestDoc, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return Array.isArray(cur) ? (cur[0] ?? null) : cur;
}

/** Paths every request has (never null): the keyset condition can lead with an indexable range. */
const NEVER_NULL = new Set(['created_at', 'updated_at', 'stage', 'requester']);

/** The filter for "rows after (value, number)" in the given direction, nulls sorting first as in MongoDB. */
function afterFilter(path: string, v: unknown, n: number, dir: 'asc' | 'desc'): Record<string, unknown> {
  const op = dir === 'asc' ? '$gt' : '$lt';
  if (NEVER_NULL.has(path) && v !== null && v !== undefined) {
    // path ≤ v (desc) narrows the index scan; then "strictly beyond, or a tie with a smaller number".
    return {
      $and: [
        { [path]: { [dir === 'asc' ? '$gte' : '$lte']: v } },
        { $or: [{ [path]: { [op]: v } }, { number: { [op]: n } }] },
      ],
    };
  }
  if (v === null || v === undefined) {
    const sameNull = { [path]: null, number: { [op]: n } };
    return dir === 'asc' ? { $or: [sameNull, { [path]: { $ne: null } }] } : sameNull;
  }
  const beyond = { [path]: { [op]: v } };
  const tie = { [path]: v, number: { [op]: n } };
  // Descending, the nulls come last: after any non-null value.
  return dir === 'asc' ? { $or: [beyond, tie] } : { $or: [beyond, tie, { [path]: null }] };
}

export class RequestTable {
  private indexed: Promise<void> | undefined;

  constructor(private readonly baton: Baton) {}

  /** The indexes the table's default sorts and filters use (idempotent). */
  ensureIndexes(): Promise<void> {
    this.indexed ??= (async () => {
      const { requests } = this.baton.ctx.db;
      await requests.createIndex({ app: 1, number: -1 });
      // Lets the embedded store check cheaply that `number` never holds an array, so a cursor's
      // `number < n` becomes a range scan of {app, number} (keyset pages cost the same at any depth).
      await requests.createIndex({ number: 1 });
      await requests.createIndex({ app: 1, updated_at: -1 });
      // Leading with stage makes `stage` a plain equality for the store, so this index serves
      // "one stage of one app, newest first" without sorting.
      await requests.createIndex({ stage: 1, app: 1, number: -1 });
      // The distinct stages an app's requests are in, one index seek per stage (see stagesInUse).
      await requests.createIndex({ app: 1, stage: 1 });
    })();
    return this.indexed;
  }

  /**
   * The stages of an app's requests that are not (or no longer) stages of the app — e.g. those
   * left in a stage an app file dropped — so the table can still filter by them. One index seek
   * per distinct stage; at most `max` of them.
   */
  async formerStages(app: AppDefinition, max = 50): Promise<string[]> {
    await this.ensureIndexes();
    const out: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < max + app.stages.length; i++) {
      const doc = await this.baton.ctx.db.requests.findOne(
        after === undefined ? { app: app.key } : { app: app.key, stage: { $gt: after } },
        { sort: { app: 1, stage: 1 }, projection: { stage: 1 } },
      );
      if (!doc || typeof doc.stage !== 'string') break;
      after = doc.stage;
      if (!app.stages.includes(doc.stage)) out.push(doc.stage);
      if (out.length >= max) break;
    }
    return out;
  }

  /** The MongoDB filter of a query (visibility included). */
  async filterFor(actor: User, app: AppDefinition, query: TableQuery): Promise<Record<string, unknown>> {
    // A flat filter where possible: the store turns top-level equalities on indexed paths into
    // plain index lookups that also serve the sort.
    const flat: Record<string, unknown> = { app: app.key };
    const and: Record<string, unknown>[] = [];
    if (query.stage) {
      assertSafeValue(query.stage, 'stage');
      // A stage the app no longer has still finds the requests left in it.
      if (
        !app.stages.includes(query.stage) &&
        !(await this.baton.ctx.db.requests.findOne({ stage: query.stage, app: app.key }))
      )
        throw new ValidationError(`${app.name} has no stage "${query.stage}".`, { stage: 'Unknown stage' });
      flat.stage = query.stage;
    }
    for (const [key, raw] of Object.entries(query.filters ?? {})) {
      const value = typeof raw === 'string' ? raw.trim() : '';
      if (value === '') continue;
      const field = app.fields.find((f) => f.key === key);
      if (!field) throw new ValidationError(`${app.name} has no field "${key}".`, { [key]: 'Unknown field' });
      assertSafeValue(value, 'filter');
      const path = `record.${key}`;
      if (TEXTUAL.has(field.type)) flat[path] = { $regex: escapeRegex(value), $options: 'i' };
      else if (field.type === 'number') {
        const n = Number(value);
        if (!Number.isFinite(n))
          throw new ValidationError(`${field.label} must be a number.`, {
            [key]: `${field.label} must be a number`,
          });
        flat[path] = n;
      } else if (field.type === 'date') {
        // A hand-edited address (?f.needed_by=tomorrow) would otherwise quietly match nothing.
        if (checkFieldValue(field, value) !== null) {
          const message = `${field.label}: the date is not understood; write it as YYYY-MM-DD, e.g. 2027-01-31`;
          throw new ValidationError(`${message}.`, { [key]: message });
        }
        flat[path] = value;
      } else if (field.type === 'boolean')
        // "No" also matches records where the box was never ticked (the field is absent).
        flat[path] = value === 'true' || value === 'yes' ? true : { $ne: true };
      else if (field.type === 'user') {
        const user = await this.baton.users.lookup(value);
        flat[path] = user?._id ?? value;
      } else flat[path] = value;
    }
    const words = (query.q ?? '').trim().split(/\s+/).filter(Boolean).slice(0, 8);
    if (words.length > 0) {
      const paths = [
        '_id',
        ...app.fields
          .filter((f) => TEXTUAL.has(f.type) || f.type === 'select' || f.type === 'multi_select')
          .map((f) => `record.${f.key}`),
      ];
      // Options shown by a label ({ value: svc, label: Services }) are stored as their value:
      // a word found in the label people see finds them too.
      const labelled = app.fields.flatMap((f) =>
        f.type === 'select' || f.type === 'multi_select'
          ? (f.options ?? []).flatMap((o) => (typeof o === 'string' ? [] : [{ key: f.key, ...o }]))
          : [],
      );
      for (const w of words) {
        assertSafeValue(w, 'search');
        const re = escapeRegex(w.slice(0, 100));
        const byLabel = new RegExp(re, 'i');
        const values = new Map<string, string[]>();
        for (const o of labelled)
          if (byLabel.test(o.label)) values.set(o.key, [...(values.get(o.key) ?? []), o.value]);
        and.push({
          $or: [
            ...paths.map((p) => ({ [p]: { $regex: re, $options: 'i' } })),
            ...[...values].map(([key, vs]) => ({ [`record.${key}`]: { $in: vs } })),
          ],
        });
      }
    }
    if (!isOperator(actor)) {
      const groups = await this.baton.ctx.db.groups.find({ members: actor._id }).toArray();
      const keys = [`user:${actor._id}`, ...groups.map((g) => `group:${g.name}`)];
      const tasks = (
        await Promise.all(
          keys.map((k) =>
            this.baton.ctx.db.tasks
              .find(
                { assignee_key: k, app: app.key },
                { sort: { created_at: -1 }, limit: 2000, projection: { request_id: 1 } },
              )
              .toArray(),
          ),
        )
      ).flat();
      const ids = [...new Set(tasks.map((t) => t.request_id))];
      if (ids.length > 0) and.push({ $or: [{ requester: actor._id }, { _id: { $in: ids } }] });
      else flat.requester = actor._id;
    }
    return and.length > 0 ? { ...flat, $and: and } : flat;
  }

  /** One page of an app's requests. */
  async query(actor: User, appKey: string, query: TableQuery = {}): Promise<TablePage> {
    await this.ensureIndexes();
    const app = await this.baton.apps.get(appKey);
    const sortKey = query.sort ?? 'created';
    let path = BUILTIN_SORTS[sortKey];
    if (!path) {
      if (!app.fields.some((f) => f.key === sortKey))
        throw new ValidationError(`Cannot sort by "${sortKey}".`, { sort: 'Unknown column' });
      path = `record.${sortKey}`;
    }
    const dir =
      query.dir === 'asc'
        ? 'asc'
        : query.dir === 'desc'
          ? 'desc'
          : sortKey === 'created' || sortKey === 'updated' || sortKey === 'id'
            ? 'desc'
            : 'asc';
    const limit = Math.max(1, Math.min(query.limit ?? 50, 1000));
    const base = await this.filterFor(actor, app, query);
    const total = await this.baton.ctx.db.requests.countDocuments(base);
    let filter = base;
    if (query.after) {
      const { v, n } = decodeCursor(query.after);
      // Kept flat: the store compiles a top-level range on an indexed path to an index range scan.
      filter =
        path === 'number'
          ? { ...base, number: { [dir === 'asc' ? '$gt' : '$lt']: n } }
          : {
              ...base,
              $and: [
                ...((base.$and as Record<string, unknown>[] | undefined) ?? []),
                afterFilter(path, v, n, dir),
              ],
            };
    }
    const d = dir === 'asc' ? 1 : -1;
    const sort: Record<string, 1 | -1> = path === 'number' ? { number: d } : { [path]: d, number: d };
    const rows = await this.baton.ctx.db.requests.find(filter, { sort, limit: limit + 1 }).toArray();
    // Read straight from the store, so keep the durability barrier here (see durableFacade).
    await this.baton.durable();
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      rows: page,
      next: more && last ? encodeCursor(valueAt(last, path), last.number) : null,
      total,
      sort: sortKey,
      dir,
    };
  }
}
