import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recipesDir, seedPeople, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

describe('ConversationService (core): where surfaces reach people', () => {
  let rt: TestRuntime;
  beforeEach(async () => {
    rt = await startTestRuntime({ recipesDir: recipesDir({}, ['recipes/time-off']) });
  });
  afterEach(async () => {
    await rt.close();
  });

  it('merges what a surface learns, keeps what it is not told, and forgets on request', async () => {
    const c = rt.baton.conversations;
    expect(await c.get('teams', 'u_1')).toBeNull();
    await c.save('teams', 'u_1', {
      serviceUrl: 'https://smba.example/',
      userId: '29:1',
      conversationId: 'a:1',
    });
    await c.save('teams', 'u_1', {
      serviceUrl: 'https://smba2.example/',
      tenantId: 't1',
      conversationId: '',
    });
    expect(await c.get('teams', 'u_1')).toEqual({
      serviceUrl: 'https://smba2.example/',
      userId: '29:1',
      conversationId: 'a:1',
      tenantId: 't1',
    });
    await c.forget('teams', 'u_1', ['conversationId']);
    expect(await c.get('teams', 'u_1')).toEqual({
      serviceUrl: 'https://smba2.example/',
      userId: '29:1',
      tenantId: 't1',
    });
    await expect(c.save('teams', 'u_1', { 'a.b': 'x' })).rejects.toThrow(/a\.b/);
    await expect(c.save('teams', 'u_1', { $where: 'x' })).rejects.toThrow();
  });

  it('notes an undelivered task copy once in the waiting job log, leaving the job waiting', async () => {
    const p = await seedPeople(rt.baton);
    await rt.baton.requests.file(p.alice!, 'time-off', {
      type: 'Sick',
      start: '2026-12-01',
      days: 1,
      approver: p.bob!._id,
    });
    const { eventually } = await import('../helpers/runtime.js');
    const task = await eventually(async () => (await rt.baton.tasks.listForRequest('PTO-1'))[0]);
    await eventually(
      async () => (await rt.baton.ctx.db.jobs.findOne({ _id: task.job_id! }))?.status === 'waiting',
    );
    await rt.baton.conversations.noteUndelivered(
      task._id,
      'teams',
      p.bob!._id,
      'Bob has not installed Baton',
    );
    await rt.baton.conversations.noteUndelivered(
      task._id,
      'teams',
      p.bob!._id,
      'Bob has not installed Baton',
    );
    const job = await rt.baton.ctx.db.jobs.findOne({ _id: task.job_id! });
    const notes = job!.log.filter((l) => l.action === 'deliver:teams');
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({
      status: 'failed',
      error: 'Bob has not installed Baton',
      step: 'manager',
    });
    expect(job!.status).toBe('waiting');
    // The job still resumes when the task is completed.
    await rt.baton.tasks.complete(p.bob!, task._id, 'Approve');
    await eventually(async () => (await rt.baton.requests.load('PTO-1'))?.stage === 'Approved');
  });
});
