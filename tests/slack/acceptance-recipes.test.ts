/**
 * Acceptance checks of the Slack surface with apps and recipes of the testers' own (not the
 * shipped templates): the real server, signed bodies in the shapes Slack sends, and a local fake
 * of the Web API that records what Slack would have received.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { type SlackTestApp, signedSlackRequest } from '../helpers/slack.js';
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

const command = (text: string, from: string) => slackCommand<Block>(t!, fake!, text, from);

type Block = {
  type: string;
  text?: { text: string };
  fields?: { text: string }[];
  elements?: { text?: string }[];
};

const SUMMARY_APP = {
  'kit.yaml': `
kind: app
key: kit
name: Kit order
id_prefix: KIT
stages: [New, Done]
fields:
  - { key: item, label: Item, type: text, required: true }
  - { key: who, label: Colleague, type: user }
`,
  'kit-recipe.yaml': `
kind: recipe
name: kit-summary
trigger: { type: new_request, app: kit }
steps:
  - action: notify
    to: "{{ record.who }}"
    text: "Here is what {{ requester.name }} ordered"
    card: request
`,
};

describe('a notify step with card: request', () => {
  it('shows the request (id, app, stage, fields) and the step text, not the card bindings as written', async () => {
    await start(SUMMARY_APP);
    const { baton } = t!.rt;
    const alice = await t!.batonUser('alice');
    const bob = await t!.batonUser('bob');
    await baton.requests.file(alice, 'kit', { item: 'Standing desk', who: bob._id });

    const post = await eventually(async () =>
      fake!.of('chat.postMessage').find((a) => a.channel === 'D0BOB'),
    );
    const blocks = post.blocks as Block[];
    const shown = JSON.stringify(blocks);
    expect(shown).not.toContain('${');
    expect(blocks[0]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: 'Here is what Alice Requester ordered' },
    });
    expect(blocks.find((b) => b.type === 'header')?.text?.text).toBe('KIT-1');
    expect(shown).toContain('Kit order');
    const facts = blocks.flatMap((b) => b.fields ?? []).map((f) => f.text);
    expect(facts).toEqual(
      expect.arrayContaining(['*Stage*\nNew', '*Requested by*\nAlice Requester', '*Item*\nStanding desk']),
    );
    expect(post.text).toBe('Here is what Alice Requester ordered');
  });
});

describe('a notify step naming the task card', () => {
  it('is shown with the notification card (a notification has no task), not as raw bindings', async () => {
    await start({
      'kit.yaml': SUMMARY_APP['kit.yaml'],
      'kit-recipe.yaml': SUMMARY_APP['kit-recipe.yaml'].replace('card: request', 'card: task'),
    });
    const { baton } = t!.rt;
    const bob = await t!.batonUser('bob');
    await baton.requests.file(await t!.batonUser('alice'), 'kit', { item: 'Lamp', who: bob._id });
    const post = await eventually(async () =>
      fake!.of('chat.postMessage').find((a) => a.channel === 'D0BOB'),
    );
    const shown = JSON.stringify(post.blocks);
    expect(shown).not.toContain('${');
    expect(shown).toContain('Here is what Alice Requester ordered');
    expect(shown).toContain('KIT-1 · Kit order · Stage: New');
  });
});

describe('an assign_task step naming the request card', () => {
  it('is shown with the task card (title, fields, buttons), not raw bindings, and a click decides it', async () => {
    await start({
      'kit.yaml': SUMMARY_APP['kit.yaml'],
      'kit-recipe.yaml': `
kind: recipe
name: kit-check
trigger: { type: new_request, app: kit }
steps:
  - id: check
    action: assign_task
    to: "{{ record.who }}"
    title: "Check {{ record.item }}"
    card: request
  - action: change_stage
    stage: "{{ steps.check.outcome = 'Approve' ? 'Done' : 'New' }}"
`,
    });
    const { baton } = t!.rt;
    const bob = await t!.batonUser('bob');
    await baton.requests.file(await t!.batonUser('alice'), 'kit', { item: 'Lamp', who: bob._id });
    const post = await eventually(async () =>
      fake!.of('chat.postMessage').find((a) => a.channel === 'D0BOB'),
    );
    const shown = JSON.stringify(post.blocks);
    expect(shown).not.toContain('${');
    expect(shown).toContain('Check Lamp');
    expect(shown).toContain('*Item*\\nLamp');
    const actions = (
      post.blocks as { type: string; elements?: { text?: { text: string }; value?: string }[] }[]
    )
      .filter((b) => b.type === 'actions')
      .flatMap((b) => b.elements ?? []);
    const approve = actions.find((e) => e.text?.text === 'Approve');
    expect(approve?.value).toBeDefined();

    const res = await t!.interact({
      type: 'block_actions',
      team: { id: 'T0TEST', domain: 'baton-test' },
      user: { id: 'U0BOB', username: 'bob', name: 'bob', team_id: 'T0TEST' },
      api_app_id: 'A0BATON',
      trigger_id: '1337.42.abcd',
      container: { type: 'message', message_ts: '1.1', channel_id: 'D0BOB' },
      channel: { id: 'D0BOB', name: 'directmessage' },
      actions: [
        {
          type: 'button',
          action_id: 'baton:task.complete:0',
          block_id: 'b',
          value: approve!.value,
          action_ts: '1.2',
        },
      ],
    });
    expect(res.statusCode).toBe(200);
    await eventually(async () => (await baton.requests.load('KIT-1'))?.stage === 'Done');
  });
});

describe('a group task with a quorum that expires after some answers', () => {
  it('is recorded in the history as expired without a decision, with the answers it had, not "without a response"', async () => {
    await start({
      'kit.yaml': SUMMARY_APP['kit.yaml'],
      'kit-recipe.yaml': `
kind: recipe
name: kit-vote
trigger: { type: new_request, app: kit }
steps:
  - id: vote
    action: assign_task
    to: group:buyers
    title: "Vote on {{ record.item }}"
    quorum: { mode: all }
    expires_in: 1h
`,
    });
    const { baton } = t!.rt;
    const admin = await t!.batonUser('admin');
    await baton.groups.create(admin, 'buyers', 'Buyers');
    for (const who of ['bob', 'carol'])
      await baton.groups.addMember(admin, 'buyers', (await t!.batonUser(who))._id);
    await baton.requests.file(await t!.batonUser('alice'), 'kit', { item: 'Lamp' });
    const post = await eventually(async () =>
      fake!.of('chat.postMessage').find((a) => a.channel === 'D0BOB'),
    );
    const approve = (
      post.blocks as { type: string; elements?: { text?: { text: string }; value?: string }[] }[]
    )
      .flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []))
      .find((e) => e.text?.text === 'Approve');
    const res = await t!.interact({
      type: 'block_actions',
      team: { id: 'T0TEST', domain: 'baton-test' },
      user: { id: 'U0BOB', username: 'bob', name: 'bob', team_id: 'T0TEST' },
      api_app_id: 'A0BATON',
      trigger_id: '1337.42.abcd',
      container: { type: 'message', message_ts: String(post.ts ?? '1.1'), channel_id: 'D0BOB' },
      channel: { id: 'D0BOB', name: 'directmessage' },
      actions: [
        {
          type: 'button',
          action_id: 'baton:task.complete:0',
          block_id: 'b',
          value: approve!.value,
          action_ts: '1.2',
        },
      ],
    });
    expect(res.statusCode).toBe(200);
    const [task] = await eventually(async () => {
      const open = await baton.ctx.db.tasks.find({ request_id: 'KIT-1', status: 'open' }).toArray();
      return open[0]?.responses.length === 1 ? open : null;
    });
    // The deadline passes (as the scheduler would see it): the expiry runs.
    await baton.ctx.db.tasks.updateOne(
      { _id: task!._id },
      { $set: { expires_at: new Date(Date.now() - 1000) } },
    );
    await baton.tasks.expire(task!._id);

    const shown = await command('show KIT-1', 'alice');
    const history = JSON.stringify(shown.blocks);
    expect(history).toContain('Task \\"Vote on Lamp\\" expired without a decision (1 response, not enough)');
    expect(history).not.toContain('without a response');
  });
});

describe('a notify step to a group that does not exist', () => {
  it('fails its job saying what to do, tells the requester and the admins, and a rerun after the fix sends it', async () => {
    await start({
      'kit.yaml': SUMMARY_APP['kit.yaml'],
      'kit-recipe.yaml': `
kind: recipe
name: kit-tell
trigger: { type: new_request, app: kit }
steps:
  - action: notify
    to: group:buyers
    text: "Please order {{ record.item }}"
  - action: change_stage
    stage: Done
`,
    });
    const { baton } = t!.rt;
    const admin = await t!.batonUser('admin');
    await baton.requests.file(await t!.batonUser('alice'), 'kit', { item: 'Lamp' });
    const dmText = (channel: string, part: string) =>
      eventually(async () =>
        fake!
          .of('chat.postMessage')
          .filter((a) => a.channel === channel)
          .map((a) => String(a.text))
          .find((text) => text.includes(part)),
      );
    const what =
      'A notification could not be sent: there is no group named "buyers", so the recipe kit-tell stopped.';
    // The requester reads plain words; which recipe stopped and why is for the admins.
    const alices = await dmText('D0ALICE', 'held up');
    expect(alices).toContain(
      "Your request KIT-1 is held up: a notification about it could not be sent. Baton's admins have been told.",
    );
    expect(alices).not.toContain('kit-tell');
    expect(await dmText('D0ADMIN', 'no group named')).toContain(
      `KIT-1: ${what} Create the group and add its members ("admin groups create buyers"`,
    );
    const [job] = await eventually(async () => {
      const failed = await baton.recipes.listJobs(admin, { status: 'failed' });
      return failed.length > 0 ? failed : null;
    });
    expect(job!.error?.message).toMatch(/^No group named "buyers"\. Create the group and add its members/);
    const shownToAlice = JSON.stringify((await command('show KIT-1', 'alice')).blocks);
    expect(shownToAlice).toContain(
      'A notification about this request could not be sent, so it is held up. An admin has been told.',
    );
    expect(shownToAlice).not.toContain('kit-tell');
    expect(JSON.stringify((await command('show KIT-1', 'admin')).blocks)).toContain(
      JSON.stringify(what).slice(1, -1),
    );

    await command('admin groups create buyers', 'admin');
    await command('admin groups add buyers <@U0BOB|bob>', 'admin');
    await command(`admin jobs rerun ${job!._id}`, 'admin');
    expect(await dmText('D0BOB', 'Please order')).toContain('Please order Lamp');
    await eventually(async () => (await baton.requests.load('KIT-1'))?.stage === 'Done');
  });
});

describe('the first words of admin commands', () => {
  it('`/baton admin`, `admin help` and `admin apps` list the commands under them instead of "I don\'t know"', async () => {
    await start();
    const admin = await command('admin', 'admin');
    expect(admin.text).not.toContain("I don't know");
    const lines = admin.blocks![0]!.text!.text.split('\n');
    expect(lines[0]).toBe('*`/baton admin` commands*');
    expect(lines).toContain('• `/baton admin apps list` — apps and their stages and fields');
    expect(lines).toContain('• `/baton admin groups add &lt;group&gt; @person…` — add people to a group');
    expect(lines).toContain(
      '• `/baton admin groups delete &lt;name&gt; [confirm]` — delete a group (one with members or used by recipes: says what it breaks, then confirm)',
    );
    expect(lines).toHaveLength(1 + 19);
    expect((await command('admin help', 'admin')).blocks).toEqual(admin.blocks);

    const apps = await command('ADMIN apps', 'admin');
    expect(apps.text).toBe('/baton admin apps: list, create, add field, add stage');
    expect(apps.blocks![0]!.text!.text.split('\n').slice(1)).toEqual([
      '• `/baton admin apps list` — apps and their stages and fields',
      '• `/baton admin apps create [key] [name]` — create an app (no arguments: a form)',
      '• `/baton admin apps add field &lt;app&gt;` — add a field to an app (a form)',
      '• `/baton admin apps add stage &lt;app&gt; &lt;stage&gt;` — add a stage to an app',
    ]);
    // A full command still runs; a typo still gets "did you mean".
    expect((await command('admin groups list', 'admin')).text).toContain('No groups');
    expect((await command('admin gruops list', 'admin')).text).toContain("I don't know `admin gruops list`");
  });

  it('tells someone without the role that those commands are not for them', async () => {
    await start();
    expect((await command('admin', 'alice')).text).toBe(
      ':warning: `/baton admin …` commands are for admins and operators.',
    );
    expect((await command('admin groups', 'alice')).text).toBe(
      ':warning: `/baton admin groups …` commands are for admins.',
    );
  });
});

const APPROVAL_APP = {
  'ok.yaml': `
kind: app
key: ok
name: OK
stages: [New, Approved, Rejected]
fields:
  - { key: approver, label: Approver, type: user, required: true }
`,
  'ok-recipe.yaml': `
kind: recipe
name: ok-approval
trigger: { type: new_request, app: ok }
steps:
  - id: t
    action: assign_task
    to: "{{ record.approver }}"
    title: Sign off
    outcomes: [{ label: "Q&A", comment: required }, Reject]
`,
};

describe('a task modal submitted after the task was decided elsewhere', () => {
  it('says who decided and when in plain words (the modal error is plain text: no &amp; and no <!date> markup)', async () => {
    await start(APPROVAL_APP);
    const { baton } = t!.rt;
    fake!.people.set('U0BOB', { id: 'U0BOB', name: 'Bob & Co', email: 'bob@example.com' });
    const alice = await t!.batonUser('alice');
    const bob = await t!.batonUser('bob');
    await baton.users.resolve({ provider: 'slack', id: 'U0BOB', name: 'Bob & Co', email: 'bob@example.com' });
    await baton.requests.file(alice, 'ok', { approver: bob._id });
    const task = await eventually(async () => (await baton.tasks.listOpenFor(bob))[0]);
    // Bob opened the comment modal of "Q&A" on Slack, then decided on another surface.
    await baton.tasks.complete(bob, task._id, 'Q&A', { comment: 'done on the web' });

    const res = await t!.interact({
      type: 'view_submission',
      team: { id: 'T0TEST', domain: 'baton-test' },
      user: { id: 'U0BOB', username: 'bob', name: 'bob', team_id: 'T0TEST' },
      api_app_id: 'A0BATON',
      trigger_id: '1337.42.abcd',
      view: {
        id: 'V0TASK',
        type: 'modal',
        callback_id: 'baton:task:respond',
        private_metadata: JSON.stringify({ task_id: task._id, outcome: 'Q&A' }),
        blocks: [{ type: 'input', block_id: 'comment', optional: false }],
        state: { values: { comment: { value: { type: 'plain_text_input', value: 'from Slack' } } } },
      },
    });
    expect(res.statusCode).toBe(200);
    const errors = (res.json() as { errors: Record<string, string> }).errors;
    expect(errors.comment).toMatch(/^Already answered "Q&A" by Bob & Co at \d{4}-\d\d-\d\d \d\d:\d\d UTC\.$/);
  });
});

const POLICY =
  'I have read the travel policy, I booked the cheapest reasonable fare available at the time of booking, and I understand that upgrades are at my own expense';
const LONG_OPTIONS_APP = {
  'trip.yaml': `
kind: app
key: trip
name: Trip
stages: [Submitted]
fields:
  - { key: policy, label: Policy, type: select, required: true, options: ["${POLICY}", "I need an exception"] }
  - { key: extras, label: Extras, type: multi_select, options: ["${POLICY} (twice)", Lounge] }
`,
};

describe('a select option longer than Slack allows in an option value (150 characters)', () => {
  it('can be picked and files the request with the whole option, not a cut one', async () => {
    await start(LONG_OPTIONS_APP);
    const { baton } = t!.rt;
    expect(POLICY.length).toBeGreaterThan(150);
    await t!.command('new trip', 'alice');
    const opened = await eventually(async () => fake!.of('views.open')[0]);
    const view = opened.view as {
      callback_id: string;
      private_metadata: string;
      blocks: { block_id: string; element: { options: { value: string }[] } }[];
    };
    const optionsOf = (block: string) => view.blocks.find((b) => b.block_id === block)!.element.options;
    for (const o of [...optionsOf('policy'), ...optionsOf('extras')])
      expect(o.value.length).toBeLessThanOrEqual(150);
    const picked = (block: string, i: number) => ({
      text: { type: 'plain_text', text: 'x' },
      value: optionsOf(block)[i]!.value,
    });

    const res = await t!.interact({
      type: 'view_submission',
      team: { id: 'T0TEST', domain: 'baton-test' },
      user: { id: t!.people.alice!.id, username: 'alice', name: 'alice', team_id: 'T0TEST' },
      api_app_id: 'A0BATON',
      trigger_id: '1337.42.abcd',
      view: {
        id: 'V0TRIP',
        type: 'modal',
        callback_id: view.callback_id,
        private_metadata: view.private_metadata,
        blocks: view.blocks,
        state: {
          values: {
            policy: { value: { type: 'static_select', selected_option: picked('policy', 0) } },
            extras: {
              value: {
                type: 'multi_static_select',
                selected_options: [picked('extras', 0), picked('extras', 1)],
              },
            },
          },
        },
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ response_action: 'clear' });
    const alice = await t!.batonUser('alice');
    const [filed] = await baton.requests.listMine(alice, { limit: 1 });
    expect(filed?.record).toMatchObject({ policy: POLICY, extras: [`${POLICY} (twice)`, 'Lounge'] });
  });
});

const LONG_STAGE = `Waiting for the ${'very '.repeat(700)}long review`;
const LONG_STAGE_APP = {
  'long-stage.yaml': `
kind: app
key: slow
name: Slow & steady
stages: ["${LONG_STAGE}", Done]
fields:
  - { key: approver, label: Approver, type: user, required: true }
`,
  'long-stage-recipe.yaml': `
kind: recipe
name: slow-flow
trigger: { type: new_request, app: slow }
steps:
  - action: assign_task
    to: "{{ record.approver }}"
    title: "Check {{ request.id }}"
`,
};

/** Opens a person's Home tab (app_home_opened, as Slack sends it) and returns the view published. */
async function openHome(who: string): Promise<{ blocks: Block[] }> {
  const id = t!.people[who]!.id;
  const before = fake!.of('views.publish').filter((a) => a.user_id === id).length;
  const res = await signedSlackRequest(t!.app, {
    body: {
      token: 'x',
      team_id: 'T0TEST',
      api_app_id: 'A0BATON',
      type: 'event_callback',
      event_id: `Ev${who}${before}`,
      event_time: 1700000000,
      event: { type: 'app_home_opened', user: id, channel: `D${id.slice(1)}`, tab: 'home', event_ts: '1.1' },
    },
  });
  expect(res.statusCode).toBe(200);
  const published = await eventually(
    async () => fake!.of('views.publish').filter((a) => a.user_id === id)[before],
  );
  return published.view as { blocks: Block[] };
}

describe('names and stages longer than a Slack text', () => {
  it('are cut in the Home tab and /baton requests, so Slack still shows them, with the dates intact', async () => {
    await start(LONG_STAGE_APP);
    const { baton } = t!.rt;
    expect(LONG_STAGE.length).toBeGreaterThan(3000);
    const alice = await t!.batonUser('alice');
    const bob = await t!.batonUser('bob');
    await baton.requests.file(alice, 'slow', { approver: bob._id });
    await eventually(async () => (await baton.tasks.listOpenFor(bob)).length === 1);

    const sections = (view: { blocks: Block[] }) =>
      view.blocks.filter((b) => b.type === 'section').map((b) => b.text!.text);
    for (const who of ['alice', 'bob', 'admin']) {
      const texts = sections(await openHome(who));
      expect(texts.length).toBeGreaterThan(0);
      for (const text of texts) expect(text.length).toBeLessThanOrEqual(3000);
    }
    const [requestLine] = sections(await openHome('alice'));
    expect(requestLine).toMatch(
      /^\*SLOW-1\* · Slow &amp; steady — stage \*Waiting for the very .*…\*\nFiled <!date\^\d+\^[^>]+>$/,
    );
    const [taskLine] = sections(await openHome('bob'));
    expect(taskLine).toMatch(
      /^\*Check SLOW-1\*\nSLOW-1 · Slow &amp; steady · stage Waiting for the very .*…$/,
    );

    const reply = await command('requests', 'alice');
    const line = reply.blocks!.find((b) => b.text?.text.startsWith('*SLOW-1*'))!.text!.text;
    expect(line.length).toBeLessThanOrEqual(3000);
    expect(line).toMatch(/…\s—\sfiled <!date\^\d+\^[^>]+>$/);
  });

  it('the Home tab counts every open task, and pages them only when more than 15 are open', async () => {
    await start(LONG_STAGE_APP);
    const { baton } = t!.rt;
    const alice = await t!.batonUser('alice');
    const bob = await t!.batonUser('bob');
    for (let i = 0; i < 15; i++) await baton.requests.file(alice, 'slow', { approver: bob._id });
    await eventually(async () => (await baton.tasks.listOpenFor(bob)).length === 15);
    const fifteen = await openHome('bob');
    expect(fifteen.blocks[0]!.text!.text).toBe('Your open tasks (15)');
    expect(JSON.stringify(fifteen.blocks)).not.toContain('Next →');
    await baton.requests.file(alice, 'slow', { approver: bob._id });
    await eventually(async () => (await baton.tasks.listOpenFor(bob)).length === 16);
    const sixteen = await openHome('bob');
    expect(sixteen.blocks[0]!.text!.text).toBe('Your open tasks (16)');
    expect(JSON.stringify(sixteen.blocks)).toContain('Tasks 1–15 of 16, oldest first.');
    expect(JSON.stringify(sixteen.blocks)).toContain('Next →');
  });

  it('the admin Home tab says how many apps it leaves out, and where to see them all', async () => {
    await start(LONG_STAGE_APP);
    const admin = await t!.batonUser('admin');
    for (let i = 1; i <= 16; i++)
      await t!.rt.baton.apps.create(admin, {
        key: `app-${i}`,
        name: `App ${i}`,
        stages: ['New'],
        fields: [],
      });
    const view = await openHome('admin');
    expect(view.blocks.find((b) => b.type === 'header' && b.text?.text.startsWith('Apps'))?.text?.text).toBe(
      'Apps (17)',
    );
    expect(JSON.stringify(view.blocks)).toContain('And 2 more: `/baton admin apps list` lists them all.');
  });
});

const NO_GROUP_APP = {
  'desk.yaml': `
kind: app
key: desk
name: Desk
stages: [New, Done]
fields: []
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
`,
};

describe('/baton admin jobs show on a failed job', () => {
  it('names the action of the step that failed, not "(error)"', async () => {
    await start(NO_GROUP_APP);
    const { baton } = t!.rt;
    await baton.requests.file(await t!.batonUser('alice'), 'desk', {});
    const admin = await t!.batonUser('admin');
    const [job] = await eventually(async () => {
      const failed = await baton.recipes.listJobs(admin, { status: 'failed' });
      return failed.length > 0 ? failed : undefined;
    });
    const reply = await command(`admin jobs show ${job!._id}`, 'admin');
    expect(reply.text).toContain(
      '• facilities (assign_task) — failed: No group named "facilities". Create the group and add its members',
    );
    expect(reply.text).not.toContain('(error)');
  });
});

describe('/baton admin recipes stop and start', () => {
  it('say what stopping does to jobs under way, and when nothing changed', async () => {
    await start(APPROVAL_APP);
    const { baton } = t!.rt;
    await baton.requests.file(await t!.batonUser('alice'), 'ok', {
      approver: (await t!.batonUser('bob'))._id,
    });
    await eventually(async () => (await baton.tasks.listOpenFor(await t!.batonUser('bob'))).length === 1);

    expect((await command('admin recipes stop ok-approval', 'admin')).text).toBe(
      'Recipe *ok-approval* is stopped: new events no longer start it. 1 job already under way carries on (see `/baton admin jobs list waiting`).',
    );
    expect((await command('admin recipes stop ok-approval', 'admin')).text).toBe(
      'Recipe *ok-approval* was already stopped.',
    );
    expect((await command('admin recipes start ok-approval', 'admin')).text).toBe(
      'Recipe *ok-approval* is running.',
    );
    expect((await command('admin recipes start ok-approval', 'admin')).text).toBe(
      'Recipe *ok-approval* was already running.',
    );
  });
});

const LINKS_APP = {
  'buy.yaml': `
kind: app
key: buy
name: Buy
stages: [New, Done]
fields:
  - { key: item, label: Item, type: text, required: true }
  - { key: approver, label: Approver, type: user, required: true }
`,
  'buy-recipe.yaml': `
kind: recipe
name: buy-flow
trigger: { type: new_request, app: buy }
steps:
  - id: ok
    action: assign_task
    to: "{{ record.approver }}"
    title: "Buy {{ record.item }}"
    instructions: "Requested: {{ record.item }}"
    outcomes: [Approve, Reject]
  - action: notify
    to: "{{ record.approver }}"
    text: "You decided on {{ record.item }}"
`,
};

describe('markdown links typed by a requester', () => {
  it('are shown as typed in the approver’s task message and notifications, never as links with a disguised text', async () => {
    await start(LINKS_APP);
    const { baton } = t!.rt;
    const bob = await t!.batonUser('bob');
    const typed = '[Reset your password](https://evil.example/login) <!channel> **now**';
    await baton.requests.file(await t!.batonUser('alice'), 'buy', { item: typed, approver: bob._id });
    const post = await eventually(async () =>
      fake!
        .of('chat.postMessage')
        .find((a) => a.channel === 'D0BOB' && JSON.stringify(a.blocks).includes('actions')),
    );
    const shown = JSON.stringify(post.blocks);
    expect(shown).not.toContain('<https://evil.example');
    expect(shown).not.toContain('\uE000');
    // Plain text (the header) shows `<!channel>` as typed; mrkdwn escapes it.
    const mrkdwn = JSON.stringify(post.blocks).match(/"type":"mrkdwn","text":"[^"]*"/g) ?? [];
    expect(mrkdwn.length).toBeGreaterThan(0);
    for (const m of mrkdwn) expect(m).not.toContain('<!channel>');
    expect(shown).toContain(
      'Requested: [Reset your password](https://evil.example/login) &lt;!channel&gt; *now*',
    );
    expect(shown).toContain('"text":"Buy [Reset your password](https://evil.example/login) <!channel> now"');
    // The buttons still complete the task (their values carry no marks).
    const [task] = await baton.tasks.listOpenFor(bob);
    await baton.tasks.complete(bob, task!._id, 'Approve');
    const note = await eventually(async () =>
      fake!
        .of('chat.postMessage')
        .find((a) => a.channel === 'D0BOB' && String(a.text).startsWith('You decided')),
    );
    expect(JSON.stringify(note.blocks)).not.toContain('<https://evil.example');
    expect(JSON.stringify(note.blocks)).toContain('[Reset your password](https://evil.example/login)');
  });
});

describe('the New app form (/baton admin apps create)', () => {
  it('takes the key and id prefix in any case, as the command does, and says a taken key is a key', async () => {
    await start(APPROVAL_APP);
    const submitApp = (values: Record<string, string>) =>
      t!.interact({
        type: 'view_submission',
        team: { id: 'T0TEST', domain: 'baton-test' },
        user: { id: t!.people.admin!.id, username: 'admin', name: 'admin', team_id: 'T0TEST' },
        api_app_id: 'A0BATON',
        trigger_id: '1337.42.abcd',
        view: {
          id: `V0NEW${Object.keys(values).length}${values.key}`,
          type: 'modal',
          callback_id: 'baton_admin_create_app',
          private_metadata: '',
          blocks: ['key', 'name', 'stages', 'id_prefix'].map((b) => ({ type: 'input', block_id: b })),
          state: {
            values: Object.fromEntries(
              Object.entries(values).map(([k, v]) => [k, { value: { type: 'plain_text_input', value: v } }]),
            ),
          },
        },
      });
    const res = await submitApp({
      key: 'Trips',
      name: 'Business trips',
      stages: 'Open\nBooked',
      id_prefix: 'trip',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ response_action: 'clear' });
    const app = await t!.rt.baton.apps.get('trips');
    expect(app).toMatchObject({
      key: 'trips',
      name: 'Business trips',
      id_prefix: 'TRIP',
      stages: ['Open', 'Booked'],
    });

    const again = await submitApp({ key: 'ok', name: 'Again', stages: 'Open' });
    expect(again.json()).toEqual({
      response_action: 'errors',
      errors: { key: 'An app with the key ok already exists.' },
    });
  });
});

describe('/baton tasks with more open tasks than it lists', () => {
  it('says "20+" when there are more than 20, and stays within 50 blocks', async () => {
    await start(LONG_STAGE_APP);
    const { baton } = t!.rt;
    const alice = await t!.batonUser('alice');
    const bob = await t!.batonUser('bob');
    for (let i = 0; i < 21; i++) await baton.requests.file(alice, 'slow', { approver: bob._id });
    await eventually(async () => (await baton.tasks.listOpenFor(bob)).length === 21);
    const reply = await command('tasks', 'bob');
    expect(reply.blocks![0]!.text!.text).toBe('*Your open tasks* (20+)');
    expect(reply.blocks!.length).toBeLessThanOrEqual(50);
    expect(JSON.stringify(reply.blocks!.at(-1))).toMatch(/…and \d+\+ more: see Baton's Home tab\./);
  });
});

const STOP_APP = {
  'halt.yaml': `
kind: app
key: halt
name: Halt
stages: [New, Done]
fields: []
`,
  'halt-recipe.yaml': `
kind: recipe
name: halt-flow
trigger: { type: new_request, app: halt }
steps:
  - action: stop
    reason: "Nothing to approve <yet>"
  - action: change_stage
    stage: Done
`,
};

describe('a job ended by a stop step', () => {
  it('shows the reason the recipe gave in /baton admin jobs list and show', async () => {
    await start(STOP_APP);
    const { baton } = t!.rt;
    const request = await baton.requests.file(await t!.batonUser('alice'), 'halt', {});
    const admin = await t!.batonUser('admin');
    const [job] = await eventually(async () => {
      const done = await baton.recipes.listJobs(admin, { status: 'completed' });
      return done.length > 0 ? done : undefined;
    });
    expect((await baton.requests.load(request._id))?.stage).toBe('New');
    expect((await command('admin jobs list', 'admin')).text).toContain(
      'stopped: _Nothing to approve &lt;yet&gt;_',
    );
    expect((await command(`admin jobs show ${job!._id}`, 'admin')).text).toContain(
      'Stopped by a stop step: Nothing to approve &lt;yet&gt;',
    );
  });
});
