import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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

const DESK = {
  'desk.yaml': `
kind: app
key: desk
name: Desk
id_prefix: DESK
stages: [Asked, Done, Refused]
fields:
  - { key: where, label: Where, type: text }
`,
  'desk-recipe.yaml': `
kind: recipe
name: desk-flow
trigger: { type: new_request, app: desk }
steps:
  - id: facilities
    action: assign_task
    to: group:facilities
    title: Find a desk
  - action: change_stage
    stage: "{{ steps.facilities.outcome = 'Approve' ? 'Done' : 'Refused' }}"
`,
};

/**
 * A task for a group nobody is in: it is created (and waits), and the requester and the admins
 * are told in Slack, the request's history says why; a member added later gets the task.
 */
describe('Slack: a task for a group with no members', () => {
  let rt: TestRuntime;
  let fake: FakeSlackApi;
  let surface: TestSurface;
  let p: Record<string, User>;

  beforeEach(async () => {
    fake = new FakeSlackApi();
    await fake.start();
    rt = await startTestRuntime({ recipesDir: recipesDir(DESK) });
    p = await seedPeople(rt.baton);
    await rt.baton.users.setRole(p.admin!, p.bob!._id, 'admin');
    await linkSlackPeople(rt.baton, fake);
    await rt.baton.groups.create(p.admin!, 'facilities', 'Facilities');
    surface = await startTestSurface(rt.baton, fake);
  });
  afterEach(async () => {
    await surface?.stop();
    await rt?.close();
    await fake.stop();
  });

  const dmText = (who: string, part: string) =>
    eventually(async () =>
      fake
        .of('chat.postMessage')
        .map((a) => a as unknown as Posted)
        .filter((a) => a.channel === dm(who))
        .map((a) => `${a.text} ${JSON.stringify(a.blocks ?? [])}`)
        .find((t) => t.includes(part)),
    );

  it('tells the requester and every admin, records why, and a member added later gets the task', async () => {
    const request = await rt.baton.requests.file(p.alice!, 'desk', { where: 'Floor 2' });
    const task = await eventually(async () => (await rt.baton.tasks.listForRequest(request._id))[0]);
    expect(task.status).toBe('open');

    const nobody =
      'Nobody can act on \\"Find a desk\\": it is assigned to group facilities, which has no members.';
    const alice = await dmText('alice', 'is held up');
    expect(alice).toContain(`Your request ${request._id} is held up: ${nobody.replaceAll('\\"', '"')}`);
    expect(alice).toContain("Baton's admins have been told.");
    for (const admin of ['admin', 'bob']) {
      const text = await dmText(admin, 'has no members');
      expect(text).toContain(
        'Add members to facilities ("admin groups add facilities @someone", after /baton in Slack',
      );
    }
    const history = (await rt.baton.requests.get(p.admin!, request._id)).history;
    expect(history.find((h) => h.type === 'problem')!.text).toMatch(
      /^Nobody can act on "Find a desk": it is assigned to group facilities, which has no members\. Add members/,
    );
    // The requester reads what holds the request up, without the admins' commands.
    expect(
      (await rt.baton.requests.get(p.alice!, request._id)).history.find((h) => h.type === 'problem')!.text,
    ).toBe(
      'Nobody can act on "Find a desk": it is assigned to group facilities, which has no members. An admin has been told.',
    );
    // The job's log shows it waiting on the task, not failed.
    const [job] = await rt.baton.recipes.listJobs(p.admin!, { status: 'waiting' });
    expect(job!.request_id).toBe(request._id);

    // An admin adds Hank: he gets the task in Slack, approves, and the request moves.
    await rt.baton.groups.addMember(p.admin!, 'facilities', p.hank!._id);
    const copy = await eventually(async () =>
      (await rt.baton.deliveries.taskDeliveries(task._id, 'slack')).find((d) => d.user === p.hank!._id),
    );
    const posted = fake
      .of('chat.postMessage')
      .map((a) => a as unknown as Posted)
      .find((a) => a.channel === dm('hank') && Array.isArray(a.blocks) && buttonsOf(a.blocks).length > 0)!;
    const body = fixture<BlockActionsFixture>('task-block-actions.json');
    body.user.id = SLACK.hank!.id;
    body.channel!.id = copy.ref.channel!;
    body.container.channel_id = copy.ref.channel!;
    body.container.message_ts = copy.ref.ts!;
    body.message!.ts = copy.ref.ts!;
    body.actions[0]!.value = buttonsOf(posted.blocks)[0]!.value!;
    expect((await surface.interact(body)).status).toBe(200);
    await eventually(async () => (await rt.baton.requests.load(request._id))!.stage === 'Done');
    // Told once: the requester got one notice about it.
    expect(
      fake
        .of('chat.postMessage')
        .filter((a) => a.channel === dm('alice') && String(a.text).includes('held up')),
    ).toHaveLength(1);
  });
});
