/**
 * The store contract suite: every engine behind `src/store/port.ts` must pass it
 * unchanged (embedded SQLite always; MongoDB when MONGODB_URL is set).
 */

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type Collection,
  type Doc,
  dropIndexIfExists,
  isDuplicateKeyError,
  type Store,
} from '../../src/store/index.js';

export interface StoreContractOptions {
  name: string;
  open: () => Promise<Store>;
  skip?: boolean;
}

type Task = Doc & Record<string, unknown>;

const ids = (docs: { _id: string }[]) => docs.map((d) => d._id).sort();

export function storeContractSuite({ name, open, skip }: StoreContractOptions): void {
  const d = skip ? describe.skip : describe;
  d(name, () => {
    let store: Store;
    let c: Collection<Task>;

    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store?.dropAll();
      await store?.close();
    });
    beforeEach(async () => {
      await store.dropAll();
      c = store.collection<Task>('items');
    });

    const seed = async () => {
      await c.insertMany([
        { _id: 'a', n: 1, s: 'apple', tags: ['x', 'y'], meta: { k: 'v1', depth: { z: 1 } }, flag: true },
        { _id: 'b', n: 2, s: 'banana', tags: ['y'], meta: { k: 'v2' }, flag: false, nul: null },
        {
          _id: 'c',
          n: 3,
          s: 'Cherry',
          tags: [],
          items: [
            { q: 1, w: 'a' },
            { q: 5, w: 'b' },
          ],
        },
        { _id: 'd', n: 2.5, s: 'date', meta: { k: 'v1' }, items: [{ q: 7 }] },
        { _id: 'e', s: 10, tags: 'x' },
      ]);
    };

    describe('insert', () => {
      it('inserts and reads back', async () => {
        const r = await c.insertOne({ _id: 'one', a: 1, nested: { b: [1, 2, { c: 'x' }] } });
        expect(r.insertedId).toBe('one');
        expect(r.acknowledged).toBe(true);
        expect(await c.findOne({ _id: 'one' })).toEqual({
          _id: 'one',
          a: 1,
          nested: { b: [1, 2, { c: 'x' }] },
        });
      });
      it('rejects a duplicate _id with code 11000', async () => {
        await c.insertOne({ _id: 'dup', a: 1 });
        const err = await c.insertOne({ _id: 'dup', a: 2 }).catch((e: unknown) => e);
        expect(isDuplicateKeyError(err)).toBe(true);
        expect((await c.findOne({ _id: 'dup' }))?.a).toBe(1);
      });
      it('insertMany inserts all and counts', async () => {
        const r = await c.insertMany([{ _id: '1' }, { _id: '2' }, { _id: '3' }]);
        expect(r.insertedCount).toBe(3);
        expect(await c.countDocuments({})).toBe(3);
      });
      it('a failing insert among concurrent writes undoes only itself', async () => {
        await c.insertOne({ _id: 'taken' });
        const settled = await Promise.allSettled([
          c.insertOne({ _id: 'w1' }),
          c.insertOne({ _id: 'taken', v: 2 }),
          c.updateOne({ _id: 'taken' }, { $set: { v: 3 } }),
          c.insertOne({ _id: 'w2' }),
        ]);
        expect(settled.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
        expect(isDuplicateKeyError((settled[1] as PromiseRejectedResult).reason)).toBe(true);
        expect(ids(await c.find({}).toArray())).toEqual(['taken', 'w1', 'w2']);
        expect((await c.findOne({ _id: 'taken' }))?.v).toBe(3);
      });
      it('insertMany rejects a duplicate with code 11000', async () => {
        await c.insertOne({ _id: 'x' });
        const err = await c.insertMany([{ _id: 'y' }, { _id: 'x' }]).catch((e: unknown) => e);
        expect(isDuplicateKeyError(err)).toBe(true);
      });
    });

    describe('find', () => {
      beforeEach(seed);
      it('findOne returns null when nothing matches', async () => {
        expect(await c.findOne({ _id: 'nope' })).toBeNull();
      });
      it('sorts ascending and descending', async () => {
        expect(
          (await c.find({ n: { $exists: true } }, { sort: { n: 1 } }).toArray()).map((x) => x._id),
        ).toEqual(['a', 'b', 'd', 'c']);
        expect(
          (await c.find({ n: { $exists: true } }, { sort: { n: -1 } }).toArray()).map((x) => x._id),
        ).toEqual(['c', 'd', 'b', 'a']);
      });
      it('sorts on several keys and dotted paths', async () => {
        const r = await c.find({ meta: { $exists: true } }, { sort: { 'meta.k': 1, n: -1 } }).toArray();
        expect(r.map((x) => x._id)).toEqual(['d', 'a', 'b']);
      });
      // Both engines agree on missing/null < numbers < strings (and dates after strings, see
      // 'dates'). Booleans, objects and arrays mixed with other types in one sorted field
      // are out of scope: the embedded engine sorts on the raw SQLite value for index use
      // (see the header of src/store/sqlite/filter-to-sql.ts `sortToSql`).
      it('sorts mixed types like MongoDB (missing/null < numbers < strings)', async () => {
        await c.insertMany([
          { _id: 'm1', mixed: 'str' },
          { _id: 'm2', mixed: 5 },
          { _id: 'm3', mixed: null },
          { _id: 'm4', mixed: -1 },
        ]);
        const r = await c.find({ _id: { $in: ['m1', 'm2', 'm3', 'm4'] } }, { sort: { mixed: 1 } }).toArray();
        expect(r.map((x) => x._id)).toEqual(['m3', 'm4', 'm2', 'm1']);
      });
      it('skip and limit', async () => {
        const all = await c.find({}, { sort: { _id: 1 } }).toArray();
        expect(all.map((x) => x._id)).toEqual(['a', 'b', 'c', 'd', 'e']);
        expect(
          (await c.find({}, { sort: { _id: 1 }, skip: 1, limit: 2 }).toArray()).map((x) => x._id),
        ).toEqual(['b', 'c']);
        expect((await c.find({}, { sort: { _id: 1 }, skip: 3 }).toArray()).map((x) => x._id)).toEqual([
          'd',
          'e',
        ]);
        expect((await c.find({}, { sort: { _id: -1 }, limit: 1 }).toArray()).map((x) => x._id)).toEqual([
          'e',
        ]);
        expect((await c.findOne({}, { sort: { n: -1 } }))?._id).toBe('c');
      });
      it('projection: inclusion, exclusion, _id', async () => {
        expect(await c.findOne({ _id: 'a' }, { projection: { n: 1, 'meta.k': 1 } })).toEqual({
          _id: 'a',
          n: 1,
          meta: { k: 'v1' },
        });
        expect(await c.findOne({ _id: 'a' }, { projection: { n: 1, _id: 0 } })).toEqual({ n: 1 });
        expect(await c.findOne({ _id: 'b' }, { projection: { tags: 0, meta: 0, nul: 0 } })).toEqual({
          _id: 'b',
          n: 2,
          s: 'banana',
          flag: false,
        });
        expect(
          await c.findOne({ _id: 'a' }, { projection: { 'meta.depth': 0, tags: 0, s: 0, flag: 0 } }),
        ).toEqual({
          _id: 'a',
          n: 1,
          meta: { k: 'v1' },
        });
      });
    });

    describe('filters', () => {
      beforeEach(seed);
      const cases: [string, Record<string, unknown>, string[]][] = [
        ['implicit equality', { s: 'apple' }, ['a']],
        ['number equality matches int and float', { n: 2 }, ['b']],
        ['equality on dotted path', { 'meta.k': 'v1' }, ['a', 'd']],
        ['deep dotted path', { 'meta.depth.z': 1 }, ['a']],
        ['array contains', { tags: 'y' }, ['a', 'b']],
        ['scalar or array contains', { tags: 'x' }, ['a', 'e']],
        ['whole-array equality', { tags: ['x', 'y'] }, ['a']],
        ['empty array equality', { tags: [] }, ['c']],
        ['whole-object equality', { meta: { k: 'v2' } }, ['b']],
        ['array of objects via dotted path', { 'items.q': 5 }, ['c']],
        ['$eq', { n: { $eq: 3 } }, ['c']],
        ['$ne (includes missing)', { n: { $ne: 2 } }, ['a', 'c', 'd', 'e']],
        ['$ne on array field', { tags: { $ne: 'y' } }, ['c', 'd', 'e']],
        ['$gt number is type-bracketed', { n: { $gt: 1 } }, ['b', 'c', 'd']],
        ['$gte/$lte range', { n: { $gte: 2, $lte: 2.5 } }, ['b', 'd']],
        ['$lt', { n: { $lt: 2 } }, ['a']],
        ['$gt on strings ignores numbers', { s: { $gt: 'b' } }, ['b', 'd']],
        ['$gt on array elements', { 'items.q': { $gt: 6 } }, ['d']],
        ['$in', { s: { $in: ['apple', 'date', 10] } }, ['a', 'd', 'e']],
        ['$in with arrays', { tags: { $in: ['x'] } }, ['a', 'e']],
        ['$in with null', { nul: { $in: [null] } }, ['a', 'b', 'c', 'd', 'e']],
        ['$nin', { n: { $nin: [1, 2] } }, ['c', 'd', 'e']],
        ['$exists true', { nul: { $exists: true } }, ['b']],
        ['$exists false', { tags: { $exists: false } }, ['d']],
        ['$exists on dotted path', { 'meta.depth': { $exists: true } }, ['a']],
        ['null matches missing and null', { nul: null }, ['a', 'b', 'c', 'd', 'e']],
        ['null on a field missing in some', { n: null }, ['e']],
        ['$ne null', { n: { $ne: null } }, ['a', 'b', 'c', 'd']],
        ['boolean equality', { flag: true }, ['a']],
        ['boolean false is not 0', { flag: false }, ['b']],
        ['$and', { $and: [{ n: { $gt: 1 } }, { n: { $lt: 3 } }] }, ['b', 'd']],
        ['$or', { $or: [{ s: 'apple' }, { 'meta.k': 'v2' }] }, ['a', 'b']],
        ['$nor', { $nor: [{ s: 'apple' }, { n: 2 }] }, ['c', 'd', 'e']],
        ['$not', { n: { $not: { $gt: 2 } } }, ['a', 'b', 'e']],
        ['$regex', { s: { $regex: '^[ab]' } }, ['a', 'b']],
        ['$regex with $options i', { s: { $regex: '^c', $options: 'i' } }, ['c']],
        ['regex literal', { s: /an/ }, ['b']],
        ['$regex on array elements', { tags: { $regex: '^x' } }, ['a', 'e']],
        ['$size', { tags: { $size: 1 } }, ['b']],
        ['$size 0', { tags: { $size: 0 } }, ['c']],
        ['$elemMatch query form', { items: { $elemMatch: { q: { $gt: 2 }, w: 'b' } } }, ['c']],
        ['$elemMatch operator form', { tags: { $elemMatch: { $eq: 'x' } } }, ['a']],
        ['$elemMatch no element matches both', { items: { $elemMatch: { q: 1, w: 'b' } } }, []],
        ['_id $in', { _id: { $in: ['a', 'c', 'zz'] } }, ['a', 'c']],
        ['_id $ne', { _id: { $ne: 'a' } }, ['b', 'c', 'd', 'e']],
        ['empty filter', {}, ['a', 'b', 'c', 'd', 'e']],
      ];
      for (const [label, filter, expected] of cases) {
        it(label, async () => {
          expect(ids(await c.find(filter).toArray())).toEqual(expected);
          expect(await c.countDocuments(filter)).toBe(expected.length);
        });
      }
    });

    describe('updates', () => {
      beforeEach(seed);
      it('$set, $inc, $unset with dotted paths', async () => {
        const r = await c.updateOne(
          { _id: 'a' },
          { $set: { 'meta.k': 'new', 'x.y': 1 }, $inc: { n: 2 }, $unset: { s: '' } },
        );
        expect(r).toMatchObject({ matchedCount: 1, modifiedCount: 1, upsertedCount: 0 });
        const a = await c.findOne({ _id: 'a' });
        expect(a).toMatchObject({ n: 3, meta: { k: 'new', depth: { z: 1 } }, x: { y: 1 } });
        expect(a && 's' in a).toBe(false);
      });
      it('$push (incl. $each), $addToSet, $pull', async () => {
        await c.updateOne({ _id: 'b' }, { $push: { tags: 'z' } });
        await c.updateOne({ _id: 'b' }, { $push: { tags: { $each: ['p', 'q'] } } });
        await c.updateOne({ _id: 'b' }, { $addToSet: { tags: 'y' } });
        await c.updateOne({ _id: 'b' }, { $addToSet: { tags: 'w' } });
        expect((await c.findOne({ _id: 'b' }))?.tags).toEqual(['y', 'z', 'p', 'q', 'w']);
        await c.updateOne({ _id: 'b' }, { $pull: { tags: { $in: ['p', 'q'] } } });
        expect((await c.findOne({ _id: 'b' }))?.tags).toEqual(['y', 'z', 'w']);
      });
      it('$min and $max', async () => {
        await c.updateOne({ _id: 'c' }, { $min: { n: 1 }, $max: { hi: 4 } });
        expect(await c.findOne({ _id: 'c' }, { projection: { n: 1, hi: 1 } })).toEqual({
          _id: 'c',
          n: 1,
          hi: 4,
        });
      });
      it('reports unmodified documents', async () => {
        const r = await c.updateOne({ _id: 'a' }, { $set: { n: 1 } });
        expect(r).toMatchObject({ matchedCount: 1, modifiedCount: 0 });
      });
      it('updateMany', async () => {
        const r = await c.updateMany({ 'meta.k': 'v1' }, { $set: { hit: true } });
        expect(r).toMatchObject({ matchedCount: 2, modifiedCount: 2, upsertedCount: 0 });
        expect(ids(await c.find({ hit: true }).toArray())).toEqual(['a', 'd']);
        const none = await c.updateMany({ s: 'nothing' }, { $set: { hit: true } });
        expect(none).toMatchObject({ matchedCount: 0, modifiedCount: 0 });
      });
      it('compare-and-set: second attempt does nothing', async () => {
        await c.insertOne({ _id: 't1', status: 'open' });
        const first = await c.updateOne({ _id: 't1', status: 'open' }, { $set: { status: 'done' } });
        const second = await c.updateOne({ _id: 't1', status: 'open' }, { $set: { status: 'done' } });
        expect(first.modifiedCount).toBe(1);
        expect(second.modifiedCount).toBe(0);
        expect(second.matchedCount).toBe(0);
      });
      it('compare-and-set: 50 concurrent findOneAndUpdate, exactly one wins', async () => {
        await c.insertOne({ _id: 't2', status: 'open' });
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            c.findOneAndUpdate({ _id: 't2', status: 'open' }, { $set: { status: 'done', by: i } }),
          ),
        );
        const winners = results.filter((r) => r !== null);
        expect(winners).toHaveLength(1);
        expect(winners[0]?.status).toBe('open');
        expect((await c.findOne({ _id: 't2' }))?.status).toBe('done');
      });
      it('compare-and-set: 100 concurrent updateOne in one tick, exactly one wins', async () => {
        await c.insertOne({ _id: 't3', status: 'open' });
        const results = await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            c.updateOne({ _id: 't3', status: 'open' }, { $set: { status: 'done', by: i } }),
          ),
        );
        expect(results.filter((r) => r.modifiedCount === 1)).toHaveLength(1);
        expect(results.filter((r) => r.matchedCount === 0)).toHaveLength(99);
        const by = (await c.findOne({ _id: 't3' }))?.by;
        expect(typeof by).toBe('number');
      });
      it('findOneAndUpdate returns before by default, after on request, honours sort', async () => {
        const before = await c.findOneAndUpdate({ _id: 'a' }, { $inc: { n: 10 } });
        expect(before?.n).toBe(1);
        const after = await c.findOneAndUpdate(
          { _id: 'a' },
          { $inc: { n: 10 } },
          { returnDocument: 'after' },
        );
        expect(after?.n).toBe(21);
        const top = await c.findOneAndUpdate(
          { n: { $lt: 10 } },
          { $set: { picked: true } },
          { sort: { n: -1 }, returnDocument: 'after' },
        );
        expect(top?._id).toBe('c');
        expect(await c.findOneAndUpdate({ _id: 'none' }, { $set: { x: 1 } })).toBeNull();
      });
      it('upsert with updateOne builds the document from filter + $setOnInsert + update', async () => {
        const r = await c.updateOne(
          { _id: 'u1', kind: 'k', 'deep.x': 5, n: { $gt: 3 } },
          { $set: { s: 'set' }, $setOnInsert: { created: 1 }, $inc: { count: 1 } },
          { upsert: true },
        );
        expect(r).toMatchObject({ matchedCount: 0, modifiedCount: 0, upsertedCount: 1, upsertedId: 'u1' });
        expect(await c.findOne({ _id: 'u1' })).toEqual({
          _id: 'u1',
          kind: 'k',
          deep: { x: 5 },
          s: 'set',
          created: 1,
          count: 1,
        });
        const again = await c.updateOne(
          { _id: 'u1' },
          { $set: { s: 'again' }, $setOnInsert: { created: 2 }, $inc: { count: 1 } },
          { upsert: true },
        );
        expect(again).toMatchObject({
          matchedCount: 1,
          modifiedCount: 1,
          upsertedCount: 0,
          upsertedId: null,
        });
        expect(await c.findOne({ _id: 'u1' })).toMatchObject({ created: 1, count: 2, s: 'again' });
      });
      it('upsert generates a string _id when the filter has none', async () => {
        const r = await c.updateOne({ key: 'gen' }, { $set: { v: 1 } }, { upsert: true });
        expect(r.upsertedCount).toBe(1);
        const doc = await c.findOne({ key: 'gen' });
        expect(doc?.v).toBe(1);
        expect(doc?._id).toBeDefined();
      });
      it('upsert with findOneAndUpdate', async () => {
        const before = await c.findOneAndUpdate({ _id: 'f1' }, { $setOnInsert: { v: 1 } }, { upsert: true });
        expect(before).toBeNull();
        const after = await c.findOneAndUpdate(
          { _id: 'f2', kind: 'z' },
          { $set: { v: 2 } },
          { upsert: true, returnDocument: 'after' },
        );
        expect(after).toEqual({ _id: 'f2', kind: 'z', v: 2 });
        expect(await c.findOne({ _id: 'f1' })).toEqual({ _id: 'f1', v: 1 });
      });
      it('rejects a replacement document', async () => {
        await expect(c.updateOne({ _id: 'a' }, { n: 5 })).rejects.toThrow();
      });
    });

    describe('delete and count', () => {
      beforeEach(seed);
      it('deleteOne deletes one match', async () => {
        expect(await c.deleteOne({ 'meta.k': 'v1' })).toEqual({ deletedCount: 1 });
        expect(await c.countDocuments({ 'meta.k': 'v1' })).toBe(1);
        expect(await c.deleteOne({ _id: 'nope' })).toEqual({ deletedCount: 0 });
      });
      it('deleteMany deletes every match', async () => {
        expect(await c.deleteMany({ n: { $gte: 2 } })).toEqual({ deletedCount: 3 });
        expect(await c.countDocuments()).toBe(2);
        expect(await c.deleteMany({})).toEqual({ deletedCount: 2 });
        expect(await c.countDocuments({})).toBe(0);
      });
    });

    describe('indexes', () => {
      it('createIndex returns the name and is idempotent', async () => {
        const n1 = await c.createIndex({ status: 1, due: -1 });
        const n2 = await c.createIndex({ status: 1, due: -1 });
        expect(n1).toBe('status_1_due_-1');
        expect(n2).toBe(n1);
        expect(await c.createIndex({ x: 1 }, { name: 'my_x' })).toBe('my_x');
      });
      it('unique index rejects duplicates with code 11000 (insert and update)', async () => {
        await c.createIndex({ email: 1 }, { unique: true });
        await c.insertOne({ _id: '1', email: 'a@x' });
        const err = await c.insertOne({ _id: '2', email: 'a@x' }).catch((e: unknown) => e);
        expect(isDuplicateKeyError(err)).toBe(true);
        await c.insertOne({ _id: '3', email: 'b@x' });
        const err2 = await c.updateOne({ _id: '3' }, { $set: { email: 'a@x' } }).catch((e: unknown) => e);
        expect(isDuplicateKeyError(err2)).toBe(true);
        expect((await c.findOne({ _id: '3' }))?.email).toBe('b@x');
        // Non-sparse unique: a missing field counts as null, so only one document may lack it.
        await c.insertOne({ _id: '4' });
        const err3 = await c.insertOne({ _id: '5' }).catch((e: unknown) => e);
        expect(isDuplicateKeyError(err3)).toBe(true);
      });
      it('sparse unique index ignores documents without the field', async () => {
        await c.createIndex({ 'ext.key': 1 }, { unique: true, sparse: true });
        await c.insertMany([{ _id: '1' }, { _id: '2' }, { _id: '3', ext: { key: 'k' } }]);
        const err = await c.insertOne({ _id: '4', ext: { key: 'k' } }).catch((e: unknown) => e);
        expect(isDuplicateKeyError(err)).toBe(true);
        expect(await c.countDocuments({})).toBe(3);
      });
      it('upsert racing into a unique index yields 11000', async () => {
        await c.createIndex({ key: 1 }, { unique: true });
        await c.insertOne({ _id: 'k1', key: 'same' });
        const err = await c
          .updateOne({ key: 'same', other: 1 }, { $set: { v: 1 } }, { upsert: true })
          .catch((e: unknown) => e);
        expect(isDuplicateKeyError(err)).toBe(true);
      });
      it('dropIndex drops a named index, rejects with code 27 when there is none, and queries and updates keep working', async () => {
        await c.insertMany([
          { _id: '1', status: 'open', due: 3, a: { b: 1 } },
          { _id: '2', status: 'done', due: 1, a: { b: 2 } },
        ]);
        const name = await c.createIndex({ status: 1, due: -1 });
        await c.createIndex({ 'a.b': 1 });
        await c.createIndex({ status: 1 }, { name: 'by_status' });
        await c.dropIndex(name);
        const err = await c.dropIndex(name).catch((e: unknown) => e);
        expect((err as { code?: unknown }).code).toBe(27);
        expect(await dropIndexIfExists(c, name)).toBe(false);
        expect(await dropIndexIfExists(c, 'by_status')).toBe(true);
        await c.insertOne({ _id: '3', status: 'open', due: 2, a: { b: 1 } });
        await c.updateOne({ _id: '2' }, { $set: { status: 'open', due: 5 } });
        expect((await c.find({ status: 'open' }, { sort: { due: -1 } }).toArray()).map((d) => d._id)).toEqual(
          ['2', '1', '3'],
        );
        expect(ids(await c.find({ 'a.b': 1 }).toArray())).toEqual(['1', '3']);
        expect(ids(await c.find({ due: { $gte: 3 } }).toArray())).toEqual(['1', '2']);
        // Created again, it covers the documents written while it was gone.
        await c.createIndex({ status: 1, due: -1 });
        expect(ids(await c.find({ status: 'open', due: { $lt: 5 } }).toArray())).toEqual(['1', '3']);
      });
      it('a first write that fails (a duplicate in insertMany, a missing index dropped) leaves the collection usable', async () => {
        const fresh = store.collection<Task>('fresh_items');
        const err = await fresh.insertMany([{ _id: 'x' }, { _id: 'x' }]).catch((e: unknown) => e);
        expect(isDuplicateKeyError(err)).toBe(true);
        const other = store.collection<Task>('fresh_others');
        expect(await dropIndexIfExists(other, 'nothing_1')).toBe(false);
        await fresh.insertOne({ _id: 'y', n: 1 });
        await other.insertOne({ _id: 'z', n: 2 });
        expect((await fresh.findOne({ _id: 'y' }))?.n).toBe(1);
        expect(await fresh.countDocuments({ _id: 'y' })).toBe(1);
        expect(ids(await other.find({ n: 2 }).toArray())).toEqual(['z']);
      });
      it('queries keep working with indexes present', async () => {
        await c.createIndex({ status: 1 });
        await c.createIndex({ 'a.b': 1 });
        await c.insertMany([
          { _id: '1', status: 'open', a: { b: 1 } },
          { _id: '2', status: ['open', 'x'], a: [{ b: 1 }] },
          { _id: '3', status: 'done', a: { b: 2 } },
        ]);
        expect(ids(await c.find({ status: 'open' }).toArray())).toEqual(['1', '2']);
        expect(ids(await c.find({ 'a.b': 1 }).toArray())).toEqual(['1', '2']);
        expect(ids(await c.find({ status: { $in: ['done', 'x'] } }).toArray())).toEqual(['2', '3']);
      });
    });

    describe('dates', () => {
      const t0 = new Date('2024-01-01T00:00:00.000Z');
      const t1 = new Date('2024-06-01T12:30:00.123Z');
      const t2 = new Date('2025-01-01T00:00:00.000Z');
      beforeEach(async () => {
        await c.insertMany([
          { _id: 'd0', at: t0, label: 'x', nested: { when: t0 } },
          { _id: 'd1', at: t1, label: 'y', list: [t1, t2] },
          { _id: 'd2', at: t2, label: 'z' },
          { _id: 'd3', at: '2024-03-01', label: 'string, not a date' },
        ]);
      });
      it('round-trips Date values (top-level, nested, in arrays)', async () => {
        const d0 = await c.findOne({ _id: 'd0' });
        expect(d0?.at).toBeInstanceOf(Date);
        expect((d0!.at as Date).getTime()).toBe(t0.getTime());
        expect((d0!.nested as { when: Date }).when).toBeInstanceOf(Date);
        const d1 = await c.findOne({ _id: 'd1' });
        expect((d1!.list as Date[]).map((x) => x.getTime())).toEqual([t1.getTime(), t2.getTime()]);
        expect((await c.findOne({ _id: 'd3' }))?.at).toBe('2024-03-01');
      });
      it('compares dates ($lt, $gte, equality) and brackets types', async () => {
        expect(ids(await c.find({ at: { $lt: t1 } }).toArray())).toEqual(['d0']);
        expect(ids(await c.find({ at: { $gte: t1 } }).toArray())).toEqual(['d1', 'd2']);
        expect(ids(await c.find({ at: t1 }).toArray())).toEqual(['d1']);
        expect(ids(await c.find({ at: { $gt: '2000' } }).toArray())).toEqual(['d3']);
        expect(ids(await c.find({ 'nested.when': { $lte: t0 } }).toArray())).toEqual(['d0']);
        expect(ids(await c.find({ list: t2 }).toArray())).toEqual(['d1']);
        expect(ids(await c.find({ at: { $in: [t0, t2] } }).toArray())).toEqual(['d0', 'd2']);
      });
      it('sorts by date, dates after strings', async () => {
        const r = await c.find({}, { sort: { at: -1 } }).toArray();
        expect(r.map((x) => x._id)).toEqual(['d2', 'd1', 'd0', 'd3']);
      });
      it('$set and $max with dates', async () => {
        await c.updateOne({ _id: 'd0' }, { $set: { done: t2 }, $max: { at: t1 } });
        const d0 = await c.findOne({ _id: 'd0' });
        expect((d0!.done as Date).getTime()).toBe(t2.getTime());
        expect((d0!.at as Date).getTime()).toBe(t1.getTime());
      });
    });
  });
}
