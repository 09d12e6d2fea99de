/**
 * A Baton process that gets killed with SIGKILL (`kill -9`) in the middle of its work.
 * Usage: tsx tests/helpers/crash-child.ts <mode> <dataDir> <recipesDir>
 *   waiting — files requests so that jobs wait on tasks (one with a 1 s expiry), prints ids, dies.
 *   chaos   — files and completes requests in a loop until the parent kills it.
 */
import { seedPeople, startTestRuntime } from './runtime.js';

const [mode, dataDir, recipesDir] = process.argv.slice(2);
const rt = await startTestRuntime({ dataDir: dataDir!, recipesDir: recipesDir! });
const p = await seedPeople(rt.baton);

if (mode === 'waiting') {
  const a = await rt.baton.requests.file(p.alice!, 'leave', { approver: p.bob!._id, days: 3 });
  const b = await rt.baton.requests.file(p.alice!, 'quick', { approver: p.bob!._id });
  const tasks = await rt.baton.tasks.listOpenFor(p.bob!);
  process.stdout.write(`${JSON.stringify({ requests: [a._id, b._id], tasks: tasks.map((t) => t._id) })}\n`);
  process.kill(process.pid, 'SIGKILL');
} else if (mode === 'chaos') {
  process.stdout.write('ready\n');
  for (let i = 0; ; i++) {
    await rt.baton.requests.file(p.alice!, 'leave', { approver: p.bob!._id, days: 1 + (i % 10) });
    for (const t of await rt.baton.tasks.listOpenFor(p.bob!)) {
      await rt.baton.tasks.complete(p.bob!, t._id, i % 3 === 0 ? 'Reject' : 'Approve').catch(() => undefined);
    }
    for (const t of await rt.baton.tasks.listOpenFor(p.hank!)) {
      await rt.baton.tasks.complete(p.hank!, t._id, 'Approve').catch(() => undefined);
    }
  }
}
