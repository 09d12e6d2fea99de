/**
 * Full request → task → complete → resume cycles per second through the core API on the
 * embedded store: file a request (the recipe assigns a task), complete it (the job resumes,
 * changes the stage, notifies the requester, completes).
 */
import { benchRuntime, report } from './common.js';

const N = Number(process.env.BENCH_CYCLES ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);

const rt = await benchRuntime();
const { baton, requester, approver } = rt;

async function cycle(i: number): Promise<void> {
  const req = await baton.requests.file(requester, 'leave', { approver: approver._id, days: 1 + (i % 20) });
  const task = await rt.store.collection('tasks').findOne({ request_id: req._id, status: 'open' });
  await baton.tasks.complete(approver, task!._id as string, i % 5 === 0 ? 'Reject' : 'Approve');
}

// Warm-up (JIT, statement cache).
for (let i = 0; i < 200; i++) await cycle(i);

let next = 0;
const started = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < N) await cycle(next++);
  }),
);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const done = await rt.store.collection('jobs').countDocuments({ status: 'completed' });
const open = await rt.store.collection('tasks').countDocuments({ status: 'open' });
await rt.cleanup();
if (done !== N + 200 || open !== 0)
  throw new Error(`expected ${N + 200} completed jobs and no open task, got ${done} and ${open}`);
report({
  cycles: N,
  concurrency: CONCURRENCY,
  seconds: Number(seconds.toFixed(2)),
  per_second: Math.round(N / seconds),
});
