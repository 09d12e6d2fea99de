/**
 * Guards so that user input (chat text, form fields, webhook payloads) never becomes a
 * query or update operator, a dotted path, or a prototype-polluting key.
 */

export class UnsafeInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeInputError';
  }
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DEPTH = 64;

function describeKey(key: string): string {
  return JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key);
}

function check(value: unknown, label: string, path: string, depth: number, seen: Set<object>): void {
  if (typeof value !== 'object' || value === null) return;
  if (value instanceof Date || value instanceof RegExp) {
    if (value instanceof RegExp)
      throw new UnsafeInputError(`${label}: regular expressions are not allowed at ${path}`);
    return;
  }
  if (depth > MAX_DEPTH)
    throw new UnsafeInputError(`${label}: value is nested too deeply (more than ${MAX_DEPTH})`);
  if (seen.has(value)) throw new UnsafeInputError(`${label}: value contains a cycle at ${path}`);
  seen.add(value);
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      check(v, label, `${path}[${i}]`, depth + 1, seen);
    });
  } else {
    for (const key of Reflect.ownKeys(value)) {
      if (typeof key !== 'string')
        throw new UnsafeInputError(`${label}: symbol keys are not allowed at ${path}`);
      if (key.startsWith('$')) {
        throw new UnsafeInputError(`${label}: key ${describeKey(key)} at ${path} starts with "$"`);
      }
      if (key.includes('.'))
        throw new UnsafeInputError(`${label}: key ${describeKey(key)} at ${path} contains "."`);
      if (FORBIDDEN_KEYS.has(key))
        throw new UnsafeInputError(`${label}: key ${describeKey(key)} at ${path} is forbidden`);
      check((value as Record<string, unknown>)[key], label, `${path}.${key}`, depth + 1, seen);
    }
  }
  seen.delete(value);
}

/**
 * Throws `UnsafeInputError` if `value` (recursively) holds an object key that starts
 * with `$`, contains `.`, or is `__proto__`/`constructor`/`prototype`, or holds a
 * RegExp (which the engines would treat as a pattern). Scalars are always safe.
 */
export function assertSafeValue(value: unknown, label: string): void {
  check(value, label, '$', 0, new Set());
}

/** Throws `UnsafeInputError` unless `id` is a non-empty string of at most 200 chars, without control characters, not starting with `$`. */
export function assertSafeId(id: unknown, label: string): asserts id is string {
  if (typeof id !== 'string') throw new UnsafeInputError(`${label}: id must be a string, got ${typeof id}`);
  if (id.length === 0) throw new UnsafeInputError(`${label}: id must not be empty`);
  if (id.length > 200) throw new UnsafeInputError(`${label}: id is longer than 200 characters`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f]/.test(id))
    throw new UnsafeInputError(`${label}: id contains control characters`);
  if (id.startsWith('$')) throw new UnsafeInputError(`${label}: id must not start with "$"`);
}
