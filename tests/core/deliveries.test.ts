import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../src/core/types.js';
import { recipesDir, seedPeople, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

describe('what surfaces use: task views, delivery records, claim-once', () => {
  let rt: TestRuntime;
  let p: Record<string, User>;
  beforeEach(async () => {
    rt = await startTestRuntime({ recipesDir: recipesDir({}, ['recipes/time-off']) });
    p = await seedPeople(rt.baton);
  });
  afterEach(async () => {
    await rt.close();
  });

  it('a task view carries display values; closing fills status_text', async () => {
    const { baton } = rt;
    await baton.requests.file(p.alice!, 'time-off', { start: '2026-12-01', days: 2, approver: p.bob!._id });
    const [t] = await baton.tasks.listOpenFor(p.bob!);
    const view = await baton.views.task(t!._id);
    expect(view.task).toMatchObject({ open: true, assignee: 'Bob Manager', status_text: '' });
    expect(view.request.fields).toEqual([
      { key: 'type', label: 'Type', value: 'Vacation' },
      { key: 'start', label: 'First day', value: '2026-12-01' },
      { key: 'days', label: 'Working days', value: '2' },
      { key: 'approver', label: 'Approver', value: 'Bob Manager' },
    ]);
    await baton.tasks.complete(p.bob!, t!._id, 'Approve');
    expect((await baton.views.task(t!._id)).task.status_text).toBe('Approved by Bob Manager');
  });

  it('records each posted copy once and claims keys once', async () => {
    const { baton } = rt;
    await baton.requests.file(p.alice!, 'time-off', { start: '2026-12-01', days: 2, approver: p.bob!._id });
    const [t] = await baton.tasks.listOpenFor(p.bob!);
    const d = { surface: 'slack', user: p.bob!._id, ref: { channel: 'D1', ts: '1.2' } };
    await baton.deliveries.recordTaskDelivery(t!._id, d);
    await baton.deliveries.recordTaskDelivery(t!._id, d);
    expect((await baton.deliveries.taskDeliveries(t!._id, 'slack')).map((x) => x.ref)).toEqual([
      { channel: 'D1', ts: '1.2' },
    ]);
    const claims = await Promise.all([1, 2, 3].map(() => baton.deliveries.claimOnce('slack:event:Ev1')));
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it('redeliver hands surfaces the pending notifications and the open tasks nobody posted', async () => {
    const { baton } = rt;
    await baton.requests.file(p.alice!, 'time-off', { start: '2026-12-01', days: 8, approver: p.bob!._id });
    const [t] = await baton.tasks.listOpenFor(p.bob!);
    await baton.tasks.complete(p.bob!, t!._id, 'Approve'); // notifies Alice; opens the HR task
    const seen: string[] = [];
    baton.events.on('notification', (n) => seen.push(`notification:${n.text}`));
    baton.events.on('task.opened', (task) => seen.push(`task:${task.title}`));
    // The periodic pass leaves fresh items to the posts in flight.
    expect(await baton.redeliver({ olderThanMs: 60_000 })).toEqual({ notifications: 0, tasks: 0 });
    expect(seen).toEqual([]);
    expect(await baton.redeliver()).toEqual({ notifications: 1, tasks: 1 });
    expect(seen).toEqual([
      'notification:Your manager approved PTO-1. Requests of more than 5 days also go to HR.',
      'task:Time off: 8 days for Alice Requester (approved by manager)',
    ]);
    const [hr] = await baton.tasks.listOpenFor(p.hank!);
    await baton.deliveries.recordTaskDelivery(hr!._id, {
      surface: 'slack',
      user: p.hank!._id,
      ref: { channel: 'D', ts: '1' },
    });
    const [note] = await rt.store.collection('notifications').find({}).toArray();
    await baton.deliveries.notificationDelivered(note!._id, {
      surface: 'slack',
      user: p.alice!._id,
      ref: {},
    });
    expect(await baton.redeliver()).toEqual({ notifications: 0, tasks: 0 });
  });

  it('the periodic sweep looks at the last day only (index-served); the full one at everything', async () => {
    const { baton } = rt;
    await baton.requests.file(p.alice!, 'time-off', { start: '2026-12-01', days: 2, approver: p.bob!._id });
    await baton.requests.file(p.alice!, 'time-off', { start: '2026-12-08', days: 2, approver: p.bob!._id });
    const [old, recent] = await baton.tasks.listOpenFor(p.bob!);
    // Nobody posted either; one of them was created two days ago.
    await rt.store
      .collection('tasks')
      .updateOne({ _id: old!._id }, { $set: { created_at: new Date(Date.now() - 2 * 24 * 3600_000) } });
    const seen: string[] = [];
    baton.events.on('task.opened', (task) => seen.push(task._id));
    const r1 = await baton.redeliver({ withinMs: 24 * 3600_000 });
    await baton.durable(); // events go out once the writes before them are committed
    expect(r1).toMatchObject({ tasks: 1 });
    expect(seen).toEqual([recent!._id]);
    seen.length = 0;
    expect(await baton.redeliver()).toMatchObject({ tasks: 2 });
    await baton.durable();
    expect(seen.sort()).toEqual([old!._id, recent!._id].sort());
  });
});
