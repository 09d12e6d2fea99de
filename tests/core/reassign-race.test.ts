/**
 * A decision racing a reassignment: the permission is checked on the task as loaded, so the
 * compare-and-set that records the decision also requires the assignee it was checked
 * against. Here the reassignment is made to land between the check and the write (the write
 * waits for it), as it may on MongoDB with several instances.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ForbiddenError } from '../../src/core/errors.js';
import type { User } from '../../src/core/types.js';
import {
  eventually,
  recipesDir,
  seedPeople,
  startTestRuntime,
  type TestRuntime,
} from '../helpers/runtime.js';

describe('a decision racing a reassignment', () => {
  let rt: TestRuntime;
  let p: Record<string, User>;

  beforeEach(async () => {
    rt = await startTestRuntime({ recipesDir: recipesDir({}, ['recipes/time-off']) });
    p = await seedPeople(rt.baton);
  });
  afterEach(async () => {
    await rt.close();
  });

  it('the former assignee’s decision is refused, saying who has the task now; the new assignee decides', async () => {
    const { baton } = rt;
    const request = await baton.requests.file(p.alice!, 'time-off', {
      type: 'Vacation',
      start: '2026-12-01',
      days: '1',
      approver: p.bob!._id,
    });
    const task = await eventually(async () => (await baton.tasks.listForRequest(request._id))[0]);

    // Bob's decision writes only once the admin's reassignment to Carol is in.
    const tasks = rt.store.collection('tasks') as unknown as {
      findOneAndUpdate: (...args: unknown[]) => Promise<unknown>;
    };
    const original = tasks.findOneAndUpdate.bind(tasks);
    let reassigned: Promise<unknown> | undefined;
    tasks.findOneAndUpdate = async (...args: unknown[]) => {
      const update = args[1] as { $set?: { status?: string } };
      if (update.$set?.status === 'completed' && !reassigned) {
        reassigned = baton.tasks.reassign(p.admin!, task!._id, p.carol!._id);
        await reassigned;
      }
      return original(...args);
    };

    const decided = baton.tasks.complete(p.bob!, task!._id, 'Approve');
    await expect(decided).rejects.toBeInstanceOf(ForbiddenError);
    await expect(decided).rejects.toThrow(
      'You can\'t act on "Time off: 1 day of Vacation for Alice Requester" any more: it was just reassigned to Carol Manager.',
    );
    tasks.findOneAndUpdate = original;
    expect((await baton.tasks.load(task!._id))!).toMatchObject({
      status: 'open',
      assignee_key: `user:${p.carol!._id}`,
    });

    await baton.tasks.complete(p.carol!, task!._id, 'Approve');
    expect((await baton.tasks.load(task!._id))!).toMatchObject({
      status: 'completed',
      completed_by: p.carol!._id,
    });
  });
});
