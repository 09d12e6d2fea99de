/**
 * Forms answered late: when a submission takes longer than the receiver's safety timeout
 * (Slack gives 3 s; a slow users.info, a busy server), Slack has already been answered with
 * an empty 200 and the form closed, so errors can no longer be shown on it. The person must
 * still learn that nothing was filed or recorded.
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

async function start(): Promise<SlackTestApp> {
  ({ t, fake } = await startSlackAcceptance(
    {},
    {
      copies: ['tests/fixtures/slack/apps/leave.yaml', 'tests/fixtures/slack/apps/leave-approval.yaml'],
      ackTimeoutMs: 50,
    },
  ));
  return t;
}

/** The first warning posted to `channel` (a DM: Baton posts to the person's user id). */
const warningTo = (channel: string) =>
  eventually(async () =>
    fake!
      .of('chat.postMessage')
      .filter((m) => m.channel === channel)
      .map((m) => String(m.text))
      .find((text) => text.startsWith(':warning:')),
  );

describe('a form answered after Slack was already answered', () => {
  it('a request form refused once it had closed: the requester is told in a DM what to fix', async () => {
    const t = await start();
    // Slack is slow to say who the approver is: the form is answered (closed) before the refusal.
    fake!.delayMs = 300;
    const payload = slackFixture<{
      user: { id: string; username: string; name: string };
      view: { state: { values: Record<string, unknown> }; blocks: unknown[] };
    }>('view-submission-request');
    payload.user = { ...payload.user, id: 'U0ALICE', username: 'alice', name: 'alice' };
    payload.view.blocks = renderRequestModal(await t.rt.baton.apps.get('leave')).blocks;
    payload.view.state.values = {
      approver: { value: { type: 'users_select', selected_user: 'U0BOB' } },
      days: { value: { type: 'number_input', value: '45' } },
      start: { value: { type: 'datepicker', selected_date: '2026-12-01' } },
    };
    const res = await t.interact(payload);
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    expect(await warningTo('U0ALICE')).toBe(
      ':warning: Your Leave request was not filed: Days must be at most 30. Fill in the form again with /baton new leave.',
    );
    expect(await t.rt.baton.requests.listMine(await t.batonUser('alice'))).toEqual([]);
  });

  it('a task answer refused once its modal had closed: the approver is told beside the task', async () => {
    const t = await start();
    const { baton } = t.rt;
    // Known to Baton, not yet looked up in Slack by this server (so that lookup is slow below).
    const person = (id: string, name: string) =>
      baton.users.resolve({
        provider: 'slack',
        id,
        name,
        email: `${name.split(' ')[0]!.toLowerCase()}@example.com`,
      });
    const alice = await person('U0ALICE', 'Alice Requester');
    const bob = await person('U0BOB', 'Bob Manager');
    await baton.requests.file(alice, 'leave', { approver: bob._id, days: 2, start: '2026-12-01' });
    const [task] = await eventually(async () => {
      const open = await baton.tasks.listOpenFor(bob);
      return open.length > 0 ? open : null;
    });
    // Bob opened "Reject with comment"; meanwhile an admin approved the task.
    await baton.tasks.complete(await person('U0ADMIN', 'Ada Admin'), task!._id, 'Approve');
    fake!.delayMs = 300;
    const submission = slackFixture<Record<string, unknown> & { view: Record<string, unknown> }>(
      'task-view-submission.json',
    );
    submission.user = { id: 'U0BOB', username: 'bob', name: 'bob', team_id: 'T0TEST' };
    submission.view = {
      ...submission.view,
      private_metadata: JSON.stringify({ task_id: task!._id, outcome: 'Reject' }),
    };
    const res = await t.interact(submission);
    expect(res.body).toBe('');
    const told = await eventually(async () => fake!.of('chat.postEphemeral').find((m) => m.user === 'U0BOB'));
    expect(String(told.text)).toMatch(
      /^:warning: Your answer \*Reject\* on \*Leave: 2 days for Alice Requester\* was not recorded: Already approved by Ada Admin at /,
    );
    expect((await baton.tasks.load(task!._id))?.outcome).toBe('Approve');
  });
});
