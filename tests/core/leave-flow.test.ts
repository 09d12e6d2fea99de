import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ForbiddenError, TaskClosedError, ValidationError } from '../../src/core/errors.js';
import type { User } from '../../src/core/types.js';
import {
  eventually,
  recipesDir,
  seedPeople,
  startTestRuntime,
  type TestRuntime,
} from '../helpers/runtime.js';

/** The shipped time-off template: manager approval, then HR above 5 days (a chain on one request). */
describe('time-off template: a two-level approval chain through the core API', () => {
  let rt: TestRuntime;
  let p: Record<string, User>;

  beforeEach(async () => {
    rt = await startTestRuntime({ recipesDir: recipesDir({}, ['recipes/time-off']) });
    p = await seedPeople(rt.baton);
  });
  afterEach(async () => {
    await rt.close();
  });

  const file = (days: number) =>
    rt.baton.requests.file(p.alice!, 'time-off', {
      type: 'Vacation',
      start: '2026-12-01',
      end: '2026-12-10',
      days: String(days), // as a form sends it
      approver: p.bob!._id,
      reason: 'Family trip',
    });

  it('files PTO-1, assigns the manager, then HR, and approves', async () => {
    const { baton } = rt;
    const request = await file(8);
    expect(request._id).toBe('PTO-1');
    expect(request.stage).toBe('Submitted');
    expect(request.record.days).toBe(8);

    const [managerTask] = await baton.tasks.listOpenFor(p.bob!);
    expect(managerTask).toBeDefined();
    expect(managerTask!.title).toBe('Time off: 8 days of Vacation for Alice Requester');
    expect(managerTask!.outcomes.map((o) => o.label)).toEqual(['Approve', 'Reject']);
    expect(managerTask!.expires_at).toBeInstanceOf(Date);

    await baton.tasks.complete(p.bob!, managerTask!._id, 'Approve');
    expect((await baton.requests.get(p.alice!, 'PTO-1')).stage).toBe('Manager approved');

    // HR task goes to the group; both members see it, one decides.
    const [hrTask] = await baton.tasks.listOpenFor(p.hank!);
    expect(hrTask!.assignee).toEqual({ type: 'group', name: 'hr' });
    expect((await baton.tasks.listOpenFor(p.hedy!)).map((t) => t._id)).toEqual([hrTask!._id]);
    await expect(baton.tasks.complete(p.hedy!, hrTask!._id, 'Reject')).rejects.toThrow(
      /comment is required/i,
    );
    await baton.tasks.complete(p.hedy!, hrTask!._id, 'Approve', { comment: 'Enjoy' });

    const done = await baton.requests.get(p.alice!, 'PTO-1');
    expect(done.stage).toBe('Approved');
    const types = done.history.map((h) => h.type);
    expect(types).toEqual([
      'created',
      'task_assigned',
      'task_completed',
      'stage_changed',
      'notified',
      'task_assigned',
      'task_completed',
      'stage_changed',
      'notified',
    ]);
    expect(done.history.find((h) => h.type === 'task_completed')!.by).toBe(p.bob!._id);
    expect(done.history.filter((h) => h.type === 'task_completed')[1]!.text).toContain('Hedy HR approved');

    const notes = await rt.store
      .collection('notifications')
      .find({ to: p.alice!._id }, { sort: { created_at: 1 } })
      .toArray();
    expect(notes.map((n) => n.text)).toEqual([
      'Your manager approved PTO-1. Requests of more than 5 days also go to HR.',
      'Your time off PTO-1 (8 days from 2026-12-01) was approved.',
    ]);
    const [job] = await baton.recipes.listJobs(p.admin!, { request: 'PTO-1' });
    expect(job!.status).toBe('completed');
    expect(job!.steps.manager!.outcome).toBe('Approve');
    expect(job!.steps.hr!.completed_by).toBe(p.hedy!._id);
    expect((await baton.health()).open_tasks).toBe(0);
  });

  it('a short request skips HR; a rejection is recorded and told', async () => {
    const { baton } = rt;
    await file(2);
    const [t] = await baton.tasks.listOpenFor(p.bob!);
    await baton.tasks.complete(p.bob!, t!._id, 'Reject', { comment: 'Team offsite that week' });
    const r = await baton.requests.get(p.alice!, 'PTO-1');
    expect(r.stage).toBe('Rejected');
    expect(await baton.tasks.listOpenFor(p.hank!)).toEqual([]);
    expect(r.history.find((h) => h.type === 'task_completed')!.text).toContain('Team offsite that week');
  });

  it('validates the record with messages a person can act on', async () => {
    const err = await rt.baton.requests
      .file(p.alice!, 'time-off', { type: 'Cruise', days: 45, approver: 'nobody@example.com' })
      .catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    // The unknown person is named with the rest, not only once everything else is right.
    expect(err.fields).toEqual({
      approver: 'Approver: no person named "nobody@example.com" is known to Baton',
      type: 'Type must be one of Vacation, Sick, Personal',
      start: 'First day is required',
      days: 'Working days must be at most 30',
    });
    const err2 = await rt.baton.requests
      .file(p.alice!, 'time-off', { start: '2026-02-30', days: 1, approver: 'nobody@example.com', bogus: 1 })
      .catch((e) => e);
    expect(err2.fields).toEqual({
      bogus: 'Time off has no field "bogus"',
      approver: 'Approver: no person named "nobody@example.com" is known to Baton',
      start: 'First day must be a date (YYYY-MM-DD)',
    });
    const err3 = await rt.baton.requests
      .file(p.alice!, 'time-off', { start: '2026-02-03', days: 1, approver: 'nobody@example.com' })
      .catch((e) => e);
    expect(err3.fields).toEqual({
      approver: 'Approver: no person named "nobody@example.com" is known to Baton',
    });
    // Nothing was half-written: no request, no counter gap visible to the next request.
    expect(await rt.store.collection('requests').countDocuments({})).toBe(0);
  });

  it('two approvers at once and a double click give exactly one outcome; the loser is told who won', async () => {
    const { baton } = rt;
    await file(8);
    const [t] = await baton.tasks.listOpenFor(p.bob!);
    await baton.tasks.complete(p.bob!, t!._id, 'Approve');
    const [hr] = await baton.tasks.listOpenFor(p.hank!);
    const results = await Promise.allSettled([
      baton.tasks.complete(p.hank!, hr!._id, 'Approve'),
      baton.tasks.complete(p.hedy!, hr!._id, 'Reject', { comment: 'No' }),
      baton.tasks.complete(p.hank!, hr!._id, 'Approve'),
      baton.tasks.complete(p.admin!, hr!._id, 'Approve'),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(3);
    const winner = (won[0] as PromiseFulfilledResult<{ completed_by: string; outcome: string }>).value;
    const winnerName = [p.hank, p.hedy, p.admin].find((u) => u!._id === winner.completed_by)!.name;
    for (const l of lost) {
      expect(l.reason).toBeInstanceOf(TaskClosedError);
      expect(l.reason.message).toMatch(new RegExp(`^Already (approved|rejected) by ${winnerName}`));
    }
    const r = await baton.requests.get(p.alice!, 'PTO-1');
    expect(r.history.filter((h) => h.type === 'task_completed')).toHaveLength(2);
    expect(r.history.filter((h) => h.type === 'stage_changed')).toHaveLength(2);
    const jobs = await baton.recipes.listJobs(p.admin!, { request: 'PTO-1' });
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.status).toBe('completed');
  });

  it('refuses someone who is neither assignee, group member nor admin; nothing changes', async () => {
    const { baton } = rt;
    await file(3);
    const [t] = await baton.tasks.listOpenFor(p.bob!);
    const err = await baton.tasks.complete(p.mallory!, t!._id, 'Approve').catch((e) => e);
    expect(err).toBeInstanceOf(ForbiddenError);
    expect(err.message).toContain('assigned to Bob Manager');
    await expect(baton.tasks.complete(p.carol!, t!._id, 'Approve')).rejects.toBeInstanceOf(ForbiddenError);
    await expect(baton.tasks.reassign(p.mallory!, t!._id, p.mallory!._id)).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    await expect(baton.tasks.cancel(p.bob!, t!._id)).rejects.toBeInstanceOf(ForbiddenError);
    const after = await baton.tasks.load(t!._id);
    expect(after!.status).toBe('open');
    expect(after!.responses).toEqual([]);
    expect((await baton.requests.get(p.alice!, 'PTO-1')).history.map((h) => h.type)).toEqual([
      'created',
      'task_assigned',
    ]);
    await expect(baton.requests.get(p.mallory!, 'PTO-1')).rejects.toBeInstanceOf(ForbiddenError);
    // The approver may see the request they act on.
    expect((await baton.requests.get(p.bob!, 'PTO-1'))._id).toBe('PTO-1');
  });

  it('an admin may complete (recorded as admin); an outcome that does not exist is refused', async () => {
    const { baton } = rt;
    await file(1);
    const [t] = await baton.tasks.listOpenFor(p.bob!);
    await expect(baton.tasks.complete(p.bob!, t!._id, 'Maybe')).rejects.toThrow(
      /Choose one of: Approve, Reject/,
    );
    const done = await baton.tasks.complete(p.admin!, t!._id, 'Approve');
    expect(done.completed_as).toBe('admin');
    expect(done.responses).toEqual([
      expect.objectContaining({ by: p.admin!._id, as: 'admin', outcome: 'Approve' }),
    ]);
    const r = await baton.requests.get(p.alice!, 'PTO-1');
    expect(r.history.find((h) => h.type === 'task_completed')!.text).toContain(
      'Ada Admin (as admin) approved',
    );
  });

  it('reassign by the assignee and cancel by an admin are recorded; cancel resumes the job', async () => {
    const { baton } = rt;
    await file(1);
    const [t] = await baton.tasks.listOpenFor(p.bob!);
    await baton.tasks.reassign(p.bob!, t!._id, 'carol@example.com');
    expect(await baton.tasks.listOpenFor(p.bob!)).toEqual([]);
    const [moved] = await baton.tasks.listOpenFor(p.carol!);
    expect(moved!._id).toBe(t!._id);
    await baton.tasks.cancel(p.admin!, t!._id, 'Filed twice');
    const r = await baton.requests.get(p.alice!, 'PTO-1');
    const trail = r.history.map((h) => h.type);
    expect(trail).toContain('task_reassigned');
    expect(trail).toContain('task_cancelled');
    expect(r.history.find((h) => h.type === 'task_reassigned')!.text).toContain(
      'from Bob Manager to Carol Manager',
    );
    const [job] = await baton.recipes.listJobs(p.admin!, { request: 'PTO-1' });
    expect(job!.steps.manager!.status).toBe('cancelled');
    await eventually(async () => (await baton.recipes.getJob(p.admin!, job!._id)).status === 'completed');
  });
});

const LEAVE_APP = `
kind: app
key: leave
name: Leave
stages: [Submitted, Approved, Rejected, Expired]
fields:
  - { key: approver, label: Approver, type: user, required: true }
  - { key: days, label: Days, type: number, required: true, max: 30 }
  - { key: start, label: Start, type: date }
`;

/** The recipe from the issue, verbatim but for a 1 s expiry. */
const LEAVE_RECIPE = (expires: string) => `
kind: recipe
name: leave-approval
trigger: { type: new_request, app: leave }
steps:
  - id: manager
    action: assign_task
    to: "{{ record.approver }}"
    title: "Leave: {{ record.days }} days for {{ requester.name }}"
    outcomes: [Approve, Reject]
    expires_in: ${expires}
  - if: "steps.manager.outcome = 'Approve'"
    then:
      - action: change_stage
        stage: Approved
      - action: notify
        to: "{{ request.requester }}"
        text: "Your leave {{ request.id }} was approved"
    else:
      - action: change_stage
        stage: "{{ steps.manager.status = 'expired' ? 'Expired' : 'Rejected' }}"
`;

describe('the leave recipe from the issue', () => {
  let rt: TestRuntime;
  let p: Record<string, User>;
  afterEach(async () => {
    await rt.close();
  });

  it('approves and notifies the requester', async () => {
    rt = await startTestRuntime({
      recipesDir: recipesDir({ 'leave.yaml': LEAVE_APP, 'r.yaml': LEAVE_RECIPE('2d') }),
    });
    p = await seedPeople(rt.baton);
    const req = await rt.baton.requests.file(p.alice!, 'leave', { approver: 'bob@example.com', days: 3 });
    expect(req._id).toBe('LEAVE-1');
    expect(req.record.approver).toBe(p.bob!._id);
    const [t] = await rt.baton.tasks.listOpenFor(p.bob!);
    expect(t!.title).toBe('Leave: 3 days for Alice Requester');
    await rt.baton.tasks.complete(p.bob!, t!._id, 'Approve');
    expect((await rt.baton.requests.get(p.alice!, 'LEAVE-1')).stage).toBe('Approved');
    const [n] = await rt.store.collection('notifications').find({ to: p.alice!._id }).toArray();
    expect(n!.text).toBe('Your leave LEAVE-1 was approved');
    const second = await rt.baton.requests.file(p.alice!, 'leave', { approver: p.bob!._id, days: 1 });
    expect(second._id).toBe('LEAVE-2');
  });

  it('expiry resumes the job with status expired; a click after expiry is told', async () => {
    rt = await startTestRuntime({
      recipesDir: recipesDir({ 'leave.yaml': LEAVE_APP, 'r.yaml': LEAVE_RECIPE('1s') }),
    });
    p = await seedPeople(rt.baton);
    await rt.baton.requests.file(p.alice!, 'leave', { approver: p.bob!._id, days: 3 });
    const [t] = await rt.baton.tasks.listOpenFor(p.bob!);
    const r = await eventually(async () => {
      const req = await rt.baton.requests.get(p.alice!, 'LEAVE-1');
      return req.stage === 'Expired' ? req : null;
    });
    expect(r.history.map((h) => h.type)).toEqual([
      'created',
      'task_assigned',
      'task_expired',
      'stage_changed',
    ]);
    const task = await rt.baton.tasks.load(t!._id);
    expect(task!.status).toBe('expired');
    const late = await rt.baton.tasks.complete(p.bob!, t!._id, 'Approve').catch((e) => e);
    expect(late).toBeInstanceOf(TaskClosedError);
    expect(late.message).toMatch(/^This task expired at /);
    const [job] = await rt.baton.recipes.listJobs(p.admin!, { request: 'LEAVE-1' });
    expect(job!.steps.manager!.status).toBe('expired');
    expect(job!.status).toBe('completed');
  });
  it('tasks due close together share one expiry timer; each expires and its job resumes; one completed in time does not', async () => {
    rt = await startTestRuntime({
      recipesDir: recipesDir({ 'leave.yaml': LEAVE_APP, 'r.yaml': LEAVE_RECIPE('2s') }),
    });
    p = await seedPeople(rt.baton);
    const N = 30;
    for (let i = 0; i < N; i++)
      await rt.baton.requests.file(p.alice!, 'leave', { approver: p.bob!._id, days: 1 });
    const timers = (rt.store as unknown as { db: import('better-sqlite3').Database }).db
      .prepare('SELECT name, count(*) AS n FROM agenda_jobs GROUP BY name')
      .all() as { name: string; n: number }[];
    // One timer per quarter second of deadlines (filing 30 requests takes a few of those), none per task.
    expect(timers.find((t) => t.name === 'baton.task.expire')).toBeUndefined();
    const buckets = timers.find((t) => t.name === 'baton.tasks.expire-due')?.n ?? 0;
    expect(buckets).toBeGreaterThan(0);
    expect(buckets).toBeLessThan(N / 2);
    const [first] = await rt.baton.tasks.listOpenFor(p.bob!);
    await rt.baton.tasks.complete(p.bob!, first!._id, 'Approve');
    await eventually(
      async () => (await rt.store.collection('tasks').countDocuments({ status: 'open' })) === 0,
      15_000,
    );
    expect(await rt.store.collection('tasks').countDocuments({ status: 'expired' })).toBe(N - 1);
    await eventually(
      async () => (await rt.store.collection('requests').countDocuments({ stage: 'Expired' })) === N - 1,
      15_000,
    );
    const approved = await rt.store.collection('requests').find({ stage: 'Approved' }).toArray();
    expect(approved.map((r) => r._id)).toEqual([first!.request_id]);
  });
  it('tasks opened together, due in the same quarter second, schedule its timer once', async () => {
    rt = await startTestRuntime({
      recipesDir: recipesDir({ 'leave.yaml': LEAVE_APP, 'r.yaml': LEAVE_RECIPE('2d') }),
    });
    p = await seedPeople(rt.baton);
    const keys: string[] = [];
    const scheduleAt = rt.scheduler.scheduleAt.bind(rt.scheduler);
    rt.scheduler.scheduleAt = (name, when, data, key) => {
      keys.push(key);
      return scheduleAt(name, when, data, key);
    };
    const N = 40;
    await Promise.all(
      Array.from({ length: N }, () =>
        rt.baton.requests.file(p.alice!, 'leave', { approver: p.bob!._id, days: 1 }),
      ),
    );
    await eventually(
      async () => (await rt.store.collection('tasks').countDocuments({ status: 'open' })) === N,
    );
    const buckets = new Set(keys);
    expect(buckets.size).toBeGreaterThan(0);
    // Each bucket is scheduled once, however many of its tasks were being opened at that moment.
    expect(keys.length).toBe(buckets.size);
  });
});
