import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ValidationError } from '../../src/core/errors.js';
import type { User } from '../../src/core/types.js';
import { recipesDir, seedPeople, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/** Filing requests as people do, through the core API: every problem said at once, in words. */

const APP = `
kind: app
key: leave
name: Leave
id_prefix: LEAVE
stages: [Submitted, Approved]
fields:
  - { key: approver, label: Approver, type: user, required: true }
  - { key: days, label: Days, type: number, required: true, min: 0.5, max: 30 }
  - { key: start, label: Start, type: date, required: true }
  - { key: backup, label: Backup, type: user }
`;

async function problems(
  promise: Promise<unknown>,
): Promise<{ message: string; fields: Record<string, string> }> {
  try {
    await promise;
  } catch (err) {
    const e = err as ValidationError;
    return { message: e.message, fields: e.fields };
  }
  throw new Error('expected a validation error');
}

describe('filing a request', () => {
  let rt: TestRuntime;
  let p: Record<string, User>;
  beforeEach(async () => {
    rt = await startTestRuntime({ recipesDir: recipesDir({ 'app.yaml': APP }) });
    p = await seedPeople(rt.baton);
  });
  afterEach(async () => {
    await rt.close();
  });

  it('names an unknown person together with the other problems, not only once the rest is right', async () => {
    const got = await problems(
      rt.baton.requests.file(p.alice!, 'leave', {
        approver: 'nobody@example.com',
        days: 31,
        start: '2026-02-30',
        backup: 'bob@example.com',
      }),
    );
    expect(got.fields).toEqual({
      approver: 'Approver: no person named "nobody@example.com" is known to Baton',
      days: 'Days must be at most 30',
      start: 'Start must be a date (YYYY-MM-DD)',
    });
    expect(got.message).toBe(
      'Please fix: Approver: no person named "nobody@example.com" is known to Baton; Days must be at most 30; Start must be a date (YYYY-MM-DD).',
    );
    const r = await rt.baton.requests.file(p.alice!, 'leave', {
      approver: 'bob@example.com',
      days: 3,
      start: '2026-02-20',
    });
    expect(r.record.approver).toBe(p.bob!._id);
  });
});

describe('deleting a group', () => {
  it('is refused while the group has open tasks (they would be left to nobody), and allowed once they are decided', async () => {
    const recipe = `kind: recipe
name: leave-hr
trigger: { type: new_request, app: leave }
steps:
  - action: assign_task
    to: group:hr
    title: "HR check"
`;
    const rt = await startTestRuntime({ recipesDir: recipesDir({ 'app.yaml': APP, 'hr.yaml': recipe }) });
    try {
      const p = await seedPeople(rt.baton);
      const r = await rt.baton.requests.file(p.alice!, 'leave', {
        approver: 'bob@example.com',
        days: 1,
        start: '2026-02-02',
      });
      await expect(rt.baton.groups.delete(p.admin!, 'hr')).rejects.toThrow(
        `Group hr still has open tasks (1, on ${r._id}): reassign them or wait until they are decided, then delete the group.`,
      );
      const [task] = await rt.baton.tasks.listOpenFor(p.hank!);
      expect(task).toBeDefined();
      await rt.baton.tasks.complete(p.hank!, task!._id, 'Approve');
      await rt.baton.groups.delete(p.admin!, 'hr');
      expect(await rt.baton.groups.find('hr')).toBeNull();
    } finally {
      await rt.close();
    }
  });
});

describe('reassigning a task', () => {
  it('to whoever already has it is refused, and records nothing', async () => {
    const recipe = `kind: recipe
name: leave-manager
trigger: { type: new_request, app: leave }
steps:
  - action: assign_task
    to: "{{ record.approver }}"
    title: "Leave check"
`;
    const rt = await startTestRuntime({ recipesDir: recipesDir({ 'app.yaml': APP, 'm.yaml': recipe }) });
    try {
      const p = await seedPeople(rt.baton);
      const r = await rt.baton.requests.file(p.alice!, 'leave', {
        approver: 'bob@example.com',
        days: 1,
        start: '2026-02-02',
      });
      const [task] = await rt.baton.tasks.listOpenFor(p.bob!);
      await expect(rt.baton.tasks.reassign(p.bob!, task!._id, 'bob@example.com')).rejects.toThrow(
        '"Leave check" is already assigned to Bob Manager.',
      );
      await rt.baton.tasks.reassign(p.bob!, task!._id, 'group:hr');
      await expect(rt.baton.tasks.reassign(p.hank!, task!._id, 'group:hr')).rejects.toThrow(
        '"Leave check" is already assigned to group hr.',
      );
      const history = (await rt.baton.requests.get(p.alice!, r._id)).history;
      expect(history.filter((h) => h.type === 'task_reassigned').map((h) => h.text)).toEqual([
        'Bob Manager reassigned "Leave check" from Bob Manager to group hr',
      ]);
    } finally {
      await rt.close();
    }
  });
});
