import { describe, expect, it } from 'vitest';
import { BatonEventBus } from '../../src/core/context.js';
import type { TaskDoc } from '../../src/core/types.js';

function deferred() {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

const task = (id: string) => ({ _id: id }) as unknown as TaskDoc;

describe('the event bus behind a durability barrier', () => {
  it('hands events out only once their writes are durable, in the order emitted; drops those of a lost batch', async () => {
    let barrier: Promise<void> | null = null;
    const errors: unknown[] = [];
    const bus = new BatonEventBus(
      () => barrier,
      (err) => errors.push(err),
    );
    const seen: string[] = [];
    bus.on('task.opened', (t) => seen.push(t._id));

    bus.emit('task.opened', task('now')); // nothing pending: at once
    expect(seen).toEqual(['now']);

    const b1 = deferred();
    const b2 = deferred();
    barrier = b1.promise;
    bus.emit('task.opened', task('a'));
    barrier = null;
    bus.emit('task.opened', task('b')); // nothing pending, but must not overtake 'a'
    barrier = b2.promise;
    bus.emit('task.opened', task('lost'));
    barrier = null;
    const settled = bus.settled();
    expect(seen).toEqual(['now']);

    b1.resolve();
    await b1.promise;
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['now', 'a', 'b']);

    b2.reject(new Error('COMMIT failed'));
    await settled;
    expect(seen).toEqual(['now', 'a', 'b']);

    // A listener that throws while the queue drains is reported, and the rest still go out.
    bus.on('notification', () => {
      throw new Error('listener broke');
    });
    const b3 = deferred();
    barrier = b3.promise;
    bus.emit('notification', { _id: 'n1' } as never);
    bus.emit('task.opened', task('after'));
    barrier = null;
    b3.resolve();
    await bus.settled();
    expect(seen.at(-1)).toBe('after');
    expect(errors).toHaveLength(1);
  });
});
