/**
 * Expiry lateness: 10,000 tasks falling due within the same minute. Requests are filed at a
 * steady pace for 60 s, each with a task that expires 20 s after it was assigned, so the
 * expiries are spread over one minute while new work keeps arriving. Lateness = the time
 * the task was marked expired minus its deadline.
 */
import { benchRuntime, percentile, report } from './common.js';

const N = Number(process.env.BENCH_EXPIRY_TASKS ?? 10_000);
const WINDOW_MS = Number(process.env.BENCH_EXPIRY_WINDOW_MS ?? 60_000);
const rt = await benchRuntime('20s');
const { baton, requester, approver } = rt;

const start = Date.now();
for (let i = 0; i < N; i++) {
  const due = start + (i * WINDOW_MS) / N;
  const wait = due - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  await baton.requests.file(requester, 'leave', { approver: approver._id, days: 1 });
}
const tasks = rt.store.collection('tasks');
for (;;) {
  const open = await tasks.countDocuments({ status: 'open' });
  if (open === 0) break;
  await new Promise((r) => setTimeout(r, 500));
}
const expired = await tasks.find({ status: 'expired' }).toArray();
const lateness = expired
  .map((t) => (t.completed_at as Date).getTime() - (t.expires_at as Date).getTime())
  .sort((a, b) => a - b);
const expiredStage = await rt.store.collection('requests').countDocuments({ stage: 'Expired' });
await rt.cleanup();
if (expired.length !== N || expiredStage !== N)
  throw new Error(`expected ${N} expired tasks and requests, got ${expired.length}/${expiredStage}`);
report({
  tasks: N,
  window_s: WINDOW_MS / 1000,
  p50_ms: percentile(lateness, 50),
  p99_ms: percentile(lateness, 99),
  max_ms: lateness.at(-1),
});
