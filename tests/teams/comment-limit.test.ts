/**
 * A task's comment (and its typed inputs) is limited by the core (MAX_COMMENT_LENGTH): the
 * Teams comment boxes allow exactly as much, and a crafted click with more is refused without
 * its text being echoed back into the answer card (which Teams would refuse as too large).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskDoc } from '../../src/core/types.js';
import { MAX_COMMENT_LENGTH } from '../../src/core/types.js';
import { eventually, recipesDir } from '../helpers/runtime.js';
import {
  cardOf,
  cardText,
  startTeamsTestApp,
  TEAMS_MAX_MESSAGE_BYTES,
  type TeamsTestApp,
} from '../helpers/teams.js';

const FILES = {
  'memo.yaml': `
kind: app
key: memo
name: Memo
stages: [Submitted, Approved, Rejected]
fields:
  - { key: note, label: Note, type: text }
`,
  'memo-recipe.yaml': `
kind: recipe
name: memo-approval
trigger: { type: new_request, app: memo }
steps:
  - id: t
    action: assign_task
    to: hank@example.com
    title: Memo review
    outcomes: [Approve, { label: Reject, comment: required }]
    inputs:
      - { id: budget_code, label: Budget code, required_for: [Approve] }
  - id: u
    action: assign_task
    to: hank@example.com
    title: Second look
    outcomes: [Done]
`,
};

type InvokeBody = { statusCode: number; type: string; value: Record<string, unknown> };
type Element = { type?: string; id?: string; maxLength?: number; value?: string };

describe('Teams: comment and input lengths follow the core', () => {
  let t: TeamsTestApp;
  let task: TaskDoc;

  beforeEach(async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    for (const who of ['alice', 'hank']) await t.install(who);
    await t.rt.baton.requests.file(await t.batonUser('alice'), 'memo', { note: 'Offsite' });
    task = await eventually(async () => (await t.rt.baton.tasks.listForRequest('MEMO-1'))[0]);
    await eventually(
      async () => (await t.rt.baton.deliveries.taskDeliveries(task._id, 'teams')).length === 1,
    );
    await t.idle();
  });
  afterEach(async () => {
    await t.close();
  });

  it('the boxes of a task card allow what the core accepts, and a comment that long is recorded', async () => {
    expect(MAX_COMMENT_LENGTH).toBe(5000);
    const post = t.connector
      .posts(t.people.hank!.conversationId)
      .find((p) => cardText(p.body).includes('Memo review'))!;
    const inputs = (cardOf(post.body).body as Element[]).filter((e) => e.type === 'Input.Text');
    expect(inputs.map((e) => [e.id, e.maxLength])).toEqual([
      ['comment', MAX_COMMENT_LENGTH],
      ['budget_code', MAX_COMMENT_LENGTH],
    ]);
    const long = 'Not this quarter. '.repeat(250).slice(0, 4500);
    const res = await t.execute('hank', 'task.complete', {
      task_id: task._id,
      outcome: 'Reject',
      comment: long,
    });
    expect(res.statusCode).toBe(200);
    expect(await t.rt.baton.tasks.load(task._id)).toMatchObject({
      status: 'completed',
      comment: long.trim(),
    });
  });

  it('a crafted click with a 50 KB comment is refused, and the answer does not carry it back', async () => {
    const huge = 'x'.repeat(50 * 1024);
    const res = await t.execute('hank', 'task.complete', {
      task_id: task._id,
      outcome: 'Reject',
      comment: huge,
    });
    expect(res.statusCode).toBe(200);
    expect(res.body.length).toBeLessThan(TEAMS_MAX_MESSAGE_BYTES);
    const card = (res.json() as InvokeBody).value;
    expect(cardText(card)).toContain(`at most ${MAX_COMMENT_LENGTH} characters`);
    expect(cardText(card)).not.toContain('x'.repeat(MAX_COMMENT_LENGTH + 1));
    // The box is still there, empty, for the approver to type a shorter comment.
    expect((card.body as Element[]).find((e) => e.id === 'comment')).toMatchObject({ type: 'Input.Text' });
    expect((card.body as Element[]).find((e) => e.id === 'comment')?.value).toBeUndefined();
    expect((await t.rt.baton.tasks.load(task._id))?.status).toBe('open');
  });

  it('a crafted click with a 50 KB input value is refused too (not stored), and not echoed', async () => {
    const huge = 'B'.repeat(50 * 1024);
    const res = await t.execute('hank', 'task.complete', {
      task_id: task._id,
      outcome: 'Approve',
      budget_code: huge,
    });
    expect(res.body.length).toBeLessThan(TEAMS_MAX_MESSAGE_BYTES);
    const card = (res.json() as InvokeBody).value;
    expect(cardText(card)).toContain(`Budget code must be at most ${MAX_COMMENT_LENGTH} characters`);
    expect(cardText(card)).not.toContain('B'.repeat(MAX_COMMENT_LENGTH + 1));
    expect((await t.rt.baton.tasks.load(task._id))?.status).toBe('open');
    // A typed value within the limit is still kept when another box is refused.
    const again = await t.execute('hank', 'task.complete', {
      task_id: task._id,
      outcome: 'Reject',
      budget_code: 'CC-12',
    });
    const kept = (again.json() as InvokeBody).value;
    expect((kept.body as Element[]).find((e) => e.id === 'budget_code')?.value).toBe('CC-12');
  });
});

describe('Teams: a refused request form does not carry back an over-long value', () => {
  let t: TeamsTestApp;
  afterEach(async () => {
    await t.close();
  });

  it('a crafted submit with a 50 KB text field is refused with the form, without the value', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir({ 'memo.yaml': FILES['memo.yaml'] }) });
    await t.install('alice');
    const res = await t.execute('alice', 'request.submit', { app: 'memo', note: 'N'.repeat(50 * 1024) });
    expect(res.statusCode).toBe(200);
    expect(res.body.length).toBeLessThan(TEAMS_MAX_MESSAGE_BYTES);
    const card = (res.json() as InvokeBody).value;
    expect(cardText(card)).toContain('Note must be at most 2000 characters');
    expect((card.body as Element[]).find((e) => e.id === 'note')).toMatchObject({ type: 'Input.Text' });
    expect((card.body as Element[]).find((e) => e.id === 'note')?.value).toBeUndefined();
    expect(await t.rt.baton.requests.load('MEMO-1')).toBeNull();
  });
});
