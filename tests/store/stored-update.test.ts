/**
 * Property test: the embedded store's fast update path (stored-update.ts), which applies
 * `$set`/`$unset`/`$inc`/`$push` to a document's stored form, must give the same document
 * and the same "modified" answer as mingo's updater on the revived document — or decline.
 */

import fc from 'fast-check';
import { update as mingoUpdate } from 'mingo/updater';
import { describe, expect, it } from 'vitest';
import { fromStorable, toStorable } from '../../src/store/sqlite/codec.js';
import { compileStoredUpdate } from '../../src/store/sqlite/stored-update.js';

const scalar = fc.oneof(
  fc.constantFrom('a', 'b', ''),
  fc.integer({ min: -3, max: 3 }),
  fc.double({ min: -5, max: 5, noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }),
);
const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 2, arbitrary: fc.array(scalar, { maxLength: 3 }) },
  {
    weight: 2,
    arbitrary: fc.record(
      { d: fc.oneof(scalar, fc.array(scalar, { maxLength: 2 }), fc.record({ f: scalar })), e: scalar },
      { requiredKeys: [], noNullPrototype: true },
    ),
  },
);
const docArb = fc.record(
  { a: value, b: value, c: value, n: fc.oneof(fc.integer({ min: -5, max: 5 }), scalar) },
  { requiredKeys: [], noNullPrototype: true },
);

const PATHS = ['a', 'b', 'c', 'c.d', 'c.e', 'c.d.f', 'n', 'x.y'];
const SAME = Symbol('same');

function valueAt(doc: Record<string, unknown>, path: string): unknown {
  let cur: unknown = doc;
  for (const s of path.split('.'))
    cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[s] : undefined;
  return cur;
}
const opArb = fc.oneof(
  fc.tuple(fc.constant('$set'), value),
  // $set to the value already there (an update that modifies nothing)
  fc.tuple(fc.constant('$set'), fc.constant(SAME)),
  fc.tuple(fc.constant('$unset'), fc.constant('')),
  fc.tuple(fc.constant('$inc'), fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(0, 0.5, -1.25))),
  fc.tuple(fc.constant('$push'), scalar),
  fc.tuple(
    fc.constant('$push'),
    fc.record(
      { $each: fc.array(scalar, { maxLength: 3 }), $slice: fc.integer({ min: -3, max: 3 }) },
      { requiredKeys: ['$each'] },
    ),
  ),
);
/** Modifiers over paths that do not overlap (as the store requires). */
const modifierArb = fc
  .array(fc.tuple(fc.constantFrom(...PATHS), opArb), { minLength: 1, maxLength: 4 })
  .map((entries) => {
    const used: string[] = [];
    const mod: Record<string, Record<string, unknown>> = {};
    for (const [path, [op, v]] of entries) {
      if (used.some((u) => u === path || u.startsWith(`${path}.`) || path.startsWith(`${u}.`))) continue;
      used.push(path);
      mod[op] = { ...mod[op], [path]: v };
    }
    return mod;
  });

function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null) {
    for (const v of Object.values(x)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
}

describe('stored-form updates agree with mingo', () => {
  it('same document, same modified answer, input untouched (or the fast path declines)', () => {
    let handled = 0;
    let modifiedSeen = 0;
    fc.assert(
      fc.property(docArb, modifierArb, (raw, modifier) => {
        const $set = modifier.$set;
        for (const path of Object.keys($set ?? {})) {
          if ($set![path] !== SAME) continue;
          const current = valueAt(raw, path);
          if (current === undefined) delete $set![path];
          else $set![path] = structuredClone(current);
        }
        if ($set && Object.keys($set).length === 0) delete modifier.$set;
        if (Object.keys(modifier).length === 0) return;
        const stored = deepFreeze(toStorable({ _id: 'x', ...raw }) as Record<string, unknown>);
        const reference = fromStorable(stored) as Record<string, unknown>;
        let changed: string[];
        try {
          changed = mingoUpdate(reference, structuredClone(modifier));
        } catch {
          return; // mingo refuses it; so does the store (compileModifier runs first)
        }
        const fast = compileStoredUpdate(structuredClone(modifier));
        const out = fast?.(stored);
        if (!out) return;
        handled++;
        if (out.modified) modifiedSeen++;
        expect(out.modified, JSON.stringify(modifier)).toBe(changed.length > 0);
        expect(out.doc, JSON.stringify({ raw, modifier })).toEqual(toStorable(reference));
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 3000) },
    );
    // Not vacuous: the fast path takes most updates, and many of them change the document.
    expect(handled).toBeGreaterThan(1000);
    expect(modifiedSeen).toBeGreaterThan(500);
  });
});
