import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { User } from '../../src/core/types.js';
import {
  eventually,
  recipesDir,
  seedPeople,
  startTestRuntime,
  type TestRuntime,
} from '../helpers/runtime.js';

const APP = `
kind: app
key: order
name: Order
stages: [New, Checked, Waiting, Shipped, Stopped, Audited]
fields:
  - { key: item, label: Item, type: text, required: true }
  - { key: qty, label: Quantity, type: number, required: true, min: 1 }
  - { key: note, label: Note, type: long_text }
  - { key: checker, label: Checker, type: user }
`;

const MAIN = `
kind: recipe
name: order-flow
trigger: { type: new_request, app: order }
steps:
  - id: stamp
    action: update_record
    fields:
      note: "{{ 'Checked ' & $string(record.qty) & ' x ' & record.item }}"
  - action: change_stage
    stage: Checked
  - id: check
    action: assign_task
    to: group:hr
    title: "Check {{ record.item }}"
    outcomes: [Ship, Hold]
    inputs: [{ id: tracking, label: Tracking number, type: text, required_for: [Ship] }]
  - if: "steps.check.outcome = 'Hold'"
    then:
      - action: change_stage
        stage: Stopped
      - action: stop
        reason: held
  - action: change_stage
    stage: Waiting
  - action: wait
    for: 1s
  - action: change_stage
    stage: Shipped
  - action: notify
    to: [group:hr, "{{ request.requester }}"]
    text: "{{ request.id }} shipped with {{ steps.check.inputs.tracking }}"
`;

const ON_STAGE = `
kind: recipe
name: order-audit
trigger: { type: stage_changed, app: order, to: Shipped }
steps:
  - action: notify
    to: "{{ request.requester }}"
    text: "Audit: {{ request.id }} went from {{ trigger.from }} to {{ trigger.to }}"
  - action: change_stage
    stage: Audited
`;

const ON_TASK = `
kind: recipe
name: order-held
trigger: { type: task_completed, app: order, task: check, outcome: Hold }
steps:
  - action: notify
    to: "{{ request.requester }}"
    text: "{{ request.id }} is on hold"
`;

describe('steps and triggers', () => {
  let rt: TestRuntime;
  let p: Record<string, User>;
  beforeEach(async () => {
    rt = await startTestRuntime({
      recipesDir: recipesDir({
        'app.yaml': APP,
        'main.yaml': MAIN,
        'stage.yaml': ON_STAGE,
        'task.yaml': ON_TASK,
      }),
    });
    p = await seedPeople(rt.baton);
  });
  afterEach(async () => {
    await rt.close();
  });

  const notes = async (to: string) =>
    (
      await rt.store
        .collection('notifications')
        .find({ to }, { sort: { created_at: 1 } })
        .toArray()
    ).map((n) => n.text);

  it('update_record, inputs required for an outcome, wait, notify to a group and a person, stage_changed trigger', async () => {
    const { baton } = rt;
    const r = await baton.requests.file(p.alice!, 'order', { item: 'Desk', qty: 2 });
    const filed = await baton.requests.get(p.alice!, r._id);
    expect(filed.record.note).toBe('Checked 2 x Desk');
    expect(filed.stage).toBe('Checked');
    expect(filed.history.find((h) => h.type === 'field_changed')!.text).toBe(
      'Note changed from — to Checked 2 x Desk',
    );
    const [t] = await baton.tasks.listOpenFor(p.hank!);
    const err = await baton.tasks.complete(p.hank!, t!._id, 'Ship').catch((e) => e);
    expect(err.fields).toEqual({ tracking: 'Tracking number is required to Ship' });
    await baton.tasks.complete(p.hank!, t!._id, 'Ship', { inputs: { tracking: 'TRK-1' } });
    expect((await baton.requests.get(p.alice!, r._id)).stage).toBe('Waiting');
    const [job] = await baton.recipes.listJobs(p.admin!, { recipe: 'order-flow' });
    expect(job!.status).toBe('waiting');
    expect(job!.waiting).toMatchObject({ kind: 'timer' });
    // The wait step's timer fires; the audit recipe (stage_changed → Shipped) runs after.
    const done = await eventually(async () => {
      const req = await baton.requests.get(p.alice!, r._id);
      return req.stage === 'Audited' ? req : null;
    });
    expect(done.history.filter((h) => h.type === 'stage_changed').map((h) => h.data!.to)).toEqual([
      'Checked',
      'Waiting',
      'Shipped',
      'Audited',
    ]);
    // A recipe triggered by a stage change runs as part of that step, before the next step.
    expect(await notes(p.alice!._id)).toEqual([
      'Audit: ORDER-1 went from Waiting to Shipped',
      'ORDER-1 shipped with TRK-1',
    ]);
    expect(await notes(p.hedy!._id)).toEqual(['ORDER-1 shipped with TRK-1']);
    const jobs = await baton.recipes.listJobs(p.admin!);
    expect(jobs.map((j) => [j.recipe, j.status]).sort()).toEqual([
      ['order-audit', 'completed'],
      ['order-flow', 'completed'],
    ]);
    const flow = jobs.find((j) => j.recipe === 'order-flow')!;
    expect(flow.log.map((l) => `${l.step}:${l.status}`)).toEqual([
      'stamp:completed',
      'change_stage#2:completed',
      'check:waiting',
      'check:completed',
      'if#4:skipped',
      'change_stage#7:completed',
      'wait#8:waiting',
      'wait#8:completed',
      'change_stage#9:completed',
      'notify#10:completed',
    ]);
    for (const entry of flow.log)
      expect(entry.finished_at.getTime()).toBeGreaterThanOrEqual(entry.started_at.getTime());
  });

  it('stop ends the job; a task_completed trigger with an outcome filter starts its recipe', async () => {
    const { baton } = rt;
    const r = await baton.requests.file(p.alice!, 'order', { item: 'Chair', qty: 1 });
    const [t] = await baton.tasks.listOpenFor(p.hedy!);
    await baton.tasks.complete(p.hedy!, t!._id, 'Hold');
    const req = await baton.requests.get(p.alice!, r._id);
    expect(req.stage).toBe('Stopped');
    const flow = (await baton.recipes.listJobs(p.admin!, { recipe: 'order-flow' }))[0]!;
    expect(flow.status).toBe('completed');
    expect(flow.stop_reason).toBe('held');
    expect(await notes(p.alice!._id)).toEqual(['ORDER-1 is on hold']);
  });
  it('a stage change is recorded for crash recovery only when a recipe listens to it, and recovery starts that recipe', async () => {
    const { baton } = rt;
    const raw = () => rt.store.collection('requests').findOne({ _id: 'ORDER-1' });
    await baton.requests.file(p.alice!, 'order', { item: 'Desk', qty: 2 });
    const [t] = await baton.tasks.listOpenFor(p.hedy!);
    expect(t).toBeDefined();
    // As if the process died after each stage change was stored, before its recipes started.
    const sink = baton.requests.sink!;
    baton.requests.sink = { dispatch: async () => {}, wants: (app, event) => sink.wants(app, event) };
    await baton.requests.setStage(p.admin!, 'ORDER-1', 'Stopped'); // no recipe listens
    let doc = await raw();
    expect(doc?.pending).toEqual([]);
    expect(doc?.has_pending).toBeUndefined();
    expect(doc?.stage).toBe('Stopped');
    await baton.requests.setStage(p.admin!, 'ORDER-1', 'Shipped'); // order-audit listens
    doc = await raw();
    expect(doc?.has_pending).toBe(true);
    expect(doc?.pending).toMatchObject([{ type: 'stage_changed', from: 'Stopped', to: 'Shipped' }]);
    baton.requests.sink = sink;
    await baton.recover();
    await eventually(async () => (await baton.requests.get(p.alice!, 'ORDER-1')).stage === 'Audited');
    expect(await notes(p.alice!._id)).toContain('Audit: ORDER-1 went from Stopped to Shipped');
    doc = await raw();
    expect(doc?.pending).toEqual([]);
    expect(doc?.has_pending).toBeUndefined();
  });
  it('recovery does not start again a job an earlier version started under its former id', async () => {
    const { baton } = rt;
    const raw = () => rt.store.collection('requests').findOne({ _id: 'ORDER-1' });
    await baton.requests.file(p.alice!, 'order', { item: 'Desk', qty: 2 });
    const sink = baton.requests.sink!;
    baton.requests.sink = { dispatch: async () => {}, wants: (app, event) => sink.wants(app, event) };
    await baton.requests.setStage(p.admin!, 'ORDER-1', 'Shipped'); // order-audit listens
    baton.requests.sink = sink;
    const [event] = ((await raw())?.pending ?? []) as { id: string }[];
    expect(event).toBeDefined();
    // As an earlier version would have: its job for the event started (under the id scheme of
    // before 2026-12-05), then the process died before the event was marked dispatched.
    const legacy = `j_${createHash('sha256').update(`${event!.id}|order-audit`).digest('base64url').slice(0, 20)}`;
    const now = new Date();
    await rt.store.collection('jobs').insertOne({
      _id: legacy,
      recipe: 'order-audit',
      request_id: 'ORDER-1',
      app: 'order',
      trigger: { ...event },
      status: 'completed',
      pc: 2,
      steps: {},
      log: [],
      reruns: 0,
      started_at: now,
      updated_at: now,
      finished_at: now,
    });
    await baton.recover();
    expect((await raw())?.has_pending).toBeUndefined();
    const audits = await baton.recipes.listJobs(p.admin!, { recipe: 'order-audit' });
    expect(audits.map((j) => j._id)).toEqual([legacy]);
    expect((await baton.requests.get(p.alice!, 'ORDER-1')).stage).toBe('Shipped');
    // A new event starts its job under the id led by the request's.
    await baton.requests.setStage(p.admin!, 'ORDER-1', 'Stopped');
    await baton.requests.setStage(p.admin!, 'ORDER-1', 'Shipped');
    await eventually(async () => (await baton.requests.get(p.alice!, 'ORDER-1')).stage === 'Audited');
    const after = await baton.recipes.listJobs(p.admin!, { recipe: 'order-audit' });
    expect(after.map((j) => j._id).filter((id) => id !== legacy)).toEqual([
      expect.stringMatching(/^j_ORDER-1_[A-Za-z0-9_-]{20}$/),
    ]);
  });
  it('two comments, or two stage changes by hand, in the same millisecond are both recorded', async () => {
    const { baton } = rt;
    await baton.requests.file(p.alice!, 'order', { item: 'Lamp', qty: 1 });
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-11-25T10:00:00Z') });
    try {
      await baton.requests.comment(p.alice!, 'ORDER-1', 'first');
      await baton.requests.comment(p.alice!, 'ORDER-1', 'second');
      await baton.requests.setStage(p.admin!, 'ORDER-1', 'Stopped');
      await baton.requests.setStage(p.admin!, 'ORDER-1', 'Waiting');
    } finally {
      vi.useRealTimers();
    }
    const req = await baton.requests.get(p.alice!, 'ORDER-1');
    expect(req.history.filter((h) => h.type === 'comment').map((h) => h.data!.comment)).toEqual([
      'first',
      'second',
    ]);
    expect(req.stage).toBe('Waiting');
    expect(
      req.history.filter((h) => h.type === 'stage_changed' && h.by === p.admin!._id).map((h) => h.data!.to),
    ).toEqual(['Stopped', 'Waiting']);
  });
  it('moving a request to the stage it is in records nothing and starts no stage_changed recipe', async () => {
    const { baton } = rt;
    await baton.requests.file(p.alice!, 'order', { item: 'Pen', qty: 1 });
    await baton.requests.setStage(p.admin!, 'ORDER-1', 'Shipped');
    await eventually(async () => (await baton.requests.get(p.alice!, 'ORDER-1')).stage === 'Audited');
    const before = await baton.requests.get(p.alice!, 'ORDER-1');
    const audits = await baton.recipes.listJobs(p.admin!, { recipe: 'order-audit' });
    const same = await baton.requests.setStage(p.admin!, 'ORDER-1', 'Audited');
    expect(same.stage).toBe('Audited');
    const after = await baton.requests.get(p.alice!, 'ORDER-1');
    expect(after.history).toHaveLength(before.history.length);
    expect(await baton.recipes.listJobs(p.admin!, { recipe: 'order-audit' })).toHaveLength(audits.length);
  });
});
