/**
 * A Baton process that gets killed with SIGKILL (`kill -9`) in the middle of its work.
 * Usage: tsx tests/helpers/crash-child.ts <mode> <dataDir> <recipesDir>
 *   waiting — files requests so that jobs wait on tasks (one with a 1 s expiry), prints ids, dies.
 *   chaos   — files and completes requests in a loop until the parent kills it.
 *   acks    — 6 concurrent loops file and complete requests; every result the core hands out
 *             (a filed request, a completed task, an event to a listener) is appended to
 *             `<dataDir>/acks.txt` with a synchronous write; it SIGKILLs itself right after
 *             the first notification event past the 300th line, so the parent can check that
 *             all of it survived.
 */
import { openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
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
} else if (mode === 'acks') {
  const file = openSync(join(dataDir!, 'acks.txt'), 'a');
  let lines = 0;
  const ack = (line: string) => {
    writeSync(file, `${line}\n`);
    // Dies at an event: a listener is told of a notification in the same turn it is written.
    if (++lines >= 300 && line.startsWith('N')) process.kill(process.pid, 'SIGKILL');
  };
  rt.baton.events.on('task.opened', (t) => ack(`O ${t._id}`));
  rt.baton.events.on('notification', (n) => ack(`N ${n._id}`));
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      for (let i = 0; ; i++) {
        const r = await rt.baton.requests.file(p.alice!, 'leave', {
          approver: p.bob!._id,
          days: 1 + (i % 4),
        });
        ack(`R ${r._id}`);
        for (const t of await rt.baton.tasks.listOpenFor(p.bob!)) {
          if (t.request_id !== r._id) continue;
          await rt.baton.tasks.complete(p.bob!, t._id, 'Approve');
          ack(`C ${t._id}`);
        }
      }
    }),
  );
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
