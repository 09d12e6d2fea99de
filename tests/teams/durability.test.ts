import { afterEach, describe, expect, it } from 'vitest';
import { eventually, recipesDir, tempDir } from '../helpers/runtime.js';
import {
  cardOf,
  cardText,
  executeActions,
  FakeConnector,
  startTeamsTestApp,
  type TeamsTestApp,
} from '../helpers/teams.js';

const APP = {
  'ok.yaml': `
kind: app
key: ok
name: Okay
stages: [Submitted, Approved, Rejected]
fields:
  - { key: approver, label: Approver, type: user, required: true }
`,
  'ok-recipe.yaml': `
kind: recipe
name: ok-approval
trigger: { type: new_request, app: ok }
steps:
  - id: t
    action: assign_task
    to: "{{ record.approver }}"
    title: Okay?
    outcomes:
      - { label: Approve, style: primary }
      - { label: Reject, style: danger }
  - action: change_stage
    stage: "{{ steps.t.outcome = 'Approve' ? 'Approved' : 'Rejected' }}"
`,
};

describe('Teams: durable delivery and the invoke time budget', () => {
  const open: TeamsTestApp[] = [];
  const connectors: FakeConnector[] = [];
  afterEach(async () => {
    for (const t of open.splice(0)) await t.close();
    for (const c of connectors.splice(0)) await c.stop();
  });

  it('after a restart, every recorded copy is still updated, and redelivery posts nothing twice', async () => {
    const connector = new FakeConnector();
    await connector.start();
    connectors.push(connector);
    const dataDir = tempDir();
    const recipes = recipesDir(APP);
    const first = await startTeamsTestApp({ dataDir, recipesDir: recipes, connector });
    await first.install('bob');
    await first.install('alice');
    await first.rt.baton.requests.file(await first.batonUser('alice'), 'ok', { approver: 'bob@example.com' });
    const task = await eventually(async () => (await first.rt.baton.tasks.listForRequest('OK-1'))[0]);
    const copy = await eventually(
      async () => (await first.rt.baton.deliveries.taskDeliveries(task._id, 'teams'))[0],
    );
    await first.close();

    const second = await startTeamsTestApp({ dataDir, recipesDir: recipes, connector });
    open.push(second);
    const bobChat = second.people.bob!.conversationId;
    const posted = connector.posts(bobChat).length;
    await second.rt.baton.redeliver();
    second.rt.baton.events.emit('task.opened', task); // a re-emitted event is skipped too
    await second.idle();
    expect(connector.posts(bobChat)).toHaveLength(posted);

    const res = await second.execute('bob', 'task.complete', { task_id: task._id, outcome: 'Reject' });
    expect(cardText((res.json() as { value: unknown }).value)).toContain('Rejected by Bob Manager');
    await second.idle();
    const update = await eventually(async () => connector.updates(copy.ref.activity).at(-1));
    expect(cardText(cardOf(update.body))).toContain('Rejected by Bob Manager');
  });

  it('a copy posted while another instance recorded one first is removed (no duplicate left in the chat)', async () => {
    const t = await startTeamsTestApp({ recipesDir: recipesDir(APP) });
    open.push(t);
    await t.install('bob');
    await t.install('alice');
    const bobChat = t.people.bob!.conversationId;
    let release: () => void = () => {};
    t.connector.hold = {
      match: (c) =>
        c.method === 'POST' && c.path.startsWith(`/v3/conversations/${encodeURIComponent(bobChat)}/`),
      until: new Promise<void>((resolve) => {
        release = resolve;
      }),
    };
    await t.rt.baton.requests.file(await t.batonUser('alice'), 'ok', { approver: 'bob@example.com' });
    const task = await eventually(async () => (await t.rt.baton.tasks.listForRequest('OK-1'))[0]);
    await eventually(async () => t.connector.posts(bobChat).length > 0); // our post is in flight
    const bob = await t.batonUser('bob');
    await t.rt.baton.deliveries.recordTaskDelivery(task._id, {
      surface: 'teams',
      user: bob._id,
      ref: { serviceUrl: t.connector.url, conversation: bobChat, activity: 'act-other-instance' },
    });
    release();
    await t.idle();
    const copies = await t.rt.baton.deliveries.taskDeliveries(task._id, 'teams');
    expect(copies.map((c) => c.ref.activity)).toEqual(['act-other-instance']);
    const deleted = t.connector.calls.filter((c) => c.method === 'DELETE');
    expect(deleted).toHaveLength(1);
    expect(deleted[0]!.path).toMatch(/\/activities\/act-\d+$/);
  });

  it('a task opened while the Teams surface was down is posted by the redelivery at start', async () => {
    const connector = new FakeConnector();
    await connector.start();
    connectors.push(connector);
    const dataDir = tempDir();
    const recipes = recipesDir(APP);
    const first = await startTeamsTestApp({ dataDir, recipesDir: recipes, connector });
    await first.install('bob');
    await first.install('alice');
    const alice = await first.batonUser('alice');
    await first.close();
    // Baton runs without the Teams surface (the runtime alone) while a request is filed.
    const { startTestRuntime } = await import('../helpers/runtime.js');
    const alone = await startTestRuntime({
      dataDir,
      recipesDir: recipes,
      env: { TEAMS_ALLOW_ANONYMOUS: 'true' },
    });
    await alone.baton.requests.file(alice, 'ok', { approver: 'bob@example.com' });
    const task = await eventually(async () => (await alone.baton.tasks.listForRequest('OK-1'))[0]);
    await alone.close();

    const second = await startTeamsTestApp({ dataDir, recipesDir: recipes, connector });
    open.push(second);
    const bobChat = second.people.bob!.conversationId;
    expect(connector.posts(bobChat).filter((c) => cardText(c.body).includes('Okay?'))).toHaveLength(0);
    expect(await second.rt.baton.redeliver()).toMatchObject({ tasks: 1 });
    await second.idle();
    const post = await eventually(async () =>
      connector.posts(bobChat).find((c) => cardText(c.body).includes('Okay?')),
    );
    expect(executeActions(cardOf(post.body)).map((a) => a.title)).toEqual(['Approve', 'Reject']);
    expect(await second.rt.baton.deliveries.taskDeliveries(task._id, 'teams')).toHaveLength(1);
  });

  it('a task posted on Slack whose Teams copy never happened (a crash between the two) is posted by the redelivery', async () => {
    const connector = new FakeConnector();
    await connector.start();
    connectors.push(connector);
    const dataDir = tempDir();
    const recipes = recipesDir(APP);
    const first = await startTeamsTestApp({ dataDir, recipesDir: recipes, connector });
    await first.install('bob');
    await first.install('alice');
    const alice = await first.batonUser('alice');
    const bob = await first.batonUser('bob');
    await first.close();
    // The request is filed and Slack posts its copy; the process dies before Teams posts.
    const { startTestRuntime } = await import('../helpers/runtime.js');
    const alone = await startTestRuntime({
      dataDir,
      recipesDir: recipes,
      env: { TEAMS_ALLOW_ANONYMOUS: 'true' },
    });
    await alone.baton.requests.file(alice, 'ok', { approver: 'bob@example.com' });
    const task = await eventually(async () => (await alone.baton.tasks.listForRequest('OK-1'))[0]);
    await alone.baton.deliveries.recordTaskDelivery(task._id, {
      surface: 'slack',
      user: bob._id,
      ref: { channel: 'D0BOB', ts: '1700000000.000100' },
    });
    await alone.close();

    const second = await startTeamsTestApp({ dataDir, recipesDir: recipes, connector });
    open.push(second);
    const bobChat = second.people.bob!.conversationId;
    // Handed to the surfaces missing a copy only: it is not a new task for pages showing tasks.
    const opened: string[] = [];
    second.rt.baton.events.on('task.opened', (t) => opened.push(t._id));
    expect(await second.rt.baton.redeliver()).toMatchObject({ tasks: 1 });
    await second.idle();
    const post = await eventually(async () =>
      connector.posts(bobChat).find((c) => cardText(c.body).includes('Okay?')),
    );
    expect(executeActions(cardOf(post.body)).map((a) => a.title)).toEqual(['Approve', 'Reject']);
    expect(await second.rt.baton.deliveries.taskDeliveries(task._id, 'teams')).toHaveLength(1);
    expect(opened).toEqual([]);
    // Now every listening surface has its copy: the next sweep hands out nothing, posts nothing twice.
    expect(await second.rt.baton.redeliver()).toMatchObject({ tasks: 0 });
    await second.idle();
    expect(connector.posts(bobChat).filter((c) => cardText(c.body).includes('Okay?'))).toHaveLength(1);
  });

  it('an action slower than the budget is answered with "working on it", then its card replaces that one', async () => {
    const t = await startTeamsTestApp({
      recipesDir: recipesDir({}, ['recipes/time-off']),
      invokeBudgetMs: 20,
    });
    open.push(t);
    await t.install('alice');
    // Mallory is new to Baton: her profile is read from the connector, which is slow right now.
    let release: () => void = () => {};
    t.connector.hold = {
      match: (c) => c.method === 'GET' && c.path.includes('/members/'),
      until: new Promise<void>((resolve) => {
        release = resolve;
      }),
    };
    const res = await t.execute('mallory', 'request.form', { app: 'time-off' }, 'act-form-1');
    expect(res.statusCode).toBe(200);
    expect(cardText((res.json() as { value: unknown }).value)).toContain('Working on it');
    release();
    await t.idle();
    const update = await eventually(async () => t.connector.updates('act-form-1').at(-1));
    const card = cardOf(update.body);
    expect(cardText(card)).toContain('New request: Time off');
    expect(executeActions(card)[0]).toMatchObject({ verb: 'request.submit' });
  });
});
