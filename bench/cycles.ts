/**
 * Full request → task → complete → resume cycles per second through the core API on the
 * embedded store: file a request (the recipe assigns a task), complete it (the job resumes,
 * changes the stage, notifies the requester, completes).
 *
 * Runs at several numbers of cycles in flight (BENCH_CONCURRENCY, default "4,16,64"), each
 * on a fresh runtime and store, and reports each and the best: a server handling many
 * people has many cycles in flight, and group commit shares COMMITs between them.
 */
import type { TaskDoc } from '../src/core/types.js';
import { benchRuntime, profiled, report } from './common.js';

const N = Number(process.env.BENCH_CYCLES ?? 5000);
const LEVELS = (process.env.BENCH_CONCURRENCY ?? '4,16,64').split(',').map(Number);

interface Run {
  concurrency: number;
  seconds: number;
  per_second: number;
  cpu_ms_per_cycle: number;
}

async function measure(concurrency: number): Promise<Run> {
  const rt = await benchRuntime();
  const { baton, requester, approver } = rt;
  // The approver learns of the task as a surface does: from the core's task.opened event
  // (delivered before the filing call returns), not from a query of the bench's own.
  const opened = new Map<string, string>();
  baton.events.on('task.opened', (task: TaskDoc) => opened.set(task.request_id, task._id));
  async function cycle(i: number): Promise<void> {
    const req = await baton.requests.file(requester, 'leave', { approver: approver._id, days: 1 + (i % 20) });
    const taskId = opened.get(req._id);
    if (taskId === undefined) throw new Error(`no task.opened event for ${req._id}`);
    opened.delete(req._id);
    await baton.tasks.complete(approver, taskId, i % 5 === 0 ? 'Reject' : 'Approve');
  }
  // Warm-up (JIT, statement cache).
  for (let i = 0; i < 200; i++) await cycle(i);
  let next = 0;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await profiled(`cycles-${concurrency}`, () =>
    Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < N) await cycle(next++);
      }),
    ),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  const done = await rt.store.collection('jobs').countDocuments({ status: 'completed' });
  const open = await rt.store.collection('tasks').countDocuments({ status: 'open' });
  await rt.cleanup();
  if (done !== N + 200 || open !== 0)
    throw new Error(`expected ${N + 200} completed jobs and no open task, got ${done} and ${open}`);
  return {
    concurrency,
    seconds: Number(seconds.toFixed(2)),
    per_second: Math.round(N / seconds),
    cpu_ms_per_cycle: Number(((used.user + used.system) / 1000 / N).toFixed(2)),
  };
}

const runs: Run[] = [];
for (const c of LEVELS) runs.push(await measure(c));
const best = runs.reduce((a, b) => (b.per_second > a.per_second ? b : a));
report({
  cycles: N,
  concurrency: best.concurrency,
  seconds: best.seconds,
  per_second: best.per_second,
  cpu_ms_per_cycle: best.cpu_ms_per_cycle,
  runs,
});
