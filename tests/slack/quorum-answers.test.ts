/**
 * A member's answer to a group task with a quorum, as Slack delivers it (signed
 * view_submission and block_actions over HTTP, the Web API on a local fake): the answer is
 * recorded without deciding the task, and the person is told so instead of hearing nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { renderRequestModal } from '../../adapters/slack/modals.js';
import { eventually } from '../helpers/runtime.js';
import { type SlackTestApp, slackFixture } from '../helpers/slack.js';
import { slackCommand, startSlackAcceptance } from './acceptance-harness.js';
import type { FakeSlackApi } from './tasks-harness.js';

let t: SlackTestApp | undefined;
let fake: FakeSlackApi | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
  await fake?.stop();
  fake = undefined;
});

type Button = { type: string; action_id?: string; value?: string; text?: { text: string } };
type Block = { type: string; elements?: Button[]; text?: { text: string } };

const FILES = {
  'offsite.yaml': `
kind: app
key: offsite
name: Team offsite
stages: [Proposed, Agreed, Declined]
fields:
  - { key: place, label: Place, type: text, required: true }
`,
  'vote.yaml': `
kind: recipe
name: offsite-vote
trigger: { type: new_request, app: offsite }
steps:
  - id: vote
    action: assign_task
    to: group:team
    title: "Offsite at {{ record.place }}?"
    outcomes: [Yes, No]
    quorum: { mode: count, count: 2 }
  - action: change_stage
    stage: "{{ steps.vote.outcome = 'Yes' ? 'Agreed' : 'Declined' }}"
`,
};

async function fileOffsite(place: string): Promise<void> {
  const payload = slackFixture<Record<string, unknown> & { view: Record<string, unknown> }>(
    'view-submission-request',
  );
  payload.user = { id: 'U0ALICE', username: 'alice', name: 'alice', team_id: 'T0TEST' };
  payload.view.private_metadata = 'offsite';
  payload.view.blocks = renderRequestModal(await t!.rt.baton.apps.get('offsite')).blocks;
  payload.view.state = { values: { place: { value: { type: 'plain_text_input', value: place } } } };
  expect((await t!.interact(payload)).statusCode).toBe(200);
}

async function taskPost(channel: string): Promise<{ blocks: Block[]; ts: string; channel: string }> {
  const post = await eventually(async () =>
    fake!.calls.find(
      (c) =>
        c.method === 'chat.postMessage' &&
        c.args.channel === channel &&
        JSON.stringify(c.args.blocks ?? []).includes('task_id'),
    ),
  );
  const taskId = /"task_id\\":\\"([^\\]+)\\"/.exec(JSON.stringify(post.args.blocks))![1]!;
  const copy = await eventually(async () =>
    (await t!.rt.baton.deliveries.taskDeliveries(taskId, 'slack')).find((d) => d.ref.channel === channel),
  );
  return { blocks: post.args.blocks as Block[], ts: copy.ref.ts!, channel };
}

function click(slackUser: string, message: { channel: string; ts: string; blocks: Block[] }, label: string) {
  const button = message.blocks
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? [])
    .find((e) => e.type === 'button' && e.text?.text === label)!;
  const payload = slackFixture<Record<string, unknown>>('task-block-actions.json');
  payload.user = { id: slackUser, username: slackUser.toLowerCase(), name: 'x', team_id: 'T0TEST' };
  payload.container = {
    type: 'message',
    message_ts: message.ts,
    channel_id: message.channel,
    is_ephemeral: false,
  };
  payload.channel = { id: message.channel, name: 'directmessage' };
  payload.message = { ...(payload.message as object), ts: message.ts };
  payload.actions = [
    {
      type: 'button',
      action_id: button.action_id,
      block_id: 'x',
      text: { type: 'plain_text', text: label, emoji: true },
      value: button.value,
      action_ts: '1700000042.123456',
    },
  ];
  return t!.interact(payload);
}

describe('answering a group task with a quorum from Slack', () => {
  it('tells the member their answer is recorded and what the task waits for, takes the buttons off their copy, and drops it from their tasks', async () => {
    ({ t, fake } = await startSlackAcceptance(FILES));
    const { baton } = t.rt;
    const admin = await t.batonUser('admin');
    await baton.groups.create(admin, 'team', 'The team');
    for (const who of ['bob', 'carol', 'mallory'])
      await baton.groups.addMember(admin, 'team', (await t.batonUser(who))._id);

    await fileOffsite('Lisbon');
    const bobs = await taskPost('D0BOB');
    const carols = await taskPost('D0CAROL');

    expect((await click('U0BOB', bobs, 'Yes')).statusCode).toBe(200);
    const told = await eventually(async () =>
      fake!.of('chat.postEphemeral').find((m) => m.user === 'U0BOB' && m.channel === 'D0BOB'),
    );
    expect(told.text).toBe(
      ':ballot_box_with_check: Your answer *Yes* on *Offsite at Lisbon?* is recorded; the task waits for 1 more response.',
    );
    const update = await eventually(async () =>
      fake!.of('chat.update').find((u) => u.channel === 'D0BOB' && u.ts === bobs.ts),
    );
    // Bob's copy says where it stands, without buttons; Carol's says so too, with hers.
    const json = JSON.stringify(update.blocks);
    expect(json).toContain('1 of 2');
    expect(json).not.toContain('task_id');
    const carolsCopy = await eventually(async () =>
      fake!
        .of('chat.update')
        .find((u) => u.channel === 'D0CAROL' && JSON.stringify(u.blocks).includes('1 of 2')),
    );
    expect(JSON.stringify(carolsCopy.blocks)).toContain('task_id');
    expect((await baton.requests.get(admin, 'OFFSITE-1')).stage).toBe('Proposed');

    // Bob has nothing left to do; Carol has.
    expect((await slackCommand(t, fake, 'tasks', 'bob')).text).toContain('no open tasks');
    expect((await slackCommand(t, fake, 'tasks', 'carol')).text).toContain('Offsite at Lisbon?');

    // Carol's Yes makes two: decided, every copy closed.
    expect((await click('U0CAROL', carols, 'Yes')).statusCode).toBe(200);
    await eventually(async () => (await baton.requests.get(admin, 'OFFSITE-1')).stage === 'Agreed' || null);
    await eventually(async () => fake!.of('chat.update').find((u) => u.channel === 'D0CAROL'));
    expect(fake!.of('chat.postEphemeral').filter((m) => m.user === 'U0CAROL')).toEqual([]);
  });

  it('answered from the ephemeral /baton tasks list: the list is shown again with the confirmation, without that task', async () => {
    ({ t, fake } = await startSlackAcceptance(FILES));
    const { baton } = t.rt;
    const admin = await t.batonUser('admin');
    await baton.groups.create(admin, 'team', 'The team');
    for (const who of ['bob', 'carol'])
      await baton.groups.addMember(admin, 'team', (await t.batonUser(who))._id);
    await fileOffsite('Oslo');
    await taskPost('D0BOB');

    await t.command('tasks', 'bob', { response_url: `${fake.url}response` });
    const list = await eventually(async () => fake!.of('response')[0] as { blocks: Block[] } | undefined);
    const yes = list.blocks
      .filter((b) => b.type === 'actions')
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.type === 'button' && e.text?.text === 'Yes')!;
    const payload = slackFixture<Record<string, unknown>>('task-block-actions.json');
    payload.user = { id: 'U0BOB', username: 'bob', name: 'bob', team_id: 'T0TEST' };
    payload.container = {
      type: 'message',
      message_ts: '1700000999.000100',
      channel_id: 'C0GEN',
      is_ephemeral: true,
    };
    payload.channel = { id: 'C0GEN', name: 'general' };
    delete payload.message;
    payload.response_url = `${fake.url}list`;
    payload.actions = [{ ...yes, block_id: 'x', type: 'button', action_ts: '1700000042.123456' }];
    expect((await t.interact(payload)).statusCode).toBe(200);

    const refreshed = await eventually(async () => fake!.of('list')[0]);
    expect(refreshed.replace_original).toBe(true);
    const json = JSON.stringify(refreshed.blocks);
    expect(json).toContain(
      'Your answer *Yes* on *Offsite at Oslo?* is recorded; the task waits for 1 more response.',
    );
    expect(json).toContain('You have no open tasks');
    expect((await baton.requests.get(admin, 'OFFSITE-1')).stage).toBe('Proposed');
  });
});
