/**
 * Pacing for outbound Slack work. Two primitives:
 *
 * - `call(fn)`: at most `concurrency` Web API calls in flight at once, so a group task for
 *   50 people does not fire 50 requests at the same moment (the WebClient's own 429
 *   handling paces whatever still hits a rate limit); each starts in a later turn of the
 *   event loop (setImmediate), after the I/O already waiting — incoming requests and their
 *   acks — has been served, so queued background work never delays an ack by more than
 *   the work in flight;
 * - `serial(key, fn)`: jobs sharing a key run one after another in the order they were
 *   queued (a task's copies are all posted before its "closed" update reads them). A serial
 *   job holds no `call` slot while it waits, so the two never deadlock.
 */
export interface WorkQueue {
  call<T>(fn: () => Promise<T>): Promise<T>;
  serial<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** Resolves when no serial job is queued or running. */
  idle(): Promise<void>;
  /** Serial jobs queued or running. */
  readonly size: number;
}

export function createWorkQueue(options: { concurrency?: number } = {}): WorkQueue {
  const concurrency = Math.max(1, options.concurrency ?? 8);
  let running = 0;
  const waiting: (() => void)[] = [];
  const tails = new Map<string, Promise<void>>();
  let pending = 0;
  let idleWaiters: (() => void)[] = [];

  const acquire = (): Promise<void> => {
    if (running < concurrency) {
      running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => waiting.push(resolve));
  };
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };

  return {
    async call<T>(fn: () => Promise<T>): Promise<T> {
      await acquire();
      // Start in a later turn of the event loop, after pending I/O (incoming requests) was read.
      await new Promise<void>((resolve) => setImmediate(resolve));
      try {
        return await fn();
      } finally {
        release();
      }
    },
    serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
      pending++;
      const previous = tails.get(key) ?? Promise.resolve();
      const result = previous.then(fn);
      const tail = result.then(
        () => undefined,
        () => undefined,
      );
      tails.set(key, tail);
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
        pending--;
        if (pending === 0) {
          const waiters = idleWaiters;
          idleWaiters = [];
          for (const w of waiters) w();
        }
      });
      return result;
    },
    idle(): Promise<void> {
      if (pending === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    get size() {
      return pending;
    },
  };
}
