/**
 * Every outcome takes an optional comment (a recipe may quote it: "was rejected: …"): a Teams
 * task card whose outcomes require none still has an optional comment box, and what is typed
 * there is recorded with the decision. Cards for people who cannot act have no box.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskDoc } from '../../src/core/types.js';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { cardOf, cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

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
    outcomes: [Approve, Reject]
  - action: notify
    to: "{{ request.requester }}"
    text: "{{ steps.t.outcome }}: {{ steps.t.comment }}"
`,
};

type InvokeBody = { statusCode: number; type: string; value: Record<string, unknown> };
type Element = { type?: string; id?: string; label?: string };

describe('Teams: an optional comment on any outcome', () => {
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

  it('the approver’s card has an optional comment box; the comment typed with Reject is recorded and quoted', async () => {
    const post = t.connector
      .posts(t.people.hank!.conversationId)
      .find((p) => cardText(p.body).includes('Memo review'))!;
    const body = cardOf(post.body).body as Element[];
    expect(body.filter((e) => e.id === 'comment')).toEqual([
      expect.objectContaining({ type: 'Input.Text', label: 'Comment (optional)' }),
    ]);
    // The requester's read-only view (refresh) has no box.
    const theirs = (await t.execute('alice', 'task.refresh', { task_id: task._id })).json() as InvokeBody;
    expect((theirs.value.body as Element[]).some((e) => e.id === 'comment')).toBe(false);

    const res = await t.execute('hank', 'task.complete', {
      task_id: task._id,
      outcome: 'Reject',
      comment: 'Not this quarter',
    });
    expect(cardText((res.json() as InvokeBody).value)).toContain('Not this quarter');
    expect(await t.rt.baton.tasks.load(task._id)).toMatchObject({
      status: 'completed',
      outcome: 'Reject',
      comment: 'Not this quarter',
    });
    await eventually(async () =>
      t.connector
        .posts(t.people.alice!.conversationId)
        .some((p) => cardText(p.body).includes('Reject: Not this quarter')),
    );
  });
});
