/**
 * Slack refusing Baton's own token (revoked, expired, the app uninstalled) while a task copy or
 * a notification is posted: nothing is wrong with the person it is for, so once the token is
 * fixed what was owed to them is posted, once. Driven over HTTP as Slack would, with a local
 * fake of the Web API.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { renderRequestModal } from '../../adapters/slack/modals.js';
import { eventually } from '../helpers/runtime.js';
import { type SlackTestApp, slackFixture } from '../helpers/slack.js';
import { startSlackAcceptance } from './acceptance-harness.js';
import type { FakeSlackApi } from './tasks-harness.js';

let t: SlackTestApp | undefined;
let fake: FakeSlackApi | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
  await fake?.stop();
  fake = undefined;
});

const LEAVE = {
  'leave.yaml': `
kind: app
key: leave
name: Leave
stages: [Submitted, Approved, Rejected]
fields:
  - { key: approver, label: Approver, type: user, required: true }
`,
  'leave-recipe.yaml': `
kind: recipe
name: leave-approval
trigger: { type: new_request, app: leave }
steps:
  - id: t
    action: assign_task
    to: "{{ record.approver }}"
    title: "Leave for {{ requester.name }}"
  - action: notify
    to: "{{ request.requester }}"
    text: "Your leave {{ request.id }} was decided: {{ steps.t.outcome }}"
`,
};

async function submitLeave(slackUser: string, approver: string) {
  const payload = slackFixture<Record<string, unknown> & { view: Record<string, unknown> }>(
    'view-submission-request',
  );
  payload.user = { id: slackUser, username: slackUser.toLowerCase(), name: 'x', team_id: 'T0TEST' };
  payload.view.id = 'V0LEAVE1';
  payload.view.private_metadata = 'leave';
  payload.view.blocks = renderRequestModal(await t!.rt.baton.apps.get('leave')).blocks;
  payload.view.state = { values: { approver: { value: { type: 'users_select', selected_user: approver } } } };
  expect((await t!.interact(payload)).statusCode).toBe(200);
}

const postsTo = (channel: string) =>
  fake!.of('chat.postMessage').filter((m) => m.channel === channel && m.blocks !== undefined);

describe.each(['token_revoked', 'invalid_auth', 'account_inactive'])(
  'Slack refusing the bot token (%s)',
  (error) => {
    it('leaves the task copy and the notification owed, and posts each once the token works again', async () => {
      ({ t, fake } = await startSlackAcceptance(LEAVE));
      const { baton } = t.rt;
      fake.failures.set('chat.postMessage', error);
      fake.failures.set('conversations.open', error);
      await submitLeave('U0ALICE', 'U0BOB');
      const bob = await t.batonUser('bob');
      const [task] = await eventually(async () => {
        const open = await baton.tasks.listOpenFor(bob);
        return open.length > 0 ? open : null;
      });
      await eventually(async () => fake!.of('conversations.open').length > 0);
      await baton.durable();

      // The token is fixed: the redelivery (at start and every few minutes) posts Bob's copy.
      fake.failures.clear();
      await eventually(async () => {
        await baton.redeliver();
        return (await baton.deliveries.taskDeliveries(task!._id, 'slack')).length > 0;
      });
      const copy = postsTo('D0BOB');
      expect(copy).toHaveLength(1);
      expect(JSON.stringify(copy[0]!.blocks)).toContain('Leave for Alice Requester');

      // Bob decides while the token is refused again: Alice's notification waits for it.
      fake.failures.set('chat.postMessage', error);
      const alice = await t.batonUser('alice');
      await baton.tasks.complete(bob, task!._id, 'Approve');
      await eventually(async () =>
        fake!.of('chat.postMessage').some((m) => m.channel === 'D0ALICE' && m.blocks !== undefined),
      );
      await baton.durable();
      expect((await baton.deliveries.notificationsFor(alice))[0]?.status).toBe('pending');

      fake.failures.clear();
      await eventually(async () => {
        await baton.redeliver();
        return (await baton.deliveries.notificationsFor(alice))[0]?.status === 'delivered';
      });
      expect(postsTo('D0BOB')).toHaveLength(1);
    });
  },
);
