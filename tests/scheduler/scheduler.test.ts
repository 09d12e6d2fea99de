import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createScheduler, type Scheduler } from '../../src/scheduler/scheduler.js';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const inMs = (ms: number) => new Date(Date.now() + ms);

async function until(fn: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await delay(20);
  }
}

/** A pino logger whose JSON lines are kept for assertions. */
function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

describe('Scheduler (embedded)', () => {
  let db: Database.Database;
  let scheduler: Scheduler | undefined;
  let log: ReturnType<typeof captureLogger>;

  const make = (processEvery: number | string = 200) =>
    createScheduler({ kind: 'embedded', db, logger: log.logger, processEvery });
  const rows = () => (db.prepare('SELECT count(*) AS n FROM agenda_jobs').get() as { n: number }).n;

  beforeEach(() => {
    db = new Database(':memory:');
    log = captureLogger();
  });

  afterEach(async () => {
    await scheduler?.stop();
    scheduler = undefined;
    db.close();
  });

  it('runs a scheduled job with its data, then removes it', async () => {
    scheduler = await make();
    const runs: { data: Record<string, unknown>; at: number }[] = [];
    scheduler.define('greet', async (data) => {
      runs.push({ data, at: Date.now() });
    });
    await scheduler.start();
    const when = inMs(300);
    await scheduler.scheduleAt('greet', when, { who: 'ada', at: new Date(0) }, 'greet:1');
    expect(await scheduler.stats()).toEqual({ running: 0, pending: 1 });
    await until(() => runs.length > 0);
    expect(runs[0]?.data).toEqual({ who: 'ada', at: new Date(0) });
    expect(runs[0]!.at).toBeGreaterThanOrEqual(when.getTime() - 5);
    await until(() => rows() === 0);
    expect(await scheduler.stats()).toEqual({ running: 0, pending: 0 });
    await delay(300);
    expect(runs).toHaveLength(1);
  });

  it('scheduling the same key again replaces the earlier job', async () => {
    scheduler = await make();
    const runs: { data: Record<string, unknown>; at: number }[] = [];
    scheduler.define('remind', async (data) => {
      runs.push({ data, at: Date.now() });
    });
    await scheduler.start();
    await scheduler.scheduleAt('remind', inMs(300), { v: 1 }, 'remind:x');
    const later = inMs(800);
    await scheduler.scheduleAt('remind', later, { v: 2 }, 'remind:x');
    expect(rows()).toBe(1);
    await until(() => runs.length > 0);
    await delay(500);
    expect(runs).toHaveLength(1);
    expect(runs[0]?.data).toEqual({ v: 2 });
    expect(runs[0]!.at).toBeGreaterThanOrEqual(later.getTime() - 5);
  });

  it('concurrent scheduling of one key keeps a single job', async () => {
    scheduler = await make();
    let runs = 0;
    scheduler.define('once', async () => {
      runs++;
    });
    await Promise.all([1, 2, 3, 4, 5].map((v) => scheduler!.scheduleAt('once', inMs(200), { v }, 'once:k')));
    expect(rows()).toBe(1);
    await scheduler.start();
    await until(() => runs > 0);
    await delay(400);
    expect(runs).toBe(1);
  });

  it('cancel() keeps the job from running; cancelling an unknown key is fine', async () => {
    scheduler = await make();
    let ran = false;
    scheduler.define('nope', async () => {
      ran = true;
    });
    await scheduler.start();
    await scheduler.scheduleAt('nope', inMs(300), {}, 'nope:1');
    await scheduler.cancel('nope:1');
    await scheduler.cancel('never-scheduled');
    expect(rows()).toBe(0);
    await delay(700);
    expect(ran).toBe(false);
  });

  it('cancel() also stops a job already picked up for its imminent run', async () => {
    scheduler = await make(1000);
    let ran = false;
    scheduler.define('soon', async () => {
      ran = true;
    });
    await scheduler.start();
    await scheduler.scheduleAt('soon', inMs(600), {}, 'soon:1');
    // within one scan period it is locked in memory with a timer set
    await until(
      () =>
        (db.prepare('SELECT locked_at FROM agenda_jobs').get() as { locked_at: number | null } | undefined)
          ?.locked_at != null,
    );
    await scheduler.cancel('soon:1');
    await delay(1000);
    expect(ran).toBe(false);
  });

  it('runs a job that came due while stopped right after start()', async () => {
    const first = await make();
    first.define('missed', async () => {});
    await first.start();
    await first.stop();
    await first.scheduleAt('missed', inMs(-60_000), { n: 1 }, 'missed:1');

    scheduler = await make(5000); // a long scan period: the start-up scan must pick it up
    let ran = 0;
    scheduler.define('missed', async () => {
      ran++;
    });
    const t0 = Date.now();
    await scheduler.start();
    await until(() => ran > 0);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('a past `when` runs as soon as possible', async () => {
    scheduler = await make(5000);
    let ranAt = 0;
    scheduler.define('asap', async () => {
      ranAt = Date.now();
    });
    await scheduler.start();
    await delay(50);
    const t0 = Date.now();
    await scheduler.scheduleAt('asap', inMs(-1000), {}, 'asap:1');
    await until(() => ranAt > 0);
    expect(ranAt - t0).toBeLessThan(2000); // well before the next 5 s scan
  });

  it('stop() waits for an in-flight handler', async () => {
    scheduler = await make();
    let started = false;
    let finished = false;
    scheduler.define('slow', async () => {
      started = true;
      await delay(600);
      finished = true;
    });
    await scheduler.start();
    await scheduler.scheduleAt('slow', inMs(-1), {}, 'slow:1');
    await until(() => started);
    expect((await scheduler.stats()).running).toBe(1);
    await scheduler.stop();
    expect(finished).toBe(true);
    expect(await scheduler.stats()).toEqual({ running: 0, pending: 0 });
    scheduler = undefined;
  });

  it('stop() releases jobs it had locked but not started, and start() again picks them up', async () => {
    scheduler = await make(2000);
    let ran = 0;
    scheduler.define('pending', async () => {
      ran++;
    });
    await scheduler.start();
    await scheduler.scheduleAt('pending', inMs(1200), {}, 'pending:1');
    await until(
      () =>
        (db.prepare('SELECT locked_at FROM agenda_jobs').get() as { locked_at: number | null }).locked_at !=
        null,
    );
    await scheduler.stop();
    expect(
      (db.prepare('SELECT locked_at FROM agenda_jobs').get() as { locked_at: number | null }).locked_at,
    ).toBeNull();
    expect(ran).toBe(0);
    await scheduler.start();
    await until(() => ran > 0);
    await delay(300);
    expect(ran).toBe(1);
  });

  it('a throwing handler is logged and does not break the next job', async () => {
    scheduler = await make();
    const ok: number[] = [];
    scheduler.define('boom', async () => {
      throw new Error('kaboom');
    });
    scheduler.define('fine', async (data) => {
      ok.push(data.n as number);
    });
    await scheduler.start();
    await scheduler.scheduleAt('boom', inMs(-1), {}, 'boom:1');
    await scheduler.scheduleAt('fine', inMs(200), { n: 1 }, 'fine:1');
    await until(() => ok.length === 1);
    await scheduler.scheduleAt('boom', inMs(-1), {}, 'boom:2');
    await scheduler.scheduleAt('fine', inMs(100), { n: 2 }, 'fine:2');
    await until(() => ok.length === 2);
    const failures = log.lines.filter((l) => l.msg === 'scheduled job failed');
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(failures[0]).toMatchObject({ level: 50, component: 'scheduler', job: 'boom', key: 'boom:1' });
    expect(failures[0]?.err).toMatchObject({ message: 'kaboom' });
    // the failed one-off stays (with its reason) for inspection; successful ones are gone
    const failedRows = db.prepare("SELECT fail_reason FROM agenda_jobs WHERE name = 'boom'").all();
    expect(failedRows.length).toBeGreaterThanOrEqual(1);
    expect(failedRows[0]).toEqual({ fail_reason: 'kaboom' });
  });

  it('a handler may reschedule its own key', async () => {
    scheduler = await make();
    const runs: number[] = [];
    scheduler.define('again', async (data) => {
      runs.push(data.n as number);
      if ((data.n as number) < 2)
        await scheduler!.scheduleAt('again', inMs(100), { n: (data.n as number) + 1 }, 'again:1');
    });
    await scheduler.start();
    await scheduler.scheduleAt('again', inMs(-1), { n: 1 }, 'again:1');
    await until(() => runs.length === 2);
    await delay(400);
    expect(runs).toEqual([1, 2]);
    await until(() => rows() === 0);
  });

  it('drains many jobs due together', async () => {
    scheduler = await createScheduler({ kind: 'embedded', db, logger: log.logger });
    let done = 0;
    scheduler.define('bulk', async () => {
      done++;
    });
    const when = inMs(500);
    for (let i = 0; i < 2000; i++) await scheduler.scheduleAt('bulk', when, { i }, `bulk:${i}`);
    expect((await scheduler.stats()).pending).toBe(2000);
    await scheduler.start();
    await until(() => done === 2000, 30_000);
    await until(() => rows() === 0);
  });

  it('reports a backend that cannot connect as a rejected promise', async () => {
    const closed = new Database(':memory:');
    closed.close();
    await expect(createScheduler({ kind: 'embedded', db: closed, logger: log.logger })).rejects.toThrow(
      /cannot connect the embedded backend/,
    );
    expect(log.lines.some((l) => l.msg === 'scheduler backend failed to connect')).toBe(true);
  });
});
