/**
 * Embedded store micro-benchmark: a fresh on-disk SQLite store with BENCH_DOCS (default
 * 100,000) task-like documents and the core's task indexes. Measures, through the store
 * port only:
 * - insertOne/s, sequential (each awaited) and with 16 concurrent callers;
 * - indexed findOne/s (sequential, on `request_id`);
 * - compare-and-set updateOne/s (`{_id, status: 'open'}` → completed), sequential and
 *   with 16 concurrent callers;
 * - sorted, paginated find (limit 50) per second, on `{app}` sorted by `created_at`
 *   desc with a skip, and on `{assignee_key, status}` sorted by `created_at` asc;
 * - RSS at the end.
 * Prints one line `RESULT {json}`.
 *
 * Run: node --import tsx bench/store.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Collection, Doc } from '../src/store/index.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';

const N = Number(process.env.BENCH_DOCS ?? 100_000);
const CONCURRENCY = 16;
const APPS = 10;
const ASSIGNEES = 200;

function taskDoc(i: number): Doc {
  const created = new Date(Date.UTC(2024, 0, 1) + i * 60_000);
  return {
    _id: `task-${i}`,
    request_id: `req-${i}`,
    app: `app${i % APPS}`,
    job_id: `job-${i}`,
    step_id: 'manager',
    recipe: 'leave-approval',
    title: `Leave: ${1 + (i % 20)} days for Rita Requester`,
    outcomes: [
      { label: 'Approve', style: 'primary', comment: 'optional' },
      { label: 'Reject', style: 'danger', comment: 'required' },
    ],
    inputs: [],
    assignee: { type: 'user', id: `u${i % ASSIGNEES}` },
    assignee_key: `user:u${i % ASSIGNEES}`,
    quorum: { mode: 'any' },
    expires_at: new Date(created.getTime() + 2 * 86_400_000),
    status: 'open',
    responses: [],
    deliveries: [{ surface: 'web', at: created }],
    created_at: created,
    updated_at: created,
  };
}

/** Runs `op(i)` for i in [from, to) with `concurrency` callers (stopping early after `maxSeconds`); returns ops/s. */
async function measure(
  from: number,
  to: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
  maxSeconds = Number.POSITIVE_INFINITY,
): Promise<number> {
  let next = from;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.min(maxSeconds, 1e6) * 1e9);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < to && process.hrtime.bigint() < deadline) await op(next++);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return Math.round((next - from) / seconds);
}

const dir = mkdtempSync(path.join(tmpdir(), 'baton-store-bench-'));
const store = SqliteStore.open(dir);
const tasks: Collection<Doc> = store.collection('tasks');
await tasks.createIndex({ assignee_key: 1, status: 1 });
await tasks.createIndex({ request_id: 1 });
await tasks.createIndex({ status: 1, expires_at: 1 });
await tasks.createIndex({ pending_resume: 1 }, { sparse: true });
await tasks.createIndex({ app: 1, created_at: -1 });

const seqInserts = Math.floor(N / 10);
const insertSeq = await measure(0, seqInserts, 1, (i) => tasks.insertOne(taskDoc(i)));
const insertConc = await measure(seqInserts, N, CONCURRENCY, (i) => tasks.insertOne(taskDoc(i)));

const rnd = (k: number) => (k * 7919) % N;
const reads = Math.min(20_000, N);
const findOne = await measure(0, reads, 1, async (k) => {
  const d = await tasks.findOne({ request_id: `req-${rnd(k)}` });
  if (!d) throw new Error('findOne missed');
});

const cas = (i: number) =>
  tasks
    .updateOne(
      { _id: `task-${i}`, status: 'open' },
      { $set: { status: 'completed', completed_at: new Date(), outcome: 'Approve' } },
    )
    .then((r) => {
      if (r.modifiedCount !== 1) throw new Error(`compare-and-set missed on task-${i}`);
    });
const casN = Math.min(10_000, Math.floor(N / 4));
const casSeq = await measure(0, casN, 1, cas);
const casConc = await measure(casN, casN * 3, CONCURRENCY, cas);

const pages = 2_000;
const byApp = await measure(
  0,
  pages,
  1,
  async (k) => {
    const r = await tasks
      .find({ app: `app${k % APPS}` }, { sort: { created_at: -1 }, limit: 50, skip: 50 * (k % 20) })
      .toArray();
    if (r.length !== 50) throw new Error('short page');
  },
  5,
);
const byAssignee = await measure(
  0,
  pages,
  1,
  async (k) => {
    const r = await tasks
      .find(
        { assignee_key: `user:u${k % ASSIGNEES}`, status: 'open' },
        { sort: { created_at: 1 }, limit: 50 },
      )
      .toArray();
    if (r.length === 0) throw new Error('empty page');
  },
  5,
);

const rssMb = Math.round(process.memoryUsage().rss / 1048576);
const closeStart = process.hrtime.bigint();
await store.close();
const closeMs = Math.round(Number(process.hrtime.bigint() - closeStart) / 1e6);
rmSync(dir, { recursive: true, force: true });

process.stdout.write(
  `RESULT ${JSON.stringify({
    docs: N,
    insert_seq_per_s: insertSeq,
    insert_c16_per_s: insertConc,
    indexed_findone_per_s: findOne,
    cas_update_seq_per_s: casSeq,
    cas_update_c16_per_s: casConc,
    sorted_page_app_per_s: byApp,
    sorted_page_assignee_per_s: byAssignee,
    rss_mb: rssMb,
    close_ms: closeMs,
  })}\n`,
);
