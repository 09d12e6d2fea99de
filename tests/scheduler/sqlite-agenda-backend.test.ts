import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agenda, type JobParameters } from 'agenda';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteAgendaBackend, type SqliteJobRepository } from '../../src/scheduler/sqlite-agenda-backend.js';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const inMs = (ms: number) => new Date(Date.now() + ms);

function job(overrides: Partial<JobParameters> = {}): JobParameters {
  return { name: 'job', priority: 0, nextRunAt: new Date(), type: 'normal', data: {}, ...overrides };
}

/** Polls `fn` until it is true (or fails after `timeoutMs`). */
async function until(fn: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await delay(20);
  }
}

describe('SqliteJobRepository', () => {
  let db: Database.Database;
  let backend: SqliteAgendaBackend;
  let repo: SqliteJobRepository;

  beforeEach(async () => {
    db = new Database(':memory:');
    backend = new SqliteAgendaBackend(db);
    await backend.connect();
    repo = backend.repository;
  });

  afterEach(() => {
    db.close();
  });

  it('is named sqlite, does not own the connection, and connects idempotently', async () => {
    expect(backend.name).toBe('sqlite');
    expect(backend.ownsConnection).toBe(false);
    await backend.connect();
    await backend.disconnect();
    expect(db.open).toBe(true);
    const indexes = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'agenda_jobs'")
      .all();
    expect(indexes.length).toBeGreaterThanOrEqual(3);
  });

  describe('saveJob', () => {
    it('inserts a new job with an id and its fields', async () => {
      const saved = await repo.saveJob(
        job({ name: 'test-job', priority: 10, data: { foo: 'bar' } }),
        undefined,
      );
      expect(saved._id).toBeDefined();
      expect(saved.name).toBe('test-job');
      expect(saved.priority).toBe(10);
      expect(saved.type).toBe('normal');
      expect(saved.data).toEqual({ foo: 'bar' });
    });

    it('updates an existing job by id', async () => {
      const saved = await repo.saveJob(job({ priority: 5, data: { version: 1 } }), undefined);
      const updated = await repo.saveJob({ ...saved, priority: 20, data: { version: 2 } }, undefined);
      expect(updated._id).toBe(saved._id);
      expect(updated.priority).toBe(20);
      expect(updated.data).toEqual({ version: 2 });
      expect((await repo.queryJobs()).total).toBe(1);
    });

    it('updates only the fields given (processor-managed fields are kept)', async () => {
      const saved = await repo.saveJob(job({ nextRunAt: inMs(-1000) }), undefined);
      const locked = await repo.lockJob(saved, undefined);
      expect(locked?.lockedAt).toBeInstanceOf(Date);
      const { lockedAt: _dropped, ...withoutLock } = saved;
      await repo.saveJob({ ...withoutLock, data: { changed: true } }, undefined);
      const after = await repo.getJobById(String(saved._id));
      expect(after?.lockedAt).toEqual(locked?.lockedAt);
      expect(after?.data).toEqual({ changed: true });
    });

    it('does not resurrect a job removed before an update', async () => {
      const saved = await repo.saveJob(job(), undefined);
      await repo.removeJobs({ id: saved._id! });
      const result = await repo.saveJob({ ...saved, priority: 3 }, undefined);
      expect(result.priority).toBe(3);
      expect(await repo.getJobById(String(saved._id))).toBeNull();
    });

    it('upserts single jobs by name', async () => {
      const first = await repo.saveJob(
        job({ name: 'single', type: 'single', priority: 5, nextRunAt: inMs(60_000), data: { run: 1 } }),
        undefined,
      );
      const second = await repo.saveJob(
        job({ name: 'single', type: 'single', priority: 10, nextRunAt: inMs(120_000), data: { run: 2 } }),
        undefined,
      );
      expect(second._id).toBe(first._id);
      expect(second.priority).toBe(10);
      expect(second.data).toEqual({ run: 2 });
      expect((await repo.queryJobs({ name: 'single' })).total).toBe(1);
    });

    it('keeps the stored nextRunAt of a single job when the new one is already due', async () => {
      const future = inMs(60_000);
      await repo.saveJob(job({ name: 'single', type: 'single', nextRunAt: future }), undefined);
      const again = await repo.saveJob(
        job({ name: 'single', type: 'single', nextRunAt: inMs(-5000) }),
        undefined,
      );
      expect(again.nextRunAt?.getTime()).toBe(future.getTime());
    });

    it('preserves the disabled flag', async () => {
      const saved = await repo.saveJob(job({ disabled: true }), undefined);
      expect(saved.disabled).toBe(true);
      expect((await repo.getJobById(String(saved._id)))?.disabled).toBe(true);
    });

    it('upserts on a unique constraint over data fields', async () => {
      const unique = { 'data.type': 'active', 'data.userId': '123' };
      const a = await repo.saveJob(
        job({ name: 'u', data: { type: 'active', userId: '123', other: true }, unique }),
        undefined,
      );
      const b = await repo.saveJob(
        job({ name: 'u', data: { type: 'active', userId: '123', other: false }, unique }),
        undefined,
      );
      expect(b._id).toBe(a._id);
      expect(b.data).toEqual({ type: 'active', userId: '123', other: false });
      expect((await repo.queryJobs({ name: 'u' })).total).toBe(1);
    });

    it('leaves the existing job untouched with insertOnly', async () => {
      const unique = { 'data.userId': '123' };
      const a = await repo.saveJob(
        job({ name: 'u', data: { userId: '123', value: 'first' }, unique, uniqueOpts: { insertOnly: true } }),
        undefined,
      );
      const b = await repo.saveJob(
        job({
          name: 'u',
          data: { userId: '123', value: 'second' },
          unique,
          uniqueOpts: { insertOnly: true },
        }),
        undefined,
      );
      expect(b._id).toBe(a._id);
      const all = await repo.queryJobs({ name: 'u' });
      expect(all.total).toBe(1);
      expect(all.jobs[0]?.data).toEqual({ userId: '123', value: 'first' });
    });

    it('creates separate jobs when the unique values differ (and matches types strictly)', async () => {
      await repo.saveJob(
        job({ name: 'u', data: { userId: '123' }, unique: { 'data.userId': '123' } }),
        undefined,
      );
      await repo.saveJob(
        job({ name: 'u', data: { userId: '456' }, unique: { 'data.userId': '456' } }),
        undefined,
      );
      await repo.saveJob(
        job({ name: 'u', data: { userId: 123 }, unique: { 'data.userId': 123 } }),
        undefined,
      );
      // same unique values under another name is another job
      await repo.saveJob(
        job({ name: 'v', data: { userId: '123' }, unique: { 'data.userId': '123' } }),
        undefined,
      );
      expect((await repo.queryJobs({ name: 'u' })).total).toBe(3);
      expect((await repo.queryJobs()).total).toBe(4);
    });

    it('supports top-level fields in a unique constraint (null matches an unset field)', async () => {
      const unique = { 'data.key': 'k', lockedAt: null };
      const a = await repo.saveJob(job({ name: 'u', data: { key: 'k' }, unique }), undefined);
      const b = await repo.saveJob(job({ name: 'u', data: { key: 'k', n: 2 }, unique }), undefined);
      expect(b._id).toBe(a._id);
      await repo.lockJob(b, undefined);
      const c = await repo.saveJob(job({ name: 'u', data: { key: 'k', n: 3 }, unique }), undefined);
      expect(c._id).not.toBe(a._id);
    });

    it('debounces saves with a unique constraint (trailing)', async () => {
      const before = Date.now();
      const a = await repo.saveJob(
        job({
          name: 'd',
          data: { key: 1 },
          unique: { 'data.key': 1 },
          uniqueOpts: { debounce: { delay: 1000 } },
        }),
        undefined,
      );
      expect(a.nextRunAt!.getTime()).toBeGreaterThanOrEqual(before + 1000);
      await delay(50);
      const b = await repo.saveJob(
        job({
          name: 'd',
          data: { key: 1, v: 2 },
          unique: { 'data.key': 1 },
          uniqueOpts: { debounce: { delay: 1000 } },
        }),
        undefined,
      );
      expect(b._id).toBe(a._id);
      expect(b.nextRunAt!.getTime()).toBeGreaterThan(a.nextRunAt!.getTime());
      expect(b.data).toEqual({ key: 1, v: 2 });
    });

    it('round-trips dates inside data and repeat settings', async () => {
      const when = new Date('2030-01-02T03:04:05.678Z');
      const saved = await repo.saveJob(
        job({
          data: { when, nested: { list: [when] } },
          repeatInterval: 60_000,
          repeatTimezone: 'UTC',
          skipDays: [0, 6],
        }),
        undefined,
      );
      const got = await repo.getJobById(String(saved._id));
      expect(got?.data).toEqual({ when, nested: { list: [when] } });
      expect(got?.repeatInterval).toBe(60_000);
      expect(got?.repeatTimezone).toBe('UTC');
      expect(got?.skipDays).toEqual([0, 6]);
    });
  });

  describe('getJobById', () => {
    it('returns the job, or null once removed', async () => {
      const saved = await repo.saveJob(job({ name: 'by-id', data: { key: 'value' } }), undefined);
      const got = await repo.getJobById(String(saved._id));
      expect(got?._id).toBe(saved._id);
      expect(got?.data).toEqual({ key: 'value' });
      await repo.removeJobs({ id: saved._id! });
      expect(await repo.getJobById(String(saved._id))).toBeNull();
    });
  });

  describe('queryJobs', () => {
    beforeEach(async () => {
      await repo.saveJob(
        job({ name: 'job-a', priority: 10, nextRunAt: inMs(60_000), data: { n: 1 } }),
        undefined,
      );
      await repo.saveJob(
        job({ name: 'job-b', priority: 5, nextRunAt: inMs(120_000), data: { n: 2 } }),
        undefined,
      );
      await repo.saveJob(
        job({ name: 'job-a', priority: 15, nextRunAt: inMs(180_000), data: { n: 3 } }),
        undefined,
      );
    });

    it('filters by name, names, search, id(s) and data', async () => {
      expect((await repo.queryJobs()).total).toBe(3);
      const a = await repo.queryJobs({ name: 'job-a' });
      expect(a.total).toBe(2);
      for (const j of a.jobs) expect(j.name).toBe('job-a');
      expect((await repo.queryJobs({ names: ['job-a', 'job-b'] })).total).toBe(3);
      expect((await repo.queryJobs({ search: 'JOB' })).total).toBe(3);
      expect((await repo.queryJobs({ search: '-B' })).total).toBe(1);
      expect((await repo.queryJobs({ search: '.*' })).total).toBe(0);
      const ids = a.jobs.map((j) => String(j._id));
      expect((await repo.queryJobs({ id: ids[0] })).total).toBe(1);
      expect((await repo.queryJobs({ ids })).total).toBe(2);
      expect((await repo.queryJobs({ id: 'not-an-id' })).total).toBe(0);
      expect((await repo.queryJobs({ data: { n: 2 } })).jobs[0]?.name).toBe('job-b');
    });

    it('paginates after counting the total', async () => {
      const page = await repo.queryJobs({ skip: 1, limit: 1 });
      expect(page.jobs).toHaveLength(1);
      expect(page.total).toBe(3);
      expect((await repo.queryJobs({ skip: 2 })).jobs).toHaveLength(1);
    });

    it('sorts (default: nextRunAt desc)', async () => {
      const byPriority = await repo.queryJobs({ sort: { priority: 'desc' } });
      expect(byPriority.jobs.map((j) => j.priority)).toEqual([15, 10, 5]);
      const byDefault = await repo.queryJobs();
      expect(byDefault.jobs.map((j) => j.priority)).toEqual([15, 5, 10]);
    });

    it('excludes disabled jobs on request, and filters by computed state', async () => {
      await repo.saveJob(job({ name: 'off', disabled: true, nextRunAt: inMs(-1000) }), undefined);
      await repo.saveJob(job({ name: 'done', nextRunAt: null, lastFinishedAt: new Date() }), undefined);
      expect((await repo.queryJobs({ includeDisabled: true })).total).toBe(5);
      expect((await repo.queryJobs({ includeDisabled: false })).total).toBe(4);
      const scheduled = await repo.queryJobs({ state: 'scheduled' });
      expect(scheduled.total).toBe(3);
      for (const j of scheduled.jobs) expect(j.state).toBe('scheduled');
      expect((await repo.queryJobs({ state: 'paused' })).jobs.map((j) => j.name)).toEqual(['off']);
      expect((await repo.queryJobs({ state: 'completed' })).jobs.map((j) => j.name)).toEqual(['done']);
      expect((await repo.queryJobs({ state: 'queued' })).jobs.map((j) => j.name)).toEqual(['off']);
    });
  });

  describe('removeJobs, disableJobs, enableJobs, purgeAllJobs', () => {
    it('removes by name, id, ids and notNames, and nothing without criteria', async () => {
      await repo.saveJob(job({ name: 'remove' }), undefined);
      await repo.saveJob(job({ name: 'remove' }), undefined);
      const keep = await repo.saveJob(job({ name: 'keep' }), undefined);
      const other = await repo.saveJob(job({ name: 'other' }), undefined);
      expect(await repo.removeJobs({})).toBe(0);
      expect(await repo.removeJobs({ name: 'none' })).toBe(0);
      expect(await repo.removeJobs({ name: 'remove' })).toBe(2);
      expect(await repo.removeJobs({ id: other._id! })).toBe(1);
      const x = await repo.saveJob(job({ name: 'x' }), undefined);
      const y = await repo.saveJob(job({ name: 'y' }), undefined);
      expect(await repo.removeJobs({ ids: [x._id!, y._id!] })).toBe(2);
      await repo.saveJob(job({ name: 'z' }), undefined);
      expect(await repo.removeJobs({ notNames: ['keep'] })).toBe(1);
      const remaining = await repo.queryJobs();
      expect(remaining.jobs.map((j) => j._id)).toEqual([keep._id]);
    });

    it('disables and enables, counting only changed jobs', async () => {
      await repo.saveJob(job({ name: 'bulk' }), undefined);
      await repo.saveJob(job({ name: 'bulk' }), undefined);
      expect(await repo.disableJobs({})).toBe(0);
      expect(await repo.disableJobs({ name: 'bulk' })).toBe(2);
      expect(await repo.disableJobs({ name: 'bulk' })).toBe(0);
      for (const j of (await repo.queryJobs({ name: 'bulk' })).jobs) expect(j.disabled).toBe(true);
      expect(await repo.enableJobs({ name: 'bulk' })).toBe(2);
      for (const j of (await repo.queryJobs({ name: 'bulk' })).jobs) expect(j.disabled).toBeFalsy();
    });

    it('purges everything', async () => {
      await repo.saveJob(job({ name: 'a' }), undefined);
      await repo.saveJob(job({ name: 'b' }), undefined);
      expect(await repo.purgeAllJobs()).toBe(2);
      expect(await repo.getDistinctJobNames()).toEqual([]);
    });
  });

  describe('getDistinctJobNames, getQueueSize, getJobsOverview', () => {
    it('lists distinct names', async () => {
      expect(await repo.getDistinctJobNames()).toEqual([]);
      for (const name of ['name-a', 'name-b', 'name-a']) await repo.saveJob(job({ name }), undefined);
      expect((await repo.getDistinctJobNames()).sort()).toEqual(['name-a', 'name-b']);
    });

    it('counts jobs due now', async () => {
      await repo.saveJob(job({ name: 'p1', nextRunAt: inMs(-60_000) }), undefined);
      await repo.saveJob(job({ name: 'p2', nextRunAt: inMs(-30_000) }), undefined);
      await repo.saveJob(job({ name: 'f', nextRunAt: inMs(60_000) }), undefined);
      expect(await repo.getQueueSize()).toBe(2);
    });

    it('summarises states per name', async () => {
      await repo.saveJob(job({ name: 'ov', nextRunAt: inMs(60_000) }), undefined);
      await repo.saveJob(job({ name: 'ov', nextRunAt: null, lastFinishedAt: new Date() }), undefined);
      await repo.saveJob(job({ name: 'ov', nextRunAt: inMs(60_000), disabled: true }), undefined);
      await repo.saveJob(job({ name: 'other', nextRunAt: inMs(60_000) }), undefined);
      const overview = await repo.getJobsOverview();
      const ov = overview.find((o) => o.name === 'ov');
      expect(ov).toMatchObject({ total: 3, scheduled: 2, completed: 1, paused: 1 });
      expect(overview.find((o) => o.name === 'other')?.total).toBe(1);
    });
  });

  describe('locking', () => {
    it('locks once, unlocks, and unlocks many', async () => {
      const a = await repo.saveJob(job({ name: 'l1', nextRunAt: inMs(-1000) }), undefined);
      const b = await repo.saveJob(job({ name: 'l2', nextRunAt: inMs(-1000) }), undefined);
      const locked = await repo.lockJob(a, { lastModifiedBy: 'me' });
      expect(locked?._id).toBe(a._id);
      expect(locked?.lockedAt).toBeInstanceOf(Date);
      expect(locked?.lastModifiedBy).toBe('me');
      expect(await repo.lockJob(a, undefined)).toBeUndefined();
      await repo.unlockJob(locked!);
      expect((await repo.getJobById(String(a._id)))?.lockedAt == null).toBe(true);

      await repo.lockJob(a, undefined);
      await repo.lockJob(b, undefined);
      await repo.unlockJobs([a._id!, b._id!]);
      expect((await repo.getJobById(String(a._id)))?.lockedAt == null).toBe(true);
      expect((await repo.getJobById(String(b._id)))?.lockedAt == null).toBe(true);
    });

    it('does not lock a disabled job or one whose nextRunAt changed', async () => {
      const off = await repo.saveJob(job({ disabled: true }), undefined);
      expect(await repo.lockJob(off, undefined)).toBeUndefined();
      const moved = await repo.saveJob(job({ nextRunAt: inMs(-1000) }), undefined);
      await repo.saveJob({ ...moved, nextRunAt: inMs(5000) }, undefined);
      expect(await repo.lockJob(moved, undefined)).toBeUndefined();
    });

    it('unlockJob leaves a running job (nextRunAt null) locked; unlockJobs does not', async () => {
      const saved = await repo.saveJob(job({ nextRunAt: inMs(-1000) }), undefined);
      const locked = await repo.lockJob(saved, undefined);
      await repo.saveJobState({ ...locked!, nextRunAt: null }, undefined);
      await repo.unlockJob(locked!);
      expect((await repo.getJobById(String(saved._id)))?.lockedAt).toBeInstanceOf(Date);
      await repo.unlockJobs([saved._id!]);
      expect((await repo.getJobById(String(saved._id)))?.lockedAt).toBeUndefined();
    });
  });

  describe('getNextJobToRun', () => {
    const window = () => {
      const now = new Date();
      return {
        now,
        nextScanAt: new Date(now.getTime() + 5000),
        lockDeadline: new Date(now.getTime() - 600_000),
      };
    };

    it('locks the next due job, ordered by nextRunAt then priority', async () => {
      const t = inMs(-60_000);
      await repo.saveJob(job({ name: 'p', priority: 5, nextRunAt: t, data: { p: 'low' } }), undefined);
      await repo.saveJob(job({ name: 'p', priority: 10, nextRunAt: t, data: { p: 'high' } }), undefined);
      await repo.saveJob(
        job({ name: 'p', priority: 99, nextRunAt: inMs(-1000), data: { p: 'later' } }),
        undefined,
      );
      const { now, nextScanAt, lockDeadline } = window();
      const order: unknown[] = [];
      for (let i = 0; i < 3; i++) {
        const next = await repo.getNextJobToRun('p', nextScanAt, lockDeadline, now, { lastModifiedBy: 'w' });
        expect(next?.lockedAt?.getTime()).toBe(now.getTime());
        expect(next?.lastModifiedBy).toBe('w');
        order.push(next?.data);
      }
      expect(order).toEqual([{ p: 'high' }, { p: 'low' }, { p: 'later' }]);
      expect(await repo.getNextJobToRun('p', nextScanAt, lockDeadline, now, undefined)).toBeUndefined();
    });

    it('takes jobs due before the next scan but not later ones, nor disabled or other names', async () => {
      await repo.saveJob(job({ name: 'soon', nextRunAt: inMs(2000) }), undefined);
      await repo.saveJob(job({ name: 'later', nextRunAt: inMs(60_000) }), undefined);
      await repo.saveJob(job({ name: 'off', nextRunAt: inMs(-60_000), disabled: true }), undefined);
      const { now, nextScanAt, lockDeadline } = window();
      expect(await repo.getNextJobToRun('soon', nextScanAt, lockDeadline, now, undefined)).toBeDefined();
      expect(await repo.getNextJobToRun('later', nextScanAt, lockDeadline, now, undefined)).toBeUndefined();
      expect(await repo.getNextJobToRun('off', nextScanAt, lockDeadline, now, undefined)).toBeUndefined();
      expect(await repo.getNextJobToRun('nothing', nextScanAt, lockDeadline, now, undefined)).toBeUndefined();
    });

    it('reclaims a job whose lock expired, not one whose lock is live', async () => {
      const saved = await repo.saveJob(job({ name: 'exp', nextRunAt: inMs(-60_000) }), undefined);
      const { now, nextScanAt } = window();
      const first = await repo.getNextJobToRun(
        'exp',
        nextScanAt,
        new Date(now.getTime() - 600_000),
        now,
        undefined,
      );
      expect(first?._id).toBe(saved._id);
      // the lock is live: nobody else gets it
      const later = new Date(now.getTime() + 1000);
      expect(
        await repo.getNextJobToRun('exp', nextScanAt, new Date(later.getTime() - 600_000), later, undefined),
      ).toBeUndefined();
      // 11 minutes on, the 10-minute lock has expired: reclaimable
      const muchLater = new Date(now.getTime() + 11 * 60_000);
      const again = await repo.getNextJobToRun(
        'exp',
        nextScanAt,
        new Date(muchLater.getTime() - 600_000),
        muchLater,
        undefined,
      );
      expect(again?._id).toBe(saved._id);
      expect(again?.lockedAt?.getTime()).toBe(muchLater.getTime());
    });

    it('gives each job to exactly one caller', async () => {
      for (let i = 0; i < 50; i++)
        await repo.saveJob(job({ name: 'race', nextRunAt: inMs(-1000) }), undefined);
      const { now, nextScanAt, lockDeadline } = window();
      const results = await Promise.all(
        Array.from({ length: 80 }, () =>
          repo.getNextJobToRun('race', nextScanAt, lockDeadline, now, undefined),
        ),
      );
      const ids = results.filter((r) => r !== undefined).map((r) => String(r._id));
      expect(ids).toHaveLength(50);
      expect(new Set(ids).size).toBe(50);
    });

    it('gives each job to exactly one of two connections on the same file', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'baton-agenda-'));
      try {
        const file = join(dir, 'jobs.db');
        const d1 = new Database(file);
        d1.pragma('journal_mode = WAL');
        const d2 = new Database(file);
        d2.pragma('busy_timeout = 5000');
        const r1 = new SqliteAgendaBackend(d1).repository;
        const r2 = new SqliteAgendaBackend(d2).repository;
        await r1.connect();
        await r2.connect();
        for (let i = 0; i < 20; i++) await r1.saveJob(job({ name: 'x', nextRunAt: inMs(-1000) }), undefined);
        const { now, nextScanAt, lockDeadline } = window();
        const got: string[] = [];
        for (let i = 0; i < 15; i++) {
          for (const r of [r1, r2]) {
            const next = await r.getNextJobToRun('x', nextScanAt, lockDeadline, now, undefined);
            if (next) got.push(String(next._id));
          }
        }
        expect(got).toHaveLength(20);
        expect(new Set(got).size).toBe(20);
        d1.close();
        d2.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('saveJobState', () => {
    it('writes the state fields', async () => {
      const saved = await repo.saveJob(job(), undefined);
      const now = new Date();
      await repo.saveJobState(
        {
          ...saved,
          lastRunAt: now,
          lastFinishedAt: now,
          progress: 50,
          failCount: 1,
          failReason: 'boom',
          failedAt: now,
        },
        undefined,
      );
      const got = await repo.getJobById(String(saved._id));
      expect(got).toMatchObject({
        lastRunAt: now,
        lastFinishedAt: now,
        progress: 50,
        failCount: 1,
        failReason: 'boom',
      });
      expect(got?.failedAt).toEqual(now);
    });

    it('clears lockedAt when the job completes', async () => {
      const saved = await repo.saveJob(job({ nextRunAt: inMs(-1000) }), undefined);
      const locked = await repo.lockJob(saved, undefined);
      await repo.saveJobState({ ...locked!, lockedAt: undefined, lastFinishedAt: new Date() }, undefined);
      expect((await repo.getJobById(String(saved._id)))?.lockedAt == null).toBe(true);
    });

    it('throws when the job no longer exists', async () => {
      const saved = await repo.saveJob(job(), undefined);
      await repo.removeJobs({ id: saved._id! });
      await expect(repo.saveJobState(saved, undefined)).rejects.toThrow(/cannot be updated/);
    });
  });

  it('keeps jobs across a reopened database file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-agenda-'));
    try {
      const file = join(dir, 'jobs.db');
      const first = new Database(file);
      const r1 = new SqliteAgendaBackend(first).repository;
      await r1.connect();
      const saved = await r1.saveJob(job({ name: 'durable', data: { a: 1 } }), undefined);
      first.close();
      const second = new Database(file);
      const r2 = new SqliteAgendaBackend(second).repository;
      await r2.connect();
      expect((await r2.getJobById(String(saved._id)))?.data).toEqual({ a: 1 });
      second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Agenda on SqliteAgendaBackend', () => {
  let db: Database.Database;
  let backend: SqliteAgendaBackend;
  let agenda: Agenda | undefined;

  const newAgenda = async () => {
    const a = new Agenda({ backend, processEvery: 200, name: 'test' });
    await a.ready;
    return a;
  };

  beforeEach(async () => {
    db = new Database(':memory:');
    backend = new SqliteAgendaBackend(db);
    await backend.connect();
  });

  afterEach(async () => {
    await agenda?.stop();
    agenda = undefined;
    expect(db.open).toBe(true); // ownsConnection = false: stop() leaves the database open
    db.close();
  });

  it('runs a job scheduled 1.5 s ahead once, around its time', async () => {
    agenda = await newAgenda();
    const runs: number[] = [];
    agenda.define('later', async () => {
      runs.push(Date.now());
    });
    await agenda.start();
    const when = inMs(1500);
    await agenda.schedule(when, 'later', { x: 1 });
    await until(() => runs.length > 0);
    await delay(700); // a second run would show up within a few scans
    expect(runs).toHaveLength(1);
    expect(runs[0]!).toBeGreaterThanOrEqual(when.getTime() - 5);
    expect(runs[0]! - when.getTime()).toBeLessThan(5000); // generous: the machine may be busy
  });

  it('replaces rather than duplicates with unique()', async () => {
    agenda = await newAgenda();
    const seen: unknown[] = [];
    agenda.define('uniq', async (j) => {
      seen.push(j.attrs.data);
    });
    for (const v of [1, 2, 3]) {
      await agenda.create('uniq', { key: 'k', v }).unique({ 'data.key': 'k' }).schedule(inMs(300)).save();
    }
    expect((await agenda.queryJobs({ name: 'uniq' })).total).toBe(1);
    await agenda.start();
    await until(() => seen.length > 0);
    await delay(600);
    expect(seen).toEqual([{ key: 'k', v: 3 }]);
  });

  it('runs a job that came due while stopped right after start()', async () => {
    const first = await newAgenda();
    await first.schedule(inMs(-60_000), 'missed', { n: 1 });
    await first.stop();
    agenda = await newAgenda();
    let ran = 0;
    agenda.define('missed', async () => {
      ran++;
    });
    const t0 = Date.now();
    await agenda.start();
    await until(() => ran > 0);
    expect(Date.now() - t0).toBeLessThan(5000);
    await delay(400);
    expect(ran).toBe(1);
  });

  it('records failures and clears the lock', async () => {
    agenda = await newAgenda();
    agenda.define('fails', async () => {
      throw new Error('nope');
    });
    await agenda.start();
    const j = await agenda.now('fails');
    await until(
      async () => (await backend.repository.getJobById(String(j.attrs._id)))?.failReason === 'nope',
    );
    const stored = await backend.repository.getJobById(String(j.attrs._id));
    expect(stored?.failCount).toBe(1);
    expect(stored?.lockedAt).toBeUndefined();
  });
});

describe('SqliteAgendaBackend indexes', () => {
  it('indexes (name, type) for single jobs only, also on a table an earlier version indexed in full', async () => {
    const db = new Database(':memory:');
    db.exec(`CREATE TABLE agenda_jobs (id TEXT PRIMARY KEY, name TEXT NOT NULL, priority INTEGER NOT NULL DEFAULT 0,
      type TEXT NOT NULL DEFAULT 'normal', next_run_at INTEGER, locked_at INTEGER, last_run_at INTEGER,
      last_finished_at INTEGER, failed_at INTEGER, fail_count INTEGER, fail_reason TEXT,
      disabled INTEGER NOT NULL DEFAULT 0, repeat_interval TEXT, repeat_timezone TEXT, repeat_at TEXT,
      start_date INTEGER, end_date INTEGER, skip_days TEXT, progress REAL, fork INTEGER,
      debounce_started_at INTEGER, last_modified_by TEXT, data TEXT)`);
    db.exec('CREATE INDEX agenda_jobs_name_type ON agenda_jobs (name, type)');
    const backend = new SqliteAgendaBackend(db);
    await backend.connect();
    const sql = db
      .prepare("SELECT sql FROM sqlite_master WHERE name = 'agenda_jobs_name_type'")
      .pluck()
      .get() as string;
    expect(sql).toContain("WHERE type = 'single'");
    const repo = backend.repository;
    const single = await repo.saveJob(
      { name: 'sweep', type: 'single', priority: 0, nextRunAt: new Date() } as JobParameters,
      undefined,
    );
    const again = await repo.saveJob(
      { name: 'sweep', type: 'single', priority: 0, nextRunAt: new Date() } as JobParameters,
      undefined,
    );
    expect(String(again._id)).toBe(String(single._id));
    const plan = db
      .prepare(
        "EXPLAIN QUERY PLAN SELECT * FROM agenda_jobs WHERE name = ? AND type = 'single' ORDER BY rowid LIMIT 1",
      )
      .all('sweep')
      .map((r) => (r as { detail: string }).detail)
      .join('\n');
    expect(plan).toContain('agenda_jobs_name_type');
    db.close();
  });
});
