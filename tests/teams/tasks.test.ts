import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adaptiveCards } from '../../adapters/cards/cards.js';
import type { TaskDoc } from '../../src/core/types.js';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { cardOf, cardText, executeActions, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

const QUICK = {
  'quick.yaml': `
kind: app
key: quick
name: Quick
stages: [Submitted, Approved, Rejected, Expired]
fields:
  - { key: note, label: Note, type: text }
`,
  'quick-recipe.yaml': `
kind: recipe
name: quick-approval
trigger: { type: new_request, app: quick }
steps:
  - id: t
    action: assign_task
    to: group:hr
    title: Quick one
    outcomes:
      - { label: Approve, style: primary }
      - { label: Reject, style: danger, comment: required }
    expires_in: 2d
  - action: change_stage
    stage: "{{ steps.t.status = 'expired' ? 'Expired' : steps.t.outcome = 'Approve' ? 'Approved' : 'Rejected' }}"
`,
};

type InvokeBody = { statusCode: number; type: string; value: Record<string, unknown> };

describe('Teams: task cards and Action.Execute', () => {
  let t: TeamsTestApp;
  let task: TaskDoc;

  beforeEach(async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(QUICK) });
    for (const who of ['admin', 'alice', 'hank', 'hedy', 'mallory']) await t.install(who);
    const admin = await t.batonUser('admin');
    await t.rt.baton.groups.create(admin, 'hr', 'Human resources');
    await t.rt.baton.groups.addMember(admin, 'hr', (await t.batonUser('hank'))._id);
    await t.rt.baton.groups.addMember(admin, 'hr', (await t.batonUser('hedy'))._id);
    await t.rt.baton.requests.file(await t.batonUser('alice'), 'quick', { note: 'please' });
    task = await eventually(async () => (await t.rt.baton.tasks.listForRequest('QUICK-1'))[0]);
    await eventually(
      async () => (await t.rt.baton.deliveries.taskDeliveries(task._id, 'teams')).length === 2,
    );
    await t.idle();
  });
  afterEach(async () => {
    await t.close();
  });

  const copyOf = async (who: string) => {
    const user = await t.batonUser(who);
    const copies = await t.rt.baton.deliveries.taskDeliveries(task._id, 'teams');
    return copies.find((c) => c.user === user._id)!.ref;
  };

  it('posts one copy per group member, each with refresh naming both assignees', async () => {
    for (const who of ['hank', 'hedy']) {
      const person = t.people[who]!;
      const posts = t.connector
        .posts(person.conversationId)
        .filter((c) => cardText(c.body).includes('Quick one'));
      expect(posts).toHaveLength(1);
      const card = cardOf(posts[0]!.body);
      expect((card.refresh as { userIds: string[] }).userIds.sort()).toEqual(
        [t.people.hank!.id, t.people.hedy!.id].sort(),
      );
      // A comment input, since Reject requires one.
      expect((card.body as { id?: string }[]).some((e) => e.id === 'comment')).toBe(true);
      // A clean card for the adaptivecards object model (refresh included).
      const AC = adaptiveCards();
      const context = new AC.SerializationContext();
      new AC.AdaptiveCard().parse(card, context);
      expect(Array.from({ length: context.eventCount }, (_, i) => context.getEventAt(i).message)).toEqual([]);
    }
    // Redelivery (a restart) posts nothing twice.
    t.rt.baton.events.emit('task.opened', task);
    await t.idle();
    expect(
      t.connector.posts(t.people.hank!.conversationId).filter((c) => cardText(c.body).includes('Quick one')),
    ).toHaveLength(1);
  });

  it('refresh: assignees get the actionable view, others who may see the request a read-only one, anyone else nothing of it', async () => {
    const mine = (await t.execute('hedy', 'task.refresh', { task_id: task._id })).json() as InvokeBody;
    expect(executeActions(mine.value).map((a) => a.title)).toEqual(['Approve', 'Reject']);
    const requester = (await t.execute('alice', 'task.refresh', { task_id: task._id })).json() as InvokeBody;
    expect(executeActions(requester.value)).toEqual([]);
    expect(cardText(requester.value)).toContain('Quick one');
    expect(cardText(requester.value)).toContain('please');
    // Mallory may not see QUICK-1 (core: requests.get refuses her): a forged refresh shows none of it.
    const theirs = (await t.execute('mallory', 'task.refresh', { task_id: task._id })).json() as InvokeBody;
    expect(executeActions(theirs.value)).toEqual([]);
    expect(cardText(theirs.value)).toContain("You can't see QUICK-1");
    expect(cardText(theirs.value)).not.toContain('please');
  });

  it('an unauthorized click is refused in the card and changes nothing', async () => {
    const res = await t.execute('mallory', 'task.complete', { task_id: task._id, outcome: 'Approve' });
    expect(res.statusCode).toBe(200);
    const body = res.json() as InvokeBody;
    expect(cardText(body.value)).toMatch(/can't act on "Quick one": it is assigned to group hr/);
    expect(cardText(body.value)).not.toContain('please'); // nothing of a request she may not see
    expect(executeActions(body.value)).toEqual([]);
    expect((await t.rt.baton.tasks.load(task._id))?.status).toBe('open');
    await t.idle();
    expect(t.connector.updates()).toHaveLength(0);
  });

  it('a missing required comment comes back in the card, the message right under the comment input', async () => {
    const res = await t.execute('hank', 'task.complete', {
      task_id: task._id,
      outcome: 'Reject',
      comment: '  ',
    });
    const card = (res.json() as InvokeBody).value;
    const body = card.body as { id?: string; text?: string; color?: string }[];
    const at = body.findIndex((e) => e.id === 'comment');
    expect(body[at + 1]).toMatchObject({ text: 'A comment is required to Reject', color: 'Attention' });
    expect(executeActions(card).map((a) => a.title)).toEqual(['Approve', 'Reject']);
    expect((await t.rt.baton.tasks.load(task._id))?.status).toBe('open');
    const ok = await t.execute('hank', 'task.complete', {
      task_id: task._id,
      outcome: 'Reject',
      comment: 'Not now',
    });
    expect(cardText((ok.json() as InvokeBody).value)).toContain('Rejected by Hank HR');
    await eventually(async () => (await t.rt.baton.requests.load('QUICK-1'))?.stage === 'Rejected');
  });

  it('a double action: the second person is told who won, and every copy shows the outcome once', async () => {
    const hankCopy = await copyOf('hank');
    const hedyCopy = await copyOf('hedy');
    const [first, second] = await Promise.all([
      t.execute('hank', 'task.complete', { task_id: task._id, outcome: 'Approve' }, hankCopy.activity),
      t.execute('hedy', 'task.complete', { task_id: task._id, outcome: 'Approve' }, hedyCopy.activity),
    ]);
    const texts = [first, second].map((r) => cardText((r.json() as InvokeBody).value));
    const winners = texts.filter((x) => !x.includes('Already approved'));
    const losers = texts.filter((x) => x.includes('Already approved by'));
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    const done = await t.rt.baton.tasks.load(task._id);
    expect(done?.status).toBe('completed');
    expect(done?.responses).toHaveLength(1);
    await t.idle();
    for (const copy of [hankCopy, hedyCopy]) {
      await eventually(async () => t.connector.updates(copy.activity).length > 0);
      const last = cardOf(t.connector.updates(copy.activity).at(-1)!.body);
      expect(cardText(last)).toMatch(/Approved by (Hank|Hedy) HR/);
      expect(executeActions(last)).toEqual([]);
    }
    // Clicking again later: "already done", nothing changes.
    const late = await t.execute('hank', 'task.complete', {
      task_id: task._id,
      outcome: 'Reject',
      comment: 'x',
    });
    expect(cardText((late.json() as InvokeBody).value)).toMatch(/Already approved by/);
    expect((await t.rt.baton.tasks.load(task._id))?.outcome).toBe('Approve');
  });

  it('reassigned: the old copies say so (no buttons), the new assignee gets the card', async () => {
    const hankCopy = await copyOf('hank');
    const admin = await t.batonUser('admin');
    await t.rt.baton.tasks.reassign(admin, task._id, 'alice@example.com');
    await t.idle();
    await eventually(async () => t.connector.updates(hankCopy.activity).length > 0);
    const old = cardOf(t.connector.updates(hankCopy.activity).at(-1)!.body);
    expect(cardText(old)).toContain('Reassigned to Alice Requester');
    expect(executeActions(old)).toEqual([]);
    const alicePost = await eventually(async () =>
      t.connector.posts(t.people.alice!.conversationId).find((c) => cardText(c.body).includes('Quick one')),
    );
    expect(executeActions(cardOf(alicePost.body)).map((a) => a.title)).toEqual(['Approve', 'Reject']);
    // Hank can no longer act.
    const res = await t.execute('hank', 'task.complete', { task_id: task._id, outcome: 'Approve' });
    expect(cardText((res.json() as InvokeBody).value)).toMatch(/assigned to Alice Requester/);
  });

  it('expiry updates every copy', async () => {
    const hankCopy = await copyOf('hank');
    const hedyCopy = await copyOf('hedy');
    // The deadline passes (as the scheduler would see it): the expiry job runs.
    await t.rt.baton.ctx.db.tasks.updateOne(
      { _id: task._id },
      { $set: { expires_at: new Date(Date.now() - 1000) } },
    );
    await t.rt.baton.tasks.expire(task._id);
    expect((await t.rt.baton.tasks.load(task._id))?.status).toBe('expired');
    await t.idle();
    for (const copy of [hankCopy, hedyCopy]) {
      await eventually(async () => t.connector.updates(copy.activity).length > 0);
      const card = cardOf(t.connector.updates(copy.activity).at(-1)!.body);
      expect(cardText(card)).toContain('Expired without a response');
      expect(executeActions(card)).toEqual([]);
    }
    await eventually(async () => (await t.rt.baton.requests.load('QUICK-1'))?.stage === 'Expired');
  });
});

describe('Teams: people the bot cannot reach', () => {
  it('the task is still created; the job log says why it was not delivered; an org-wide install is reached through the connector', async () => {
    const t = await startTeamsTestApp({ recipesDir: recipesDir(QUICK) });
    try {
      await t.install('alice');
      // Hank talked to the bot in a channel only (no personal chat), and has not installed it.
      const { activityFrom } = await import('../helpers/teams.js');
      await t.send(activityFrom('message-channel-mention', t.people.hank!, t.connector.url));
      // Hedy too, but the bot is installed for her org-wide (creating her 1:1 chat works).
      await t.send(activityFrom('message-channel-mention', t.people.hedy!, t.connector.url));
      t.connector.installed.add(t.people.hedy!.id);
      await t.idle();
      const admin = await t.rt.baton.users.resolve({
        provider: 'web',
        id: 'admin',
        email: 'admin@example.com',
      });
      await t.rt.baton.groups.create(admin, 'hr');
      await t.rt.baton.groups.addMember(admin, 'hr', (await t.batonUser('hank'))._id);
      await t.rt.baton.groups.addMember(admin, 'hr', (await t.batonUser('hedy'))._id);
      await t.rt.baton.requests.file(await t.batonUser('alice'), 'quick', {});
      const task = await eventually(async () => (await t.rt.baton.tasks.listForRequest('QUICK-1'))[0]);
      const job = await eventually(async () => {
        const j = await t.rt.baton.ctx.db.jobs.findOne({ _id: task.job_id! });
        return j?.log.some((l) => l.action === 'deliver:teams') ? j : null;
      });
      const entry = job.log.find((l) => l.action === 'deliver:teams')!;
      expect(entry.status).toBe('failed');
      expect(entry.error).toMatch(/Hank HR does not have Baton installed/);
      expect(job.status).toBe('waiting');
      // Hedy's copy went to the 1:1 chat the connector created.
      const copies = await eventually(async () => {
        const c = await t.rt.baton.deliveries.taskDeliveries(task._id, 'teams');
        return c.length === 1 ? c : null;
      });
      expect(copies[0]!.ref.conversation).toBe(t.people.hedy!.conversationId);
      // Redelivery (every few minutes) does not ask the connector again for Hank's chat.
      const asked = () =>
        t.connector.calls.filter(
          (c) => c.path === '/v3/conversations' && JSON.stringify(c.body).includes(t.people.hank!.id),
        ).length;
      expect(asked()).toBe(1);
      t.rt.baton.events.emit('task.opened', task);
      await t.idle();
      expect(asked()).toBe(1);
      // The task is there all the same: Hank sees it with `tasks`.
      const res = await t.send(
        activityFrom('message-personal', t.people.hank!, t.connector.url, { text: 'tasks' }),
      );
      expect(res.statusCode).toBe(200);
      await t.idle();
      const posts = t.connector.posts(t.people.hank!.conversationId);
      expect(cardText(posts.map((p) => p.body))).toContain('Quick one');
      // Once Hank installs Baton, his copy of the task arrives (and is recorded).
      await t.install('hank');
      const hank = await t.batonUser('hank');
      await eventually(async () =>
        (await t.rt.baton.deliveries.taskDeliveries(task._id, 'teams')).some((c) => c.user === hank._id),
      );
      const card = cardOf(t.connector.posts(t.people.hank!.conversationId).at(-1)!.body);
      expect(cardText(card)).toContain('Quick one');
      expect(executeActions(card).map((a) => a.title)).toEqual(['Approve', 'Reject']);
    } finally {
      await t.close();
    }
  });
});

describe('Teams: uninstalling', () => {
  it('the conversationUpdate Teams sends with the uninstall (the bot in membersRemoved) does not store the chat again', async () => {
    const t = await startTeamsTestApp({ recipesDir: recipesDir(QUICK) });
    try {
      const { activityFrom, TEAMS_BOT_ID } = await import('../helpers/teams.js');
      await t.install('hank');
      const hank = await t.batonUser('hank');
      const removed = (order: string[]) =>
        order.map((kind) =>
          kind === 'installationUpdate'
            ? activityFrom('installation-update', t.people.hank!, t.connector.url, { action: 'remove' })
            : activityFrom('installation-update', t.people.hank!, t.connector.url, {
                type: 'conversationUpdate',
                action: undefined,
                membersRemoved: [{ id: TEAMS_BOT_ID }],
              }),
        );
      for (const order of [
        ['installationUpdate', 'conversationUpdate'],
        ['conversationUpdate', 'installationUpdate'],
        ['conversationUpdate'],
      ]) {
        await t.install('hank');
        for (const activity of removed(order)) expect((await t.send(activity)).statusCode).toBe(200);
        await t.idle();
        const ref = await t.rt.baton.conversations.get('teams', hank._id);
        expect(ref?.conversationId, order.join(' then ')).toBeUndefined();
      }
    } finally {
      await t.close();
    }
  });

  it('forgets the personal chat: later tasks are noted as undelivered instead of posted into it', async () => {
    const t = await startTeamsTestApp({ recipesDir: recipesDir(QUICK) });
    try {
      const { activityFrom } = await import('../helpers/teams.js');
      await t.install('alice');
      await t.install('hank');
      const hank = await t.batonUser('hank');
      expect(await t.rt.baton.conversations.get('teams', hank._id)).toMatchObject({
        conversationId: t.people.hank!.conversationId,
      });
      t.connector.installed.delete(t.people.hank!.id);
      const res = await t.send(
        activityFrom('installation-update', t.people.hank!, t.connector.url, { action: 'remove' }),
      );
      expect(res.statusCode).toBe(200);
      await t.idle();
      const ref = await t.rt.baton.conversations.get('teams', hank._id);
      expect(ref?.conversationId).toBeUndefined();
      expect(ref?.userId).toBe(t.people.hank!.id);

      const admin = await t.rt.baton.users.resolve({
        provider: 'web',
        id: 'admin',
        email: 'admin@example.com',
      });
      await t.rt.baton.groups.create(admin, 'hr');
      await t.rt.baton.groups.addMember(admin, 'hr', hank._id);
      const posted = t.connector.posts(t.people.hank!.conversationId).length;
      await t.rt.baton.requests.file(await t.batonUser('alice'), 'quick', {});
      const task = await eventually(async () => (await t.rt.baton.tasks.listForRequest('QUICK-1'))[0]);
      const job = await eventually(async () => {
        const j = await t.rt.baton.ctx.db.jobs.findOne({ _id: task.job_id! });
        return j?.log.some((l) => l.action === 'deliver:teams') ? j : null;
      });
      expect(job.log.find((l) => l.action === 'deliver:teams')?.error).toMatch(
        /does not have Baton installed/,
      );
      expect(t.connector.posts(t.people.hank!.conversationId)).toHaveLength(posted);
    } finally {
      await t.close();
    }
  });
});
