/**
 * Property test: the SQLite translator (`filterToSql` through the embedded store) and
 * mingo's in-memory matcher must select the same documents for random documents and
 * random filters.
 *
 * Deliberately not generated (known MongoDB-vs-mingo disagreements, where the embedded
 * engine follows MongoDB):
 * - comparison operators with a null operand (`{a: {$gte: null}}`): MongoDB treats
 *   `$gte`/`$lte` null like equality with null (matching missing fields); mingo does not;
 * - non-ASCII strings: MongoDB and SQLite compare UTF-8 bytes, mingo compares UTF-16 code units;
 * - arrays of objects with `{'a.b': null}`: MongoDB matches an element lacking `b`, mingo does not
 *   (documents here only hold arrays of scalars).
 */

import fc from 'fast-check';
import { Query } from 'mingo';
import { afterAll, describe, expect, it } from 'vitest';
import type { Doc } from '../../src/store/index.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const scalar = fc.oneof(
  fc.constantFrom('a', 'b', 'ab', 'B', ''),
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(-1.5, 0.5, 2.25, 1e10),
  fc.double({ min: -5, max: 5, noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);
const scalarArray = fc.array(scalar, { maxLength: 3 });
const nested = fc.record(
  { d: fc.oneof(scalar, scalarArray), e: scalar },
  { requiredKeys: [], noNullPrototype: true },
);
const value = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 2, arbitrary: scalarArray },
  { weight: 2, arbitrary: nested },
);

const docArb = fc.record({ a: value, b: value, c: value }, { requiredKeys: [], noNullPrototype: true });

const PATHS = ['a', 'b', 'c', 'c.d', 'c.e'] as const;
const path = fc.constantFrom(...PATHS);
const nonNullScalar = scalar.filter((x) => x !== null);

const opExpr: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ $eq: fc.oneof(scalar, scalarArray) }),
  fc.record({ $ne: scalar }),
  fc.record({ $gt: nonNullScalar }),
  fc.record({ $gte: nonNullScalar }),
  fc.record({ $lt: nonNullScalar }),
  fc.record({ $lte: nonNullScalar }),
  fc.record({ $in: fc.array(scalar, { maxLength: 3 }) }),
  fc.record({ $nin: fc.array(scalar, { maxLength: 3 }) }),
  fc.record({ $exists: fc.boolean() }),
  fc.record({ $size: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ $gt: fc.integer({ min: -3, max: 3 }), $lt: fc.integer({ min: -3, max: 3 }) }),
);
const fieldCond = fc.oneof(
  { weight: 3, arbitrary: fc.oneof(scalar, scalarArray, nested).map((v) => v as unknown) },
  { weight: 4, arbitrary: opExpr.map((v) => v as unknown) },
  { weight: 1, arbitrary: opExpr.map((v) => ({ $not: v }) as unknown) },
  {
    weight: 1,
    arbitrary: opExpr
      .filter((o) => !('$size' in o) && !('$exists' in o))
      .map((v) => ({ $elemMatch: v }) as unknown),
  },
);
/**
 * mingo resolves a dotted path through an array of scalars (or an empty array) to an
 * empty array (`{c: []}` gives `c.d` = `[]`), so `{'c.d': {$size: 0}}` or `{'c.d': []}`
 * match there; MongoDB finds no value at such a path. Excluded: array-shaped
 * conditions ($size, array operands) on dotted paths.
 */
const arrayShaped = (c: unknown): boolean =>
  Array.isArray(c) ||
  (typeof c === 'object' &&
    c !== null &&
    Object.entries(c).some(
      ([k, v]) =>
        k === '$size' ||
        (k !== '$in' && k !== '$nin' && arrayShaped(v)) ||
        ((k === '$in' || k === '$nin') && (v as unknown[]).some((x) => Array.isArray(x))),
    ));
const leaf = fc
  .tuple(path, fieldCond)
  .filter(([p, c]) => !p.includes('.') || !arrayShaped(c))
  .map(([p, c]) => ({ [p]: c }) as Record<string, unknown>);

const { filter } = fc.letrec<{ filter: Record<string, unknown> }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    leaf,
    fc.tuple(leaf, leaf).map(([x, y]) => ({ ...x, ...y })),
    fc.record({ $and: fc.array(tie('filter'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ $or: fc.array(tie('filter'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ $nor: fc.array(tie('filter'), { minLength: 1, maxLength: 3 }) }),
  ),
}));

describe('filterToSql agrees with mingo', () => {
  const store = SqliteStore.open('', { filename: ':memory:' });
  const col = store.collection<Doc>('prop');
  afterAll(() => store.close());

  it('same matching ids for random documents and filters', async () => {
    let hits = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(docArb, { minLength: 1, maxLength: 12 }),
        fc.array(filter, { minLength: 1, maxLength: 4 }),
        async (raw, filters) => {
          const docs = raw.map((d, i) => ({ _id: `d${i}`, ...d }) as Doc);
          await col.deleteMany({});
          await col.insertMany(docs.map((d) => structuredClone(d)));
          for (const f of filters) {
            const expected = docs
              .filter((d) => new Query(f).test(d))
              .map((d) => d._id)
              .sort();
            const actual = (await col.find(f).toArray()).map((d) => d._id).sort();
            expect(actual, JSON.stringify(f)).toEqual(expected);
            hits += expected.length;
          }
        },
      ),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 400) },
    );
    // Not vacuous: plenty of filters select something.
    expect(hits).toBeGreaterThan(100);
  });
});

describe('the write-through cache agrees with SQL', () => {
  const store = SqliteStore.open('', { filename: ':memory:' });
  const col = store.collection<Doc>('prop_cache');
  afterAll(() => store.close());

  it('an _id-anchored read or compare-and-set selects what the SQL filter selects', async () => {
    let hits = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(docArb, { minLength: 1, maxLength: 6 }),
        fc.array(filter, { minLength: 1, maxLength: 4 }),
        async (raw, filters) => {
          const docs = raw.map((d, i) => ({ _id: `d${i}`, ...d }) as Doc);
          await col.deleteMany({});
          await col.insertMany(docs.map((d) => structuredClone(d)));
          for (const f of filters) {
            if ('_id' in f) continue;
            for (const d of docs) {
              const anchored = { _id: d._id, ...f };
              // find() always runs in SQL; findOne() and updateOne() anchored on _id use the cache.
              const viaSql = (await col.find(anchored).toArray()).map((x) => x._id);
              const viaCache = await col.findOne(anchored);
              expect(viaCache?._id ?? null, JSON.stringify(anchored)).toEqual(viaSql[0] ?? null);
              const r = await col.updateOne(anchored, { $inc: { n: 1 } });
              expect(r.matchedCount, JSON.stringify(anchored)).toBe(viaSql.length);
              await col.updateOne({ _id: d._id }, { $unset: { n: '' } });
              hits += viaSql.length;
            }
          }
        },
      ),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 400) },
    );
    expect(hits).toBeGreaterThan(100);
  });

  it('returns copies: mutating a result or an inserted document never reaches the store', async () => {
    const doc = { _id: 'm1', a: { b: [1, 2] }, when: new Date('2026-01-02T03:04:05Z') };
    await col.insertOne(doc);
    doc.a.b.push(3);
    const first = await col.findOne({ _id: 'm1' });
    expect(first).toEqual({ _id: 'm1', a: { b: [1, 2] }, when: new Date('2026-01-02T03:04:05Z') });
    (first!.a as { b: number[] }).b.push(9);
    const after = await col.findOneAndUpdate({ _id: 'm1' }, { $set: { x: 1 } }, { returnDocument: 'after' });
    (after!.a as { b: number[] }).b.push(10);
    expect(await col.findOne({ _id: 'm1' })).toEqual({
      _id: 'm1',
      a: { b: [1, 2] },
      when: new Date('2026-01-02T03:04:05Z'),
      x: 1,
    });
    await col.deleteOne({ _id: 'm1' });
    expect(await col.findOne({ _id: 'm1' })).toBeNull();
  });
});

describe('the write-through cache agrees with SQL on arrays of documents', () => {
  const store = SqliteStore.open('', { filename: ':memory:' });
  const col = store.collection<Doc>('prop_elem');
  afterAll(() => store.close());
  const small = fc.oneof(fc.constantFrom('x', 'y', ''), fc.integer({ min: 0, max: 2 }), fc.constant(null));
  const element = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record(
        { s: small, u: fc.oneof(small, fc.array(small, { maxLength: 2 })) },
        { requiredKeys: [], noNullPrototype: true },
      ),
    },
    { weight: 1, arbitrary: small },
  );
  const field = fc.oneof(
    { weight: 4, arbitrary: fc.array(element, { maxLength: 4 }).map((v) => v as unknown) },
    { weight: 1, arbitrary: small.map((v) => v as unknown) },
  );
  const doc = fc.record({ f: field }, { requiredKeys: [], noNullPrototype: true });
  const cond = fc.oneof(
    small.map((v) => v as unknown),
    fc.record({ $ne: small }),
    fc.record({ $in: fc.array(small, { maxLength: 2 }) }),
  );
  const elemMatch = fc
    .record({ s: cond, u: cond }, { requiredKeys: [] })
    .filter((o) => Object.keys(o).length > 0)
    .map((o) => ({ $elemMatch: o }));
  const filterArb = fc.oneof(
    elemMatch.map((e) => ({ f: e })),
    elemMatch.map((e) => ({ f: { $not: e } })),
  );

  it('an _id-anchored $elemMatch (document form) or its $not selects what SQL selects', async () => {
    let hits = 0;
    let misses = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(doc, { minLength: 1, maxLength: 5 }),
        fc.array(filterArb, { minLength: 1, maxLength: 4 }),
        async (raw, filters) => {
          const docs = raw.map((d, i) => ({ _id: `d${i}`, ...d }) as Doc);
          await col.deleteMany({});
          await col.insertMany(docs.map((d) => structuredClone(d)));
          for (const f of filters) {
            for (const d of docs) {
              const anchored = { _id: d._id, ...f };
              const viaSql = (await col.find(anchored).toArray()).map((x) => x._id);
              const viaCache = await col.findOne(anchored);
              expect(viaCache?._id ?? null, JSON.stringify({ anchored, d })).toEqual(viaSql[0] ?? null);
              if (viaSql.length) hits++;
              else misses++;
            }
          }
        },
      ),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 400) },
    );
    expect(hits).toBeGreaterThan(100);
    expect(misses).toBeGreaterThan(100);
  });
});

describe('index columns hold what json_extract yields', () => {
  // Every indexed path has a column of its own, written with the document (see
  // SqliteCollection.indexColumns); queries compare the column instead of `json_extract`.
  const store = SqliteStore.open('', { filename: ':memory:' });
  const plain = store.collection<Doc>('plain');
  const indexed = store.collection<Doc>('indexed');
  afterAll(() => store.close());

  it('after inserts and updates, for random documents: same columns, same answers, same order', async () => {
    await indexed.createIndex({ a: 1 });
    await indexed.createIndex({ b: 1, 'c.d': -1 });
    await indexed.createIndex({ 'c.e': 1 }, { sparse: true });
    await indexed.createIndex({ c: 1 });
    const mismatched = () =>
      store.db
        .prepare(
          `SELECT count(*) FROM c_indexed WHERE ${PATHS.map(
            (p) => `"f:${p}" IS NOT json_extract(doc, '$.${p.split('.').join('.')}')`,
          ).join(' OR ')}`,
        )
        .pluck()
        .get();
    let hits = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(docArb, docArb), { minLength: 1, maxLength: 10 }),
        fc.array(filter, { minLength: 1, maxLength: 3 }),
        path,
        async (raw, filters, sortPath) => {
          await plain.deleteMany({});
          await indexed.deleteMany({});
          for (const [i, [first, final]] of raw.entries()) {
            const _id = `d${i}`;
            await plain.insertOne(structuredClone({ _id, ...final }) as Doc);
            // Indexed: stored as `first`, then updated to `final` (columns rewritten by the update).
            await indexed.insertOne(structuredClone({ _id, ...first }) as Doc);
            const unset = Object.fromEntries(
              Object.keys(first)
                .filter((k) => !(k in final))
                .map((k) => [k, '']),
            );
            await indexed.updateOne(
              { _id },
              {
                ...(Object.keys(final).length > 0 ? { $set: structuredClone(final) } : {}),
                ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}),
                $inc: { n: 1 },
              },
            );
          }
          expect(mismatched()).toBe(0);
          for (const f of filters) {
            const expected = (await plain.find(f).toArray()).map((d) => d._id).sort();
            const actual = (await indexed.find(f).toArray()).map((d) => d._id).sort();
            expect(actual, JSON.stringify(f)).toEqual(expected);
            hits += expected.length;
          }
          const order = (c: typeof plain) =>
            c
              .find({}, { sort: { [sortPath]: 1, _id: 1 } })
              .toArray()
              .then((ds) => ds.map((d) => d._id));
          expect(await order(indexed)).toEqual(await order(plain));
        },
      ),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 300) },
    );
    expect(hits).toBeGreaterThan(50);
  });
});
