import { execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { collectionsOf, ensureIndexes } from '../../src/core/context.js';
import { openStore } from '../../src/store/index.js';
import { filterToSql } from '../../src/store/sqlite/filter-to-sql.js';
import { SqliteStore, StoreInUseError } from '../../src/store/sqlite/sqlite-store.js';
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
storeContractSuite({
  name: 'embedded (SQLite, on disk, acknowledging on apply) contract suite',
  open: async () => {
    const s = SqliteStore.open(tempDir());
    s.acknowledgeOnApply((err) => {
      throw err;
    });
    return s;
  },
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

  it('uses the index for equality on an indexed field', async () => {
    const s = SqliteStore.open('', { filename: ':memory:' });
    const c = s.collection('t');
    await c.createIndex({ status: 1 });
    await c.insertOne({ _id: '1', status: 'open' });
    const sqls: string[] = [];
    const orig = s.db.prepare.bind(s.db);
    s.db.prepare = ((sql: string) => {
      sqls.push(sql);
      return orig(sql);
    }) as typeof s.db.prepare;
    expect((await c.find({ status: 'open' }).toArray()).map((d) => d._id)).toEqual(['1']);
    s.db.prepare = orig;
    const select = sqls.find((q) => q.startsWith('SELECT rowid'))!;
    const plan = s.db
      .prepare(`EXPLAIN QUERY PLAN ${select}`)
      .all(...filterToSql({ status: 'open' }).params)
      .map((r) => (r as { detail: string }).detail)
      .join('\n');
    expect(plan).toContain('USING INDEX c_t__status_1');
    expect(plan).not.toMatch(/SCAN c_t\b/);
    await s.close();
  });
});

describe('embedded store: one process per database', () => {
  it('a second process is refused while the first lives, and takes over after it was killed', async () => {
    const dir = tempDir();
    const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
    const holder = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import { SqliteStore } from './src/store/sqlite/sqlite-store.ts'; SqliteStore.open(${JSON.stringify(dir)}); process.stdout.write('open\\n'); setInterval(() => {}, 1000);`,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', (d: Buffer) => d.toString().includes('open') && resolve());
        holder.on('exit', () => reject(new Error('the holder exited')));
      });
      let err: unknown;
      try {
        SqliteStore.open(dir);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(StoreInUseError);
      expect((err as Error).message).toMatch(
        new RegExp(`in use by another Baton process \\(pid ${holder.pid}\\)`),
      );
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
    }
    // The lock the killed process left is taken over; within one process the store can be opened twice.
    const s = SqliteStore.open(dir);
    const again = SqliteStore.open(dir);
    await again.close();
    await s.collection('g').insertOne({ _id: 'x' });
    await s.close();
    expect(existsSync(join(dir, 'baton.db.lock'))).toBe(false);
  });
});

describe('embedded store acknowledging on apply', () => {
  it('settles operations once applied; durable() settles once they are committed and another connection sees them', async () => {
    const dir = tempDir();
    const s = SqliteStore.open(dir);
    s.acknowledgeOnApply(() => {
      throw new Error('no COMMIT should fail here');
    });
    const c = s.collection('g');
    await c.insertOne({ _id: 'a', n: 1 });
    await s.durable();
    const other = new Database(join(dir, 'baton.db'), { readonly: true });
    const n = () => other.prepare("SELECT json_extract(doc, '$.n') FROM c_g").pluck().get();
    expect(n()).toBe(1);
    await c.updateOne({ _id: 'a' }, { $inc: { n: 1 } });
    // Applied and visible to this process, not committed yet.
    expect(s.db.inTransaction).toBe(true);
    expect(s.pending()).not.toBeNull();
    expect(await c.findOne({ _id: 'a' })).toEqual({ _id: 'a', n: 2 });
    expect(n()).toBe(1);
    await s.durable();
    expect(s.db.inTransaction).toBe(false);
    expect(s.pending()).toBeNull();
    expect(n()).toBe(2);
    other.close();
    // A failing operation rejects at once and undoes only itself.
    await c.createIndex({ k: 1 }, { unique: true });
    await c.insertOne({ _id: 'b', k: 1 });
    await expect(c.insertOne({ _id: 'c', k: 1 })).rejects.toMatchObject({ code: 11000 });
    await c.insertOne({ _id: 'd', k: 2 });
    await s.durable();
    expect((await c.find({}).toArray()).map((d) => d._id).sort()).toEqual(['a', 'b', 'd']);
    await s.close();
  });

  it('a COMMIT that fails after its writes were acknowledged is reported to onLost; durable() rejects', async () => {
    const s = SqliteStore.open(tempDir());
    const lost: unknown[] = [];
    s.acknowledgeOnApply((err) => lost.push(err));
    // A deferred foreign key is checked at COMMIT: a row that violates it makes the COMMIT fail.
    s.db.exec('CREATE TABLE parent (id INTEGER PRIMARY KEY)');
    s.db.exec('CREATE TABLE child (p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)');
    const c = s.collection('g');
    await expect(c.insertOne({ _id: 'gone' })).resolves.toMatchObject({ insertedId: 'gone' });
    s.db.prepare('INSERT INTO child VALUES (42)').run(); // joins the open batch, as other components do
    await expect(s.durable()).rejects.toThrow(/FOREIGN KEY/);
    expect(lost).toHaveLength(1);
    expect(s.db.inTransaction).toBe(false);
    // The cache forgot the lost write: reads answer what is on disk.
    expect(await c.findOne({ _id: 'gone' })).toBeNull();
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

describe('embedded group commit', () => {
  it('runs the operations of one tick in one transaction, each in its own savepoint', async () => {
    const s = SqliteStore.open(tempDir());
    const c = s.collection('g');
    await c.createIndex({ key: 1 }, { unique: true, sparse: true });
    const ops = [
      c.insertOne({ _id: 'a', key: 'k1' }),
      c.insertOne({ _id: 'b', key: 'k1' }), // unique violation: rolls back only itself
      c.insertOne({ _id: 'c', key: 'k2' }),
      c.insertMany([{ _id: 'd' }, { _id: 'a' }]), // duplicate _id: the whole insertMany is undone
      c.updateOne({ _id: 'c' }, { $set: { v: 1 } }),
    ];
    expect(s.db.inTransaction).toBe(true);
    const settled = await Promise.allSettled(ops);
    expect(s.db.inTransaction).toBe(false);
    expect(settled.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect((settled[1] as PromiseRejectedResult).reason.code).toBe(11000);
    expect((settled[3] as PromiseRejectedResult).reason.code).toBe(11000);
    expect(ids(await c.find({}).toArray())).toEqual(['a', 'c']);
    expect(await c.findOne({ _id: 'c' })).toEqual({ _id: 'c', key: 'k2', v: 1 });
    await s.close();
  });

  it('settles reads in an open batch only after its commit; reads outside a batch at once', async () => {
    const s = SqliteStore.open('', { filename: ':memory:' });
    const c = s.collection('g');
    await c.insertOne({ _id: 'x', n: 1 });
    const order: string[] = [];
    const w = c.updateOne({ _id: 'x' }, { $inc: { n: 1 } }).then(() => order.push('write'));
    const r = c.findOne({ _id: 'x' }).then((d) => order.push(`read ${d?.n}`));
    await Promise.all([w, r]);
    expect(order).toEqual(['write', 'read 2']);
    expect(s.db.inTransaction).toBe(false);
    expect(await c.countDocuments()).toBe(1);
    expect(s.db.inTransaction).toBe(false);
    await s.close();
  });

  it('an _id read of a cached document the open batch did not touch settles at once', async () => {
    const s = SqliteStore.open('', { filename: ':memory:' });
    const c = s.collection('g');
    await c.insertMany([
      { _id: 'x', n: 1 },
      { _id: 'y', n: 1 },
      { _id: 'z', n: 1 },
    ]);
    const order: string[] = [];
    const w = c.updateOne({ _id: 'x' }, { $inc: { n: 1 } }).then(() => order.push('write x'));
    const d = c.deleteOne({ _id: 'z' }).then(() => order.push('delete z'));
    const ry = c.findOne({ _id: 'y' }).then((doc) => order.push(`read y ${doc?.n}`));
    const rx = c.findOne({ _id: 'x' }).then((doc) => order.push(`read x ${doc?.n}`));
    const rz = c.findOne({ _id: 'z' }).then((doc) => order.push(`read z ${doc === null ? 'gone' : 'there'}`));
    await Promise.all([w, d, ry, rx, rz]);
    // y saw committed data only; x and z depend on the open batch and wait for its COMMIT.
    expect(order[0]).toBe('read y 1');
    expect(order.slice(1).sort()).toEqual(['delete z', 'read x 2', 'read z gone', 'write x']);
    expect(order.indexOf('read x 2')).toBeGreaterThan(order.indexOf('write x'));
    await s.close();
  });

  it('concurrent compare-and-sets on one document in one tick: exactly one wins', async () => {
    const s = SqliteStore.open(tempDir());
    const c = s.collection('g');
    await c.insertOne({ _id: 't', status: 'open' });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        c.updateOne({ _id: 't', status: 'open' }, { $set: { status: 'done', by: i } }),
      ),
    );
    expect(results.filter((r) => r.modifiedCount === 1)).toHaveLength(1);
    expect(results.filter((r) => r.matchedCount === 0)).toHaveLength(199);
    await s.close();
  });

  it('a chain of dependent operations with awaits between them shares one batch, then commits once idle', async () => {
    const s = SqliteStore.open(tempDir());
    s.acknowledgeOnApply((err) => {
      throw err;
    });
    const c = s.collection('g');
    const pause = async (rounds: number) => {
      for (let i = 0; i < rounds; i++) await Promise.resolve();
    };
    // Time stands still here: a batch also commits after BATCH_MAX_MS, which a busy machine reaches.
    const clock = vi.spyOn(performance, 'now').mockReturnValue(performance.now());
    try {
      await c.insertOne({ _id: 'a', n: 0 });
      const batch = s.openBatch;
      expect(batch).not.toBeNull();
      // Like a job moving through its steps: an expression evaluated between two writes.
      for (let step = 1; step <= 5; step++) {
        await pause(40);
        await c.updateOne({ _id: 'a' }, { $set: { n: step } });
        expect(s.openBatch).toBe(batch);
      }
    } finally {
      clock.mockRestore();
    }
    await s.durable();
    expect(s.openBatch).toBeNull();
    expect(await c.findOne({ _id: 'a' })).toEqual({ _id: 'a', n: 5 });
    await s.close();
  });

  it('caps a batch: many operations in one tick commit in several transactions', async () => {
    const s = SqliteStore.open(tempDir());
    const c = s.collection('g');
    const n = 2500;
    await Promise.all(Array.from({ length: n }, (_, i) => c.insertOne({ _id: `i${i}` })));
    expect(await c.countDocuments()).toBe(n);
    await s.close();
  });

  it('close() commits the open batch', async () => {
    const dir = tempDir();
    const s = SqliteStore.open(dir);
    const c = s.collection('g');
    const p = c.insertOne({ _id: 'late' });
    await s.close();
    await expect(p).resolves.toMatchObject({ insertedId: 'late' });
    const s2 = SqliteStore.open(dir);
    expect(await s2.collection('g').findOne({ _id: 'late' })).toEqual({ _id: 'late' });
    await s2.close();
  });

  it('statements of other components on the shared handle join the batch', async () => {
    const s = SqliteStore.open(tempDir());
    s.db.exec('CREATE TABLE other (x)');
    const c = s.collection('g');
    const p = c.insertOne({ _id: 'a' });
    // As the Agenda backend does: run inline inside an open transaction, else in its own.
    const tx = (fn: () => void) => (s.db.inTransaction ? fn() : s.db.transaction(fn).immediate());
    tx(() => s.db.prepare('INSERT INTO other VALUES (1)').run());
    await p;
    tx(() => s.db.prepare('INSERT INTO other VALUES (2)').run());
    expect(s.db.prepare('SELECT count(*) FROM other').pluck().get()).toBe(2);
    await s.close();
  });

  it('every acknowledged write survives SIGKILL right after the acknowledgement', async () => {
    const dir = tempDir();
    const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/store/crash-writer.ts', dir, '3001'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.on('close', (_code, signal) =>
        signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited without SIGKILL: ${err}`)),
      );
    });
    expect(out).toBe('');
    const lines = readFileSync(join(dir, 'acks.txt'), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('I ') || l.startsWith('U '));
    expect(lines).toHaveLength(3001);
    const s = SqliteStore.open(dir);
    const c = s.collection('crash');
    const docs = new Map((await c.find({}).toArray()).map((d) => [d._id, d]));
    for (const line of lines) {
      const [kind, id] = line.split(' ') as [string, string];
      expect(docs.has(id), line).toBe(true);
      if (kind === 'U') expect(docs.get(id)?.status, line).toBe('done');
    }
    await s.close();
  });
});

describe('embedded updates written once per batch', () => {
  /** The document as its row holds it right now (the cache bypassed). */
  const row = (s: SqliteStore, table: string, id: string) => {
    const text = s.db.prepare(`SELECT json(doc) FROM "c_${table}" WHERE id = ?`).pluck().get(id) as string;
    return JSON.parse(text) as Record<string, unknown>;
  };
  /** Rows changed by INSERT, UPDATE and DELETE statements on the connection so far. */
  const changes = (s: SqliteStore) => s.db.prepare('SELECT total_changes()').pluck().get() as number;

  it('several updates of one document in one batch: one UPDATE with the latest content, before the COMMIT', async () => {
    const dir = tempDir();
    const s = SqliteStore.open(dir);
    const c = s.collection('jobs');
    await c.createIndex({ status: 1 });
    await c.insertOne({ _id: 'j', status: 'running', pc: 0, log: [] });
    const changedBefore = changes(s);
    // Time stands still here: a batch also commits after BATCH_MAX_MS, which a busy machine reaches.
    const clock = vi.spyOn(performance, 'now').mockReturnValue(performance.now());
    const ops = [
      c.updateOne({ _id: 'j', status: 'running' }, { $set: { pc: 1 }, $push: { log: 'a' } }),
      c.findOneAndUpdate({ _id: 'j' }, { $inc: { pc: 1 } }, { returnDocument: 'after' }),
      c.updateOne({ _id: 'j', pc: 2 }, { $set: { status: 'done' }, $push: { log: 'b' } }),
      c.findOne({ _id: 'j' }),
    ];
    // Applied at once (each update saw the one before); the row is written once, at the COMMIT.
    expect(row(s, 'jobs', 'j')).toMatchObject({ status: 'running', pc: 0 });
    expect(changes(s)).toBe(changedBefore);
    clock.mockRestore();
    expect((await Promise.all(ops))[3]).toEqual({ _id: 'j', status: 'done', pc: 2, log: ['a', 'b'] });
    await s.durable();
    expect(changes(s) - changedBefore).toBe(1);
    expect(row(s, 'jobs', 'j')).toEqual({ _id: 'j', status: 'done', pc: 2, log: ['a', 'b'] });
    // The index column moved with it: an indexed query finds it under its new value only.
    expect(await c.countDocuments({ status: 'done' })).toBe(1);
    expect(await c.countDocuments({ status: 'running' })).toBe(0);
    await s.close();
    const again = SqliteStore.open(dir);
    expect(await again.collection('jobs').findOne({ status: 'done' })).toMatchObject({ _id: 'j', pc: 2 });
    await again.close();
  });

  it('a document inserted and updated in one batch: one INSERT with the latest content; a duplicate _id still fails at once', async () => {
    const dir = tempDir();
    const s = SqliteStore.open(dir);
    const c = s.collection('jobs');
    await c.createIndex({ status: 1 });
    await c.insertOne({ _id: 'first', status: 'done' });
    const changedBefore = changes(s);
    // Time stands still here: a batch also commits after BATCH_MAX_MS, which a busy machine reaches.
    const clock = vi.spyOn(performance, 'now').mockReturnValue(performance.now());
    const ops = [
      c.insertOne({ _id: 'j', status: 'running', pc: 0 }),
      c.updateOne({ _id: 'j' }, { $set: { status: 'waiting', pc: 1 } }),
      c.findOneAndUpdate({ _id: 'j' }, { $inc: { pc: 1 } }, { returnDocument: 'after' }),
    ];
    clock.mockRestore();
    expect((await Promise.all(ops))[2]).toEqual({ _id: 'j', status: 'waiting', pc: 2 });
    await s.durable();
    expect(changes(s) - changedBefore).toBe(1);
    expect(row(s, 'jobs', 'j')).toEqual({ _id: 'j', status: 'waiting', pc: 2 });
    expect(await c.countDocuments({ status: 'waiting' })).toBe(1);
    expect(await c.countDocuments({ status: 'running' })).toBe(0);
    // A duplicate of a document inserted in the same batch, not written yet, fails at once too.
    const dup = await Promise.allSettled([
      c.insertOne({ _id: 'k', n: 1 }),
      c.insertOne({ _id: 'k', n: 2 }),
      c.insertOne({ _id: 'first', n: 3 }),
      c.updateOne({ _id: 'j' }, { $set: { status: 'done' } }),
    ]);
    expect(dup.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((dup[1] as PromiseRejectedResult).reason.code).toBe(11000);
    expect((dup[2] as PromiseRejectedResult).reason.code).toBe(11000);
    await s.durable();
    expect(row(s, 'jobs', 'k')).toEqual({ _id: 'k', n: 1 });
    // Later updates reach the row (the cache learned its rowid when it was written).
    expect(row(s, 'jobs', 'j')).toMatchObject({ status: 'done', pc: 2 });
    await s.close();
    const again = SqliteStore.open(dir);
    expect(await again.collection('jobs').countDocuments({ status: 'done' })).toBe(2);
    await again.close();
  });

  it('inserted, not yet written: found by queries, counted, deleted, in the same batch', async () => {
    const s = SqliteStore.open(tempDir());
    const c = s.collection('t');
    await c.createIndex({ status: 1 });
    await c.insertOne({ _id: 'seed', status: 'open' });
    const results = await Promise.all([
      c.insertOne({ _id: 'a', status: 'open' }),
      c.insertOne({ _id: 'b', status: 'open' }),
      c.updateOne({ _id: 'b' }, { $set: { status: 'done' } }),
      c.find({ status: 'open' }).toArray(),
      c.countDocuments({ status: 'done' }),
      c.insertOne({ _id: 'c', status: 'open' }),
      c.deleteOne({ _id: 'c' }),
      c.findOne({ _id: 'c' }),
    ]);
    expect(ids(results[3] as { _id: string }[])).toEqual(['a', 'seed']);
    expect(results[4]).toBe(1);
    expect(results[6]).toEqual({ deletedCount: 1 });
    expect(results[7]).toBeNull();
    expect(ids(await c.find({}).toArray())).toEqual(['a', 'b', 'seed']);
    await s.close();
  });

  it('a batch that fails to commit loses its deferred inserts too, and the cache forgets them', async () => {
    const s = SqliteStore.open(tempDir());
    const lost: unknown[] = [];
    s.acknowledgeOnApply((err) => lost.push(err));
    const c = s.collection('g');
    await c.insertOne({ _id: 'kept', n: 1 });
    await s.durable();
    expect(await c.insertOne({ _id: 'gone', n: 2 })).toEqual({ acknowledged: true, insertedId: 'gone' });
    expect(await c.findOne({ _id: 'gone' })).toEqual({ _id: 'gone', n: 2 });
    // The transaction is gone before the COMMIT (as when SQLite rolls back on SQLITE_FULL).
    s.db.exec('ROLLBACK');
    await expect(s.durable()).rejects.toBeDefined();
    expect(lost).toHaveLength(1);
    expect(await c.findOne({ _id: 'gone' })).toBeNull();
    expect(ids(await c.find({}).toArray())).toEqual(['kept']);
    await s.close();
  });

  it('queries in the same batch see updates not yet written: find, count, delete, sorted pages', async () => {
    const s = SqliteStore.open(tempDir());
    const c = s.collection('t');
    await c.createIndex({ status: 1, at: 1 });
    await c.insertMany([
      { _id: 'a', status: 'open', at: 1, note: 'x' },
      { _id: 'b', status: 'open', at: 2, note: 'x' },
      { _id: 'c', status: 'open', at: 3, note: 'x' },
    ]);
    const results = await Promise.all([
      c.updateOne({ _id: 'b' }, { $set: { status: 'done', note: 'y' } }),
      c.updateOne({ _id: 'c' }, { $set: { at: 0 } }),
      c.find({ status: 'open' }, { sort: { at: 1 } }).toArray(),
      c.find({ note: 'y' }).toArray(),
      c.countDocuments({ status: 'done' }),
      c.deleteMany({ note: 'y' }),
      c.findOne({ status: 'open', at: { $gt: 0 } }),
    ]);
    expect((results[2] as { _id: string }[]).map((d) => d._id)).toEqual(['c', 'a']);
    expect(ids(results[3] as { _id: string }[])).toEqual(['b']);
    expect(results[4]).toBe(1);
    expect(results[5]).toEqual({ deletedCount: 1 });
    expect(results[6]).toMatchObject({ _id: 'a' });
    expect(ids(await c.find({}).toArray())).toEqual(['a', 'c']);
    await s.close();
  });

  it('an update changing a unique value is checked at once; a failing operation keeps the earlier deferred updates', async () => {
    const s = SqliteStore.open(tempDir());
    const users = s.collection('users');
    await users.createIndex({ email: 1 }, { unique: true, sparse: true });
    await users.insertMany([
      { _id: 'u1', email: 'a@x', name: 'A' },
      { _id: 'u2', email: 'b@x', name: 'B' },
    ]);
    const settled = await Promise.allSettled([
      users.updateOne({ _id: 'u1' }, { $set: { name: 'Ann' } }), // deferred
      users.updateOne({ _id: 'u2' }, { $set: { email: 'a@x' } }), // unique clash: refused now
      users.insertMany([{ _id: 'u3' }, { _id: 'u1' }]), // duplicate: the whole insertMany is undone
      users.updateOne({ _id: 'u2' }, { $set: { name: 'Bea' } }),
    ]);
    expect(settled.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason.code).toBe(11000);
    await s.durable();
    expect(row(s, 'users', 'u1')).toEqual({ _id: 'u1', email: 'a@x', name: 'Ann' });
    expect(row(s, 'users', 'u2')).toEqual({ _id: 'u2', email: 'b@x', name: 'Bea' });
    expect(await users.countDocuments()).toBe(2);
    await s.close();
  });

  it('a batch that fails to commit loses its deferred updates with the rest, and the cache forgets them', async () => {
    const s = SqliteStore.open(tempDir());
    const lost: unknown[] = [];
    s.acknowledgeOnApply((err) => lost.push(err));
    const c = s.collection('g');
    await c.insertOne({ _id: 'x', n: 1 });
    await s.durable();
    await c.updateOne({ _id: 'x' }, { $inc: { n: 1 } });
    expect(await c.findOne({ _id: 'x' })).toMatchObject({ n: 2 });
    // The transaction is gone before the COMMIT (as when SQLite rolls back on SQLITE_FULL).
    s.db.exec('ROLLBACK');
    await expect(s.durable()).rejects.toBeDefined();
    expect(lost).toHaveLength(1);
    expect(await c.findOne({ _id: 'x' })).toEqual({ _id: 'x', n: 1 });
    await s.close();
  });

  it('documents with updates not yet written stay cached past the cache size, and are all written', async () => {
    const s = SqliteStore.open(tempDir());
    const c = s.collection('g');
    const n = 900;
    await c.insertMany(Array.from({ length: n + 600 }, (_, i) => ({ _id: `d${i}`, v: 0 })));
    await s.durable();
    // One batch: 900 deferred updates, then 600 reads of other documents push the cache past its size.
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) ops.push(c.updateOne({ _id: `d${i}` }, { $set: { v: 1 } }));
    for (let i = n; i < n + 600; i++) ops.push(c.findOne({ _id: `d${i}` }));
    await Promise.all(ops);
    await s.durable();
    expect(s.db.prepare(`SELECT count(*) FROM c_g WHERE json_extract(doc, '$.v') = 1`).pluck().get()).toBe(n);
    await s.close();
  });
});

describe('embedded sorting', () => {
  const plan = (s: SqliteStore, sql: string, params: unknown[]) =>
    s.db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...params)
      .map((r) => (r as { detail: string }).detail)
      .join('\n');

  it("serves the core's sweeps for marked documents from their sparse indexes (they scanned every task and request)", async () => {
    const s = SqliteStore.open('', { filename: ':memory:' });
    const db = collectionsOf(s);
    await ensureIndexes(db);
    await db.tasks.insertMany(
      Array.from({ length: 50 }, (_, i) => ({
        _id: `t${i}`,
        status: 'completed',
        updated_at: new Date(1_700_000_000_000 + i),
        ...(i % 10 === 0 ? { pending_resume: true } : {}),
        ...(i % 10 === 1 ? { copies_outdated: ['slack'] } : {}),
      })) as never,
    );
    await db.requests.insertMany(
      Array.from({ length: 50 }, (_, i) => ({
        _id: `R-${i}`,
        ...(i % 10 === 0 ? { has_pending: true } : {}),
      })) as never,
    );
    const seen: string[] = [];
    const prepare = s.db.prepare.bind(s.db);
    s.db.prepare = ((sql: string) => {
      if (sql.startsWith('SELECT rowid, json(doc)')) seen.push(sql);
      return prepare(sql);
    }) as typeof s.db.prepare;
    const queries: [string, () => Promise<unknown[]>, number][] = [
      ['c_tasks', () => db.tasks.find({ pending_resume: true }).toArray(), 5],
      ['c_requests', () => db.requests.find({ has_pending: true }).toArray(), 5],
      [
        'c_tasks',
        () =>
          db.tasks
            .find({
              copies_outdated: { $in: ['slack', 'teams'] },
              updated_at: { $lt: new Date(1_800_000_000_000) },
            })
            .toArray(),
        5,
      ],
    ];
    for (const [table, run, n] of queries) {
      seen.length = 0;
      expect(await run()).toHaveLength(n);
      const sql = seen.at(-1)!;
      const params = Array.from({ length: sql.split('?').length - 1 }, () => null);
      const detail = plan(s, sql, params);
      expect(detail).toContain(`SEARCH ${table} USING INDEX`);
      expect(detail).not.toContain(`SCAN ${table}`);
    }
    await s.close();
  });

  it('sorts on the raw value: mixed booleans, objects and arrays are out of MongoDB order (documented)', async () => {
    const s = SqliteStore.open('', { filename: ':memory:' });
    const c = s.collection('m');
    await c.insertMany([
      { _id: 'str', v: 'b' },
      { _id: 'num', v: 2 },
      { _id: 'nul', v: null },
      { _id: 'missing' },
      { _id: 'true', v: true },
      { _id: 'arr', v: [1] },
      { _id: 'obj', v: { a: 1 } },
      { _id: 'date', v: new Date(0) },
    ]);
    const order = (await c.find({}, { sort: { v: 1, _id: 1 } }).toArray()).map((d) => d._id);
    // MongoDB: missing, nul, num, str, obj, arr, true, date. SQLite: NULLs, then numbers and
    // booleans (as 1), then text (JSON text of arrays and objects included), dates last.
    expect(order).toEqual(['missing', 'nul', 'true', 'num', 'arr', 'str', 'obj', 'date']);
    await s.close();
  });

  it('serves filter and ORDER BY from one index when the equality fields hold no arrays', async () => {
    const s = SqliteStore.open('', { filename: ':memory:' });
    const c = s.collection('tasks');
    await c.createIndex({ app: 1, created_at: -1 });
    await c.createIndex({ assignee_key: 1, status: 1, created_at: 1 });
    await c.createIndex({ status: 1 });
    const docs = Array.from({ length: 300 }, (_, i) => ({
      _id: `t${i}`,
      app: `a${i % 3}`,
      assignee_key: `user:${i % 5}`,
      status: i % 2 ? 'open' : 'done',
      created_at: new Date(1_700_000_000_000 + i * 1000),
    }));
    await c.insertMany(docs);
    const sqls: string[] = [];
    const orig = s.db.prepare.bind(s.db);
    s.db.prepare = ((sql: string) => {
      sqls.push(sql);
      return orig(sql);
    }) as typeof s.db.prepare;
    const page = await c.find({ app: 'a1' }, { sort: { created_at: -1 }, limit: 50, skip: 10 }).toArray();
    const mine = await c
      .find({ assignee_key: 'user:2', status: 'open' }, { sort: { created_at: 1 }, limit: 50 })
      .toArray();
    s.db.prepare = orig;
    const expected1 = docs
      .filter((d) => d.app === 'a1')
      .sort((a, b) => b.created_at.getTime() - a.created_at.getTime())
      .slice(10, 60)
      .map((d) => d._id);
    expect(page.map((d) => d._id)).toEqual(expected1);
    const expected2 = docs
      .filter((d) => d.assignee_key === 'user:2' && d.status === 'open')
      .slice(0, 50)
      .map((d) => d._id);
    expect(mine.map((d) => d._id)).toEqual(expected2);
    const selects = sqls.filter((q) => q.startsWith('SELECT rowid'));
    expect(selects).toHaveLength(2);
    const p1 = plan(s, selects[0]!, ['a1', 50, 10]);
    expect(p1).toContain('USING INDEX c_tasks__app_1_created_at_-1');
    expect(p1).not.toContain('TEMP B-TREE');
    const p2 = plan(s, selects[1]!, ['user:2', 'open', 50, 0]);
    expect(p2).toContain('USING INDEX c_tasks__assignee_key_1_status_1_created_at_1');
    expect(p2).not.toContain('TEMP B-TREE');

    // Once a document holds an array in `app`, array membership counts again (MongoDB semantics).
    await c.insertOne({ _id: 'multi', app: ['a1', 'a2'], created_at: new Date(2_000_000_000_000) });
    const first = await c.findOne({ app: 'a1' }, { sort: { created_at: -1 } });
    expect(first?._id).toBe('multi');
    await s.close();
  });

  it("serves a range on an index's second column when the first is fixed and holds no arrays there", async () => {
    const s = SqliteStore.open('', { filename: ':memory:' });
    const c = s.collection('tasks');
    await c.createIndex({ status: 1, created_at: 1 });
    const at = (i: number) => new Date(1_700_000_000_000 + i * 1000);
    await c.insertMany(
      Array.from({ length: 400 }, (_, i) => ({
        _id: `t${i}`,
        status: i % 4 ? 'open' : 'done',
        created_at: at(i),
      })),
    );
    // An array in created_at, but under another status: it cannot match, and does not stop the index.
    await c.insertOne({ _id: 'odd', status: 'done', created_at: [at(390), at(5)] });
    const sqls: string[] = [];
    const orig = s.db.prepare.bind(s.db);
    s.db.prepare = ((sql: string) => {
      sqls.push(sql);
      return orig(sql);
    }) as typeof s.db.prepare;
    const query = { status: 'open', created_at: { $gte: at(300), $lt: at(360) } };
    const recent = await c.find(query, { sort: { created_at: -1 }, limit: 10 }).toArray();
    s.db.prepare = orig;
    const expected = Array.from({ length: 60 }, (_, k) => 359 - k)
      .filter((i) => i % 4)
      .slice(0, 10)
      .map((i) => `t${i}`);
    expect(recent.map((d) => d._id)).toEqual(expected);
    const select = sqls.find((q) => q.startsWith('SELECT rowid'))!;
    const detail = plan(
      s,
      select,
      Array.from({ length: select.split('?').length - 1 }, () => null),
    );
    expect(detail).toMatch(
      /USING INDEX c_tasks__status_1_created_at_1 \(f:status=\? AND f:created_at>\? AND f:created_at<\?\)/,
    );

    // Once an open task holds an array in created_at, array membership counts again (MongoDB semantics).
    await c.insertOne({ _id: 'multi', status: 'open', created_at: [at(1), at(330)] });
    const again = await c.find(query, { sort: { created_at: -1 } }).toArray();
    expect(again.map((d) => d._id)).toContain('multi');
    expect(again.map((d) => d._id)).not.toContain('odd');
    await s.close();
  });
});

describe('embedded checkpoints', () => {
  it('checkpoints the WAL in a worker thread, not in commits', async () => {
    const dir = tempDir();
    const s = SqliteStore.open(dir);
    expect(s.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const c = s.collection('w');
    const size = () => statSync(join(dir, 'baton.db')).size;
    await c.insertMany(Array.from({ length: 2000 }, (_, i) => ({ _id: `d${i}`, pad: 'x'.repeat(500) })));
    const before = size();
    const deadline = Date.now() + 5000;
    while (size() <= before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(size()).toBeGreaterThan(before + 500_000);
    await s.close();
    // close() stops the worker and truncates the WAL.
    expect(statSync(join(dir, 'baton.db-wal'), { throwIfNoEntry: false })?.size ?? 0).toBe(0);
  });

  it('the checkpoint worker does not keep the process alive', () => {
    const dir = tempDir();
    const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
    const script = `
      const { SqliteStore } = await import('./src/store/sqlite/sqlite-store.ts');
      const s = SqliteStore.open(${JSON.stringify(dir)});
      await s.collection('x').insertOne({ _id: 'a' });
      console.log('done');`;
    const started = Date.now();
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      timeout: 20_000,
    }).toString();
    expect(out.trim()).toBe('done');
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

function ids(docs: { _id: string }[]): string[] {
  return docs.map((d) => d._id).sort();
}

describe('embedded WAL under constant writes', () => {
  it('restarts the WAL from its beginning while writes keep coming, instead of growing until a forced truncation', async () => {
    const dir = tempDir();
    // A small reset threshold and a quick worker, so a few MB of writes show it.
    const s = SqliteStore.open(dir, { walResetFrames: 256, checkpointIntervalMs: 20 });
    const c = s.collection('w');
    // The WAL header's checkpoint sequence number goes up each time the WAL restarts.
    const restarts = () => {
      const header = Buffer.alloc(16);
      const fd = openSync(join(dir, 'baton.db-wal'), 'r');
      try {
        readSync(fd, header, 0, 16, 0);
      } finally {
        closeSync(fd);
      }
      return header.readUInt32BE(12);
    };
    await c.insertOne({ _id: 'first' });
    await s.durable();
    const before = restarts();
    const deadline = Date.now() + 20_000;
    // Batches of writes with a turn of the event loop between them, as a busy server makes.
    for (let i = 0; restarts() === before && Date.now() < deadline; i++) {
      await Promise.all(
        Array.from({ length: 20 }, (_, k) => c.insertOne({ _id: `d${i}_${k}`, pad: 'x'.repeat(2000) })),
      );
      await new Promise((r) => setImmediate(r));
    }
    expect(restarts()).toBeGreaterThan(before);
    await s.close();
  });
});

describe('embedded index columns', () => {
  it('rebuilds an index of an earlier version (on json_extract expressions) on columns, keeping the data', async () => {
    const dir = tempDir();
    const file = join(dir, 'baton.db');
    // As an earlier Baton left it: documents as JSONB, indexes on expressions.
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE "c_tasks" (id TEXT PRIMARY KEY, doc BLOB NOT NULL)');
    old.exec(
      `CREATE INDEX "c_tasks__status_1_due_1" ON "c_tasks" (json_extract(doc, '$."status"'), json_extract(doc, '$."due"'))`,
    );
    old.exec(`CREATE UNIQUE INDEX "c_tasks__key_1" ON "c_tasks" (json_extract(doc, '$."key"'))`);
    old.exec(
      `CREATE UNIQUE INDEX "c_tasks__key_1__nulls" ON "c_tasks" (ifnull(json_extract(doc, '$."key"'), x'00')) WHERE json_extract(doc, '$."key"') IS NULL`,
    );
    const ins = old.prepare('INSERT INTO c_tasks (id, doc) VALUES (?, jsonb(?))');
    for (let i = 0; i < 20; i++)
      ins.run(
        `t${i}`,
        JSON.stringify({ _id: `t${i}`, status: i % 2 ? 'open' : 'done', due: i, key: `k${i}` }),
      );
    old.close();

    const s = SqliteStore.open(dir);
    const c = s.collection('tasks');
    await c.createIndex({ status: 1, due: 1 });
    await c.createIndex({ key: 1 }, { unique: true });
    const indexes = s.db
      .prepare(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'c_tasks' AND sql IS NOT NULL",
      )
      .all() as { name: string; sql: string }[];
    expect(indexes.map((i) => i.name).sort()).toEqual([
      'c_tasks__key_1',
      'c_tasks__key_1__nulls',
      'c_tasks__status_1_due_1',
    ]);
    for (const i of indexes) expect(i.sql, i.name).not.toContain('json_extract');
    const open = await c.find({ status: 'open', due: { $gte: 15 } }, { sort: { due: -1 } }).toArray();
    expect(open.map((d) => d._id)).toEqual(['t19', 't17', 't15']);
    await expect(c.insertOne({ _id: 'dup', status: 'open', key: 'k3' })).rejects.toMatchObject({
      code: 11000,
    });
    // Updated documents keep their columns in step.
    await c.updateOne({ _id: 't19' }, { $set: { status: 'done' } });
    expect((await c.find({ status: 'open', due: { $gte: 15 } }).toArray()).map((d) => d._id).sort()).toEqual([
      't15',
      't17',
    ]);
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
