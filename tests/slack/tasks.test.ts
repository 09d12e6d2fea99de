import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { slackQueue } from '../../adapters/slack/tasks.js';
import type { User } from '../../src/core/types.js';
import {
  eventually,
  recipesDir,
  seedPeople,
  startTestRuntime,
  type TestRuntime,
} from '../helpers/runtime.js';
import {
  type BlockActionsFixture,
  buttonsOf,
  dm,
  FakeSlackApi,
  fixture,
  linkSlackPeople,
  type Posted,
  SLACK,
  startTestSurface,
  type TestSurface,
  type ViewSubmissionFixture,
} from './tasks-harness.js';

const QUICK = {
  'quick.yaml': `
kind: app
key: quick
name: Quick
stages: [Submitted, Approved, Expired]
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
    expires_in: 2s
  - action: change_stage
    stage: "{{ steps.t.status = 'expired' ? 'Expired' : 'Approved' }}"
`,
};

describe('Slack: tasks in chat (signed HTTP, real runtime, fake Web API)', () => {
  let rt: TestRuntime;
  let fake: FakeSlackApi;
  let surface: TestSurface;
  let p: Record<string, User>;

  beforeEach(async () => {
    fake = new FakeSlackApi();
    await fake.start();
    rt = await startTestRuntime({ recipesDir: recipesDir(QUICK, ['recipes/time-off']) });
    p = await seedPeople(rt.baton);
    await linkSlackPeople(rt.baton, fake);
    surface = await startTestSurface(rt.baton, fake);
  });
  afterEach(async () => {
    await surface?.stop();
    await rt?.close();
    await fake.stop();
  });

  const file = (days: number, approver = p.bob!._id) =>
    rt.baton.requests.file(p.alice!, 'time-off', {
      type: 'Vacation',
      start: '2026-12-01',
      days,
      approver,
      reason: 'Family trip',
    });

  /** The task message posted to someone's DM (waits for it). */
  const postedTo = (who: string, titlePart = 'Time off') =>
    eventually(async () => {
      const m = fake
        .of('chat.postMessage')
        .map((a) => a as unknown as Posted)
        .find((a) => a.channel === dm(who) && a.text.includes(titlePart) && Array.isArray(a.blocks));
      if (!m) return null;
      const res = fake.calls.filter((c) => c.method === 'chat.postMessage');
      // The ts the fake answered is recorded as the delivery: read it back from the core.
      return { ...m, posts: res.length };
    });

  const copyOf = async (taskId: string, who: string) => {
    const d = await eventually(async () =>
      (await rt.baton.deliveries.taskDeliveries(taskId, 'slack')).find((x) => x.user === p[who]!._id),
    );
    return d.ref as { channel: string; ts: string };
  };

  /** A block_actions payload as Slack sends it when `who` presses `outcome` on a copy. */
  const click = (who: string, copy: { channel: string; ts: string }, value: string) => {
    const body = fixture<BlockActionsFixture>('task-block-actions.json');
    body.user.id = SLACK[who]!.id;
    body.user.username = who;
    body.user.name = who;
    body.channel!.id = copy.channel;
    body.container.channel_id = copy.channel;
    body.container.message_ts = copy.ts;
    body.message!.ts = copy.ts;
    body.actions[0]!.value = value;
    return surface.interact(body);
  };

  const updatesOf = (copy: { channel: string; ts: string }) =>
    fake
      .of('chat.update')
      .filter((a) => a.channel === copy.channel && a.ts === copy.ts)
      .map((a) => a as unknown as Posted);

  it('leave flow: DM with buttons → signed click → the copy shows the outcome, the requester is told', async () => {
    const request = await file(2);
    const [task] = await rt.baton.tasks.listOpenFor(p.bob!);
    const posted = await postedTo('bob');
    const buttons = buttonsOf(posted.blocks);
    expect(buttons.map((b) => b.text?.text)).toEqual(['Approve', 'Reject']);
    expect(JSON.stringify(posted.blocks)).toContain('PTO-1');
    expect(fake.of('conversations.open').map((a) => a.users)).toContain(SLACK.bob!.id);
    const copy = await copyOf(task!._id, 'bob');
    expect(copy.channel).toBe(dm('bob'));

    const res = await click('bob', copy, buttons[0]!.value!);
    expect(res.status).toBe(200);

    const update = await eventually(async () => updatesOf(copy).at(-1));
    expect(update.text).toContain('Approved by Bob Manager');
    // "Approved by Bob Manager", and when (a Slack date token: each reader's own time zone).
    expect(JSON.stringify(update.blocks)).toContain('*Approved by Bob Manager*');
    expect(JSON.stringify(update.blocks)).toMatch(
      /Closed <!date\^\d+\^\{date_short_pretty\}\|[^>]+> at <!date\^\d+\^\{time\}/,
    );
    expect(buttonsOf(update.blocks)).toEqual([]);
    // The closed card shows the stage the decision led to, not the one before it.
    expect(JSON.stringify(update.blocks)).toContain('Stage: Approved');

    const note = await eventually(async () =>
      fake
        .of('chat.postMessage')
        .find((a) => a.channel === dm('alice') && String(a.text).includes('approved')),
    );
    expect(note.text).toBe(`Your time off ${request._id} (2 days from 2026-12-01) was approved.`);
    await eventually(async () => {
      const [n] = await rt.baton.deliveries.notificationsFor(p.alice!);
      return n?.status === 'delivered' && n.deliveries[0]?.surface === 'slack';
    });
    expect((await rt.baton.requests.get(p.alice!, request._id)).stage).toBe('Approved');
    // A re-emitted notification (a restart's recovery) is not posted again.
    const [n] = await rt.baton.deliveries.notificationsFor(p.alice!);
    const before = fake.of('chat.postMessage').length;
    rt.baton.events.emit('notification', { ...n!, status: 'pending' });
    await slackQueue(surface.deps).idle();
    expect(fake.of('chat.postMessage').length).toBe(before);
  });

  it('group task: every member gets a copy; one approval updates them all; racing clicks give one outcome', async () => {
    await file(8);
    const [managerTask] = await rt.baton.tasks.listOpenFor(p.bob!);
    await rt.baton.tasks.complete(p.bob!, managerTask!._id, 'Approve');
    const [hr] = await eventually(async () => {
      const open = await rt.baton.tasks.listOpenFor(p.hank!);
      return open.length > 0 ? open : null;
    });
    const hankCopy = await copyOf(hr!._id, 'hank');
    const hedyCopy = await copyOf(hr!._id, 'hedy');
    expect(hankCopy.channel).toBe(dm('hank'));
    expect(hedyCopy.channel).toBe(dm('hedy'));
    const posted = await postedTo('hedy', 'approved by manager');
    const approve = buttonsOf(posted.blocks).find((b) => b.text?.text === 'Approve')!.value!;

    // Hank double-clicks while Hedy clicks too.
    const results = await Promise.all([
      click('hank', hankCopy, approve),
      click('hank', hankCopy, approve),
      click('hedy', hedyCopy, approve),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);

    const done = await eventually(async () => {
      const t = await rt.baton.tasks.load(hr!._id);
      return t?.status === 'completed' ? t : null;
    });
    expect(done.responses).toHaveLength(1);
    const winner = done.completed_by === p.hank!._id ? 'Hank HR' : 'Hedy HR';

    const ephemerals = await eventually(async () => {
      const e = fake.of('chat.postEphemeral');
      return e.length >= 2 ? e : null;
    });
    expect(ephemerals).toHaveLength(2);
    for (const e of ephemerals) expect(String(e.text)).toMatch(new RegExp(`^Already approved by ${winner}`));

    for (const copy of [hankCopy, hedyCopy]) {
      const u = await eventually(async () =>
        updatesOf(copy).find((x) => x.text.includes(`Approved by ${winner}`)),
      );
      expect(buttonsOf(u.blocks)).toEqual([]);
    }
    // Every post was a distinct copy: one per member, never two for one person.
    const hrPosts = fake.of('chat.postMessage').filter((a) => String(a.text).includes('approved by manager'));
    expect(hrPosts.map((a) => a.channel).sort()).toEqual([dm('hank'), dm('hedy')].sort());
  });

  it('an unauthorized click gets an ephemeral refusal and changes nothing', async () => {
    await file(2);
    const [task] = await rt.baton.tasks.listOpenFor(p.bob!);
    const posted = await postedTo('bob');
    const approve = buttonsOf(posted.blocks)[0]!.value!;
    const copy = await copyOf(task!._id, 'bob');
    // Mallory replays Bob's button from her own DM with the bot.
    const res = await click('mallory', { channel: dm('mallory'), ts: '1700009999.000100' }, approve);
    expect(res.status).toBe(200);
    const refusal = await eventually(async () => fake.of('chat.postEphemeral')[0]);
    expect(refusal.user).toBe(SLACK.mallory!.id);
    expect(String(refusal.text)).toContain("You can't act on");
    expect((await rt.baton.tasks.load(task!._id))!.status).toBe('open');
    expect(updatesOf(copy)).toEqual([]);
    // A forged value naming an outcome the task does not have is refused too.
    await click('bob', copy, JSON.stringify({ task_id: task!._id, outcome: 'Approve all' }));
    await eventually(async () => fake.of('chat.postEphemeral').length === 2);
    expect(String(fake.of('chat.postEphemeral')[1]!.text)).toContain('is not an outcome');
    expect((await rt.baton.tasks.load(task!._id))!.status).toBe('open');
  });

  it('a comment-required outcome opens a modal; its submission completes the task; errors come back inline', async () => {
    await file(8);
    const [managerTask] = await rt.baton.tasks.listOpenFor(p.bob!);
    await rt.baton.tasks.complete(p.bob!, managerTask!._id, 'Approve');
    const [hr] = await eventually(async () => {
      const open = await rt.baton.tasks.listOpenFor(p.hedy!);
      return open.length > 0 ? open : null;
    });
    const posted = await postedTo('hedy', 'approved by manager');
    const reject = buttonsOf(posted.blocks).find((b) => b.text?.text === 'Reject')!.value!;
    const copy = await copyOf(hr!._id, 'hedy');
    await click('hedy', copy, reject);
    const opened = await eventually(async () => fake.of('views.open')[0]);
    const view = opened.view as {
      callback_id: string;
      private_metadata: string;
      blocks: { block_id?: string }[];
    };
    expect(opened.trigger_id).toBe(fixture<{ trigger_id: string }>('task-block-actions.json').trigger_id);
    expect(JSON.parse(view.private_metadata)).toEqual({ task_id: hr!._id, outcome: 'Reject' });
    expect((await rt.baton.tasks.load(hr!._id))!.status).toBe('open');

    const submission = fixture<ViewSubmissionFixture>('task-view-submission.json');
    submission.view.private_metadata = view.private_metadata;
    submission.view.callback_id = view.callback_id;
    submission.view.blocks = view.blocks;
    submission.view.state.values.comment!.value!.value = '   ';
    const invalid = await surface.interact(submission);
    expect(invalid.status).toBe(200);
    expect(JSON.parse(invalid.body)).toEqual({
      response_action: 'errors',
      errors: { comment: 'A comment is required to Reject' },
    });

    submission.view.state.values.comment!.value!.value = 'Team offsite that week\nAsk again in May';
    // Submitted twice at once (a double submit), then once more (Slack resending it after a
    // slow answer): one answer is recorded and every submission closes the modal.
    const [ok, twice] = await Promise.all([surface.interact(submission), surface.interact(submission)]);
    const again = await surface.interact(submission);
    for (const res of [ok, twice, again]) {
      expect(res.status).toBe(200);
      expect(res.body).toBe('');
    }
    const trail = await rt.baton.requests.history(hr!.request_id);
    expect(trail.filter((h) => h.type === 'task_completed' && h.data?.task_id === hr!._id)).toHaveLength(1);
    const t = (await rt.baton.tasks.load(hr!._id))!;
    expect(t).toMatchObject({
      status: 'completed',
      outcome: 'Reject',
      comment: 'Team offsite that week\nAsk again in May',
    });
    expect(t.completed_by).toBe(p.hedy!._id);
    for (const who of ['hank', 'hedy']) {
      const c = await copyOf(hr!._id, who);
      const u = await eventually(async () =>
        updatesOf(c).find((x) => x.text.includes('Rejected by Hedy HR')),
      );
      // Both lines of the comment.
      expect(JSON.stringify(u.blocks)).toContain(
        JSON.stringify('Team offsite that week\nAsk again in May').slice(1, -1),
      );
    }
    // Someone else's late submission (their modal stayed open) says who closed it.
    const late = await surface.interact({ ...submission, user: { id: SLACK.hank!.id } });
    expect(JSON.parse(late.body).errors.comment).toMatch(/^Already rejected by Hedy HR/);
  });

  it('expiry updates every copy to say it expired', async () => {
    await rt.baton.requests.file(p.alice!, 'quick', { note: 'x' });
    const [task] = await rt.baton.tasks.listOpenFor(p.hank!);
    const copies = [await copyOf(task!._id, 'hank'), await copyOf(task!._id, 'hedy')];
    for (const copy of copies) {
      const u = await eventually(async () => updatesOf(copy).find((x) => x.text.includes('Expired')));
      expect(JSON.stringify(u.blocks)).toContain('Expired');
      expect(buttonsOf(u.blocks)).toEqual([]);
    }
    // A click on the stale copy: told when it expired, and the copy is refreshed again.
    const before = updatesOf(copies[0]!).length;
    await click('hank', copies[0]!, JSON.stringify({ task_id: task!._id, outcome: 'Approve' }));
    const e = await eventually(async () => fake.of('chat.postEphemeral')[0]);
    expect(String(e.text)).toMatch(/^This task expired/);
    await eventually(async () => updatesOf(copies[0]!).length > before);
  });

  it('reassigning updates the old copy and DMs the new assignee', async () => {
    await file(2);
    const [task] = await rt.baton.tasks.listOpenFor(p.bob!);
    const bobCopy = await copyOf(task!._id, 'bob');
    await rt.baton.tasks.reassign(p.bob!, task!._id, p.hank!._id);
    const u = await eventually(async () => updatesOf(bobCopy).at(-1));
    expect(u.text).toContain('Reassigned to Hank HR by you');
    expect(buttonsOf(u.blocks)).toEqual([]);
    const hankCopy = await copyOf(task!._id, 'hank');
    expect(hankCopy.channel).toBe(dm('hank'));

    // An admin hands it on again: Hank's copy says who did, and when (a Slack date token).
    await rt.baton.tasks.reassign(p.admin!, task!._id, p.hedy!._id);
    const h = await eventually(async () =>
      updatesOf(hankCopy).find((x) => x.text.includes('Reassigned to Hedy HR')),
    );
    expect(h.text).toContain('Reassigned to Hedy HR by Ada Admin');
    expect(JSON.stringify(h.blocks)).toContain('Reassigned to Hedy HR by Ada Admin');
    expect(JSON.stringify(h.blocks)).toMatch(/Closed <!date\^\d+\^\{date_short_pretty\}/);
    expect(buttonsOf(h.blocks)).toEqual([]);
    // Bob's older copy says the same now.
    await eventually(async () =>
      updatesOf(bobCopy).find((x) => x.text.includes('Reassigned to Hedy HR by Ada Admin')),
    );
  });

  it('a notification Slack refuses for good is marked undeliverable (and stays in the portal)', async () => {
    await file(2);
    const [task] = await rt.baton.tasks.listOpenFor(p.bob!);
    await copyOf(task!._id, 'bob');
    fake.failures.set('conversations.open', 'cannot_dm_bot');
    await rt.baton.tasks.complete(p.bob!, task!._id, 'Approve');
    const [n] = await eventually(async () => {
      const list = await rt.baton.deliveries.notificationsFor(p.alice!);
      return list[0]?.status === 'undeliverable' ? list : null;
    });
    expect(n!.deliveries[0]).toMatchObject({ surface: 'slack', error: 'cannot_dm_bot' });
    // The copy was still updated (chat.update needs no DM lookup).
    await eventually(async () => fake.of('chat.update').length > 0);
  });

  /**
   * Bob's click on Approve in the ephemeral `/baton tasks` list he got in `channel`, as Slack
   * sends it: no message, is_ephemeral true, and the list's response_url (…/`list`/ephemeral).
   */
  const listClick = (channel: string, list: string, taskId: string) => {
    const body = fixture<BlockActionsFixture>('task-block-actions.json');
    body.user = { id: SLACK.bob!.id, username: 'bob', name: 'bob' };
    body.channel = { id: channel };
    body.container = { type: 'message', channel_id: channel, message_ts: '1700000999.000100' };
    (body.container as Record<string, unknown>).is_ephemeral = true;
    delete body.message;
    (body as unknown as Record<string, unknown>).response_url =
      `${fake.url.replace(/api\/$/, '')}actions/T0BATON001/${list}/ephemeral`;
    body.actions[0]!.value = JSON.stringify({ task_id: taskId, outcome: 'Approve' });
    return body;
  };

  it('a click on the ephemeral `/baton tasks` list re-renders the list in place through response_url', async () => {
    await file(2);
    await file(3);
    const [first, second] = await rt.baton.tasks.listOpenFor(p.bob!);
    await postedTo('bob');
    const body = listClick('C0GENERAL', '1', first!._id);
    expect((await surface.interact(body)).status).toBe(200);

    const replaced = await eventually(async () =>
      fake.calls.find((c) => c.method === '/actions/T0BATON001/1/ephemeral'),
    );
    expect(replaced.args.replace_original).toBe(true);
    const blocks = JSON.stringify(replaced.args.blocks);
    // The decided task is gone from the list, with a note saying what happened; the other stays actionable.
    expect(blocks).toContain('approved by you');
    expect(blocks).not.toContain(first!._id);
    expect(blocks).toContain(second!._id);
    expect((await rt.baton.tasks.load(first!._id))?.status).toBe('completed');
    // No chat.update was aimed at the ephemeral message (Slack would refuse it).
    expect(fake.of('chat.update').some((u) => u.ts === '1700000999.000100')).toBe(false);

    // Clicking the same (stale) button again: refused, and the list is refreshed once more.
    expect((await surface.interact(body)).status).toBe(200);
    await eventually(
      async () => fake.calls.filter((c) => c.method === '/actions/T0BATON001/1/ephemeral').length === 2,
    );
    const again = fake.calls.filter((c) => c.method === '/actions/T0BATON001/1/ephemeral')[1]!;
    expect(JSON.stringify(again.args.blocks)).toContain('Already approved by Bob Manager');
  });

  it('a refused click on the ephemeral list is answered in the list: Slack refuses ephemeral messages in a channel Baton is not in', async () => {
    await file(2);
    const [task] = await rt.baton.tasks.listOpenFor(p.bob!);
    await postedTo('bob');
    // `/baton tasks` typed in a private channel Baton was never added to.
    fake.failWhen = (method, args) =>
      method === 'chat.postEphemeral' && args.channel === 'C0PRIVATE' ? 'channel_not_found' : undefined;
    // Meanwhile the task went to Hedy (the portal's Reassign).
    await rt.baton.tasks.reassign(p.bob!, task!._id, p.hedy!._id);
    expect((await surface.interact(listClick('C0PRIVATE', '2', task!._id))).status).toBe(200);
    const replaced = await eventually(async () =>
      fake.calls.find((c) => c.method === '/actions/T0BATON001/2/ephemeral'),
    );
    expect(JSON.stringify(replaced.args.blocks)).toContain('it is assigned to Hedy HR');
    expect(JSON.stringify(replaced.args.blocks)).toContain('You have no open tasks');
    expect(fake.of('chat.postEphemeral')).toEqual([]);
    expect((await rt.baton.tasks.load(task!._id))?.status).toBe('open');
  });

  it('a person without a Slack identity is skipped (the task stays open for other surfaces)', async () => {
    await file(2, p.carol!._id);
    const [task] = await rt.baton.tasks.listOpenFor(p.carol!);
    // The requester's confirmation-free flow posts nothing else: wait for the queue, then check.
    await rt.baton.requests.file(p.alice!, 'time-off', {
      start: '2026-12-01',
      days: 1,
      approver: p.bob!._id,
    });
    await postedTo('bob');
    expect(await rt.baton.deliveries.taskDeliveries(task!._id, 'slack')).toEqual([]);
    expect((await rt.baton.tasks.load(task!._id))!.status).toBe('open');
  });

  it('a burst (a group of 50) is paced: a bounded number of Web API calls in flight', async () => {
    for (let i = 0; i < 50; i++) {
      const id = `U0BURST${String(i).padStart(3, '0')}`;
      const person = { id, name: `Burst ${i}`, email: `burst${i}@example.com` };
      fake.people.set(id, person);
      const u = await rt.baton.users.resolve({ provider: 'slack', ...person });
      await rt.baton.groups.addMember(p.admin!, 'hr', u._id);
    }
    fake.delayMs = 20;
    await rt.baton.requests.file(p.alice!, 'quick', { note: 'burst' });
    const [task] = await rt.baton.tasks.listOpenFor(p.hank!);
    await eventually(
      async () => (await rt.baton.deliveries.taskDeliveries(task!._id, 'slack')).length === 52,
    );
    expect(fake.maxInFlight).toBeLessThanOrEqual(8);
    expect(
      fake.of('chat.postMessage').filter((a) => a.text === undefined || String(a.text).includes('Quick one')),
    ).toHaveLength(52);
  });
});

describe('Slack: a restart between posting and clicking', () => {
  it('the click on a copy posted by the previous process completes the task and updates the copy', async () => {
    const fake = new FakeSlackApi();
    await fake.start();
    const dir = recipesDir({}, ['recipes/time-off']);
    let rt = await startTestRuntime({ recipesDir: dir });
    const p = await seedPeople(rt.baton);
    await linkSlackPeople(rt.baton, fake);
    let surface = await startTestSurface(rt.baton, fake);
    try {
      await rt.baton.requests.file(p.alice!, 'time-off', {
        start: '2026-12-01',
        days: 1,
        approver: p.bob!._id,
      });
      const [task] = await rt.baton.tasks.listOpenFor(p.bob!);
      const delivery = await eventually(
        async () => (await rt.baton.deliveries.taskDeliveries(task!._id, 'slack'))[0],
      );
      const posted = fake.of('chat.postMessage')[0] as unknown as Posted;
      const approve = buttonsOf(posted.blocks)[0]!.value!;
      await surface.stop();
      await rt.close();

      rt = await startTestRuntime({ dataDir: rt.dataDir, recipesDir: dir });
      surface = await startTestSurface(rt.baton, fake);
      const body = fixture<BlockActionsFixture>('task-block-actions.json');
      body.channel!.id = delivery.ref.channel!;
      body.container.channel_id = delivery.ref.channel!;
      body.container.message_ts = delivery.ref.ts!;
      body.message!.ts = delivery.ref.ts!;
      body.actions[0]!.value = approve;
      expect((await surface.interact(body)).status).toBe(200);
      const update = await eventually(async () =>
        fake
          .of('chat.update')
          .find((a) => a.ts === delivery.ref.ts && String(a.text).includes('Approved by')),
      );
      expect(update.channel).toBe(delivery.ref.channel);
      const bob = (await rt.baton.users.lookup('bob@example.com'))!;
      expect((await rt.baton.tasks.load(task!._id))!.completed_by).toBe(bob._id);
      // Not posted again by the new process.
      expect(fake.of('chat.postMessage').filter((a) => String(a.text).includes('Time off'))).toHaveLength(1);
    } finally {
      await surface.stop();
      await rt.close();
      await fake.stop();
    }
  });
});

describe('Slack: kill -9 between claiming a copy and posting it', () => {
  it('the copy is posted by the redelivery at the next start, not minutes later', async () => {
    const fake = new FakeSlackApi();
    await fake.start();
    const dir = recipesDir({}, ['recipes/time-off']);
    // The first process files the request; its Slack poster claimed Bob's copy and died
    // before chat.postMessage (no surface here: the claim is taken by hand, as it was).
    let rt = await startTestRuntime({ recipesDir: dir });
    const p = await seedPeople(rt.baton);
    await linkSlackPeople(rt.baton, fake);
    await rt.baton.requests.file(p.alice!, 'time-off', {
      start: '2026-12-01',
      days: 1,
      approver: p.bob!._id,
    });
    const [task] = await rt.baton.tasks.listOpenFor(p.bob!);
    expect(await rt.baton.deliveries.claimOnce(`slack:task:${task!._id}:${p.bob!._id}`, 2 * 60_000)).toBe(
      true,
    );
    await rt.close();

    rt = await startTestRuntime({ dataDir: rt.dataDir, recipesDir: dir });
    const surface = await startTestSurface(rt.baton, fake);
    try {
      // What main.ts does once the server listens.
      await rt.baton.redeliver();
      const posted = await eventually(async () =>
        fake.of('chat.postMessage').find((a) => String(a.text).includes('Time off')),
      );
      expect(posted.channel).toBe(dm('bob'));
      await eventually(
        async () => (await rt.baton.deliveries.taskDeliveries(task!._id, 'slack')).length === 1,
      );
      // Redelivered again (the 5-minute sweep): still one copy.
      await rt.baton.redeliver();
      await slackQueue(surface.deps).idle();
      expect(fake.of('chat.postMessage').filter((a) => String(a.text).includes('Time off'))).toHaveLength(1);
    } finally {
      await surface.stop();
      await rt.close();
      await fake.stop();
    }
  });
});

describe('Slack: a task that expired while Baton was down', () => {
  it('its copies say it expired once Baton is back (the expiry fires before the surface listens)', async () => {
    const fake = new FakeSlackApi();
    await fake.start();
    const dir = recipesDir(QUICK);
    let rt = await startTestRuntime({ recipesDir: dir });
    const p = await seedPeople(rt.baton);
    await linkSlackPeople(rt.baton, fake);
    let surface = await startTestSurface(rt.baton, fake);
    try {
      await rt.baton.requests.file(p.alice!, 'quick', { note: 'x' });
      const [task] = await rt.baton.tasks.listOpenFor(p.hank!);
      const copies = await eventually(async () => {
        const d = await rt.baton.deliveries.taskDeliveries(task!._id, 'slack');
        return d.length === 2 ? d.map((x) => x.ref as { channel: string; ts: string }) : null;
      });
      await surface.stop();
      await rt.close();
      // Down until the task's expiry is past.
      await eventually(async () => Date.now() > task!.expires_at!.getTime() + 100);

      rt = await startTestRuntime({ dataDir: rt.dataDir, recipesDir: dir });
      // The scheduler fires the expiry at start, before any surface listens.
      await eventually(async () => (await rt.baton.tasks.load(task!._id))?.status === 'expired');
      // ...and the job resumed with it (the request's stage says so) before the surface starts.
      await eventually(
        async () => (await rt.baton.requests.get(p.admin!, task!.request_id)).stage === 'Expired',
      );
      surface = await startTestSurface(rt.baton, fake);
      for (const copy of copies) {
        const u = await eventually(async () =>
          fake
            .of('chat.update')
            .map((a) => a as unknown as Posted)
            .find((a) => a.channel === copy.channel && a.ts === copy.ts && a.text.includes('Expired')),
        );
        expect(buttonsOf(u.blocks)).toEqual([]);
      }
    } finally {
      await surface.stop();
      await rt.close();
      await fake.stop();
    }
  });
});
