import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import {
  activityFrom,
  cardOf,
  cardText,
  executeActions,
  startTeamsTestApp,
  type TeamsTestApp,
} from '../helpers/teams.js';

/** An approval for the requester's manager, then a notification back to the requester. */
const FLOW = {
  'ask.yaml': `
kind: app
key: ask
name: Ask
stages: [Submitted, Approved, Rejected]
fields:
  - { key: note, label: Note, type: text }
`,
  'ask-recipe.yaml': `
kind: recipe
name: ask-approval
trigger: { type: new_request, app: ask }
steps:
  - id: t
    action: assign_task
    to: bob@example.com
    title: Ask for approval
    outcomes: [Approve, Reject]
  - action: notify
    to: "{{ request.requester }}"
    text: "Your request {{ request.id }} was decided: {{ steps.t.outcome }}."
`,
};

describe('Teams: posts the connector refuses or fails', () => {
  let t: TeamsTestApp;

  beforeEach(async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FLOW) });
    await t.install('alice');
    await t.install('bob');
  });
  afterEach(async () => {
    await t.close();
  });

  const toChat = (conversationId: string) => (c: { method: string; path: string }) =>
    c.method === 'POST' && c.path.includes(encodeURIComponent(conversationId));

  /** Bob approves ASK-1; returns the count of posts to Alice's chat before that. */
  async function approveAsk(): Promise<number> {
    const bob = t.people.bob!;
    await t.rt.baton.requests.file(await t.batonUser('alice'), 'ask', { note: 'please' });
    await eventually(async () => t.connector.posts(bob.conversationId).length === 2);
    const card = cardOf(t.connector.posts(bob.conversationId).at(-1)!.body);
    const approve = executeActions(card).find((a) => a.title === 'Approve')!;
    const before = t.connector.posts(t.people.alice!.conversationId).length;
    expect((await t.execute('bob', approve.verb, approve.data)).statusCode).toBe(200);
    return before;
  }

  async function aliceNotification() {
    const alice = await t.batonUser('alice');
    return eventually(async () => {
      const n = await t.rt.baton.ctx.db.notifications.findOne({ to: alice._id });
      return n && n.status !== 'pending' ? n : null;
    });
  }

  it('a notification Teams keeps throttling (429 after every retry) stays owed and is posted, once, at the next redelivery', async () => {
    const alice = t.people.alice!;
    for (let i = 0; i < 5; i++)
      t.connector.failures.push({ match: toChat(alice.conversationId), status: 429, retryAfter: '0' });
    const before = await approveAsk();
    await eventually(async () => t.connector.posts(alice.conversationId).length === before + 5);
    await t.idle();
    const owed = await t.rt.baton.ctx.db.notifications.findOne({ to: (await t.batonUser('alice'))._id });
    expect(owed?.status).toBe('pending');

    await t.rt.baton.redeliver();
    await t.idle();
    const posted = t.connector.posts(alice.conversationId).slice(before);
    expect(posted).toHaveLength(6);
    expect(cardText(posted[5]!.body)).toContain('was decided: Approve');
    expect((await aliceNotification()).status).toBe('delivered');
    await t.rt.baton.redeliver();
    await t.idle();
    expect(t.connector.posts(alice.conversationId).slice(before)).toHaveLength(6);
  });

  it('a notification Teams throttles for longer than 30 s (Retry-After: 120) is not retried sooner: it stays owed to the next redelivery', async () => {
    const alice = t.people.alice!;
    t.connector.failures.push({ match: toChat(alice.conversationId), status: 429, retryAfter: '120' });
    const before = await approveAsk();
    await eventually(async () => t.connector.posts(alice.conversationId).length === before + 1);
    await t.idle();
    // Not tried again after "30 s" (Teams would refuse it again): one try, and owed.
    expect(t.connector.posts(alice.conversationId).slice(before)).toHaveLength(1);
    const owed = await t.rt.baton.ctx.db.notifications.findOne({ to: (await t.batonUser('alice'))._id });
    expect(owed?.status).toBe('pending');

    await t.rt.baton.redeliver();
    await t.idle();
    const posted = t.connector.posts(alice.conversationId).slice(before);
    expect(posted).toHaveLength(2);
    expect(cardText(posted[1]!.body)).toContain('was decided: Approve');
    expect((await aliceNotification()).status).toBe('delivered');
  });

  it('a notification Teams answers with a 5xx stays owed (not given up on)', async () => {
    const alice = t.people.alice!;
    t.connector.failures.push({ match: toChat(alice.conversationId), status: 503 });
    const before = await approveAsk();
    await eventually(async () => t.connector.posts(alice.conversationId).length === before + 1);
    await t.idle();
    const owed = await t.rt.baton.ctx.db.notifications.findOne({ to: (await t.batonUser('alice'))._id });
    expect(owed?.status).toBe('pending');
    expect(owed?.deliveries).toEqual([]);
  });

  it('a notification refused for good (403: Alice blocked Baton) is marked undeliverable with why', async () => {
    const alice = t.people.alice!;
    t.connector.failures.push({ match: toChat(alice.conversationId), status: 403 });
    await approveAsk();
    const n = await aliceNotification();
    expect(n.status).toBe('undeliverable');
    expect(n.deliveries[0]?.error).toMatch(/HTTP 403: Alice Requester blocked Baton/);
  });

  it('a task card refused with 403 (the approver blocked Baton) is said in the job log and not posted again at every redelivery', async () => {
    const bob = t.people.bob!;
    t.connector.failures.push({ match: toChat(bob.conversationId), status: 403 });
    await t.rt.baton.requests.file(await t.batonUser('alice'), 'ask', {});
    const task = await eventually(async () => (await t.rt.baton.tasks.listForRequest('ASK-1'))[0]);
    const job = await eventually(async () => {
      const j = await t.rt.baton.ctx.db.jobs.findOne({ _id: task.job_id! });
      return j?.log.some((l) => l.action === 'deliver:teams') ? j : null;
    });
    expect(job.log.find((l) => l.action === 'deliver:teams')?.error).toMatch(
      /Teams refused the message to Bob Manager \(HTTP 403: Bob Manager blocked Baton/,
    );
    expect(job.status).toBe('waiting');
    await t.idle();
    const attempts = t.connector.posts(bob.conversationId).length;
    await t.rt.baton.redeliver();
    await t.idle();
    expect(t.connector.posts(bob.conversationId)).toHaveLength(attempts);
    // The task still waits for Bob: once he adds Baton again, its card arrives.
    await t.install('bob');
    await eventually(async () =>
      cardText(t.connector.posts(bob.conversationId).at(-1)!.body).includes('Ask for approval'),
    );
    expect((await t.rt.baton.deliveries.taskDeliveries(task._id, 'teams')).length).toBe(1);
  });

  it('a chat the connector no longer knows (404) is forgotten: the next card opens a new chat', async () => {
    const bob = t.people.bob!;
    t.connector.failures.push({ match: toChat(bob.conversationId), status: 404 });
    await t.rt.baton.requests.file(await t.batonUser('alice'), 'ask', {});
    const first = await eventually(async () => (await t.rt.baton.tasks.listForRequest('ASK-1'))[0]);
    const job = await eventually(async () => {
      const j = await t.rt.baton.ctx.db.jobs.findOne({ _id: first.job_id! });
      return j?.log.some((l) => l.action === 'deliver:teams') ? j : null;
    });
    expect(job.log.find((l) => l.action === 'deliver:teams')?.error).toMatch(/no longer exists/);
    const ref = await t.rt.baton.conversations.get('teams', (await t.batonUser('bob'))._id);
    expect(ref?.conversationId).toBeUndefined();
    // The next task asks the connector for Bob's chat (he still has Baton) and is posted there.
    await t.rt.baton.requests.file(await t.batonUser('alice'), 'ask', {});
    const second = await eventually(async () => (await t.rt.baton.tasks.listForRequest('ASK-2'))[0]);
    await eventually(
      async () => (await t.rt.baton.deliveries.taskDeliveries(second._id, 'teams')).length === 1,
    );
    expect(t.connector.calls.some((c) => c.path === '/v3/conversations')).toBe(true);
  });
});

describe('Teams: opening a chat fails for a passing reason', () => {
  it('a 503 when Baton opens the approver’s chat (org-wide install) leaves the card owed: the next redelivery posts it', async () => {
    const t = await startTeamsTestApp({
      recipesDir: recipesDir({
        ...FLOW,
        'ask-recipe.yaml': FLOW['ask-recipe.yaml'].replace('bob@example.com', 'hedy@example.com'),
      }),
    });
    try {
      const hedy = t.people.hedy!;
      await t.install('alice');
      // Hedy has Baton through an organization-wide install and has only written in a channel.
      await t.send(activityFrom('message-channel-mention', hedy, t.connector.url));
      t.connector.installed.add(hedy.id);
      await t.idle();
      t.connector.failures.push({
        match: (c) => c.method === 'POST' && c.path === '/v3/conversations',
        status: 503,
      });
      await t.rt.baton.requests.file(await t.batonUser('alice'), 'ask', {});
      const task = await eventually(async () => (await t.rt.baton.tasks.listForRequest('ASK-1'))[0]);
      await eventually(async () => t.connector.calls.some((c) => c.path === '/v3/conversations'));
      await t.idle();
      expect(await t.rt.baton.deliveries.taskDeliveries(task._id, 'teams')).toEqual([]);
      expect((await t.rt.baton.tasks.load(task._id))?.copies_complete ?? []).not.toContain('teams');

      await t.rt.baton.redeliver();
      await t.idle();
      expect(await t.rt.baton.deliveries.taskDeliveries(task._id, 'teams')).toHaveLength(1);
      expect(cardText(t.connector.posts(hedy.conversationId).at(-1)!.body)).toContain('Ask for approval');
      const job = await t.rt.baton.ctx.db.jobs.findOne({ _id: task.job_id! });
      expect(job?.log.some((l) => l.action === 'deliver:teams')).toBe(false);
    } finally {
      await t.close();
    }
  });
});
