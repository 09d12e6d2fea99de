/**
 * A small in-memory matcher for the filters that accompany an `_id` in compare-and-set
 * updates and guarded reads (`{_id, status: 'open'}`, `{_id, pc: 3}`, `{_id, applied:
 * {$ne: id}}`, `{_id, pending: {$size: 0}}`), evaluated on a cached document in its
 * stored form (dates as marked strings, see codec.ts).
 *
 * It answers only what it can answer exactly as the SQL translation (and MongoDB) would:
 * equality with a string, number, boolean or null, `$eq`, `$ne`, `$in`, `$nin` of such
 * scalars, `$exists`, `$size`, `$not` of those and `$elemMatch` in its document form (e.g.
 * `{deliveries: {$not: {$elemMatch: {surface, user}}}}`), on top-level or dotted paths
 * through plain objects. For
 * anything else — other operators, array or object operands, a path that crosses an array,
 * `$and`/`$or` — it returns `undefined` and the caller runs the filter in SQL. The property
 * test in tests/store/filter-property.test.ts holds it to the SQL answers.
 */

import { DATE_MARK, isPlainObject } from './codec.js';

type Scalar = string | number | boolean | null;

const MISSING = Symbol('missing');
const UNKNOWN = Symbol('unknown');

function isScalar(v: unknown): v is Scalar {
  if (v === null || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  // A string starting with the date mark would compare with stored dates: leave it to SQL.
  return typeof v === 'string' && !v.startsWith(DATE_MARK);
}

/** The value at a dotted path, MISSING, or UNKNOWN when the path crosses an array. */
function valueAt(doc: Record<string, unknown>, path: string): unknown {
  let cur: unknown = doc;
  let start = 0;
  for (;;) {
    const dot = path.indexOf('.', start);
    const seg = dot === -1 ? path.slice(start) : path.slice(start, dot);
    if (Array.isArray(cur)) return UNKNOWN;
    if (!isPlainObject(cur) || !Object.hasOwn(cur, seg)) return MISSING;
    cur = cur[seg];
    if (dot === -1) return cur;
    start = dot + 1;
  }
}

/** MongoDB equality of a field value with a scalar (array fields match by membership). */
function equals(value: unknown, target: Scalar): boolean {
  if (target === null) {
    if (value === MISSING || value === null) return true;
    return Array.isArray(value) && value.some((x) => x === null);
  }
  if (value === target) return true;
  return Array.isArray(value) && value.some((x) => x === target);
}

/** One field condition: true/false, or undefined when not decidable here. */
function matchCondition(value: unknown, cond: unknown): boolean | undefined {
  if (isScalar(cond)) return equals(value, cond);
  if (!isPlainObject(cond)) return undefined;
  const ops = Object.keys(cond);
  if (ops.length === 0) return undefined;
  let result = true;
  for (const op of ops) {
    const arg = cond[op];
    let r: boolean;
    switch (op) {
      case '$eq':
        if (!isScalar(arg)) return undefined;
        r = equals(value, arg);
        break;
      case '$ne':
        if (!isScalar(arg)) return undefined;
        r = !equals(value, arg);
        break;
      case '$in':
      case '$nin': {
        if (!Array.isArray(arg) || !arg.every(isScalar)) return undefined;
        const hit = arg.some((x) => equals(value, x));
        r = op === '$in' ? hit : !hit;
        break;
      }
      case '$exists':
        if (typeof arg !== 'boolean') return undefined;
        r = (value !== MISSING) === arg;
        break;
      case '$size':
        if (typeof arg !== 'number' || !Number.isInteger(arg)) return undefined;
        r = Array.isArray(value) && value.length === arg;
        break;
      case '$not': {
        // Only an operator object (a regex is left to SQL); a missing field matches.
        if (!isPlainObject(arg) || !Object.keys(arg).every((k) => k.startsWith('$'))) return undefined;
        const inner = matchCondition(value, arg);
        if (inner === undefined) return undefined;
        r = !inner;
        break;
      }
      case '$elemMatch': {
        // The document form (`{$elemMatch: {a: x, b: y}}`): some element is an object matching
        // every condition. Operator forms (`{$elemMatch: {$gt: 1}}`) are left to SQL.
        if (!isPlainObject(arg)) return undefined;
        const keys = Object.keys(arg);
        if (keys.length === 0 || keys.some((k) => k.startsWith('$'))) return undefined;
        if (value === MISSING || !Array.isArray(value)) {
          r = false;
          break;
        }
        r = false;
        for (const el of value) {
          if (!isPlainObject(el)) continue;
          const m = matchRest(el, arg, false);
          if (m === undefined) return undefined;
          if (m) {
            r = true;
            break;
          }
        }
        break;
      }
      default:
        return undefined;
    }
    if (!r) result = false;
  }
  return result;
}

/**
 * Whether `doc` (stored form) matches every key of `filter` other than `_id` (which the
 * caller already used to find it): true/false, or undefined when SQL must decide.
 */
export function matchRest(
  doc: Record<string, unknown>,
  filter: Record<string, unknown>,
  skipId = true,
): boolean | undefined {
  let result = true;
  for (const key of Object.keys(filter)) {
    if (key === '_id' && skipId) continue;
    if (key.startsWith('$') || key === '' || key.startsWith('.') || key.endsWith('.') || key.includes('..'))
      return undefined;
    const value = valueAt(doc, key);
    if (value === UNKNOWN) return undefined;
    const r = matchCondition(value, filter[key]);
    if (r === undefined) return undefined;
    if (!r) result = false;
  }
  return result;
}
