/**
 * Acceptance checks from a QA pass that drove the Slack surface as Slack does: signed
 * slash commands, view_submission and block_actions over HTTP to the real server, with a
 * local fake of the Web API recording what Slack would have received.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { renderRequestModal } from '../../adapters/slack/modals.js';
import { loadDirectory } from '../../src/recipes/loader.js';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { type SlackTestApp, slackFixture } from '../helpers/slack.js';
import { startSlackAcceptance } from './acceptance-harness.js';
import { type FakeSlackApi, GROUP_APPROVAL } from './tasks-harness.js';

let t: SlackTestApp | undefined;
let fake: FakeSlackApi | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
  await fake?.stop();
  fake = undefined;
});

async function start(files: Record<string, string> = {}): Promise<{ t: SlackTestApp; fake: FakeSlackApi }> {
  ({ t, fake } = await startSlackAcceptance(files));
  return { t, fake };
}

type Button = { type: string; action_id?: string; value?: string; text?: { text: string } };
type Block = { type: string; block_id?: string; elements?: Button[]; text?: { text: string } };

/** Submits `app`'s request form as `slackUser` (view as Baton renders it, state as Slack sends it). */
async function submitRequest(app: string, slackUser: string, values: Record<string, unknown>) {
  const payload = slackFixture<Record<string, unknown> & { view: Record<string, unknown> }>(
    'view-submission-request',
  );
  payload.user = { id: slackUser, username: slackUser.toLowerCase(), name: 'x', team_id: 'T0TEST' };
  payload.view.id = `V${Math.random().toString(36).slice(2, 10).toUpperCase()}`;
  payload.view.private_metadata = app;
  payload.view.blocks = renderRequestModal(await t!.rt.baton.apps.get(app)).blocks;
  payload.view.state = {
    values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { value: v }])),
  };
  const res = await t!.interact(payload);
  expect(res.statusCode).toBe(200);
  return res;
}

/** The task message posted to a DM channel, with the ts the fake answered. */
async function taskPost(channel: string): Promise<{ blocks: Block[]; ts: string; channel: string }> {
  const { baton } = t!.rt;
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
    (await baton.deliveries.taskDeliveries(taskId, 'slack')).find((d) => d.ref.channel === channel),
  );
  return { blocks: post.args.blocks as Block[], ts: copy.ref.ts!, channel };
}

/** A click on one of a task message's buttons, as Slack sends it. */
function clickButton(slackUser: string, message: { channel: string; ts: string }, button: Button) {
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
      text: { type: 'plain_text', text: button.text?.text ?? '', emoji: true },
      value: button.value,
      action_ts: '1700000042.123456',
    },
  ];
  return t!.interact(payload);
}

function buttonOf(blocks: Block[], label: string): Button {
  const button = blocks
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? [])
    .find((e) => e.type === 'button' && e.text?.text === label);
  if (!button) throw new Error(`no button ${label}`);
  return button;
}

const LEAVE = {
  'leave.yaml': `
kind: app
key: leave
name: Leave
stages: [Submitted, Approved, Rejected]
fields:
  - { key: approver, label: Approver, type: user, required: true }
  - { key: reason, label: Reason, type: text }
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
    instructions: "{{ record.reason }}"
  - action: change_stage
    stage: "{{ steps.t.outcome = 'Approve' ? 'Approved' : 'Rejected' }}"
`,
};

describe('the name of who decided a task, in its copies', () => {
  it('is their name, as the open copy names people: no mention (it would notify), nothing typed turned into one', async () => {
    await start(LEAVE);
    fake!.people.set('U0AL', { id: 'U0AL', name: 'Al', email: 'al@example.com' });
    await submitRequest('leave', 'U0ALICE', {
      approver: { type: 'users_select', selected_user: 'U0AL' },
      reason: { type: 'plain_text_input', value: 'Visiting Alan; Al knows' },
    });
    const post = await taskPost('D0AL');
    expect((await clickButton('U0AL', post, buttonOf(post.blocks, 'Approve'))).statusCode).toBe(200);

    const update = await eventually(async () =>
      fake!.of('chat.update').find((u) => u.channel === post.channel && u.ts === post.ts),
    );
    const json = JSON.stringify(update.blocks);
    expect(json).toContain('Approved by Al');
    expect(json).toContain('Requested by Alice Requester');
    // What the requester typed reads as it did on the open copy.
    expect(JSON.stringify(post.blocks)).toContain('Visiting Alan; Al knows');
    expect(json).toContain('Visiting Alan; Al knows');
    expect(json).not.toContain('<@');
  });
});

const LEAVE_TOLD = {
  ...LEAVE,
  'leave-recipe.yaml': `${LEAVE['leave-recipe.yaml']}  - action: notify
    to: "{{ request.requester }}"
    text: "Your leave {{ request.id }} was decided: {{ steps.t.outcome }}"
`,
};

describe('a notification Slack could not take just then', () => {
  it('stays pending and is posted at the next redelivery (only a refusal for good makes it undeliverable)', async () => {
    await start(LEAVE_TOLD);
    const { baton } = t!.rt;
    await submitRequest('leave', 'U0ALICE', { approver: { type: 'users_select', selected_user: 'U0BOB' } });
    const post = await taskPost('D0BOB');

    // Slack answers the requester's notification with a passing error.
    fake!.failures.set('chat.postMessage', 'service_unavailable');
    expect((await clickButton('U0BOB', post, buttonOf(post.blocks, 'Approve'))).statusCode).toBe(200);
    await eventually(async () => fake!.of('chat.postMessage').some((m) => m.channel === 'D0ALICE'));
    const alice = await t!.batonUser('alice');

    // Slack is back: a redelivery (the server runs one every few minutes) posts it.
    fake!.failures.delete('chat.postMessage');
    const [delivered] = await eventually(async () => {
      await baton.redeliver();
      const list = await baton.deliveries.notificationsFor(alice);
      return list[0]?.status === 'delivered' ? list : null;
    });
    expect(delivered!.deliveries).toEqual([expect.objectContaining({ surface: 'slack' })]);
    const posts = fake!.of('chat.postMessage').filter((m) => m.channel === 'D0ALICE');
    expect(posts.map((m) => m.text)).toEqual([
      'Your leave LEAVE-1 was decided: Approve',
      'Your leave LEAVE-1 was decided: Approve',
    ]);
  });
});

describe('a user field with a default person', () => {
  it('starts with that person selected in the Slack form (/baton new and the app picker), as in the portal', async () => {
    await start({
      'it.yaml': `
kind: app
key: it-help
name: IT help
stages: [Open]
fields:
  - { key: owner, label: Owner, type: user, default: bob@example.com, help: Who handles it }
  - { key: watcher, label: Watcher, type: user }
  - { key: summary, label: Summary, type: text, required: true }
`,
    });
    await t!.batonUser('bob'); // Bob is known to Baton (he has used it before)
    const res = await t!.command('new it-help', 'alice', { response_url: `${fake!.url}response` });
    expect(res.statusCode).toBe(200);
    const opened = await eventually(async () => fake!.of('views.open')[0]);
    const elements = Object.fromEntries(
      (opened.view as { blocks: { block_id: string; element: Record<string, unknown> }[] }).blocks.map(
        (b) => [b.block_id, b.element],
      ),
    );
    expect(elements.owner).toMatchObject({ type: 'users_select', initial_user: 'U0BOB' });
    expect(elements.watcher).not.toHaveProperty('initial_user');

    // Through `/baton new` without an app: the picker's submission turns into the same form.
    await t!.command('new', 'alice', { response_url: `${fake!.url}response` });
    const picker = await eventually(async () => fake!.of('views.open')[1]);
    const payload = slackFixture<Record<string, unknown> & { view: Record<string, unknown> }>(
      'view-submission-request',
    );
    payload.view = {
      ...payload.view,
      callback_id: (picker.view as { callback_id: string }).callback_id,
      private_metadata: '',
      state: {
        values: { app: { value: { type: 'static_select', selected_option: { value: 'it-help' } } } },
      },
    };
    const picked = await t!.interact(payload);
    const update = picked.json() as { response_action: string; view: { blocks: { block_id: string }[] } };
    expect(update.response_action).toBe('update');
    expect(update.view.blocks.find((b) => b.block_id === 'owner')).toMatchObject({
      element: { type: 'users_select', initial_user: 'U0BOB' },
    });
  });
});

describe('fields a recipe changes, in the request history', () => {
  it('/baton show names the person and the choice ("Owner changed from — to Bob Manager"), not ids and stored values', async () => {
    await start({
      'ticket.yaml': `
kind: app
key: ticket
name: Ticket
stages: [Open, Triaged]
fields:
  - { key: summary, label: Summary, type: text, required: true }
  - key: priority
    label: Priority
    type: select
    default: lo
    options: [{ value: lo, label: Low }, { value: hi, label: High }]
  - { key: owner, label: Owner, type: user }
`,
      'triage.yaml': `
kind: recipe
name: triage
trigger: { type: new_request, app: ticket }
steps:
  - action: update_record
    fields:
      priority: hi
      owner: bob@example.com
  - action: change_stage
    stage: Triaged
`,
    });
    await t!.batonUser('bob');
    await submitRequest('ticket', 'U0ALICE', { summary: { type: 'plain_text_input', value: 'VPN down' } });
    const { baton } = t!.rt;
    await eventually(async () => (await baton.requests.load('TICKET-1'))?.stage === 'Triaged');

    const res = await t!.command('show TICKET-1', 'alice', { response_url: `${fake!.url}response` });
    expect(res.statusCode).toBe(200);
    const reply = await eventually(async () => fake!.of('response')[0] as { blocks: Block[] } | undefined);
    const history = reply.blocks.map((b) => b.text?.text ?? '').find((x) => x.startsWith('*History*'))!;
    expect(history).toContain('Priority changed from Low to High');
    expect(history).toContain('Owner changed from — to Bob Manager');
    expect(history).not.toMatch(/u_[a-z0-9]{8,}/);
  });
});

describe('a recipe started by task_completed', () => {
  it('can tell the requester why: the comment, the outcome and the task are in `trigger`', async () => {
    await start({
      ...LEAVE,
      'leave-declined.yaml': `
kind: recipe
name: leave-declined
trigger: { type: task_completed, app: leave, task: t, outcome: Reject }
steps:
  - action: notify
    to: "{{ request.requester }}"
    text: "{{ trigger.title }}: {{ trigger.outcome }} ({{ trigger.comment ? trigger.comment : 'no reason given' }})"
`,
    });
    await submitRequest('leave', 'U0ALICE', { approver: { type: 'users_select', selected_user: 'U0BOB' } });
    const post = await taskPost('D0BOB');
    const { baton } = t!.rt;
    const [task] = await baton.tasks.listForRequest('LEAVE-1');
    const bob = await t!.batonUser('bob');
    await baton.tasks.complete(bob, task!._id, 'Reject', { comment: 'Team offsite that week' });
    const told = await eventually(async () =>
      fake!.of('chat.postMessage').find((m) => m.channel === 'D0ALICE' && post.ts !== m.ts),
    );
    expect(told.text).toBe('Leave for Alice Requester: Reject (Team offsite that week)');
  });
});

describe('people in the texts a recipe writes', () => {
  it('are named, not shown as user ids: a user field in instructions, completed_by in a notification', async () => {
    await start({
      'buddy.yaml': `
kind: app
key: buddy
name: Buddy
stages: [New, Done]
fields:
  - { key: approver, label: Approver, type: user, required: true }
  - { key: buddy, label: Buddy, type: user }
`,
      'buddy-recipe.yaml': `
kind: recipe
name: buddy-flow
trigger: { type: new_request, app: buddy }
steps:
  - id: t
    action: assign_task
    to: "{{ record.approver }}"
    title: "Buddy {{ record.buddy }} for {{ request.requester }}"
    instructions: "Buddy: {{ record.buddy ? record.buddy : 'none' }}; approver {{ [record.approver] }}"
    outcomes: [Approve]
  - action: notify
    to: "{{ request.requester }}"
    text: "{{ request.id }} approved by {{ steps.t.completed_by }}"
`,
    });
    await submitRequest('buddy', 'U0ALICE', {
      approver: { type: 'users_select', selected_user: 'U0BOB' },
      buddy: { type: 'users_select', selected_user: 'U0CAROL' },
    });
    const post = await taskPost('D0BOB');
    const texts = JSON.stringify(post.blocks);
    expect(texts).toContain('Buddy Carol Manager for Alice Requester');
    expect(texts).toContain('Buddy: Carol Manager; approver Bob Manager');
    expect((await clickButton('U0BOB', post, buttonOf(post.blocks, 'Approve'))).statusCode).toBe(200);
    const told = await eventually(async () =>
      fake!.of('chat.postMessage').find((m) => m.channel === 'D0ALICE'),
    );
    expect(told.text).toBe('BUDDY-1 approved by Bob Manager');
    // The ids still work where recipes need them (the task went to Bob, the notification to Alice).
    expect(JSON.stringify(fake!.calls)).not.toMatch(/u_[0-9a-z]{16}/);
  });
});

const SHOP = {
  'shop.yaml': `
kind: app
key: purchase
name: Purchase
id_prefix: PUR
stages: [New, Done]
`,
};

describe('two apps numbering their requests with one id prefix', () => {
  it('is refused when the second is made (New app form, /baton admin apps create), so both can still file', async () => {
    await start(SHOP);
    await t!.command('admin apps create', 'admin', { response_url: `${fake!.url}response` });
    const opened = await eventually(async () => fake!.of('views.open')[0]);
    const view = opened.view as { callback_id: string; blocks: { block_id: string }[] };
    const payload = slackFixture<Record<string, unknown> & { view: Record<string, unknown> }>(
      'view-submission-request',
    );
    payload.user = { id: 'U0ADMIN', username: 'admin', name: 'admin', team_id: 'T0TEST' };
    const text = (value: string) => ({ value: { type: 'plain_text_input', value } });
    payload.view = {
      ...payload.view,
      callback_id: view.callback_id,
      private_metadata: '',
      blocks: view.blocks,
      state: {
        values: { key: text('buy'), name: text('Buy'), stages: text('New\nDone'), id_prefix: text('pur') },
      },
    };
    const res = await t!.interact(payload);
    expect(res.json()).toEqual({
      response_action: 'errors',
      errors: {
        id_prefix:
          'The request ids PUR-1, PUR-2… are those of the app Purchase (purchase): give Buy an id prefix of its own.',
      },
    });
    // A key that gives the same prefix when no prefix is set.
    const reply = await eventually(async () => {
      await t!.command('admin apps create pur Purchasing', 'admin', { response_url: `${fake!.url}response` });
      return fake!.of('response')[0] as { text: string } | undefined;
    });
    expect(reply.text).toBe(
      ':warning: The request ids PUR-1, PUR-2… are those of the app Purchase (purchase): give Purchasing an id prefix of its own (without one, its key gives PUR).',
    );
    expect((await t!.rt.baton.apps.list()).map((a) => a._id)).toEqual(['purchase']);

    // The existing app files requests as before.
    await submitRequest('purchase', 'U0ALICE', {});
    await eventually(async () => (await t!.rt.baton.requests.load('PUR-1'))?.app === 'purchase');
  });

  it('npm run validate (and the start) report the second app file at its id_prefix', async () => {
    const dir = recipesDir({
      ...SHOP,
      'zz-buy.yaml': 'kind: app\nkey: buy\nname: Buy\nid_prefix: PUR\nstages: [New]\n',
    });
    const loaded = await loadDirectory(dir);
    expect(loaded.apps.map((a) => a.definition.key)).toEqual(['purchase']);
    expect(loaded.problems).toEqual([
      expect.objectContaining({
        file: expect.stringMatching(/zz-buy\.yaml$/),
        line: 4,
        severity: 'error',
        message: expect.stringContaining('the request ids PUR-1, PUR-2… are already those of app "purchase"'),
      }),
    ]);
  });
});

describe('admin listings longer than one Slack text', () => {
  it('/baton admin apps list and groups list show every app and group (the Home tab sends admins there for all of them)', async () => {
    await start();
    const { baton } = t!.rt;
    const admin = await t!.batonUser('admin');
    const stages = [
      'Submitted',
      'Waiting for the manager',
      'Waiting for finance',
      'Approved by everyone',
      'Done',
    ];
    for (let i = 1; i <= 20; i++) {
      await baton.apps.create(admin, {
        key: `app-${i}`,
        name: `Application number ${i} with a rather descriptive name`,
        stages,
        fields: [{ key: 'note', label: 'Note', type: 'text' }],
      });
      await baton.groups.create(
        admin,
        `team-${i}`,
        `The team that looks after application number ${i} `.repeat(3),
      );
    }
    for (const [command, count] of [
      ['admin apps list', (b: string) => b.match(/\(`app-\d+`\)/g)?.length ?? 0],
      ['admin groups list', (b: string) => b.match(/\*team-\d+\*/g)?.length ?? 0],
    ] as const) {
      const before = fake!.of('response').length;
      await t!.command(command, 'admin', { response_url: `${fake!.url}response` });
      const reply = await eventually(
        async () => fake!.of('response')[before] as { text: string; blocks?: Block[] } | undefined,
      );
      const texts = (reply.blocks ?? []).map((b) => b.text?.text ?? '');
      for (const text of texts) expect(text.length).toBeLessThanOrEqual(3000);
      expect(count(texts.join('\n'))).toBe(20);
    }
  });
});

describe('people listed the way people type lists', () => {
  it('/baton admin groups add hr @bob, @carol and @alice adds all three (Slack sends the mentions with commas)', async () => {
    await start();
    const reply = async (text: string) => {
      const before = fake!.of('response').length;
      await t!.command(text, 'admin', { response_url: `${fake!.url}response` });
      return (await eventually(async () => fake!.of('response')[before] as { text: string } | undefined))
        .text;
    };
    expect(await reply('admin groups create hr')).toContain('Group *hr* created');
    expect(await reply('admin groups add hr <@U0BOB|bob>, <@U0CAROL|carol> and <@U0ALICE|alice>')).toBe(
      'Added Bob Manager, Carol Manager, Alice Requester to *hr* (3 members).',
    );
    expect(await reply('admin groups remove hr <@U0BOB|bob>,<@U0CAROL|carol>')).toBe(
      'Removed Bob Manager, Carol Manager from *hr* (1 member).',
    );
  });
});

describe('revoking the role of an admin named in BATON_ADMINS', () => {
  it('is refused with the reason, instead of saying "is now a user" while they stay admin', async () => {
    await start();
    const reply = async (text: string, from: string) => {
      const before = fake!.of('response').length;
      await t!.command(text, from, { response_url: `${fake!.url}response` });
      return (await eventually(async () => fake!.of('response')[before] as { text: string } | undefined))
        .text;
    };
    expect(await reply('admin roles grant <@U0BOB|bob> admin', 'admin')).toBe('Bob Manager is now an admin.');
    expect(await reply('admin roles revoke <@U0ADMIN|admin>', 'bob')).toBe(
      ":warning: Ada Admin is an admin through BATON_ADMINS (the server's configuration): take them out of BATON_ADMINS and restart Baton to change their role.",
    );
    expect(await reply('admin groups list', 'admin')).toContain('No groups yet');
    // Roles given in Slack can be taken back in Slack.
    expect(await reply('admin roles revoke <@U0BOB|bob>', 'admin')).toBe(
      'Bob Manager is now a user (no admin or operator role).',
    );
  });

  it('granting a role someone has, or revoking from someone without one, says nothing changed', async () => {
    await start();
    const reply = async (text: string) => {
      const before = fake!.of('response').length;
      await t!.command(text, 'admin', { response_url: `${fake!.url}response` });
      return (await eventually(async () => fake!.of('response')[before] as { text: string } | undefined))
        .text;
    };
    expect(await reply('admin roles grant <@U0CAROL|carol> operator')).toBe(
      'Carol Manager is now an operator.',
    );
    expect(await reply('admin roles grant <@U0CAROL|carol> operator')).toBe(
      'Carol Manager was already an operator.',
    );
    expect(await reply('admin roles revoke <@U0CAROL|carol>')).toBe(
      'Carol Manager is now a user (no admin or operator role).',
    );
    expect(await reply('admin roles revoke <@U0CAROL|carol>')).toBe(
      'Carol Manager has no admin or operator role: nothing to take away.',
    );
  });
});

describe('a field the form pre-filled with its default, cleared by the requester', () => {
  it('is filed empty, not with the default put back (tags emptied stay empty)', async () => {
    await start({
      'order.yaml': `
kind: app
key: order
name: Order
stages: [New]
fields:
  - { key: item, label: Item, type: text, required: true }
  - { key: tags, label: Tags, type: multi_select, options: [opex, capex, urgent], default: [opex] }
  - { key: note, label: Note, type: text, default: "Standard delivery" }
  - { key: qty, label: Quantity, type: number, default: 1 }
  - { key: size, label: Size, type: select, options: [S, M, L], default: M }
`,
    });
    const modal = renderRequestModal(await t!.rt.baton.apps.get('order'));
    const element = (key: string) =>
      (modal.blocks.find((b) => (b as { block_id?: string }).block_id === key) as { element: object })
        .element;
    expect(element('tags')).toHaveProperty('initial_options');
    expect(element('note')).toHaveProperty('initial_value', 'Standard delivery');

    // Alice empties Tags, Note and Quantity (Slack sends them blank), keeps Size.
    const res = await submitRequest('order', 'U0ALICE', {
      item: { type: 'plain_text_input', value: 'Pens' },
      tags: { type: 'multi_static_select', selected_options: [] },
      note: { type: 'plain_text_input', value: null },
      qty: { type: 'number_input', value: null },
      size: {
        type: 'static_select',
        selected_option: { value: 'M', text: { type: 'plain_text', text: 'M' } },
      },
    });
    expect(res.json()).toEqual({ response_action: 'clear' });
    const request = await eventually(async () => t!.rt.baton.requests.load('ORDER-1'));
    expect(request.record).toEqual({ item: 'Pens', size: 'M' });
  });
});

describe('/baton admin recipes install <pack> with a problem', () => {
  it('says what the problem is, not only "1 problem" (here: its app numbers requests like an existing one)', async () => {
    await start({ 'leave.yaml': 'kind: app\nkey: leave\nname: Leave\nid_prefix: PTO\nstages: [New]\n' });
    await t!.command('admin recipes install time-off', 'admin', { response_url: `${fake!.url}response` });
    const reply = await eventually(async () => fake!.of('response')[0] as { text: string } | undefined);
    expect(reply.text).toContain('Installed *time-off*: apps none;');
    expect(reply.text).toContain(
      '1 problem:\n    ↳ time-off/app.yaml:1: The request ids PTO-1, PTO-2… are those of the app Leave (leave): give Time off an id prefix of its own.',
    );
  });
});

describe('a group task whose copy for one member met a passing Slack error', () => {
  it('is posted to that member a moment later (the other members’ copies went out, so no redelivery would)', async () => {
    await start(GROUP_APPROVAL);
    const { baton } = t!.rt;
    const admin = await t!.batonUser('admin');
    await baton.groups.create(admin, 'hr');
    for (const who of ['bob', 'carol'])
      await baton.groups.addMember(admin, 'hr', (await t!.batonUser(who))._id);
    let failed = 0;
    fake!.failWhen = (method, args) =>
      method === 'chat.postMessage' && args.channel === 'D0CAROL' && failed++ === 0
        ? 'service_unavailable'
        : undefined;

    await submitRequest('quick', 'U0ALICE', { note: { type: 'plain_text_input', value: 'New chair' } });
    await taskPost('D0BOB');
    await eventually(async () => failed > 0);
    await baton.redeliver(); // what the server does every few minutes
    const carol = await taskPost('D0CAROL');
    expect(JSON.stringify(carol.blocks)).toContain('Quick one');
    expect(fake!.of('chat.postMessage').filter((m) => m.channel === 'D0CAROL')).toHaveLength(2);
    expect(fake!.of('chat.postMessage').filter((m) => m.channel === 'D0BOB')).toHaveLength(1);
  });
});

describe('/baton admin jobs show on a job that waited', () => {
  it('says how each wait ended (decided, with the outcome; expired), not "waiting" for a step long over', async () => {
    await start({
      ...LEAVE,
      'leave-recipe.yaml': `${LEAVE['leave-recipe.yaml']}  - id: confirm
    action: assign_task
    to: "{{ request.requester }}"
    title: Confirm the dates
    expires_in: 1s
  - action: wait
    for: 1s
`,
    });
    await submitRequest('leave', 'U0ALICE', { approver: { type: 'users_select', selected_user: 'U0BOB' } });
    const post = await taskPost('D0BOB');
    expect((await clickButton('U0BOB', post, buttonOf(post.blocks, 'Approve'))).statusCode).toBe(200);
    const { baton } = t!.rt;
    const admin = await t!.batonUser('admin');
    const [job] = await eventually(async () => {
      const jobs = await baton.recipes.listJobs(admin, { status: 'completed' });
      return jobs.length > 0 ? jobs : null;
    });
    await t!.command(`admin jobs show ${job!._id}`, 'admin', { response_url: `${fake!.url}response` });
    const reply = await eventually(async () => fake!.of('response')[0] as { text: string } | undefined);
    const steps = reply.text.split('*Steps*\n')[1]!.split('\n');
    expect(steps).toEqual([
      '• t (assign_task) — waiting',
      '• t (assign_task) — completed: Approve',
      '• change_stage#2 (change_stage) — completed',
      '• confirm (assign_task) — waiting',
      '• confirm (assign_task) — expired',
      '• wait#4 (wait) — waiting',
      '• wait#4 (wait) — completed',
    ]);
  });
});

describe('a recipe assigning a task to someone by email who has not used Baton yet', () => {
  it('finds them in Slack (users.lookupByEmail) and DMs them the task, instead of failing the job', async () => {
    await start({
      ...LEAVE,
      'leave-recipe.yaml': `
kind: recipe
name: leave-approval
trigger: { type: new_request, app: leave }
steps:
  - id: t
    action: assign_task
    to: frank@example.com
    title: "Leave for {{ requester.name }}"
  - action: notify
    to: grace@example.com
    text: "{{ request.id }}: {{ steps.t.outcome }}"
`,
    });
    fake!.people.set('U0FRANK', { id: 'U0FRANK', name: 'Frank Finance', email: 'frank@example.com' });
    fake!.people.set('U0GRACE', { id: 'U0GRACE', name: 'Grace Payroll', email: 'grace@example.com' });
    await submitRequest('leave', 'U0ALICE', { approver: { type: 'users_select', selected_user: 'U0BOB' } });
    const post = await taskPost('D0FRANK');
    expect((await clickButton('U0FRANK', post, buttonOf(post.blocks, 'Approve'))).statusCode).toBe(200);
    const told = await eventually(async () =>
      fake!.of('chat.postMessage').find((m) => m.channel === 'D0GRACE'),
    );
    expect(told.text).toBe('LEAVE-1: Approve');
    const admin = await t!.batonUser('admin');
    const [job] = await t!.rt.baton.recipes.listJobs(admin);
    expect(job).toMatchObject({ status: 'completed' });

    // An address Slack does not know either is still refused, saying which.
    await t!.command('admin groups create hr', 'admin', { response_url: `${fake!.url}response` });
    await eventually(async () => fake!.of('response')[0]);
    await t!.command('admin groups add hr nobody@example.com', 'admin', {
      response_url: `${fake!.url}response`,
    });
    const reply = await eventually(async () => fake!.of('response')[1] as { text: string } | undefined);
    expect(reply.text).toBe(":warning: I don't know who nobody@example.com is: mention them, e.g. @alice.");
  });
});

describe('someone added to a group while it has a task open', () => {
  it('gets the task in their DMs like the other members (and can decide it there)', async () => {
    await start(GROUP_APPROVAL);
    const command = async (text: string) => {
      const before = fake!.of('response').length;
      await t!.command(text, 'admin', { response_url: `${fake!.url}response` });
      return (await eventually(async () => fake!.of('response')[before] as { text: string } | undefined))
        .text;
    };
    await command('admin groups create hr');
    await command('admin groups add hr <@U0BOB|bob>');
    await submitRequest('quick', 'U0ALICE', { note: { type: 'plain_text_input', value: 'New chair' } });
    const bob = await taskPost('D0BOB');

    // Bob goes on leave: Carol joins hr.
    expect(await command('admin groups add hr <@U0CAROL|carol>')).toBe(
      'Added Carol Manager to *hr* (2 members).',
    );
    const carol = await taskPost('D0CAROL');
    expect((await clickButton('U0CAROL', carol, buttonOf(carol.blocks, 'Approve'))).statusCode).toBe(200);
    const updated = await eventually(async () => {
      const updates = fake!.of('chat.update');
      const both = [bob, carol].every((c) => updates.some((u) => u.channel === c.channel && u.ts === c.ts));
      return both ? updates : null;
    });
    expect(JSON.stringify(updated)).toContain('Approved by Carol Manager');
    expect(JSON.stringify(updated)).not.toContain('<@U0CAROL>');
  });
});

describe('an outcome needing a comment, chosen from the /baton tasks list', () => {
  it('re-renders the ephemeral list once the modal decides the task, as a one-click outcome does', async () => {
    await start({
      ...LEAVE,
      'leave-recipe.yaml': `
kind: recipe
name: leave-approval
trigger: { type: new_request, app: leave }
steps:
  - id: t
    action: assign_task
    to: "{{ record.approver }}"
    title: "Leave for {{ requester.name }}"
    outcomes: [Approve, { label: Reject, comment: required }]
`,
    });
    await submitRequest('leave', 'U0ALICE', { approver: { type: 'users_select', selected_user: 'U0BOB' } });
    await taskPost('D0BOB');
    await t!.command('tasks', 'bob', { response_url: `${fake!.url}response` });
    const list = await eventually(async () => fake!.of('response')[0] as { blocks: Block[] } | undefined);
    const reject = buttonOf(list.blocks, 'Reject');

    // The click on the ephemeral list, as Slack sends it: no message, is_ephemeral, a response_url.
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
    payload.response_url = `${fake!.url}list`;
    payload.actions = [{ ...reject, block_id: 'x', type: 'button', action_ts: '1700000042.123456' }];
    expect((await t!.interact(payload)).statusCode).toBe(200);
    const opened = await eventually(async () => fake!.of('views.open')[0]);
    const view = opened.view as { callback_id: string; private_metadata: string; blocks: unknown[] };

    const submission = slackFixture<Record<string, unknown> & { view: Record<string, unknown> }>(
      'task-view-submission.json',
    );
    submission.user = { id: 'U0BOB', username: 'bob', name: 'bob', team_id: 'T0TEST' };
    submission.view = {
      ...submission.view,
      callback_id: view.callback_id,
      private_metadata: view.private_metadata,
      blocks: view.blocks,
      state: { values: { comment: { value: { type: 'plain_text_input', value: 'Busy week' } } } },
    };
    expect((await t!.interact(submission)).body).toBe('');
    const refreshed = await eventually(async () => fake!.of('list')[0]);
    expect(refreshed.replace_original).toBe(true);
    expect(JSON.stringify(refreshed.blocks)).toContain('rejected by you');
    expect(JSON.stringify(refreshed.blocks)).toContain('You have no open tasks');
  });
});

describe('a long notification shown above the request card', () => {
  it('is cut to Slack’s limit without splitting an emoji (Slack refuses half an emoji)', async () => {
    await start({
      ...LEAVE,
      'leave-recipe.yaml': `
kind: recipe
name: leave-approval
trigger: { type: new_request, app: leave }
steps:
  - action: notify
    to: "{{ request.requester }}"
    text: "{{ $pad('', 2899, 'x') & '😀 & more' }}"
    card: request
`,
    });
    await submitRequest('leave', 'U0ALICE', { approver: { type: 'users_select', selected_user: 'U0BOB' } });
    const told = await eventually(async () =>
      fake!.of('chat.postMessage').find((m) => m.channel === 'D0ALICE'),
    );
    const first = (told.blocks as Block[])[0]!.text!.text;
    expect(first.length).toBeLessThanOrEqual(3000);
    // A lone half of a surrogate pair is what JSON shows as \ud83d.
    expect(JSON.stringify(told.blocks)).not.toMatch(/\\ud83d/i);
    expect(first.endsWith('…')).toBe(true);
  });
});

describe('a mistyped command', () => {
  it('is answered with the closest command this person may use, never an admin command they would be refused', async () => {
    await start();
    const reply = async (text: string, from: string) => {
      const before = fake!.of('response').length;
      await t!.command(text, from, { response_url: `${fake!.url}response` });
      return (await eventually(async () => fake!.of('response')[before] as { text: string } | undefined))
        .text;
    };
    expect(await reply('admin recipes lst', 'alice')).toBe(
      "I don't know `admin recipes lst`. Try `/baton help` to see what you can do.",
    );
    expect(await reply('admin recipes lst', 'admin')).toBe(
      "I don't know `admin recipes lst`. Did you mean `/baton admin recipes list`?",
    );
    expect(await reply('requets', 'alice')).toBe("I don't know `requets`. Did you mean `/baton requests`?");
  });
});
