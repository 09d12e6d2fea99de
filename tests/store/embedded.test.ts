import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { filterToSql } from '../../src/store/sqlite/filter-to-sql.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { storeContractSuite } from './contract.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'baton-store-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

storeContractSuite({
  name: 'embedded (SQLite, in memory) contract suite',
  open: async () => SqliteStore.open('', { filename: ':memory:' }),
});
storeContractSuite({
  name: 'embedded (SQLite, on disk) contract suite',
  open: () => openStore({ dataDir: tempDir() }),
});

describe('embedded store specifics', () => {
  it('persists across close and reopen', async () => {
    const dir = tempDir();
    const s1 = SqliteStore.open(dir);
    await s1.collection('tasks').createIndex({ status: 1 }, { unique: true, sparse: true });
    await s1.collection('tasks').insertOne({ _id: 't', status: 'open', at: new Date(1000) });
    await s1.close();
    await s1.close(); // idempotent
    const s2 = SqliteStore.open(dir);
    const doc = await s2.collection('tasks').findOne({ status: 'open' });
    expect(doc).toEqual({ _id: 't', status: 'open', at: new Date(1000) });
    const err = await s2
      .collection('tasks')
      .insertOne({ _id: 'u', status: 'open' })
      .catch((e: unknown) => e);
    expect((err as { code?: number }).code).toBe(11000);
    await s2.close();
  });

  it('uses WAL mode and exposes the database handle', async () => {
    const s = SqliteStore.open(tempDir());
    expect(s.kind).toBe('embedded');
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s.db.pragma('synchronous', { simple: true })).toBe(1);
    await s.close();
  });

  it('dropAll drops collection tables only', async () => {
    const s = SqliteStore.open('', { filename: ':memory:' });
    s.db.exec('CREATE TABLE other_table (x)');
    await s.collection('a').insertOne({ _id: '1' });
    await s.collection('a').createIndex({ v: 1 });
    await s.dropAll();
    const tables = s.db
      .prepare("SELECT name FROM sqlite_master WHERE type IN ('table','index')")
      .pluck()
      .all();
    expect(tables).toEqual(['other_table']);
    expect(await s.collection('a').countDocuments()).toBe(0);
    await s.close();
  });

  it('rejects invalid collection names, unsupported operators and paths clearly', async () => {
    const s = SqliteStore.open('', { filename: ':memory:' });
    expect(() => s.collection('bad-name')).toThrow(/Invalid collection name/);
    expect(() => s.collection('x; DROP TABLE y')).toThrow(/Invalid collection name/);
    const c = s.collection('c');
    await expect(c.findOne({ a: { $where: 'x' } })).rejects.toThrow(/\$where/);
    await expect(c.findOne({ $text: { $search: 'x' } })).rejects.toThrow(/\$text/);
    await expect(c.findOne({ 'a.0': 1 })).rejects.toThrow(/numeric/);
    await expect(c.findOne({ "a'); DROP": 1 })).rejects.toThrow(/Unsupported field path/);
    await expect(c.updateOne({}, { $rename: { a: 'b' } })).rejects.toThrow(/\$rename/);
    await expect(c.updateOne({}, { a: 1 })).rejects.toThrow(/Replacement/);
    await expect(c.insertOne({ _id: 'x', s: '\uE000nope' })).rejects.toThrow(/reserved/);
    await s.close();
  });

  it('binds values as parameters', () => {
    const w = filterToSql({ a: "x' OR 1=1 --", b: { $in: [1, 'two'] } });
    expect(w.sql).not.toContain('OR 1=1');
    expect(w.params).toContain("x' OR 1=1 --");
  });

  it('uses the expression index for equality on an indexed field', async () => {
    const s = SqliteStore.open('', { filename: ':memory:' });
    const c = s.collection('t');
    await c.createIndex({ status: 1 });
    await c.insertOne({ _id: '1', status: 'open' });
    const w = filterToSql({ status: 'open' });
    const plan = s.db
      .prepare(`EXPLAIN QUERY PLAN SELECT doc FROM c_t WHERE ${w.sql}`)
      .all(...w.params)
      .map((r) => (r as { detail: string }).detail)
      .join('\n');
    expect(plan).toContain('USING INDEX c_t__status_1');
    expect(plan).not.toMatch(/SCAN c_t\b/);
    await s.close();
  });
});

describe('embedded update validation', () => {
  it('rejects updates of _id and conflicting paths, even when nothing matches', async () => {
    const s = SqliteStore.open('', { filename: ':memory:' });
    const c = s.collection('c');
    await c.insertOne({ _id: 'a', n: 1 });
    await expect(c.updateOne({ _id: 'a' }, { $set: { _id: 'b' } })).rejects.toThrow(/immutable/);
    await expect(c.updateOne({ _id: 'zz' }, { $set: { a: 1 }, $inc: { 'a.b': 1 } })).rejects.toThrow(
      /conflict/,
    );
    await expect(
      c.findOneAndUpdate({ _id: 'a' }, { $set: { n: 1, m: 1 }, $unset: { n: '' } }),
    ).rejects.toThrow(/conflict/);
    expect(await c.findOne({ _id: 'a' })).toEqual({ _id: 'a', n: 1 });
    await s.close();
  });
});
