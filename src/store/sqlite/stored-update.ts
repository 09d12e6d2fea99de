/**
 * The common updates applied directly to a document's stored form (see codec.ts), without
 * copying the whole document twice (revive, then encode again) and without mingo's general
 * machinery: `$set`, `$unset`, `$inc` and `$push` (a value, or `$each` with `$slice`) on
 * paths through plain objects. The result shares every untouched part with the input, which
 * is never modified (cached stored documents are immutable): only the objects along the
 * updated paths are copied.
 *
 * It answers exactly as the mingo operators the store uses otherwise (`compileModifier` in
 * sqlite-store.ts), including which updates count as modifying the document; whatever it is
 * not sure of — another operator, a path through an array, `$inc` of a non-number, `$push`
 * to a non-array, `$position`/`$sort` — it leaves to them: `compileStoredUpdate` returns
 * null, or the applier returns null for that document. The property test in
 * tests/store/stored-update.test.ts holds it to mingo.
 */

import { isPlainObject, setOwn, toStorable } from './codec.js';
import { splitPath } from './filter-to-sql.js';

type Json = Record<string, unknown>;

export type StoredUpdate = (stored: Json) => { doc: Json; modified: boolean } | null;

interface Op {
  kind: '$set' | '$unset' | '$inc' | '$push';
  segs: string[];
  /** $set: the value; $push: the elements ($each); $inc: the amount. Encoded lazily, once. */
  raw: unknown;
  encoded?: unknown;
  slice?: number;
}

const UNSAFE = new Set(['__proto__', 'constructor', 'prototype']);

/** The stored form of an operation's argument, encoded once. (Module level: a closure per update cost a little on the hot path.) */
function encoded(op: Op): unknown {
  if (!('encoded' in op)) op.encoded = toStorable(op.raw);
  return op.encoded;
}

/** Paths seen recently and their segments (a recipe's updates name the same few paths again and again). */
const SEGMENTS = new Map<string, string[] | null>();

/** The segments of a path the store accepts (as filters do), or null. */
function segmentsOf(path: string): string[] | null {
  let segs = SEGMENTS.get(path);
  if (segs !== undefined) return segs;
  try {
    const split = splitPath(path);
    segs = split.some((s) => UNSAFE.has(s)) ? null : split;
  } catch {
    segs = null;
  }
  if (SEGMENTS.size >= 4096) SEGMENTS.clear();
  SEGMENTS.set(path, segs);
  return segs;
}

/** Deep equality of stored-form values (JSON values: key order does not matter). */
export function storedEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!storedEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k) || !storedEqual((a as Json)[k], (b as Json)[k])) return false;
  }
  return true;
}

/**
 * Compiles a modifier (already validated by `compileModifier`, without `$setOnInsert`) for
 * the stored form, or returns null when it has an operator or argument left to mingo.
 */
export function compileStoredUpdate(modifier: Record<string, unknown> | null): StoredUpdate | null {
  if (!modifier) return null;
  const ops: Op[] = [];
  for (const kind of Object.keys(modifier)) {
    if (kind !== '$set' && kind !== '$unset' && kind !== '$inc' && kind !== '$push') return null;
    const expr = modifier[kind];
    if (!isPlainObject(expr)) return null;
    for (const path of Object.keys(expr)) {
      const segs = segmentsOf(path);
      if (segs === null) return null;
      const v = expr[path];
      if (kind === '$set') {
        if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return null;
        ops.push({ kind, segs, raw: v });
      } else if (kind === '$unset') {
        ops.push({ kind, segs, raw: null });
      } else if (kind === '$inc') {
        if (typeof v !== 'number' || !Number.isFinite(v)) return null;
        ops.push({ kind, segs, raw: v });
      } else if (isPlainObject(v) && Object.keys(v).some((k) => k.startsWith('$'))) {
        for (const k of Object.keys(v)) if (k !== '$each' && k !== '$slice') return null;
        if (!Array.isArray(v.$each)) return null;
        if (v.$slice !== undefined && !Number.isInteger(v.$slice)) return null;
        ops.push({
          kind,
          segs,
          raw: v.$each,
          ...(v.$slice !== undefined ? { slice: v.$slice as number } : {}),
        });
      } else {
        ops.push({ kind, segs, raw: [v] });
      }
    }
  }
  return (stored) => {
    const root: Json = { ...stored };
    let modified = false;
    for (const op of ops) {
      let parent: Json | null = root;
      const last = op.segs.length - 1;
      for (let i = 0; i < last; i++) {
        const s = op.segs[i]!;
        const cur: unknown = Object.hasOwn(parent, s) ? parent[s] : undefined;
        if (cur === undefined) {
          if (op.kind === '$unset') {
            parent = null;
            break;
          }
          const next: Json = {};
          setOwn(parent, s, next);
          parent = next;
        } else if (isPlainObject(cur)) {
          const next: Json = { ...cur };
          setOwn(parent, s, next);
          parent = next;
        } else return null; // an array, null or a scalar on the way: mingo decides
      }
      if (parent === null) continue;
      const k = op.segs[last]!;
      const cur: unknown = Object.hasOwn(parent, k) ? parent[k] : undefined;
      switch (op.kind) {
        case '$set': {
          const v = encoded(op);
          if (v === undefined) return null;
          if (cur !== undefined && storedEqual(cur, v)) break;
          setOwn(parent, k, v);
          modified = true;
          break;
        }
        case '$unset':
          if (cur === undefined) break;
          delete parent[k];
          modified = true;
          break;
        case '$inc': {
          if (cur !== undefined && typeof cur !== 'number') return null;
          const n = (cur || 0) + (op.raw as number);
          if (!Number.isFinite(n)) return null;
          setOwn(parent, k, n + 0);
          if (n !== cur) modified = true;
          break;
        }
        case '$push': {
          const each = encoded(op) as unknown[];
          if (cur === undefined) {
            // As mingo does: a missing array becomes the elements ($slice not applied).
            setOwn(parent, k, each.slice());
            modified = true;
            break;
          }
          if (!Array.isArray(cur)) return null;
          const arr = cur.concat(each);
          if (op.slice !== undefined) {
            if (op.slice < 0) {
              const drop = arr.length + op.slice;
              if (drop > 0) arr.splice(0, drop);
            } else arr.splice(op.slice);
          }
          const prev = cur.slice(0, op.slice || cur.length);
          setOwn(parent, k, arr);
          if (cur.length !== arr.length || !storedEqual(prev, arr)) modified = true;
          break;
        }
      }
    }
    return { doc: root, modified };
  };
}
