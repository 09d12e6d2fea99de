/**
 * Memory with 100,000 open tasks: file 100,000 requests whose recipe assigns a task each (so
 * 100,000 jobs wait too), then measure the resident set size of the whole Baton process
 * after a GC, with the server still running its scheduler.
 */
import { benchRuntime, report } from './common.js';

const N = Number(process.env.BENCH_OPEN_TASKS ?? 100_000);
const rt = await benchRuntime('2d');
const { baton, requester, approver } = rt;
const started = Date.now();
for (let i = 0; i < N; i++)
  await baton.requests.file(requester, 'leave', { approver: approver._id, days: 1 + (i % 20) });
const fileSeconds = (Date.now() - started) / 1000;
const open = await rt.store.collection('tasks').countDocuments({ status: 'open' });
const waiting = await rt.store.collection('jobs').countDocuments({ status: 'waiting' });
// Let the scheduler settle, then measure.
await new Promise((r) => setTimeout(r, 3000));
globalThis.gc?.();
const rss = process.memoryUsage().rss;
const heap = process.memoryUsage().heapUsed;
// An inbox query at this size, for scale.
const t0 = process.hrtime.bigint();
const inbox = await baton.tasks.listOpenFor(approver, { limit: 50 });
const inboxMs = Number(process.hrtime.bigint() - t0) / 1e6;
await rt.cleanup();
if (open !== N || waiting !== N || inbox.length !== 50)
  throw new Error(`expected ${N} open tasks and waiting jobs, got ${open}/${waiting}`);
report({
  open_tasks: N,
  waiting_jobs: waiting,
  rss_mb: Math.round(rss / 1024 / 1024),
  heap_mb: Math.round(heap / 1024 / 1024),
  filed_per_second: Math.round(N / fileSeconds),
  inbox_query_ms: Number(inboxMs.toFixed(1)),
});
