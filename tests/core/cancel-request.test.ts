/**
 * A requester cancels their request (engine.cancelRequest): the recipe working on it stops
 * (a withdrawn request is not a rejected one), its open task is cancelled, the trail says who
 * and why, and it moves to the app's Cancelled stage, whose recipes run (the shipped time-off
 * pack tells the approver).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withdrawnText } from '../../adapters/commands/grammar.js';
import { ConflictError, ForbiddenError, ValidationError } from '../../src/core/errors.js';
import type { User } from '../../src/core/types.js';
import {
  eventually,
  recipesDir,
  seedPeople,
  startTestRuntime,
  type TestRuntime,
} from '../helpers/runtime.js';

describe('cancelling a request', () => {
  let rt: TestRuntime;
  let p: Record<string, User>;

  beforeEach(async () => {
    rt = await startTestRuntime({ recipesDir: recipesDir({}, ['recipes/time-off', 'recipes/expense']) });
    p = await seedPeople(rt.baton);
  });
  afterEach(async () => {
    await rt.close();
  });

  const file = (days: number) =>
    rt.baton.requests.file(p.alice!, 'time-off', {
      type: 'Vacation',
      start: '2026-12-01',
      days: String(days),
      approver: p.bob!._id,
    });

  it('stops the recipe, cancels the open task, records why, moves to Cancelled and tells the approver', async () => {
    const { baton } = rt;
    const request = await file(2);
    const [task] = await baton.tasks.listOpenFor(p.bob!);
    expect(task).toBeDefined();

    const cancelled = await baton.engine.cancelRequest(p.alice!, request._id, '  Plans changed ');
    expect(cancelled).toMatchObject({ stage: 'Cancelled', withdrawn_tasks: 1 });

    const closed = await baton.tasks.get(p.bob!, task!._id);
    expect(closed).toMatchObject({
      status: 'cancelled',
      completed_by: p.alice!._id,
      comment: 'Plans changed',
    });
    expect(await baton.tasks.listOpenFor(p.bob!)).toEqual([]);
    await expect(baton.tasks.complete(p.bob!, task!._id, 'Approve')).rejects.toThrow(/cancelled/i);

    const jobs = await baton.recipes.listJobs(p.admin!, { request: request._id });
    const main = jobs.find((j) => j.recipe === 'time-off-approval')!;
    expect(main).toMatchObject({ status: 'stopped' });
    expect(main.stop_reason).toBe(`${request._id} was cancelled by Alice Requester`);

    // The stage's own recipe runs: the approver hears of it.
    await eventually(async () =>
      (await baton.recipes.listJobs(p.admin!, { request: request._id })).some(
        (j) => j.recipe === 'time-off-cancelled' && j.status === 'completed',
      ),
    );
    const r = await baton.requests.get(p.alice!, request._id);
    expect(r.stage).toBe('Cancelled');
    const types = r.history.map((h) => h.type);
    expect(types).toEqual([
      'created',
      'task_assigned',
      'task_cancelled',
      'request_cancelled',
      'stage_changed',
      'notified',
    ]);
    expect(r.history.find((h) => h.type === 'request_cancelled')!.text).toBe(
      `Alice Requester cancelled ${request._id}: Plans changed`,
    );
    expect(r.history.find((h) => h.type === 'notified')!.text).toContain('Bob Manager');
    // Not rejected: the approval recipe did not go on.
    expect(types).not.toContain('task_completed');
    expect(r.history.some((h) => /rejected/i.test(h.text))).toBe(false);

    await expect(baton.engine.cancelRequest(p.alice!, request._id)).rejects.toBeInstanceOf(ConflictError);
  });

  it('is for the requester and admins only, and needs a Cancelled stage', async () => {
    const { baton } = rt;
    const request = await file(1);
    await expect(baton.engine.cancelRequest(p.bob!, request._id)).rejects.toThrow(
      `Only Alice Requester, who filed ${request._id}, or an admin can cancel it.`,
    );
    await expect(baton.engine.cancelRequest(p.carol!, request._id)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(baton.engine.cancelRequest(p.alice!, 'PTO-999')).rejects.toThrow('No request PTO-999.');
    await expect(baton.engine.cancelRequest(p.alice!, request._id, 'x'.repeat(1001))).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect((await baton.requests.get(p.alice!, request._id)).stage).toBe('Submitted');

    // An admin may cancel anyone's request.
    expect((await baton.engine.cancelRequest(p.admin!, request._id)).stage).toBe('Cancelled');
    const trail = (await baton.requests.get(p.alice!, request._id)).history;
    expect(trail.find((h) => h.type === 'request_cancelled')!.text).toBe(
      `Ada Admin cancelled ${request._id}`,
    );

    // The expense app has no Cancelled stage: its requests cannot be cancelled.
    const expense = await baton.requests.file(p.alice!, 'expense', {
      amount: '50',
      currency: 'EUR',
      category: 'travel',
      description: 'Taxi',
      approver: p.bob!._id,
    });
    await expect(baton.engine.cancelRequest(p.alice!, expense._id)).rejects.toThrow(
      'Expense requests cannot be cancelled: the app has no Cancelled stage. An admin can add one (admin apps add stage expense Cancelled).',
    );
  });

  it('a trigger recorded before the cancel and dispatched after it (as after a crash) starts nothing', async () => {
    const { baton } = rt;
    const request = await file(2);
    await baton.engine.cancelRequest(p.alice!, request._id);
    await eventually(async () =>
      (await baton.recipes.listJobs(p.admin!, { request: request._id })).every((j) => j.status !== 'running'),
    );
    const before = (await baton.recipes.listJobs(p.admin!, { request: request._id })).length;
    // The filing recorded but not dispatched when the process died: the next start dispatches it.
    await rt.store.collection('requests').updateOne(
      { _id: request._id },
      {
        $set: { has_pending: true },
        $push: { pending: { id: `${request._id}:late`, type: 'new_request' } },
      },
    );
    await baton.engine.dispatch((await baton.requests.load(request._id))!);
    const jobs = await baton.recipes.listJobs(p.admin!, { request: request._id });
    expect(jobs).toHaveLength(before);
    expect(await baton.tasks.listOpenFor(p.bob!)).toEqual([]);
    expect((await baton.requests.load(request._id))!.pending ?? []).toEqual([]);
  });
  it('a cancel landing while a step of the recipe is in flight: the request stays Cancelled, no later step runs', async () => {
    const { baton } = rt;
    const request = await file(8);
    const [task] = await baton.tasks.listOpenFor(p.bob!);
    // The cancel lands while the recipe's step after the decision (its move to Manager
    // approved) is on its way: between the step's start and its write.
    const changeStage = baton.requests.changeStage.bind(baton.requests);
    let cancelled = false;
    baton.requests.changeStage = async (by, id, stage, eventId, options) => {
      if (by.startsWith('recipe:') && !cancelled) {
        cancelled = true;
        await baton.engine.cancelRequest(p.alice!, id, 'Not needed after all');
      }
      return changeStage(by, id, stage, eventId, options);
    };
    await baton.tasks.complete(p.bob!, task!._id, 'Approve');
    expect(cancelled).toBe(true);
    await eventually(async () =>
      (await baton.recipes.listJobs(p.admin!, { request: request._id })).some(
        (j) => j.recipe === 'time-off-cancelled' && j.status === 'completed',
      ),
    );
    const r = await baton.requests.get(p.alice!, request._id);
    expect(r.stage).toBe('Cancelled');
    expect(r.history.filter((h) => h.type === 'stage_changed').map((h) => h.data?.to)).toEqual(['Cancelled']);
    // Neither the requester's "your manager approved" nor the HR task came after the cancel.
    const notes = await rt.store.collection('notifications').find({ to: p.alice!._id }).toArray();
    expect(notes.map((n) => n.text)).toEqual([]);
    expect(await rt.store.collection('tasks').countDocuments({ request_id: request._id })).toBe(1);
    const main = (await baton.recipes.listJobs(p.admin!, { request: request._id })).find(
      (j) => j.recipe === 'time-off-approval',
    );
    expect(main).toMatchObject({ status: 'stopped' });
  });
  it('a request already rejected or expired, with nothing under way, is not cancelled; an approved one is', async () => {
    const { baton } = rt;
    const rejected = await file(2);
    let [task] = await baton.tasks.listOpenFor(p.bob!);
    await baton.tasks.complete(p.bob!, task!._id, 'Reject', { comment: 'Team offsite' });
    await eventually(async () => (await baton.requests.load(rejected._id))?.stage === 'Rejected');
    await eventually(async () =>
      (await baton.recipes.listJobs(p.admin!, { request: rejected._id })).every(
        (j) => j.status === 'completed',
      ),
    );
    await expect(baton.engine.cancelRequest(p.alice!, rejected._id)).rejects.toThrow(
      `${rejected._id} is Rejected: there is nothing left to cancel.`,
    );
    expect((await baton.requests.load(rejected._id))?.stage).toBe('Rejected');

    const approved = await file(1);
    [task] = await baton.tasks.listOpenFor(p.bob!);
    await baton.tasks.complete(p.bob!, task!._id, 'Approve');
    await eventually(async () => (await baton.requests.load(approved._id))?.stage === 'Approved');
    const withdrawn = await baton.engine.cancelRequest(p.alice!, approved._id, 'Trip moved');
    expect(withdrawn).toMatchObject({ stage: 'Cancelled', withdrawn_tasks: 0 });
    expect(withdrawnText(withdrawn.withdrawn_tasks)).toBe('it had no open task');
    expect(withdrawnText(1)).toBe('its open task was withdrawn');
    expect(withdrawnText(3)).toBe('its 3 open tasks were withdrawn');
  });
});
