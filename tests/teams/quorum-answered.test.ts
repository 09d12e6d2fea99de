import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adaptiveCards } from '../../adapters/cards/cards.js';
import type { TaskDoc } from '../../src/core/types.js';
import { eventually, recipesDir } from '../helpers/runtime.js';
import {
  activityFrom,
  cardOf,
  cardText,
  executeActions,
  startTeamsTestApp,
  type TeamsTestApp,
} from '../helpers/teams.js';

const FILES = {
  'buy.yaml': `
kind: app
key: buy
name: Buy
stages: [Submitted, Approved, Rejected]
fields:
  - { key: item, label: Item, type: text }
`,
  'buy-recipe.yaml': `
kind: recipe
name: buy-approval
trigger: { type: new_request, app: buy }
steps:
  - id: board
    action: assign_task
    to: group:board
    title: Board vote
    outcomes: [Approve, { label: Reject, comment: required }]
    quorum: { mode: all }
  - action: change_stage
    stage: "{{ steps.board.outcome = 'Approve' ? 'Approved' : 'Rejected' }}"
`,
  'vote.yaml': `
kind: app
key: vote
name: Vote
stages: [Submitted, Decided, Expired]
fields: []
`,
  'vote-recipe.yaml': `
kind: recipe
name: vote
trigger: { type: new_request, app: vote }
steps:
  - id: board
    action: assign_task
    to: group:board
    title: Quick vote
    quorum: { mode: count, count: 2 }
    expires_in: 2s
  - action: change_stage
    stage: "{{ steps.board.status = 'expired' ? 'Expired' : 'Decided' }}"
`,
};

type InvokeBody = { statusCode: number; type: string; value: Record<string, unknown> };

function cardEvents(card: Record<string, unknown>): string[] {
  const AC = adaptiveCards();
  const context = new AC.SerializationContext();
  new AC.AdaptiveCard().parse(card, context);
  return Array.from({ length: context.eventCount }, (_, i) => context.getEventAt(i).message);
}

/** Group tasks with a quorum on Teams: a member who answered sees their answer, not the buttons again. */
describe('Teams: group tasks with a quorum, as the member who answered sees them', () => {
  let t: TeamsTestApp;
  let task: TaskDoc;

  beforeEach(async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    for (const who of ['admin', 'alice', 'hank', 'hedy', 'carol']) await t.install(who);
    const admin = await t.batonUser('admin');
    await t.rt.baton.groups.create(admin, 'board');
    for (const who of ['hank', 'hedy', 'carol'])
      await t.rt.baton.groups.addMember(admin, 'board', (await t.batonUser(who))._id);
    await t.rt.baton.requests.file(await t.batonUser('alice'), 'buy', { item: 'Desk' });
    task = await eventually(async () => (await t.rt.baton.tasks.listForRequest('BUY-1'))[0]);
    await eventually(
      async () => (await t.rt.baton.deliveries.taskDeliveries(task._id, 'teams')).length === 3,
    );
    await t.idle();
  });
  afterEach(async () => {
    await t.close();
  });

  const refresh = async (who: string) =>
    (
      await t.send(
        activityFrom('invoke-action', t.people[who]!, t.connector.url, {
          value: {
            action: { type: 'Action.Execute', verb: 'task.refresh', data: { task_id: task._id } },
            trigger: 'automatic',
          },
        }),
      )
    ).json() as InvokeBody;
  const click = async (who: string, outcome: string, extra: Record<string, unknown> = {}) => {
    const res = await t.send(
      activityFrom('invoke-action', t.people[who]!, t.connector.url, {
        value: {
          action: {
            type: 'Action.Execute',
            verb: 'task.complete',
            data: { task_id: task._id, outcome, ...extra },
          },
          trigger: 'manual',
        },
      }),
    );
    expect(res.statusCode).toBe(200);
    const body = res.json() as InvokeBody;
    expect(body).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    expect(cardEvents(body.value)).toEqual([]);
    return body.value;
  };

  it('a member who answered is told so, without the buttons, in the answer, their copy, a refresh and `tasks`', async () => {
    const answered = await click('hank', 'Approve');
    expect(cardText(answered)).toContain('You answered "Approve"; the task waits for 2 more responses.');
    expect(executeActions(answered)).toEqual([]);
    await t.idle();
    // Their posted copy says the same (another device shows it too).
    const hankId = (await t.batonUser('hank'))._id;
    const copy = (await t.rt.baton.deliveries.taskDeliveries(task._id, 'teams')).find(
      (c) => c.user === hankId,
    )!;
    const updated = t.connector.updates(copy.ref.activity!).at(-1);
    expect(updated).toBeDefined();
    const copyCard = cardOf(updated!.body);
    expect(cardText(copyCard)).toContain('You answered "Approve"');
    expect(executeActions(copyCard)).toEqual([]);
    expect(cardEvents(copyCard)).toEqual([]);
    // Teams refreshing the card for them (they are in refresh.userIds): no buttons either.
    const view = await refresh('hank');
    expect(cardText(view.value)).toContain('You answered "Approve"; the task waits for 2 more responses.');
    expect(executeActions(view.value)).toEqual([]);
    // Members who have not answered still get the buttons, and their copies say where it stands.
    expect(executeActions((await refresh('hedy')).value).map((a) => a.title)).toEqual(['Approve', 'Reject']);
    const hedyId = (await t.batonUser('hedy'))._id;
    const hedyCopy = (await t.rt.baton.deliveries.taskDeliveries(task._id, 'teams')).find(
      (c) => c.user === hedyId,
    )!;
    const hedyCard = cardOf(t.connector.updates(hedyCopy.ref.activity!).at(-1)!.body);
    expect(cardText(hedyCard)).toContain('1 of 3');
    expect(cardText(hedyCard)).not.toContain('You answered');
    expect(executeActions(hedyCard).map((a) => a.title)).toEqual(['Approve', 'Reject']);
    // `tasks` lists what waits for them: no longer this one.
    const before = t.connector.posts(t.people.hank!.conversationId).length;
    await t.say('hank', 'tasks');
    await t.idle();
    const listed = t.connector
      .posts(t.people.hank!.conversationId)
      .slice(before)
      .find((c) => cardText(c.body).includes('Board vote'));
    expect(listed).toBeUndefined();
  });

  it('the same answer again (a retry, a double click) is answered like the first; another answer is refused and changes nothing', async () => {
    const first = await click('hank', 'Approve');
    const again = await click('hank', 'Approve');
    expect(cardText(again)).toBe(cardText(first));
    const other = await click('hank', 'Reject', { comment: 'changed my mind' });
    expect(cardText(other)).toContain('You already answered Approve on "Board vote"');
    expect(executeActions(other)).toEqual([]);
    const stored = (await t.rt.baton.tasks.load(task._id))!;
    expect(stored.status).toBe('open');
    expect(stored.responses.map((r) => r.outcome)).toEqual(['Approve']);
  });

  it('a quorum task that expires with too few answers says so on every copy, not "without a response"', async () => {
    await t.rt.baton.requests.file(await t.batonUser('alice'), 'vote', {});
    const vote = await eventually(async () => (await t.rt.baton.tasks.listForRequest('VOTE-1'))[0]);
    await eventually(
      async () => (await t.rt.baton.deliveries.taskDeliveries(vote._id, 'teams')).length === 3,
    );
    await t.idle();
    task = vote;
    await click('hank', 'Approve');
    await eventually(async () => (await t.rt.baton.tasks.load(vote._id))?.status === 'expired', 10_000);
    await eventually(async () => (await t.rt.baton.requests.load('VOTE-1'))?.stage === 'Expired');
    await t.idle();
    for (const copy of await t.rt.baton.deliveries.taskDeliveries(vote._id, 'teams')) {
      const card = cardOf(t.connector.updates(copy.ref.activity!).at(-1)!.body);
      expect(cardText(card)).toContain('Expired without a decision (1 response, not enough)');
      expect(cardText(card)).not.toContain('You answered');
      expect(executeActions(card)).toEqual([]);
    }
  });

  it('the last member decides, and every copy shows the outcome', async () => {
    await click('hank', 'Approve');
    await click('hedy', 'Approve');
    const last = await click('carol', 'Approve');
    // Everyone who decided is named.
    expect(cardText(last)).toMatch(/Approved by [^\n]*Carol Manager/);
    await t.idle();
    for (const copy of await t.rt.baton.deliveries.taskDeliveries(task._id, 'teams')) {
      const card = cardOf(t.connector.updates(copy.ref.activity!).at(-1)!.body);
      expect(cardText(card)).toMatch(/Approved by [^\n]*Carol Manager/);
      expect(cardText(card)).not.toContain('You answered');
      expect(executeActions(card)).toEqual([]);
    }
    expect((await t.rt.baton.requests.load('BUY-1'))?.stage).toBe('Approved');
  });
});
