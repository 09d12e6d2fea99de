/**
 * A process writing to the embedded store until it is killed with SIGKILL.
 * Usage: node --import tsx tests/store/crash-writer.ts <dataDir> <acks>
 * Runs 8 concurrent writers (inserts, then a compare-and-set on each inserted document)
 * and appends one line per acknowledged operation to `<dataDir>/acks.txt`: `I <id>` after
 * the insert resolved, `U <id>` after the update resolved. Right after the `<acks>`-th acknowledgement it
 * SIGKILLs itself (synchronously, before the event loop turns again); the parent then
 * checks that every acknowledged write is in the file.
 */
import { openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const dir = process.argv[2];
const acks = Number(process.argv[3]);
if (!dir || !(acks > 0)) throw new Error('usage: crash-writer.ts <dataDir> <acks>');
// Acknowledgements go to a file with synchronous writes: a write to stdout (a pipe) may
// still be queued in this process when it kills itself, and would be lost with it.
const ackFile = openSync(join(dir, 'acks.txt'), 'a');
let acked = 0;
const ack = (line: string) => {
  writeSync(ackFile, `${line}\n`);
  if (++acked >= acks) process.kill(process.pid, 'SIGKILL');
};
const store = SqliteStore.open(dir);
const c = store.collection('crash');
await c.createIndex({ n: 1 });
let next = 0;
await Promise.all(
  Array.from({ length: 8 }, async () => {
    for (;;) {
      const id = `d${next++}`;
      await c.insertOne({ _id: id, n: next, status: 'open', pad: 'x'.repeat(200) });
      ack(`I ${id}`);
      const r = await c.updateOne({ _id: id, status: 'open' }, { $set: { status: 'done' } });
      if (r.modifiedCount !== 1) throw new Error(`compare-and-set failed on ${id}`);
      ack(`U ${id}`);
    }
  }),
);
