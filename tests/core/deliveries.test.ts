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
});
