import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskDoc } from '../../src/core/types.js';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { cardOf, cardText, executeActions, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

const BOARD = {
  'policy.yaml': `
kind: app
key: policy
name: Policy
id_prefix: POL
stages: [Draft, Approved, Rejected]
fields:
  - { key: title, label: Title, type: text, required: true }
`,
  'board.yaml': `
kind: recipe
name: policy-board
trigger: { type: new_request, app: policy }
steps:
  - id: board
    action: assign_task
    to: group:board
    title: "Policy: {{ record.title }}"
    outcomes: [Approve, Reject]
    quorum: { mode: all }
  - action: change_stage
    stage: "{{ steps.board.outcome = 'Approve' ? 'Approved' : 'Rejected' }}"
`,
};

type InvokeBody = { statusCode: number; type: string; value: Record<string, unknown> };

/**
 * A group task with a quorum, on Teams: after one member answers, the answer card and every
 * member's card say where it stands; the one who answered has no buttons (their own refresh
 * included); the decision replaces that line on every card.
 */
describe('Teams: group tasks with a quorum show their partial state', () => {
  let t: TeamsTestApp;
  let task: TaskDoc;

  beforeEach(async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(BOARD) });
    for (const who of ['admin', 'alice', 'bob', 'hank', 'hedy']) await t.install(who);
    const admin = await t.batonUser('admin');
    await t.rt.baton.groups.create(admin, 'board', 'The board');
    for (const who of ['bob', 'hank', 'hedy'])
      await t.rt.baton.groups.addMember(admin, 'board', (await t.batonUser(who))._id);
    await t.rt.baton.requests.file(await t.batonUser('alice'), 'policy', { title: 'Remote work' });
    task = await eventually(async () => (await t.rt.baton.tasks.listForRequest('POL-1'))[0]);
    await eventually(
      async () => (await t.rt.baton.deliveries.taskDeliveries(task._id, 'teams')).length === 3,
    );
    await t.idle();
  });
  afterEach(async () => {
    await t.close();
  });

  /** The card a person's copy shows now: its last update, else the post. */
  const copyCard = async (who: string) => {
    const user = await t.batonUser(who);
    const copy = (await t.rt.baton.deliveries.taskDeliveries(task._id, 'teams')).find(
      (c) => c.user === user._id,
    )!;
    const last = t.connector.updates(copy.ref.activity).at(-1);
    return cardOf((last ?? t.connector.posts(t.people[who]!.conversationId).at(-1)!).body);
  };

  it('1 of 3 after the first answer, on the answer and on every card; the decision replaces it', async () => {
    const partial = 'Approved by Bob Manager — 1 of 3 responses, waiting for Hank HR and Hedy HR';
    const answer = (
      await t.execute('bob', 'task.complete', { task_id: task._id, outcome: 'Approve' })
    ).json() as InvokeBody;
    expect(cardText(answer.value)).toContain(partial);
    expect(executeActions(answer.value)).toEqual([]);
    await t.idle();
    await eventually(async () => cardText(await copyCard('bob')).includes(partial));
    expect(executeActions(await copyCard('bob'))).toEqual([]);
    for (const who of ['hank', 'hedy']) {
      const card = await eventually(async () => {
        const c = await copyCard(who);
        return cardText(c).includes(partial) ? c : null;
      });
      expect(executeActions(card).map((a) => a.title)).toEqual(['Approve', 'Reject']);
    }
    // Teams asks for each viewer's card (refresh): Bob's has no buttons left, Hank's has them.
    const bobs = (await t.execute('bob', 'task.refresh', { task_id: task._id })).json() as InvokeBody;
    expect(cardText(bobs.value)).toContain(partial);
    expect(executeActions(bobs.value)).toEqual([]);
    const hanks = (await t.execute('hank', 'task.refresh', { task_id: task._id })).json() as InvokeBody;
    expect(executeActions(hanks.value).map((a) => a.title)).toEqual(['Approve', 'Reject']);
    // Bob clicking again on an old card is told what he answered.
    const again = (
      await t.execute('bob', 'task.complete', { task_id: task._id, outcome: 'Reject' })
    ).json() as InvokeBody;
    expect(cardText(again.value)).toContain('You already answered Approve');

    await t.execute('hank', 'task.complete', { task_id: task._id, outcome: 'Approve' });
    const last = (
      await t.execute('hedy', 'task.complete', { task_id: task._id, outcome: 'Approve' })
    ).json() as InvokeBody;
    expect(cardText(last.value)).toContain('Approved by Bob Manager, Hank HR and Hedy HR');
    await t.idle();
    for (const who of ['bob', 'hank', 'hedy']) {
      const card = await eventually(async () => {
        const c = await copyCard(who);
        return cardText(c).includes('Approved by Bob Manager, Hank HR and Hedy HR') ? c : null;
      });
      expect(cardText(card)).not.toContain('waiting for');
      expect(executeActions(card)).toEqual([]);
    }
  });
});
