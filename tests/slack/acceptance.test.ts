/**
 * Acceptance checks of the Slack surface found in a QA pass: each drives the real server
 * (`POST /slack/events`, signed bodies in the shapes Slack sends) against a local fake of the
 * Web API that records what Slack would have received (slash command replies go to a
 * response_url on the same fake).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { renderRequestModal } from '../../adapters/slack/modals.js';
import { eventually } from '../helpers/runtime.js';
import { type SlackTestApp, signedSlackRequest, slackFixture } from '../helpers/slack.js';
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

async function start(files: Record<string, string> = {}): Promise<{ t: SlackTestApp; fake: FakeSlackApi }> {
  ({ t, fake } = await startSlackAcceptance(files));
  return { t, fake };
}

const command = (text: string, from: string) => slackCommand<unknown>(t!, fake!, text, from);

describe('admin commands naming a person Slack does not know', () => {
  it('groups add/remove and roles grant refuse an unknown id with an ephemeral error and change nothing', async () => {
    await start();
    const { baton } = t!.rt;
    expect((await command('admin groups create hr', 'admin')).text).toContain('Group *hr* created');

    // users.info answers { ok: false, error: 'user_not_found' } for U0NOBODY.
    const usersBefore = await baton.ctx.db.users.countDocuments({});
    const refused = await command('admin groups add hr <@U0BOB|bob> <@U0NOBODY|ghost>', 'admin');
    expect(refused.text).toMatch(/^:warning: Slack doesn't know a person with the id U0NOBODY/);
    expect((await baton.groups.get('hr')).members).toEqual([]);
    expect(await baton.users.lookup('slack:U0NOBODY')).toBeNull();

    const grant = await command('admin roles grant <@U0NOBODY> admin', 'admin');
    expect(grant.text).toMatch(/^:warning: Slack doesn't know a person with the id U0NOBODY/);
    expect(await baton.users.lookup('slack:U0NOBODY')).toBeNull();
    // Bob was looked up (he exists) but nobody was added, and no user was made from the unknown id.
    expect(await baton.ctx.db.users.countDocuments({ name: 'U0NOBODY' })).toBe(0);
    expect(await baton.ctx.db.users.countDocuments({})).toBeLessThanOrEqual(usersBefore + 1);

    // A real member is added; adding them again says so instead of "Added".
    expect((await command('admin groups add hr <@U0BOB|bob>', 'admin')).text).toBe(
      'Added Bob Manager to *hr* (1 member).',
    );
    expect((await command('admin groups add hr <@U0BOB|bob>', 'admin')).text).toBe(
      'Bob Manager was already in *hr* (1 member).',
    );
    const remove = await command('admin groups remove hr <@U0NOBODY>', 'admin');
    expect(remove.text).toMatch(/^:warning: Slack doesn't know/);
    expect((await baton.groups.get('hr')).members).toHaveLength(1);
  });

  it('an app or a deactivated account is not added to a group nor given a role; a deactivated member can still be removed', async () => {
    await start();
    const { baton } = t!.rt;
    fake!.people.set('U0ROBOT', {
      id: 'U0ROBOT',
      name: 'Standup Bot',
      email: 'standup@example.com',
      bot: true,
    });
    await command('admin groups create hr', 'admin');
    expect((await command('admin groups add hr <@U0BOB|bob> <@U0ROBOT|standup>', 'admin')).text).toBe(
      ':warning: Standup Bot is an app, not a person: pick a person.',
    );
    expect((await command('admin roles grant <@U0ROBOT> operator', 'admin')).text).toBe(
      ':warning: Standup Bot is an app, not a person: pick a person.',
    );
    expect((await baton.groups.get('hr')).members).toEqual([]);

    expect((await command('admin groups add hr <@U0BOB|bob>', 'admin')).text).toContain('Added Bob Manager');
    // Bob leaves the company: his account is deactivated, and he is taken out of hr.
    fake!.people.set('U0BOB', { ...fake!.people.get('U0BOB')!, deleted: true });
    expect((await command('admin groups remove hr <@U0BOB|bob>', 'admin')).text).toContain(
      'Removed Bob Manager from *hr*',
    );
    expect((await baton.groups.get('hr')).members).toEqual([]);
  });

  it('a non-admin naming people is refused before anyone is looked up', async () => {
    await start();
    await command('admin groups create hr', 'admin');
    const reply = await command('admin groups add hr <@U0NOBODY>', 'alice');
    expect(reply.text).toBe(':warning: Only admins can change group members.');
    expect(fake!.of('users.info').some((a) => a.user === 'U0NOBODY')).toBe(false);
  });
});

const SIZES_APP = {
  'sizes.yaml': `
kind: app
key: sizes
name: Sizes
stages: [Submitted]
fields:
  - key: size
    label: Size
    type: select
    required: true
    options: [{ value: s, label: Small }, { value: m, label: Medium }]
  - key: tags
    label: Tags
    type: multi_select
    options: [{ value: red, label: Red team }, { value: blue, label: Blue team }]
`,
};

/** A view_submission of `app`'s request form (as Slack echoes it back) with these state values. */
async function requestSubmission(app: string, from: string, values: Record<string, unknown>) {
  const payload = slackFixture<Record<string, unknown> & { view: Record<string, unknown> }>(
    'view-submission-request',
  );
  payload.user = { id: t!.people[from]!.id, username: from, name: from, team_id: 'T0TEST' };
  payload.view.private_metadata = app;
  payload.view.blocks = renderRequestModal(await t!.rt.baton.apps.get(app)).blocks;
  payload.view.state = {
    values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { value: v }])),
  };
  return payload;
}

describe('validation messages of select fields', () => {
  it('name the options by their labels, as the form shows them, not by their stored values', async () => {
    await start(SIZES_APP);
    // A form opened before an admin changed the options: the values sent are not options any more.
    const res = await t!.interact(
      await requestSubmission('sizes', 'alice', {
        size: {
          type: 'static_select',
          selected_option: { text: { type: 'plain_text', text: 'XL' }, value: 'xl' },
        },
        tags: {
          type: 'multi_static_select',
          selected_options: [{ text: { type: 'plain_text', text: 'Purple' }, value: 'purple' }],
        },
      }),
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      response_action: 'errors',
      errors: {
        size: 'Size must be one of Small, Medium',
        tags: 'Tags must only contain Red team, Blue team',
      },
    });
  });
});

const COMMENT_APP = {
  'q.yaml': `
kind: app
key: q
name: Quick
stages: [Submitted, Approved, Rejected]
fields:
  - { key: approver, label: Approver, type: user, required: true }
`,
  'q-recipe.yaml': `
kind: recipe
name: q-approval
trigger: { type: new_request, app: q }
steps:
  - id: t
    action: assign_task
    to: "{{ record.approver }}"
    title: Quick one
    outcomes:
      - Approve
      - { label: Reject, style: danger, comment: optional }
      - { label: Escalate, comment: required }
      - Hand this over to the facilities team for a second opinion on the budget
  - action: change_stage
    stage: "{{ steps.t.outcome = 'Approve' ? 'Approved' : 'Rejected' }}"
`,
};

type Element = {
  type: string;
  action_id?: string;
  value?: string;
  options?: { text: { text: string }; value: string }[];
};
type Posted = {
  channel: string;
  ts: string;
  blocks: { type: string; elements?: Element[]; text?: { text: string } }[];
};

/** Files a Quick request by Alice for Bob and returns Bob's DM copy of the task (with the ts the fake gave it). */
async function quickTaskFor(approver: string) {
  const { baton } = t!.rt;
  const alice = await t!.batonUser('alice');
  const bob = await t!.batonUser(approver);
  const request = await baton.requests.file(alice, 'q', { approver: bob._id });
  const channel = `D${t!.people[approver]!.id.slice(1)}`;
  const index = await eventually(async () => {
    const i = fake!.calls.findIndex((c) => c.method === 'chat.postMessage' && c.args.channel === channel);
    return i === -1 ? undefined : i + 1;
  });
  const post = fake!.calls[index - 1]!.args as unknown as Posted;
  // The fake numbers ts by answer; read the one Baton recorded for this copy.
  const [task] = await baton.tasks.listForRequest(request._id);
  const copy = await eventually(async () =>
    (await baton.deliveries.taskDeliveries(task!._id, 'slack')).find((d) => d.user === bob._id),
  );
  return { request, task: task!, post, channel, ts: copy.ref.ts! };
}

function overflowClick(
  from: string,
  channel: string,
  ts: string,
  option: { text: { text: string }; value: string },
) {
  const payload = slackFixture<Record<string, unknown>>('task-block-actions.json');
  payload.user = { id: t!.people[from]!.id, username: from, name: from, team_id: 'T0TEST' };
  payload.container = { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: false };
  payload.channel = { id: channel, name: 'directmessage' };
  payload.message = { ...(payload.message as object), ts };
  payload.actions = [
    {
      type: 'overflow',
      action_id: 'baton:task.comment',
      block_id: 'x',
      selected_option: {
        text: { type: 'plain_text', text: option.text.text, emoji: true },
        value: option.value,
      },
      action_ts: '1700000042.123456',
    },
  ];
  return t!.interact(payload);
}

describe('an optional comment on a one-click outcome', () => {
  it('the task message offers "<outcome> with comment"; it opens the comment modal (optional) and the comment is kept', async () => {
    await start(COMMENT_APP);
    const { baton } = t!.rt;
    const { task, post, channel, ts } = await quickTaskFor('bob');

    const elements = post.blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
    expect(
      elements.filter((e) => e.type === 'button').map((e) => (e as { text?: { text: string } }).text?.text),
    ).toEqual(expect.arrayContaining(['Approve', 'Reject', 'Escalate']));
    const menu = elements.find((e) => e.type === 'overflow');
    // Escalate needs a comment: its button opens the modal already, so it is not in the menu.
    expect(menu?.options?.map((o) => o.text.text)).toEqual([
      'Approve with comment',
      'Reject with comment',
      // Cut to Slack's 75 characters without losing what the option does.
      'Hand this over to the facilities team for a second opinion on… with comment',
    ]);
    for (const o of menu!.options!) expect(o.value.length).toBeLessThanOrEqual(150);

    // Someone who may not act is refused, and no modal opens.
    expect((await overflowClick('mallory', channel, ts, menu!.options![1]!)).statusCode).toBe(200);
    const refusal = await eventually(async () => fake!.of('chat.postEphemeral')[0]);
    expect(refusal).toMatchObject({ user: t!.people.mallory!.id });
    expect(String(refusal.text)).toContain("You can't act on");
    expect(fake!.of('views.open')).toHaveLength(0);

    // Bob picks "Reject with comment": the modal opens with the comment optional.
    expect((await overflowClick('bob', channel, ts, menu!.options![1]!)).statusCode).toBe(200);
    const opened = await eventually(async () => fake!.of('views.open')[0]);
    const view = opened.view as {
      callback_id: string;
      private_metadata: string;
      blocks: { block_id?: string; optional?: boolean }[];
    };
    expect(view.callback_id).toBe('baton:task:respond');
    expect(view.blocks.find((b) => b.block_id === 'comment')?.optional).toBe(true);
    expect((await baton.tasks.load(task._id))?.status).toBe('open');

    const submission = slackFixture<Record<string, unknown> & { view: Record<string, unknown> }>(
      'task-view-submission.json',
    );
    submission.user = { id: t!.people.bob!.id, username: 'bob', name: 'bob', team_id: 'T0TEST' };
    submission.view = {
      ...submission.view,
      callback_id: view.callback_id,
      private_metadata: view.private_metadata,
      blocks: view.blocks,
      state: {
        values: { comment: { value: { type: 'plain_text_input', value: 'Dates clash with the release' } } },
      },
    };
    const res = await t!.interact(submission);
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    const done = await baton.tasks.load(task._id);
    expect(done).toMatchObject({
      status: 'completed',
      outcome: 'Reject',
      comment: 'Dates clash with the release',
    });
    // The DM copy is replaced by the outcome and the comment, without buttons or menu.
    const update = await eventually(async () =>
      fake!.of('chat.update').find((u) => u.channel === channel && u.ts === ts),
    );
    expect(JSON.stringify(update.blocks)).toContain('Dates clash with the release');
    expect(JSON.stringify(update.blocks)).not.toContain('baton:task.comment');
  });
});

const LONG_TITLE_APP = {
  'long.yaml': `
kind: app
key: long
name: Long
stages: [Submitted, Done]
fields:
  - { key: approver, label: Approver, type: user, required: true }
  - { key: reason, label: Reason, type: long_text, required: true }
`,
  'long-recipe.yaml': `
kind: recipe
name: long-approval
trigger: { type: new_request, app: long }
steps:
  - id: t
    action: assign_task
    to: "{{ record.approver }}"
    title: "Please look at: {{ record.reason }}"
    outcomes: [{ label: Approve, comment: required }, Reject]
  - action: change_stage
    stage: Done
`,
};

/** Every text of every section block (what Slack caps at 3000 characters). */
function sectionTexts(blocks: unknown): string[] {
  return (blocks as { type: string; text?: { text: string } }[])
    .filter((b) => b.type === 'section' && b.text)
    .map((b) => b.text!.text);
}

describe('a task whose title is longer than Slack allows in one text', () => {
  it('still opens its comment modal and the Home tab: the title is cut to fit, never sent whole', async () => {
    await start(LONG_TITLE_APP);
    const { baton } = t!.rt;
    const alice = await t!.batonUser('alice');
    const bob = await t!.batonUser('bob');
    await baton.requests.file(alice, 'long', {
      approver: bob._id,
      reason: `<&> ${'long reason '.repeat(500)}`,
    });
    const post = await eventually(async () =>
      fake!.of('chat.postMessage').find((a) => a.channel === 'D0BOB'),
    );
    const button = (post.blocks as { type: string; elements?: { type: string; value?: string }[] }[])
      .filter((b) => b.type === 'actions')
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.type === 'button' && e.value?.includes('"Approve"'))!;
    const [task] = await baton.tasks.listOpenFor(bob);
    const ts = (await eventually(async () => (await baton.deliveries.taskDeliveries(task!._id, 'slack'))[0]))
      .ref.ts!;

    // Approve needs a comment: the click opens the modal, whose text must fit Slack's limit.
    const click = slackFixture<Record<string, unknown>>('task-block-actions.json');
    click.user = { id: 'U0BOB', username: 'bob', name: 'bob', team_id: 'T0TEST' };
    click.container = { type: 'message', message_ts: ts, channel_id: 'D0BOB', is_ephemeral: false };
    click.channel = { id: 'D0BOB', name: 'directmessage' };
    click.actions = [
      { ...(click.actions as object[])[0], action_id: 'baton:task.complete:0', value: button.value },
    ];
    expect((await t!.interact(click)).statusCode).toBe(200);
    const opened = await eventually(async () => fake!.of('views.open')[0]);
    const modalTexts = sectionTexts((opened.view as { blocks: unknown }).blocks);
    expect(modalTexts[0]).toContain('Please look at: &lt;&amp;&gt; long reason');
    for (const text of modalTexts) expect(text.length).toBeLessThanOrEqual(3000);

    // Bob opens the Home tab: one publish, every text within the limit.
    const home = slackFixture<Record<string, unknown> & { event: Record<string, unknown> }>(
      'home-app-home-opened.json',
    );
    home.event.user = 'U0BOB';
    const res = await signedSlackRequest(t!.app, { body: home, contentType: 'application/json' });
    expect(res.statusCode).toBe(200);
    const published = await eventually(async () => fake!.of('views.publish')[0]);
    const homeTexts = sectionTexts((published.view as { blocks: unknown }).blocks);
    expect(homeTexts.some((x) => x.includes('Please look at:'))).toBe(true);
    for (const text of homeTexts) expect(text.length).toBeLessThanOrEqual(3000);
  });
});

/** `<…>` sequences Slack would read as a link, a mention or a command, other than Baton's own. */
function rawAngles(text: string): string[] {
  return (text.match(/<[^>]*>/g) ?? []).filter((m) => !/^<(@[UW]|!date\^|https?:\/\/)/.test(m));
}

function allText(reply: { text: string; blocks?: unknown[] }): string {
  return [reply.text, JSON.stringify(reply.blocks ?? [])].join('\n');
}

describe('text Baton writes into mrkdwn', () => {
  it('escapes <, > and & in usages, hints and names, so Slack shows them instead of reading links', async () => {
    await start();
    const help = await command('help', 'admin');
    expect(rawAngles(allText(help))).toEqual([]);
    expect(JSON.stringify(help.blocks)).toContain('admin roles grant @person &lt;admin|operator&gt;');

    const typo = await command('shwo PTO-1', 'alice');
    expect(rawAngles(allText(typo))).toEqual([]);
    expect(typo.text).toContain('Did you mean `/baton show &lt;ID&gt;`?');

    // Text pasted after /baton by mistake is echoed cut, within Slack's 3000 characters a section.
    const pasted = await command(`${'<x>'.repeat(2000)} and more`, 'alice');
    const section = (pasted.blocks as { text?: { text: string } }[])[0]!.text!.text;
    expect(section.length).toBeLessThanOrEqual(3000);
    expect(section).toMatch(/^I don't know `(&lt;x&gt;)+…`\. Try `\/baton help`/);

    const groups = await command('admin groups list', 'admin');
    expect(rawAngles(groups.text)).toEqual([]);
    expect(groups.text).toContain('admin groups create &lt;name&gt;');

    const packs = await command('admin recipes install', 'admin');
    expect(rawAngles(packs.text)).toEqual([]);

    // The app builder modal's confirmation names the app as typed.
    const modal = slackFixture<Record<string, unknown> & { view: Record<string, unknown> }>(
      'view-submission-request',
    );
    modal.user = { id: 'U0ADMIN', username: 'admin', name: 'admin', team_id: 'T0TEST' };
    const text = (value: string) => ({ value: { type: 'plain_text_input', value } });
    modal.view = {
      ...modal.view,
      callback_id: 'baton_admin_create_app',
      private_metadata: '',
      blocks: ['key', 'name', 'stages', 'id_prefix'].map((id) => ({ type: 'input', block_id: id })),
      state: {
        values: {
          key: text('ops'),
          name: text('Ops <Team> & co'),
          stages: text('New\nDone'),
          id_prefix: text(''),
        },
      },
    };
    expect((await t!.interact(modal)).json()).toEqual({ response_action: 'clear' });
    const dm = await eventually(async () =>
      fake!.of('chat.postMessage').find((a) => String(a.text).startsWith('App Ops')),
    );
    expect(dm.text).toContain('App Ops &lt;Team&gt; &amp; co (ops) created');
  });
});

describe('the fallback text of command replies', () => {
  it('escapes stages and task titles typed by people in /baton requests and /baton tasks', async () => {
    await start({
      'x.yaml': `
kind: app
key: x
name: X
stages: ["New <draft> & more"]
fields:
  - { key: title, label: Title, type: text, required: true }
`,
      'x-recipe.yaml': `
kind: recipe
name: x-flow
trigger: { type: new_request, app: x }
steps:
  - action: assign_task
    to: "{{ request.requester }}"
    title: "{{ record.title }}"
`,
    });
    const alice = await t!.batonUser('alice');
    await t!.rt.baton.requests.file(alice, 'x', { title: '<!channel> look & see' });
    await eventually(async () => (await t!.rt.baton.tasks.listOpenFor(alice)).length > 0);
    const requests = await command('requests', 'alice');
    expect(requests.text).toBe('Your recent requests: X-1 (New &lt;draft&gt; &amp; more)');
    const tasks = await command('tasks', 'alice');
    expect(tasks.text).toBe('Your open tasks: &lt;!channel&gt; look &amp; see');
  });
});

describe('/baton show on a request with long fields and a long history', () => {
  it('shows every field and the newest history entries, each text within Slack limits', async () => {
    const fields = Array.from({ length: 12 }, (_, i) => `  - { key: f${i}, label: Field ${i}, type: text }`);
    await start({
      'w.yaml': `kind: app\nkey: w\nname: W\nstages: [New]\nfields:\n${fields.join('\n')}\n`,
    });
    const { baton } = t!.rt;
    const alice = await t!.batonUser('alice');
    const values = Object.fromEntries(
      Array.from({ length: 12 }, (_, i) => [`f${i}`, `v${i} ${'x'.repeat(400)}`]),
    );
    const request = await baton.requests.file(alice, 'w', values);
    for (let i = 0; i < 20; i++) {
      await baton.requests.appendHistory(request._id, {
        id: `note-${i}`,
        type: 'comment',
        at: new Date(Date.now() + (i + 1) * 1000),
        by: alice._id,
        text: `${i === 19 ? 'LATEST' : `note ${i}`} ${'y'.repeat(300)}`,
      });
    }
    const reply = await command(`show ${request._id}`, 'alice');
    const texts = sectionTexts(reply.blocks);
    for (const text of texts) expect(text.length).toBeLessThanOrEqual(3000);
    const all = texts.join('\n');
    expect(all).toContain('*Field 11:* v11');
    expect(all).toContain('LATEST');
    expect(all).toMatch(/\*History\* \(latest \d+ of 21\)/);
  });
});

describe('a select with more than 100 options', () => {
  it('is offered as a searched menu (block_suggestion) in the request form, keeps its default, and files', async () => {
    const opts = Array.from({ length: 150 }, (_, i) => `{ value: o${i + 1}, label: "Option ${i + 1}" }`);
    await start({
      'many.yaml': `
kind: app
key: many
name: Many
stages: [New]
fields:
  - { key: pick, label: Pick, type: select, required: true, default: o120, options: [${opts.join(', ')}] }
  - { key: tags, label: Tags, type: multi_select, default: [o2, o130], options: [${opts.join(', ')}] }
`,
    });
    expect((await t!.command('new many', 'alice', { response_url: `${fake!.url}response` })).statusCode).toBe(
      200,
    );
    const opened = await eventually(async () => fake!.of('views.open')[0]);
    type Input = { block_id: string; element: Record<string, unknown> };
    const view = opened.view as { blocks: Input[]; private_metadata: string; callback_id: string };
    const pick = view.blocks.find((b) => b.block_id === 'pick')!.element;
    const tags = view.blocks.find((b) => b.block_id === 'tags')!.element;
    // A static menu holds 100 options and its initial option must be one of them: Slack refused the form.
    expect(pick).toMatchObject({ type: 'external_select', initial_option: { value: 'o120' } });
    expect(pick.options).toBeUndefined();
    expect(tags).toMatchObject({ type: 'multi_external_select' });
    expect((tags.initial_options as { value: string }[]).map((o) => o.value)).toEqual(['o2', 'o130']);

    // Slack asks for the options matching what is typed.
    const suggestion = {
      type: 'block_suggestion',
      user: { id: 'U0ALICE', username: 'alice', name: 'alice', team_id: 'T0TEST' },
      container: { type: 'view', view_id: 'V0REQUEST' },
      api_app_id: 'A0BATON',
      token: 'x',
      action_id: 'value',
      block_id: 'pick',
      value: 'option 14',
      team: { id: 'T0TEST', domain: 'baton-test' },
      view: {
        id: 'V0REQUEST',
        type: 'modal',
        callback_id: view.callback_id,
        private_metadata: view.private_metadata,
        blocks: view.blocks,
        state: { values: {} },
      },
    };
    const res = await t!.interact(suggestion);
    expect(res.statusCode).toBe(200);
    const labels = (res.json() as { options: { text: { text: string }; value: string }[] }).options.map(
      (o) => o.text.text,
    );
    expect(labels).toEqual(['Option 14', ...Array.from({ length: 10 }, (_, i) => `Option ${140 + i}`)]);
    const all = await t!.interact({ ...suggestion, value: '', block_id: 'tags' });
    expect((all.json() as { options: unknown[] }).options).toHaveLength(100);

    // The submission (external selects in the state) files the request.
    const submitted = await t!.interact(
      await requestSubmission('many', 'alice', {
        pick: {
          type: 'external_select',
          selected_option: { text: { type: 'plain_text', text: 'Option 140' }, value: 'o140' },
        },
        tags: {
          type: 'multi_external_select',
          selected_options: [{ text: { type: 'plain_text', text: 'Option 149' }, value: 'o149' }],
        },
      }),
    );
    expect(submitted.json()).toEqual({ response_action: 'clear' });
    const alice = await t!.batonUser('alice');
    const [request] = await t!.rt.baton.requests.listMine(alice);
    expect(request?.record).toEqual({ pick: 'o140', tags: ['o149'] });
  });
});

describe('texts cut to a Slack limit', () => {
  it('are never cut inside an emoji (half a surrogate pair is invalid text for Slack)', async () => {
    await start({
      'emoji.yaml': `
kind: app
key: emoji
name: "Travel requests 20266 🚀 more"
stages: [New]
fields:
  - { key: note, label: Note, type: text }
`,
    });
    expect(
      (await t!.command('new emoji', 'alice', { response_url: `${fake!.url}response` })).statusCode,
    ).toBe(200);
    const opened = await eventually(async () => fake!.of('views.open')[0]);
    const title = (opened.view as { title: { text: string } }).title.text;
    expect(title.length).toBeLessThanOrEqual(24);
    expect(title).toBe('Travel requests 20266 …');
    expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(title)).toBe(false);
  });
});

/**
 * Forms answered late: when a submission takes longer than the receiver's safety timeout
 * (Slack gives 3 s; a slow users.info, a busy server), Slack has already been answered with
 * an empty 200 and the form closed, so errors can no longer be shown on it. The person must
 * still learn that nothing was filed or recorded.
 */
async function startLate(): Promise<SlackTestApp> {
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
    const t = await startLate();
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
    const t = await startLate();
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
