/**
 * Translates a MongoDB query filter into an SQLite WHERE clause over a table
 * `(id TEXT PRIMARY KEY, doc TEXT NOT NULL)` holding JSON documents.
 *
 * Values are always bound parameters (`?`, in order); only field paths become SQL
 * text, and those are validated against a strict character set first.
 *
 * Value encoding (see `codec.ts`): JSON as produced by `JSON.stringify`, except that
 * a `Date` is stored as the string U+E000 followed by its ISO-8601 form. Such strings
 * sort chronologically with plain text comparison, so `json_extract` comparisons and
 * expression indexes work on them; the type bracketing below keeps them apart from
 * ordinary strings.
 *
 * Semantics follow MongoDB:
 * - a path's candidate values are the value at the path and, when it is an array,
 *   its elements; arrays met half-way along a dotted path are traversed (their object
 *   elements are searched for the rest of the path);
 * - `{a: null}` matches a null or missing `a` (and arrays containing null);
 * - comparisons are type-bracketed: `$gt: 5` only matches numbers, `$gt: 'x'` only
 *   strings, `$gt: date` only dates; `$gte`/`$lte` null behave like equality with
 *   null and `$gt`/`$lt` null match nothing;
 * - `$ne`, `$nin`, `$not` and `$nor` are the negations of their positive forms.
 * Not supported (rejected with an Error naming them): numeric path segments
 * (`a.0`), `$gt`-style comparisons against objects or arrays, and any operator not
 * listed in the port.
 *
 * Index friendliness: conditions on a top-level path are written so that every OR
 * branch carries a constraint on `json_extract(doc, '$."path"')` (an equality, a
 * range or an IS NULL), letting SQLite use an expression index created by
 * `createIndex` on the same path. `_id` maps to the `id` primary-key column.
 */

import type { Filter } from '../port.js';
import { DATE_MARK, encodeJson } from './codec.js';

export interface SqlWhere {
  sql: string;
  params: unknown[];
}

/** SQL for "the text value X is an encoded date". */
const dateRange = (v: string) => `(${v} >= char(57344) AND ${v} < char(57345))`;

/** Name of the SQL function (registered by the store) implementing $regex. */
export const REGEX_FN = 'baton_regexp';

const SEGMENT = /^[A-Za-z_$-][A-Za-z0-9_\-$]*$/;

export interface FilterOptions {
  /**
   * Top-level paths known to hold no array in any document (the caller checked, in the
   * same synchronous step). A plain string equality on such a path compiles to a single
   * `json_extract(doc, path) = ?`, which lets an index on the path also serve an ORDER BY;
   * a range (`$gt`/`$gte`/`$lt`/`$lte` on a number, string or date, see `isScalarRange`)
   * compiles to the bare comparison, so an index range scan serves it (keyset pagination).
   */
  scalarPaths?: ReadonlySet<string>;
}

/** True when `x`, compared with `json_extract(...) = x`, can only equal a JSON string holding `x` (never an array's or object's JSON text). */
/** An operator object made only of $gt/$gte/$lt/$lte on finite numbers, plain strings or valid dates. */
export function isScalarRange(x: unknown): x is Record<string, number | string | Date> {
  if (x === null || typeof x !== 'object' || Array.isArray(x) || x instanceof Date || x instanceof RegExp)
    return false;
  const entries = Object.entries(x);
  return (
    entries.length > 0 &&
    entries.every(
      ([op, v]) =>
        (op === '$gt' || op === '$gte' || op === '$lt' || op === '$lte') &&
        ((typeof v === 'number' && Number.isFinite(v)) ||
          isPlainString(v) ||
          (v instanceof Date && !Number.isNaN(v.getTime()))),
    )
  );
}

export function isPlainString(x: unknown): x is string {
  return typeof x === 'string' && x[0] !== '[' && x[0] !== '{';
}

/** Translates `filter` into a WHERE clause (without the `WHERE` keyword) and its parameters. */
export function filterToSql(filter: Filter, options: FilterOptions = {}): SqlWhere {
  const c = new Compiler(options.scalarPaths);
  const sql = c.filter(filter ?? {}, null);
  return { sql, params: c.params };
}

/** The SQL path literal for a dotted field path, e.g. `'$."a"."b"'` (validated). */
export function jsonPath(path: string): string {
  return `'$${splitPath(path)
    .map((s) => `."${s}"`)
    .join('')}'`;
}

/** Paths already checked (every filter and update names a handful of paths, again and again). */
const checkedPaths = new Map<string, string[]>();

/** The segments of a dotted field path (a shared, frozen array); throws on a path the store refuses. */
export function splitPath(path: string): string[] {
  const known = typeof path === 'string' ? checkedPaths.get(path) : undefined;
  if (known) return known;
  const segs = checkPath(path);
  if (checkedPaths.size >= 5000) checkedPaths.clear();
  checkedPaths.set(path, Object.freeze(segs) as string[]);
  return segs;
}

function checkPath(path: string): string[] {
  if (typeof path !== 'string' || path.length === 0) throw new Error('Empty field path in filter');
  const segs = path.split('.');
  for (const s of segs) {
    if (/^\d+$/.test(s)) {
      throw new Error(
        `Unsupported field path "${path}": numeric (array index) path segments are not supported`,
      );
    }
    if (!SEGMENT.test(s) || s.startsWith('$')) {
      throw new Error(`Unsupported field path "${path}": segments must match [A-Za-z_-][A-Za-z0-9_-]*`);
    }
  }
  return segs;
}

/** A location: a path (`segs`) below `base` (an SQL expression yielding a JSON path into `doc`, or null for the root). */
interface Loc {
  base: string | null;
  segs: string[];
}

/** One candidate value: SQL value expression, SQL json_type expression, SQL path expression. */
interface Cand {
  v: string;
  t: string;
  p: string;
}

type Pred = (c: Cand) => string;

const NUM = `IN ('integer','real')`;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function isOperatorObject(x: unknown): x is Record<string, unknown> {
  if (!isPlainObject(x)) return false;
  const keys = Object.keys(x);
  if (keys.length === 0) return false;
  const ops = keys.filter((k) => k.startsWith('$')).length;
  if (ops === 0) return false;
  if (ops !== keys.length) {
    throw new Error(`Invalid filter: cannot mix operators and fields in ${JSON.stringify(Object.keys(x))}`);
  }
  return true;
}

class Compiler {
  params: unknown[] = [];
  private n = 0;

  constructor(private readonly scalarPaths?: ReadonlySet<string>) {}

  private p(v: unknown): string {
    this.params.push(v);
    return '?';
  }

  private alias(): string {
    this.n += 1;
    return `j${this.n}`;
  }

  private pathExpr(loc: Loc): string {
    const suffix = loc.segs.map((s) => `."${s}"`).join('');
    if (loc.base === null) return `'$${suffix}'`;
    return suffix === '' ? loc.base : `(${loc.base} || '${suffix}')`;
  }

  filter(filter: Filter, base: string | null): string {
    if (!isPlainObject(filter)) throw new Error('A filter must be a plain object');
    const parts: string[] = [];
    for (const key of Object.keys(filter)) {
      const value = filter[key];
      if (key.startsWith('$')) {
        parts.push(this.logical(key, value, base));
      } else {
        parts.push(this.field(key, value, base));
      }
    }
    if (parts.length === 0) return '1';
    return parts.length === 1 ? parts[0]! : parts.map((p) => `(${p})`).join(' AND ');
  }

  private logical(op: string, value: unknown, base: string | null): string {
    if (op === '$and' || op === '$or' || op === '$nor') {
      if (!Array.isArray(value) || value.length === 0) {
        throw new Error(`${op} needs a non-empty array of filters`);
      }
      const subs = value.map((f) => `(${this.filter(f as Filter, base)})`);
      if (op === '$and') return subs.join(' AND ');
      if (op === '$or') return subs.join(' OR ');
      return `NOT coalesce((${subs.join(' OR ')}), 0)`;
    }
    throw new Error(`Unsupported query operator ${op} at top level`);
  }

  private field(path: string, cond: unknown, base: string | null): string {
    if (path === '_id' && base === null) return this.idField(cond);
    if (base === null && isPlainString(cond) && this.scalarPaths?.has(path)) {
      return `json_extract(doc, ${jsonPath(path)}) = ${this.p(cond)}`;
    }
    if (base === null && isScalarRange(cond) && this.scalarPaths?.has(path)) {
      const c = {
        v: `json_extract(doc, ${jsonPath(path)})`,
        t: `json_type(doc, ${jsonPath(path)})`,
        p: jsonPath(path),
      };
      return Object.entries(cond)
        .map(([op, x]) => this.cmpPred(op as '$gt' | '$gte' | '$lt' | '$lte', x)(c))
        .join(' AND ');
    }
    const loc: Loc = { base, segs: splitPath(path) };
    if (cond instanceof RegExp) return this.regex(loc, cond.source, cond.flags);
    if (isOperatorObject(cond)) return this.ops(loc, cond);
    return this.eq(loc, cond);
  }

  private ops(loc: Loc, ops: Record<string, unknown>): string {
    const parts: string[] = [];
    for (const op of Object.keys(ops)) {
      const x = ops[op];
      switch (op) {
        case '$eq':
          parts.push(this.eq(loc, x));
          break;
        case '$ne':
          parts.push(`NOT coalesce(${this.eq(loc, x)}, 0)`);
          break;
        case '$gt':
        case '$gte':
        case '$lt':
        case '$lte':
          parts.push(this.cmp(loc, op, x));
          break;
        case '$in':
          parts.push(this.inList(loc, x, '$in'));
          break;
        case '$nin':
          parts.push(`NOT coalesce(${this.inList(loc, x, '$nin')}, 0)`);
          break;
        case '$exists':
          parts.push(x ? this.exists(loc) : `NOT coalesce(${this.exists(loc)}, 0)`);
          break;
        case '$not': {
          let inner: string;
          if (x instanceof RegExp) inner = this.regex(loc, x.source, x.flags);
          else if (isOperatorObject(x)) inner = this.ops(loc, x);
          else throw new Error('$not needs an operator object or a regular expression');
          parts.push(`NOT coalesce(${inner}, 0)`);
          break;
        }
        case '$regex': {
          const options = ops.$options;
          if (options !== undefined && typeof options !== 'string')
            throw new Error('$options must be a string');
          let source: string;
          let flags = '';
          if (x instanceof RegExp) {
            source = x.source;
            flags = x.flags;
          } else if (typeof x === 'string') source = x;
          else throw new Error('$regex needs a string or a RegExp');
          parts.push(this.regex(loc, source, mergeFlags(flags, options ?? '')));
          break;
        }
        case '$options':
          if (!('$regex' in ops)) throw new Error('$options without $regex');
          break;
        case '$size': {
          if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) {
            throw new Error('$size needs a non-negative integer');
          }
          parts.push(
            this.any(
              loc,
              (c) => `(${c.t} = 'array' AND json_array_length(doc, ${c.p}) = ${this.p(x)})`,
              false,
            ),
          );
          break;
        }
        case '$elemMatch':
          parts.push(this.elemMatch(loc, x));
          break;
        default:
          throw new Error(`Unsupported query operator ${op}`);
      }
    }
    return parts.length === 1 ? parts[0]! : parts.map((s) => `(${s})`).join(' AND ');
  }

  /**
   * True when some candidate value at `loc` satisfies `pred`. `expandLeaf`: also try
   * the elements of an array found at the full path.
   */
  private any(loc: Loc, pred: Pred, expandLeaf: boolean): string {
    const p = this.pathExpr(loc);
    const root = loc.base === null;
    const v = `json_extract(doc, ${p})`;
    const t = `json_type(doc, ${p})`;
    const parts: string[] = [pred({ v, t, p })];
    if (expandLeaf) {
      const j = this.alias();
      const guard = root ? `${v} >= '[' AND ${v} < '\\' AND ` : '';
      parts.push(
        `(${guard}${t} = 'array' AND EXISTS (SELECT 1 FROM json_each(doc, ${p}) AS ${j} WHERE ${pred({
          v: `${j}.value`,
          t: `${j}.type`,
          p: `${j}.fullkey`,
        })}))`,
      );
    }
    for (let i = 1; i < loc.segs.length; i++) {
      const prefix = this.pathExpr({ base: loc.base, segs: loc.segs.slice(0, i) });
      const j = this.alias();
      const guard = root ? `${v} IS NULL AND ` : '';
      const sub = this.any({ base: `${j}.fullkey`, segs: loc.segs.slice(i) }, pred, expandLeaf);
      parts.push(
        `(${guard}json_type(doc, ${prefix}) = 'array' AND EXISTS (SELECT 1 FROM json_each(doc, ${prefix}) AS ${j} WHERE ${j}.type = 'object' AND ${sub}))`,
      );
    }
    return parts.length === 1 ? parts[0]! : `(${parts.join(' OR ')})`;
  }

  private eq(loc: Loc, x: unknown): string {
    if (x === null || x === undefined) return this.isNull(loc);
    if (x instanceof RegExp) return this.regex(loc, x.source, x.flags);
    return this.any(loc, (c) => this.eqPred(c, x), true);
  }

  private eqPred(c: Cand, x: unknown): string {
    switch (typeof x) {
      case 'boolean':
        // The value (1 or 0, as json_extract and the index columns hold a boolean) first, so that
        // an index on the path serves it (`{pending_resume: true}` scanned the whole table).
        return `(${c.v} = ${x ? 1 : 0} AND ${c.t} = '${x ? 'true' : 'false'}')`;
      case 'number':
        if (Number.isNaN(x)) return '0';
        return `(${c.v} = ${this.p(x)} AND ${c.t} ${NUM})`;
      case 'string':
        return `(${c.v} = ${this.p(x)} AND ${c.t} = 'text')`;
      case 'object': {
        if (x instanceof Date) {
          if (Number.isNaN(x.getTime())) throw new Error('Invalid Date in filter');
          return `(${c.v} = ${this.p(DATE_MARK + x.toISOString())} AND ${c.t} = 'text')`;
        }
        if (Array.isArray(x)) return `(${c.v} = ${this.p(encodeJson(x))} AND ${c.t} = 'array')`;
        if (isPlainObject(x)) return `(${c.v} = ${this.p(encodeJson(x))} AND ${c.t} = 'object')`;
        throw new Error(`Unsupported value in filter: ${Object.prototype.toString.call(x)}`);
      }
      default:
        throw new Error(`Unsupported value type in filter: ${typeof x}`);
    }
  }

  /** `{path: null}`: null, missing, or an array holding null. */
  private isNull(loc: Loc): string {
    const p = this.pathExpr(loc);
    const v = `json_extract(doc, ${p})`;
    const t = `json_type(doc, ${p})`;
    // Missing counts only when no prefix of the path is an array (arrays are searched instead).
    const noArrayPrefix: string[] = [];
    for (let i = 1; i < loc.segs.length; i++) {
      noArrayPrefix.push(
        `json_type(doc, ${this.pathExpr({ base: loc.base, segs: loc.segs.slice(0, i) })}) IS NOT 'array'`,
      );
    }
    const direct = noArrayPrefix.length
      ? `(${v} IS NULL AND ${noArrayPrefix.join(' AND ')})`
      : `${v} IS NULL`;
    const j = this.alias();
    const guard = loc.base === null ? `${v} >= '[' AND ${v} < '\\' AND ` : '';
    const parts = [
      direct,
      `(${guard}${t} = 'array' AND EXISTS (SELECT 1 FROM json_each(doc, ${p}) AS ${j} WHERE ${j}.type = 'null'))`,
    ];
    for (let i = 1; i < loc.segs.length; i++) {
      const prefix = this.pathExpr({ base: loc.base, segs: loc.segs.slice(0, i) });
      const k = this.alias();
      const guard2 = loc.base === null ? `${v} IS NULL AND ` : '';
      const sub = this.isNull({ base: `${k}.fullkey`, segs: loc.segs.slice(i) });
      // Object elements lacking the rest of the path match (as in MongoDB); scalar elements do not.
      parts.push(
        `(${guard2}json_type(doc, ${prefix}) = 'array' AND EXISTS (SELECT 1 FROM json_each(doc, ${prefix}) AS ${k} WHERE ${k}.type = 'object' AND ${sub}))`,
      );
    }
    return `(${parts.join(' OR ')})`;
  }

  private exists(loc: Loc): string {
    return this.any(loc, (c) => `${c.t} IS NOT NULL`, false);
  }

  private cmp(loc: Loc, op: '$gt' | '$gte' | '$lt' | '$lte', x: unknown): string {
    if (x === null) return op === '$gte' || op === '$lte' ? this.isNull(loc) : '0';
    if (typeof x === 'number' && Number.isNaN(x)) return '0';
    return this.any(loc, this.cmpPred(op, x), true);
  }

  /** The comparison of one candidate value (type-bracketed). */
  private cmpPred(op: '$gt' | '$gte' | '$lt' | '$lte', x: unknown): Pred {
    const sqlOp = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' }[op];
    let pred: Pred;
    if (typeof x === 'number') {
      pred = (c) => `(${c.v} ${sqlOp} ${this.p(x)} AND ${c.t} ${NUM})`;
    } else if (typeof x === 'string') {
      pred = (c) => `(${c.v} ${sqlOp} ${this.p(x)} AND ${c.t} = 'text' AND NOT ${dateRange(c.v)})`;
    } else if (typeof x === 'boolean') {
      pred = (c) => `(${c.v} ${sqlOp} ${this.p(x ? 1 : 0)} AND ${c.t} IN ('true','false'))`;
    } else if (x instanceof Date) {
      if (Number.isNaN(x.getTime())) throw new Error('Invalid Date in filter');
      const enc = DATE_MARK + x.toISOString();
      pred = (c) => `(${c.v} ${sqlOp} ${this.p(enc)} AND ${c.t} = 'text' AND ${dateRange(c.v)})`;
    } else {
      throw new Error(`Unsupported operand for ${op}: only numbers, strings, booleans, dates and null`);
    }
    return pred;
  }

  private inList(loc: Loc, list: unknown, op: string): string {
    if (!Array.isArray(list)) throw new Error(`${op} needs an array`);
    if (list.length === 0) return '0';
    const strings: string[] = [];
    const numbers: number[] = [];
    const others: unknown[] = [];
    for (const x of list) {
      if (typeof x === 'string') strings.push(x);
      else if (typeof x === 'number' && !Number.isNaN(x)) numbers.push(x);
      else others.push(x);
    }
    const parts: string[] = [];
    if (strings.length > 0 || numbers.length > 0) {
      parts.push(
        this.any(
          loc,
          (c) => {
            const ors: string[] = [];
            if (strings.length > 0) {
              ors.push(`(${c.v} IN (${strings.map((s) => this.p(s)).join(',')}) AND ${c.t} = 'text')`);
            }
            if (numbers.length > 0) {
              ors.push(`(${c.v} IN (${numbers.map((s) => this.p(s)).join(',')}) AND ${c.t} ${NUM})`);
            }
            return ors.length === 1 ? ors[0]! : `(${ors.join(' OR ')})`;
          },
          true,
        ),
      );
    }
    for (const x of others) parts.push(this.eq(loc, x));
    return parts.length === 1 ? parts[0]! : `(${parts.join(' OR ')})`;
  }

  private regex(loc: Loc, source: string, flags: string): string {
    for (const f of flags) {
      if (!'imsu'.includes(f)) throw new Error(`Unsupported $regex option "${f}"`);
    }
    // Validate now so that a bad pattern fails the call, not the SQL function.
    new RegExp(source, flags);
    return this.any(
      loc,
      (c) =>
        `(${c.t} = 'text' AND NOT ${dateRange(c.v)} AND ${REGEX_FN}(${this.p(source)}, ${this.p(flags)}, ${c.v}))`,
      true,
    );
  }

  private elemMatch(loc: Loc, x: unknown): string {
    if (!isPlainObject(x)) throw new Error('$elemMatch needs an object');
    const operatorForm = isOperatorObject(x);
    return this.any(
      loc,
      (c) => {
        const j = this.alias();
        const inner = operatorForm
          ? this.ops({ base: `${j}.fullkey`, segs: [] }, x)
          : `${j}.type = 'object' AND (${this.filter(x, `${j}.fullkey`)})`;
        return `(${c.t} = 'array' AND EXISTS (SELECT 1 FROM json_each(doc, ${c.p}) AS ${j} WHERE ${inner}))`;
      },
      false,
    );
  }

  /** `_id` is the `id` column (always a string). */
  private idField(cond: unknown): string {
    const c: Cand = { v: 'id', t: `'text'`, p: '' };
    const simple = (x: unknown): string => {
      if (typeof x === 'string') return `id = ${this.p(x)}`;
      if (x === null || x === undefined) return '0';
      return '0';
    };
    if (cond instanceof RegExp) return `${REGEX_FN}(${this.p(cond.source)}, ${this.p(cond.flags)}, id)`;
    if (!isOperatorObject(cond)) return simple(cond);
    const parts: string[] = [];
    for (const op of Object.keys(cond)) {
      const x = cond[op];
      switch (op) {
        case '$eq':
          parts.push(simple(x));
          break;
        case '$ne':
          parts.push(`NOT (${simple(x)})`);
          break;
        case '$in':
        case '$nin': {
          if (!Array.isArray(x)) throw new Error(`${op} needs an array`);
          const ids = x.filter((s): s is string => typeof s === 'string');
          const inner = ids.length ? `id IN (${ids.map((s) => this.p(s)).join(',')})` : '0';
          parts.push(op === '$in' ? inner : `NOT (${inner})`);
          break;
        }
        case '$gt':
        case '$gte':
        case '$lt':
        case '$lte': {
          const sqlOp = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' }[op];
          parts.push(typeof x === 'string' ? `${c.v} ${sqlOp} ${this.p(x)}` : '0');
          break;
        }
        case '$exists':
          parts.push(x ? '1' : '0');
          break;
        case '$regex': {
          const options = cond.$options;
          if (typeof x !== 'string' && !(x instanceof RegExp))
            throw new Error('$regex needs a string or a RegExp');
          const source = x instanceof RegExp ? x.source : x;
          const flags = mergeFlags(
            x instanceof RegExp ? x.flags : '',
            typeof options === 'string' ? options : '',
          );
          parts.push(`${REGEX_FN}(${this.p(source)}, ${this.p(flags)}, id)`);
          break;
        }
        case '$options':
          break;
        case '$not': {
          if (!isOperatorObject(x)) throw new Error('$not needs an operator object');
          parts.push(`NOT (${this.idField(x)})`);
          break;
        }
        default:
          throw new Error(`Unsupported query operator ${op} on _id`);
      }
    }
    return parts.length === 1 ? parts[0]! : parts.map((s) => `(${s})`).join(' AND ');
  }
}

function mergeFlags(a: string, b: string): string {
  let out = '';
  for (const f of a + b) {
    if (f === 'g' || f === 'y') continue;
    if (!out.includes(f)) out += f;
  }
  return out;
}

/**
 * SQL ORDER BY terms for a sort spec: directly on `json_extract(doc, path)`, so an
 * expression index on the same path can serve the order (and a LIMIT can stop early).
 *
 * This assumes a field holds one type across documents (true of Baton's fields).
 * For mixed-type fields the order differs from MongoDB's (null/missing < numbers <
 * strings < objects < arrays < booleans < dates): SQLite orders NULL (null or missing)
 * < numbers and booleans (as 0/1) < text (strings, dates — dates after every ordinary
 * string, since they start with U+E000 — and objects/arrays by their JSON text).
 */
export function sortToSql(sort: Record<string, 1 | -1> | undefined): string {
  if (!sort) return '';
  const terms: string[] = [];
  for (const key of Object.keys(sort)) {
    const dir = sort[key] === -1 ? 'DESC' : 'ASC';
    if (sort[key] !== 1 && sort[key] !== -1) throw new Error(`Sort direction for "${key}" must be 1 or -1`);
    terms.push(key === '_id' ? `id ${dir}` : `json_extract(doc, ${jsonPath(key)}) ${dir}`);
  }
  return terms.join(', ');
}
