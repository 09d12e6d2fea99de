/**
 * JSON encoding of documents for the embedded (SQLite) engine.
 *
 * Documents are stored as `JSON.stringify` text with one twist: a `Date` becomes the
 * string U+E000 (a private-use character, the "date mark") followed by
 * `date.toISOString()`. Why this choice:
 * - `json_extract` yields plain TEXT for it, and ISO-8601 strings of one format sort
 *   chronologically, so `$lt`/`$gte`/equality on dates, ORDER BY and expression
 *   indexes work directly in SQL (years 0000–9999);
 * - the mark keeps dates apart from ordinary strings (type bracketing: U+E000 is
 *   tested explicitly, see `filter-to-sql.ts`) and lets reads revive them as `Date`;
 * - an object tag such as `{"$date": …}` would need a different JSON path for
 *   comparisons than for equality, and `$`-keys are not valid field names.
 * Consequence: a stored string may not begin with U+E000 (rejected on write). An
 * invalid Date is stored as null (as `JSON.stringify` does).
 */

export const DATE_MARK = '\uE000';
const MARK_CODE = 0xe000;

/** Sets an own data property (safe for the key `__proto__`, which a plain assignment would not create). */
export function setOwn(obj: object, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  } else (obj as Record<string, unknown>)[key] = value;
}

/** A plain object (an object literal, JSON.parse's or `Object.create(null)`), not an array, Date or class instance. */
export function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

/**
 * The stored form of `value`: a fresh copy holding only what JSON keeps, with Dates replaced
 * by marked strings and numbers as JSON writes them (NaN and ±Infinity → null, -0 → 0), so
 * that `JSON.parse(JSON.stringify(x))` of the result equals it (faster than a replacer).
 * `stored`: `value` may be (or hold parts) in the stored form already, whose marked strings are
 * dates, not strings a caller wrote (which are refused).
 */
export function toStorable(value: unknown, stored = false): unknown {
  if (typeof value !== 'object' || value === null) {
    if (!stored && typeof value === 'string' && value.charCodeAt(0) === MARK_CODE) {
      throw new Error('Strings starting with U+E000 are reserved by the embedded store');
    }
    if (typeof value === 'number') return Number.isFinite(value) ? value + 0 : null;
    return value;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : DATE_MARK + value.toISOString();
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const x = toStorable(value[i], stored);
      out[i] = x === undefined || typeof x === 'function' || typeof x === 'symbol' ? null : x;
    }
    return out;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return toStorable(toJSON.call(value), stored);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) {
    const x = (value as Record<string, unknown>)[k];
    if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
    if (k === '__proto__') setOwn(out, k, toStorable(x, stored));
    else out[k] = toStorable(x, stored);
  }
  return out;
}

/** Revives marked strings as Dates, in place. */
function revive(value: unknown): unknown {
  if (typeof value === 'string') return value.charCodeAt(0) === MARK_CODE ? new Date(value.slice(1)) : value;
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = revive(value[i]);
    return value;
  }
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    const x = obj[k];
    const r = revive(x);
    if (r === x) continue;
    if (k === '__proto__') setOwn(obj, k, r);
    else obj[k] = r;
  }
  return obj;
}

/** A fresh copy of a stored-form value with marked strings revived as Dates (the caller may mutate it). */
export function fromStorable(value: unknown): unknown {
  if (typeof value === 'string') return value.charCodeAt(0) === MARK_CODE ? new Date(value.slice(1)) : value;
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = fromStorable(value[i]);
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) {
    const x = fromStorable((value as Record<string, unknown>)[k]);
    if (k === '__proto__') setOwn(out, k, x);
    else out[k] = x;
  }
  return out;
}

/** Encodes a document or value as stored JSON text. */
export function encodeJson(value: unknown): string {
  return JSON.stringify(toStorable(value));
}

/** Decodes stored JSON text, reviving dates. */
export function decodeJson<T = unknown>(text: string): T {
  const parsed = JSON.parse(text);
  return (text.includes(DATE_MARK) ? revive(parsed) : parsed) as T;
}
