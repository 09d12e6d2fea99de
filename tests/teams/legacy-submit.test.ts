import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adaptiveCards } from '../../adapters/cards/cards.js';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { activityFrom, cardOf, cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

const FILES = {
  'kit.yaml': `
kind: app
key: kit
name: Kit
stages: [Submitted, Approved, Rejected]
fields:
  - { key: item, label: Item, type: text, required: true }
  - { key: approver, label: Approver, type: user, required: true }
`,
  'kit-recipe.yaml': `
kind: recipe
name: kit-approval
trigger: { type: new_request, app: kit }
steps:
  - id: manager
    action: assign_task
    to: "{{ record.approver }}"
    title: "Kit: {{ record.item }}"
    outcomes: [Approve, { label: Reject, style: danger, comment: required }]
  - action: change_stage
    stage: "{{ steps.manager.outcome = 'Approve' ? 'Approved' : 'Rejected' }}"
`,
};

type Action = {
  type: string;
  title?: string;
  verb?: string;
  data?: Record<string, unknown>;
  fallback?: Action;
};

function cardEvents(card: Record<string, unknown>): string[] {
  const AC = adaptiveCards();
  const context = new AC.SerializationContext();
  new AC.AdaptiveCard().parse(card, context);
  return Array.from({ length: context.eventCount }, (_, i) => context.getEventAt(i).message);
}

function allActions(card: Record<string, unknown>): Action[] {
  const sets = ((card.body as Record<string, unknown>[] | undefined) ?? [])
    .filter((e) => e.type === 'ActionSet')
    .flatMap((e) => e.actions as Action[]);
  return [...((card.actions as Action[] | undefined) ?? []), ...sets];
}

/**
 * Teams clients without Universal Actions: every Action.Execute carries an Action.Submit
 * fallback, and its click (a message activity with `value`) does what the Action.Execute does.
 */
describe('Teams: Action.Submit fallback for older clients', () => {
  let t: TeamsTestApp;

  beforeEach(async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    for (const who of ['alice', 'bob']) await t.install(who);
  });
  afterEach(async () => {
    await t.close();
  });

  /** What an older client sends for an Action.Submit: the action's data and the card's inputs as `value`. */
  const submitFrom = (
    who: string,
    fallback: Action,
    inputs: Record<string, string>,
    replyToId: string,
    fixture = 'message-personal',
    id?: string,
  ) =>
    t.send(
      activityFrom(fixture, t.people[who]!, t.connector.url, {
        text: undefined,
        replyToId,
        value: { ...fallback.data, ...inputs },
        ...(id ? { id } : {}),
      }),
    );

  const fileKit = async () => {
    await t.rt.baton.requests.file(await t.batonUser('alice'), 'kit', {
      item: 'Monitor',
      approver: (await t.batonUser('bob'))._id,
    });
    const task = await eventually(async () => (await t.rt.baton.tasks.listForRequest('KIT-1'))[0]);
    await eventually(
      async () => (await t.rt.baton.deliveries.taskDeliveries(task._id, 'teams')).length === 1,
    );
    await t.idle();
    const copy = (await t.rt.baton.deliveries.taskDeliveries(task._id, 'teams'))[0]!;
    const posted = t.connector
      .posts(t.people.bob!.conversationId)
      .find((c) => cardText(c.body).includes('Kit: Monitor'))!;
    return { task, activity: copy.ref.activity!, card: cardOf(posted.body) };
  };

  it('task and form cards carry an Action.Submit fallback on every Action.Execute, and stay valid', async () => {
    const { card, task } = await fileKit();
    const buttons = allActions(card).filter((a) => a.type === 'Action.Execute');
    expect(buttons.map((a) => a.title)).toEqual(['Approve', 'Reject']);
    for (const b of buttons)
      expect(b.fallback).toEqual(
        expect.objectContaining({
          type: 'Action.Submit',
          title: b.title,
          data: { ...b.data, _verb: 'task.complete' },
        }),
      );
    expect(cardEvents(card)).toEqual([]);
    expect(task.status).toBe('open');
    await t.say('alice', 'new kit');
    await t.idle();
    const form = cardOf(t.connector.posts(t.people.alice!.conversationId).at(-1)!.body);
    const submit = allActions(form).find((a) => a.type === 'Action.Execute')!;
    expect(submit.fallback).toMatchObject({
      type: 'Action.Submit',
      data: { app: 'kit', _verb: 'request.submit' },
    });
    expect(cardEvents(form)).toEqual([]);
  });

  it('a task button pressed on an older client completes the task, and the card clicked shows the result', async () => {
    const { task, activity, card } = await fileKit();
    const [approve, reject] = allActions(card).map((a) => a.fallback!);
    // Reject without the required comment: refused in the card, which keeps its buttons.
    expect((await submitFrom('bob', reject!, { comment: '' }, activity)).statusCode).toBe(200);
    await t.idle();
    const refused = cardOf(t.connector.updates(activity).at(-1)!.body);
    expect(cardText(refused)).toContain('A comment is required to Reject');
    expect(allActions(refused).map((a) => a.title)).toEqual(['Approve', 'Reject']);
    expect((await t.rt.baton.tasks.load(task._id))?.status).toBe('open');
    // Approve: decided, and the card says so (no "older version of Baton" message).
    expect(
      (await submitFrom('bob', approve!, { comment: '' }, activity, 'message-personal', 'legacy-1'))
        .statusCode,
    ).toBe(200);
    // Teams redelivering the same message changes nothing.
    expect(
      (await submitFrom('bob', approve!, { comment: '' }, activity, 'message-personal', 'legacy-1'))
        .statusCode,
    ).toBe(200);
    await t.idle();
    const done = (await t.rt.baton.tasks.load(task._id))!;
    expect(done).toMatchObject({ status: 'completed', outcome: 'Approve' });
    const shown = cardOf(t.connector.updates(activity).at(-1)!.body);
    expect(cardText(shown)).toContain('Approved by Bob Manager');
    expect(allActions(shown).filter((a) => a.type === 'Action.Execute')).toEqual([]);
    expect(cardEvents(shown)).toEqual([]);
    const said = cardText(t.connector.posts(t.people.bob!.conversationId).map((c) => c.body));
    expect(said).not.toContain('older version');
    await eventually(async () => (await t.rt.baton.requests.load('KIT-1'))?.stage === 'Approved');
  });

  it('a request form submitted from an older client in a channel files the request and answers in the thread', async () => {
    await t.say('alice', 'new kit');
    await t.idle();
    const form = cardOf(t.connector.posts(t.people.alice!.conversationId).at(-1)!.body);
    const fallback = allActions(form).find((a) => a.type === 'Action.Execute')!.fallback!;
    const before = t.connector.calls.length;
    const res = await submitFrom(
      'alice',
      fallback,
      { item: 'Chair', approver: t.people.bob!.aadObjectId },
      'channel-form-1',
      'message-channel-mention',
    );
    expect(res.statusCode).toBe(200);
    await t.idle();
    const calls = t.connector.calls.slice(before);
    expect(calls.filter((c) => c.method === 'PUT')).toEqual([]); // the channel's card is everyone's
    const answer = calls.find((c) => c.method === 'POST' && c.path.includes('thread.tacv2'))!;
    expect(cardText(answer.body)).toContain('Request KIT-1 filed');
    expect((await t.rt.baton.requests.load('KIT-1'))?.record.item).toBe('Chair');
  });
});
