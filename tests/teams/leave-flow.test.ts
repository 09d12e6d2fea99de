import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { cardOf, cardText, executeActions, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

type CardElement = Record<string, unknown> & { id?: string; type?: string };

function inputs(card: Record<string, unknown>): Record<string, CardElement> {
  const body = (card.body as CardElement[]) ?? [];
  return Object.fromEntries(body.filter((e) => String(e.type).startsWith('Input.')).map((e) => [e.id, e]));
}

describe('Teams: the leave flow over HTTP (anonymous mode, fake connector)', () => {
  let t: TeamsTestApp;

  beforeEach(async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir({}, ['recipes/time-off']) });
    await t.install('alice');
    await t.install('bob');
  });
  afterEach(async () => {
    await t.close();
  });

  it('command → form → validation errors in the card → filed → task card to the approver → Approve → copies updated → requester notified', async () => {
    const alice = t.people.alice!;
    const bob = t.people.bob!;
    // Installing greets each person once in their personal chat, with what they can do.
    expect(cardText(t.connector.posts(alice.conversationId).map((c) => c.body))).toContain('new [app]');

    const res = await t.say('alice', 'new time-off');
    expect(res.statusCode).toBe(200);
    await t.idle();
    const formPost = t.connector.posts(alice.conversationId).at(-1)!;
    const form = cardOf(formPost.body);
    const fields = inputs(form);
    expect(fields.type).toMatchObject({ type: 'Input.ChoiceSet', value: 'Vacation', isRequired: true });
    expect(fields.start).toMatchObject({ type: 'Input.Date', isRequired: true });
    expect(fields.days).toMatchObject({ type: 'Input.Number', min: 0.5, max: 30 });
    expect(fields.approver).toMatchObject({
      type: 'Input.ChoiceSet',
      'choices.data': { type: 'Data.Query', dataset: 'graph.microsoft.com/users' },
    });
    expect(fields.reason).toMatchObject({ type: 'Input.Text', isMultiline: true });
    const submit = executeActions(form)[0]!;
    expect(submit).toMatchObject({ verb: 'request.submit', data: { app: 'time-off' } });

    // Too many days: the same card comes back with the message next to the input, values kept.
    const bad = await t.execute('alice', submit.verb, {
      ...submit.data,
      type: 'Sick',
      start: '2026-12-01',
      days: '40',
      approver: bob.aadObjectId,
      reason: 'Flu',
    });
    expect(bad.statusCode).toBe(200);
    const badBody = bad.json() as { statusCode: number; type: string; value: Record<string, unknown> };
    expect(badBody).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive' });
    const again = badBody.value;
    const body = again.body as CardElement[];
    const daysAt = body.findIndex((e) => e.id === 'days');
    expect(body[daysAt + 1]).toMatchObject({ type: 'TextBlock', color: 'Attention' });
    expect(String(body[daysAt + 1]!.text)).toMatch(/30/);
    expect(inputs(again).start).toMatchObject({ value: '2026-12-01' });
    expect(inputs(again).type).toMatchObject({ value: 'Sick' });
    expect(inputs(again).reason).toMatchObject({ value: 'Flu' });
    // The picked approver is kept, shown by name.
    expect(inputs(again).approver).toMatchObject({
      value: bob.aadObjectId,
      choices: [{ title: 'Bob Manager', value: bob.aadObjectId }],
    });
    expect(await t.rt.baton.requests.load('PTO-1')).toBeNull();

    // Someone Baton has never seen, whom the connector cannot describe: an error on the picker.
    const stranger = await t.execute('alice', submit.verb, {
      ...submit.data,
      start: '2026-12-01',
      days: '2',
      approver: '0000aaaa-0000-4000-8000-00000000ffff',
    });
    const strangerBody = (stranger.json() as { value: Record<string, unknown> }).value.body as CardElement[];
    const approverAt = strangerBody.findIndex((e) => e.id === 'approver');
    expect(String(strangerBody[approverAt + 1]?.text)).toMatch(/Baton does not know this person yet/);
    expect(await t.rt.baton.requests.load('PTO-1')).toBeNull();

    // A good submit: the form is replaced by a confirmation naming the request.
    const good = await t.execute('alice', submit.verb, {
      ...submit.data,
      type: 'Vacation',
      start: '2026-12-01',
      days: '3',
      approver: bob.aadObjectId,
      reason: 'Family',
    });
    const confirmation = (good.json() as { value: Record<string, unknown> }).value;
    expect(cardText(confirmation)).toContain('PTO-1');
    const request = await t.rt.baton.requests.load('PTO-1');
    expect(request?.record.approver).toBe((await t.batonUser('bob'))._id);

    // The approver gets the task card in their personal chat, with the outcome buttons.
    const taskPost = await eventually(async () =>
      t.connector.posts(bob.conversationId).find((c) => cardText(c.body).includes('PTO-1')),
    );
    const taskCard = cardOf(taskPost.body);
    expect(taskCard.version).toBe('1.5');
    const buttons = executeActions(taskCard);
    expect(buttons.map((b) => b.title)).toEqual(['Approve', 'Reject']);
    expect(buttons[0]).toMatchObject({ verb: 'task.complete' });
    expect(taskCard.refresh).toMatchObject({
      action: { type: 'Action.Execute', verb: 'task.refresh' },
      userIds: [bob.id],
    });
    const task = (await t.rt.baton.tasks.listForRequest('PTO-1'))[0]!;
    const copies = await t.rt.baton.deliveries.taskDeliveries(task._id, 'teams');
    expect(copies).toHaveLength(1);
    const activityId = copies[0]!.ref.activity!;
    expect(activityId).toMatch(/^act-/);

    // Bob approves: the invoke answers with the closed card.
    const approve = await t.execute('bob', 'task.complete', buttons[0]!.data, activityId);
    expect(approve.statusCode).toBe(200);
    const closed = (approve.json() as { value: Record<string, unknown> }).value;
    expect(cardText(closed)).toContain('Approved by Bob Manager');
    expect(executeActions(closed)).toEqual([]);
    expect(closed.refresh).toBeUndefined();

    // Every copy is updated; the requester hears about it.
    await t.idle();
    await eventually(async () => t.connector.updates(activityId).length > 0);
    expect(cardText(t.connector.updates(activityId).at(-1)!.body)).toContain('Approved by Bob Manager');
    await eventually(async () => (await t.rt.baton.requests.load('PTO-1'))?.stage === 'Approved');
    const note = await eventually(async () =>
      t.connector.posts(alice.conversationId).find((c) => cardText(c.body).includes('was approved')),
    );
    expect(cardText(note.body)).toContain('PTO-1');
  });
});
