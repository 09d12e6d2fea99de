import { afterEach, describe, expect, it } from 'vitest';
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
} from './tasks-harness.js';

const BOARD = (quorum: string) => ({
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
    quorum: ${quorum}
  - action: change_stage
    stage: "{{ steps.board.outcome = 'Approve' ? 'Approved' : 'Rejected' }}"
`,
});

/**
 * A group task with a quorum, on Slack: after one member answers, every copy says where it
 * stands ("Approved by Bob Manager — 1 of 3 responses, waiting for Hank HR and Hedy HR"), the
 * one who answered has no buttons left, and the decision replaces that line on every copy.
 */
describe('Slack: group tasks with a quorum show their partial state', () => {
  let rt: TestRuntime;
  let fake: FakeSlackApi;
  let surface: TestSurface;
  let p: Record<string, User>;

  async function start(quorum: string): Promise<void> {
    fake = new FakeSlackApi();
    await fake.start();
    rt = await startTestRuntime({ recipesDir: recipesDir(BOARD(quorum)) });
    p = await seedPeople(rt.baton);
    await linkSlackPeople(rt.baton, fake);
    await rt.baton.groups.create(p.admin!, 'board', 'The board');
    for (const who of ['bob', 'hank', 'hedy'])
      await rt.baton.groups.addMember(p.admin!, 'board', p[who]!._id);
    surface = await startTestSurface(rt.baton, fake);
  }
  afterEach(async () => {
    await surface?.stop();
    await rt?.close();
    await fake?.stop();
  });

  const copyOf = async (taskId: string, who: string) => {
    const d = await eventually(async () =>
      (await rt.baton.deliveries.taskDeliveries(taskId, 'slack')).find((x) => x.user === p[who]!._id),
    );
    return d.ref as { channel: string; ts: string };
  };

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

  /** The latest version of a copy as Slack shows it (its last chat.update, else the post). */
  const latest = (copy: { channel: string; ts: string }): Posted | undefined => {
    const updates = fake
      .of('chat.update')
      .filter((a) => a.channel === copy.channel && a.ts === copy.ts)
      .map((a) => a as unknown as Posted);
    return updates.at(-1);
  };
  const until = (copy: { channel: string; ts: string }, check: (m: Posted) => boolean) =>
    eventually(async () => {
      const m = latest(copy);
      return m && check(m) ? m : null;
    });
  const text = (m: Posted) => JSON.stringify(m.blocks);

  it('mode all: 1 of 3 after the first answer, on every copy; the decision replaces it', async () => {
    await start('{ mode: all }');
    const request = await rt.baton.requests.file(p.alice!, 'policy', { title: 'Remote work' });
    const [task] = await rt.baton.tasks.listOpenFor(p.bob!);
    const copies = {
      bob: await copyOf(task!._id, 'bob'),
      hank: await copyOf(task!._id, 'hank'),
      hedy: await copyOf(task!._id, 'hedy'),
    };
    expect(copies.bob.channel).toBe(dm('bob'));
    const posted = fake
      .of('chat.postMessage')
      .map((a) => a as unknown as Posted)
      .find((a) => a.channel === dm('bob'))!;
    const approve = buttonsOf(posted.blocks).find((b) => b.text?.text === 'Approve')!.value!;

    expect((await click('bob', copies.bob, approve)).status).toBe(200);
    const partial = 'Approved by Bob Manager — 1 of 3 responses, waiting for Hank HR and Hedy HR';
    // The one who answered: where it stands, no buttons (they cannot answer twice).
    const bobs = await until(copies.bob, (m) => text(m).includes(partial));
    expect(buttonsOf(bobs.blocks)).toEqual([]);
    expect(bobs.text).toContain(partial);
    // The others: the same line, and their buttons.
    for (const who of ['hank', 'hedy'] as const) {
      const m = await until(copies[who], (x) => text(x).includes(partial));
      expect(buttonsOf(m.blocks).map((b) => b.text?.text)).toEqual(['Approve', 'Reject']);
    }
    expect((await rt.baton.requests.load(request._id))!.stage).toBe('Draft');
    // Bob's Home tab: the task with where it stands, no buttons; Hank's: the buttons.
    const home = async (who: string) => {
      const envelope = fixture<{ event: { user: string; channel: string }; event_id: string }>(
        'home-app-home-opened.json',
      );
      envelope.event.user = SLACK[who]!.id;
      envelope.event.channel = dm(who);
      envelope.event_id = `Ev${who}${Date.now()}`;
      const before = fake.of('views.publish').length;
      expect((await surface.event(envelope)).status).toBe(200);
      return eventually(
        async () =>
          fake
            .of('views.publish')
            .slice(before)
            .find((a) => a.user_id === SLACK[who]!.id)?.view as { blocks: Posted['blocks'] } | undefined,
      );
    };
    // Bob answered: the task no longer waits for him, so it leaves his Home tab.
    const bobHome = await home('bob');
    expect(JSON.stringify(bobHome.blocks)).not.toContain(partial);
    expect(buttonsOf(bobHome.blocks)).toEqual([]);
    expect(buttonsOf((await home('hank')).blocks).map((b) => b.text?.text)).toEqual(['Approve', 'Reject']);

    await click('hank', copies.hank, approve);
    const two = 'Approved by Bob Manager and Hank HR — 2 of 3 responses, waiting for Hedy HR';
    await until(copies.hedy, (m) => text(m).includes(two));
    await click('hedy', copies.hedy, approve);
    // Decided: every copy shows the decision, naming the three, and no longer the count.
    for (const who of ['bob', 'hank', 'hedy'] as const) {
      const m = await until(copies[who], (x) =>
        text(x).includes('Approved by Bob Manager, Hank HR and Hedy HR'),
      );
      expect(text(m)).not.toContain('responses, waiting for');
      expect(buttonsOf(m.blocks)).toEqual([]);
    }
    await eventually(async () => (await rt.baton.requests.load(request._id))!.stage === 'Approved');
  });

  it('mode count: "1 of 2 needed", and a dissent that leaves the quorum reachable says so', async () => {
    await start('{ mode: count, count: 2 }');
    await rt.baton.requests.file(p.alice!, 'policy', { title: 'Hot desks' });
    const [task] = await rt.baton.tasks.listOpenFor(p.bob!);
    const bob = await copyOf(task!._id, 'bob');
    const hedy = await copyOf(task!._id, 'hedy');
    const posted = fake
      .of('chat.postMessage')
      .map((a) => a as unknown as Posted)
      .find((a) => a.channel === dm('bob'))!;
    const [approve, reject] = buttonsOf(posted.blocks).map((b) => b.value!);
    await click('bob', bob, approve!);
    await until(hedy, (m) =>
      text(m).includes('Approved by Bob Manager — 1 of 2 needed, waiting for Hank HR or Hedy HR'),
    );
    await click('hedy', hedy, reject!);
    await until(bob, (m) =>
      text(m).includes('Approved by Bob Manager, rejected by Hedy HR — 1 of 2 needed, waiting for Hank HR'),
    );
  });
});
