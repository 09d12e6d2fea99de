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

function replacer(this: unknown, key: string, value: unknown): unknown {
  if (typeof value === 'string') {
    const raw = (this as Record<string, unknown>)[key];
    if (raw instanceof Date) return DATE_MARK + value;
    if (value.charCodeAt(0) === MARK_CODE) {
      throw new Error('Strings starting with U+E000 are reserved by the embedded store');
    }
  }
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === 'string' && value.charCodeAt(0) === MARK_CODE) return new Date(value.slice(1));
  return value;
}

/** Encodes a document or value as stored JSON text. */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value, replacer);
}

/** Decodes stored JSON text, reviving dates. */
export function decodeJson<T = unknown>(text: string): T {
  return (text.includes(DATE_MARK) ? JSON.parse(text, reviver) : JSON.parse(text)) as T;
}
