/**
 * A purchase-order app as a team would write it, driven over signed HTTP as Slack drives
 * Baton (slash commands, view_submission, block_actions), with a local fake of the Web API
 * recording what Slack would have received.
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

const PURCHASE_APP = `
kind: app
key: purchase
name: Purchase order
id_prefix: PO
stages: [Submitted, Approved, Rejected]
fields:
  - { key: item, label: Item, type: text, required: true }
  - { key: vendor, label: Vendor, type: select, required: true, default: acme, options: [{ value: acme, label: ACME Corp }, { value: globex, label: Globex }] }
  - { key: amount, label: Amount, type: number, required: true, min: 1 }
  - { key: approver, label: Approver, type: user, required: true }
`;

const FILES = {
  'purchase.yaml': PURCHASE_APP,
  'purchase-approval.yaml': `
kind: recipe
name: purchase-approval
trigger: { type: new_request, app: purchase }
steps:
  - id: manager
    action: assign_task
    to: "{{ record.approver }}"
    title: "Buy {{ record.item }} for {{ record.amount }} EUR"
    outcomes: [Approve, { label: Reject, style: danger, comment: required }]
  - action: change_stage
    stage: "{{ steps.manager.outcome = 'Approve' ? 'Approved' : 'Rejected' }}"
`,
};

/** A request form submission as Slack sends it: `blocks` as the form showed them when it was opened. */
async function submitForm(
  slackUser: string,
  blocks: unknown[],
  values: Record<string, unknown>,
  viewId: string,
) {
  const payload = slackFixture<Record<string, unknown> & { view: Record<string, unknown> }>(
    'view-submission-request',
  );
  payload.user = { id: slackUser, username: slackUser.toLowerCase(), name: 'x', team_id: 'T0TEST' };
  payload.view.id = viewId;
  payload.view.private_metadata = 'purchase';
  payload.view.blocks = blocks;
  payload.view.state = {
    values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { value: v }])),
  };
  const res = await t!.interact(payload);
  expect(res.statusCode).toBe(200);
  return res;
}

type ViewBlock = { type: string; block_id?: string; element?: Record<string, unknown> };

describe('a purchase-order app through /baton', () => {
  it('understands "status <ID>", "my tasks" and "my requests" as people type them', async () => {
    ({ t, fake } = await startSlackAcceptance(FILES));
    const bob = t.people.bob!.id;
    await submitForm(
      t.people.alice!.id,
      renderRequestModal(await t.rt.baton.apps.get('purchase')).blocks,
      {
        item: { type: 'plain_text_input', value: 'Laptop' },
        vendor: { type: 'static_select', selected_option: { value: 'acme' } },
        amount: { type: 'number_input', value: '1200' },
        approver: { type: 'users_select', selected_user: bob },
      },
      'V0PO1',
    );
    await eventually(async () => (await t!.rt.baton.tasks.listForRequest('PO-1')).length === 1);

    const status = await slackCommand(t, fake, 'status PO-1', 'alice');
    expect(status.text).toContain('PO-1: Submitted');
    expect(JSON.stringify(status.blocks)).toContain('Laptop');

    const tasks = await slackCommand(t, fake, 'my tasks', 'bob');
    expect(tasks.text).toContain('Your open tasks: Buy Laptop for 1200 EUR');

    const requests = await slackCommand(t, fake, 'My requests', 'alice');
    expect(requests.text).toContain('PO-1 (Submitted)');
  });

  it('a form opened before an admin added a required field is shown again with that field, what was typed kept', async () => {
    ({ t, fake } = await startSlackAcceptance(FILES));
    const alice = t.people.alice!.id;
    const bob = t.people.bob!.id;
    // Alice opens the form; meanwhile an admin adds a required field to the app.
    const opened = renderRequestModal(await t.rt.baton.apps.get('purchase')).blocks;
    const admin = await t.batonUser('admin');
    await t.rt.baton.apps.addField(admin, 'purchase', {
      key: 'cost_center',
      label: 'Cost center',
      type: 'select',
      required: true,
      options: ['R&D', 'Sales'],
    });
    const values = {
      item: { type: 'plain_text_input', value: 'Laptop' },
      vendor: { type: 'static_select', selected_option: { value: 'globex' } },
      amount: { type: 'number_input', value: '1200' },
      approver: { type: 'users_select', selected_user: bob },
    };
    const res = await submitForm(alice, opened, values, 'V0PO2');
    const body = res.json() as {
      response_action: string;
      errors?: Record<string, string>;
      view?: { blocks: ViewBlock[]; private_metadata: string };
    };
    // Not an error on another field naming a key ("cost_center: Cost center is required"):
    // the form as it is now, with what Alice typed, and a word on what changed.
    expect(body.errors).toBeUndefined();
    expect(body.response_action).toBe('update');
    const blocks = body.view!.blocks;
    expect(body.view!.private_metadata).toBe('purchase');
    const el = (key: string) => blocks.find((b) => b.block_id === key)?.element ?? {};
    expect(el('item').initial_value).toBe('Laptop');
    expect(el('vendor').initial_option).toMatchObject({ value: 'globex' });
    expect(el('amount').initial_value).toBe('1200');
    expect(el('approver').initial_user).toBe(bob);
    expect(el('cost_center').type).toBe('static_select');
    expect(JSON.stringify(blocks)).toContain('This form changed since you opened it: Cost center is new.');
    await expect(t.rt.baton.requests.get(await t.batonUser('alice'), 'PO-1')).rejects.toThrow();

    // Alice picks a cost center and submits the updated form: the request is filed, once.
    const again = await submitForm(
      alice,
      blocks,
      { ...values, cost_center: { type: 'static_select', selected_option: { value: 'Sales' } } },
      'V0PO2',
    );
    expect(again.json()).toEqual({ response_action: 'clear' });
    const filed = await eventually(async () => {
      const [task] = await t!.rt.baton.tasks.listForRequest('PO-1');
      return task;
    });
    expect(filed.title).toBe('Buy Laptop for 1200 EUR');
    const request = await t.rt.baton.requests.get(await t.batonUser('alice'), 'PO-1');
    expect(request.record).toMatchObject({ vendor: 'globex', cost_center: 'Sales', amount: 1200 });
  });

  it('a form that changed since it was opened, answered after Slack was already answered: the requester is told in a DM', async () => {
    ({ t, fake } = await startSlackAcceptance(FILES, { ackTimeoutMs: 50 }));
    const alice = t.people.alice!.id;
    const opened = renderRequestModal(await t.rt.baton.apps.get('purchase')).blocks;
    await t.rt.baton.apps.addField(await t.batonUser('admin'), 'purchase', {
      key: 'cost_center',
      label: 'Cost center',
      type: 'text',
      required: true,
    });
    // Slack is slow to say who Alice and the approver are: the form closes before Baton answers.
    fake.delayMs = 300;
    const res = await submitForm(
      alice,
      opened,
      {
        item: { type: 'plain_text_input', value: 'Laptop' },
        vendor: { type: 'static_select', selected_option: { value: 'globex' } },
        amount: { type: 'number_input', value: '1200' },
        approver: { type: 'users_select', selected_user: t.people.bob!.id },
      },
      'V0PO9',
    );
    expect(res.body).toBe('');
    const told = await eventually(async () =>
      fake!
        .of('chat.postMessage')
        .map((m) => ({ channel: m.channel, text: String(m.text) }))
        .find((m) => m.text.startsWith(':warning:')),
    );
    expect(told).toEqual({
      channel: alice,
      text: ':warning: Your Purchase order request was not filed: the form changed since you opened it (Cost center is new). Fill in the form again with /baton new purchase.',
    });
    expect(await t.rt.baton.requests.listMine(await t.batonUser('alice'))).toEqual([]);
  });

  it('a Reject whose comment form Slack refused to open (too late) says so and how to try again; the task stays open', async () => {
    ({ t, fake } = await startSlackAcceptance(FILES));
    const bob = t.people.bob!.id;
    await submitForm(
      t.people.alice!.id,
      renderRequestModal(await t.rt.baton.apps.get('purchase')).blocks,
      {
        item: { type: 'plain_text_input', value: 'Chair' },
        amount: { type: 'number_input', value: '300' },
        approver: { type: 'users_select', selected_user: bob },
      },
      'V0PO3',
    );
    const channel = `D${bob.slice(1)}`;
    const post = await eventually(async () =>
      fake!.calls.find((c) => c.method === 'chat.postMessage' && c.args.channel === channel),
    );
    const [task] = await t.rt.baton.tasks.listForRequest('PO-1');
    const copy = await eventually(
      async () => (await t!.rt.baton.deliveries.taskDeliveries(task!._id, 'slack'))[0],
    );
    const reject = (post.args.blocks as ViewBlock[])
      .flatMap((b) =>
        ((b as { elements?: Record<string, unknown>[] }).elements ?? []).map(
          (e): Record<string, unknown> => ({ ...e, block_id: b.block_id }),
        ),
      )
      .find((e) => (e.text as { text?: string } | undefined)?.text === 'Reject');
    expect(reject).toBeDefined();

    // Baton was slow: Slack answers views.open with expired_trigger_id.
    fake.failures.set('views.open', 'expired_trigger_id');
    const click = slackFixture<Record<string, unknown>>('task-block-actions.json');
    click.user = { id: bob, username: 'bob', name: 'bob', team_id: 'T0TEST' };
    click.container = { type: 'message', message_ts: copy!.ref.ts, channel_id: channel, is_ephemeral: false };
    click.channel = { id: channel, name: 'directmessage' };
    click.message = { ...(click.message as object), ts: copy!.ref.ts };
    click.actions = [{ ...reject, action_ts: '1700000100.000200' }];
    expect((await t.interact(click)).statusCode).toBe(200);

    const said = await eventually(async () => fake!.of('chat.postEphemeral').find((a) => a.user === bob));
    expect(String(said.text)).toContain('Slack gives Baton 3 seconds to open a form');
    expect(String(said.text)).toContain('*Reject*');
    expect(String(said.text)).not.toContain('Something went wrong');
    expect((await t.rt.baton.tasks.load(task!._id))?.status).toBe('open');
  });
});
