/**
 * The member lookup (the only place Teams gives a person's email) can fail on someone's first
 * contact: Baton then creates a user without an email. When a later lookup finds the email and
 * someone already has it (the same person, met on Slack first), the Teams identity joins that
 * user, with everything recorded under either: requests, tasks, groups, where to reach them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { cardOf, cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

const FILES = {
  'memo.yaml': `
kind: app
key: memo
name: Memo
stages: [Submitted, Done]
fields:
  - { key: note, label: Note, type: text }
`,
  'memo-recipe.yaml': `
kind: recipe
name: memo-confirm
trigger: { type: new_request, app: memo }
steps:
  - id: t
    action: assign_task
    to: "{{ request.requester }}"
    title: "Confirm {{ record.note }}"
    outcomes: [Confirm]
`,
};

describe('Teams: a person first met without an email is linked once the email is known', () => {
  let t: TeamsTestApp;
  afterEach(async () => {
    await t.close();
  });

  it('joins the Slack user with that email, keeping what was recorded under both', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    const baton = t.rt.baton;
    const admin = await baton.users.resolve({ provider: 'web', id: 'admin', email: 'admin@example.com' });
    const onSlack = await baton.users.resolve({
      provider: 'slack',
      id: 'UALICE1',
      name: 'Alice A.',
      email: 'alice@example.com',
    });
    await baton.requests.file(onSlack, 'memo', { note: 'from Slack' });

    // First contact on Teams: the connector cannot tell who she is (every lookup fails).
    const members = (c: { method: string; path: string }) =>
      c.method === 'GET' && c.path.includes('/members/');
    for (let i = 0; i < 10; i++) t.connector.failures.push({ match: members, status: 503 });
    await t.install('alice');
    t.connector.failures.length = 0;
    const split = await t.batonUser('alice');
    expect(split._id).not.toBe(onSlack._id);
    expect(split.email).toBeUndefined();

    // Meanwhile, as that user: a request (with a task for her), a group.
    await baton.requests.file(split, 'memo', { note: 'from Teams' });
    const task = await eventually(async () => (await baton.tasks.listForRequest('MEMO-2'))[0]);
    await eventually(async () => (await baton.deliveries.taskDeliveries(task._id, 'teams')).length === 1);
    await baton.groups.create(admin, 'reviewers');
    await baton.groups.addMember(admin, 'reviewers', split._id);
    await t.idle();

    // Her next message: the lookup works and gives alice@example.com.
    const res = await t.say('alice', 'requests');
    expect(res.statusCode).toBe(200);
    await t.idle();
    const now = await t.batonUser('alice');
    expect(now._id).toBe(onSlack._id);
    expect(now.email).toBe('alice@example.com');
    expect(now.identities.map((i) => i.provider).sort()).toEqual(['slack', 'teams']);
    expect((await baton.users.lookup('slack:UALICE1'))?._id).toBe(onSlack._id);
    // An id kept elsewhere still finds her; the people list names her once.
    expect((await baton.users.find(split._id))?._id).toBe(onSlack._id);
    expect((await baton.users.list()).filter((u) => u.name.startsWith('Alice'))).toHaveLength(1);
    expect((await baton.users.findByName('Alice')).map((u) => u._id)).toEqual([onSlack._id]);

    // Her requests, from both surfaces, in the answer to "requests".
    const reply = t.connector.posts(t.people.alice!.conversationId).at(-1)!;
    const text = `${String(reply.body.text ?? '')}\n${reply.body.attachments ? cardText(cardOf(reply.body)) : ''}`;
    expect(text).toContain('MEMO-1');
    expect(text).toContain('MEMO-2');
    expect((await baton.requests.load('MEMO-2'))?.requester).toBe(onSlack._id);
    expect((await baton.groups.isMember('reviewers', onSlack._id)) as boolean).toBe(true);
    // The task assigned to her Teams self is hers, and her Teams card still works.
    expect((await baton.tasks.load(task._id))?.assignee).toEqual({ type: 'user', id: onSlack._id });
    const done = await t.execute('alice', 'task.complete', { task_id: task._id, outcome: 'Confirm' });
    expect(cardText((done.json() as { value: unknown }).value)).not.toMatch(/can't|cannot/i);
    expect(await baton.tasks.load(task._id)).toMatchObject({
      status: 'completed',
      completed_by: onSlack._id,
    });
    // Baton still reaches her on Teams (her 1:1 chat moved with the identity).
    expect(await t.surface.deps.users.reach(onSlack._id)).toMatchObject({
      conversationId: t.people.alice!.conversationId,
    });
  });
});
