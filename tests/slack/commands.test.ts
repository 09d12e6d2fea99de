import { writeFileSync } from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { editDistance, parseCommand } from '../../adapters/slack/commands.js';
import { renderRequestModal } from '../../adapters/slack/modals.js';
import { eventually, recipesDir } from '../helpers/runtime.js';
import {
  fakeWebApi,
  SLACK_RESPONSE_URL,
  type SlackTestApp,
  slackFixture,
  startSlackTestApp,
} from '../helpers/slack.js';

function expectResponse(): { scope: nock.Scope; bodies: Record<string, unknown>[] } {
  const bodies: Record<string, unknown>[] = [];
  const scope = nock(SLACK_RESPONSE_URL.origin)
    .post(SLACK_RESPONSE_URL.path, (b: Record<string, unknown>) => {
      bodies.push(b);
      return true;
    })
    .reply(200, 'ok');
  return { scope, bodies };
}

let t: SlackTestApp | undefined;
const apps = recipesDir({}, [
  'tests/fixtures/slack/apps/leave.yaml',
  'tests/fixtures/slack/apps/leave-approval.yaml',
]);

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterEach(async () => {
  await t?.close();
  t = undefined;
  nock.cleanAll();
});
afterAll(() => nock.enableNetConnect());

describe('command parsing', () => {
  it('finds the longest matching subcommand and the closest one for a typo', () => {
    const p = parseCommand('admin groups add hr <@U1|a> <@U2>');
    expect(p.spec?.words).toEqual(['admin', 'groups', 'add']);
    expect(p.spec && 'args' in p ? p.args : []).toEqual(['hr', '<@U1|a>', '<@U2>']);
    const typo = parseCommand('admin jbos rerun j_1');
    expect(typo.spec).toBeNull();
    expect(typo.spec === null && typo.suggestion?.words).toEqual(['admin', 'jobs', 'rerun']);
    // Other names people type: "list" (and "mine") for their requests, "inbox" for their tasks.
    expect(parseCommand('list').spec?.words).toEqual(['requests']);
    expect(parseCommand('Inbox').spec?.words).toEqual(['tasks']);
    const open = parseCommand('open PTO-4');
    expect(open.spec?.words).toEqual(['show']);
    expect(open.spec && 'args' in open ? open.args : []).toEqual(['PTO-4']);
    const nonsense = parseCommand('xyzzy plugh');
    expect(nonsense.spec === null && nonsense.suggestion).toBeNull();
    expect(editDistance('hlep', 'help')).toBe(2);
  });
});

describe('the leave flow through Slack', () => {
  it('/baton new leave → submit → task DM to the approver → Approve → stage Approved, requester told; /baton tasks and show', async () => {
    t = await startSlackTestApp({ recipesDir: apps });
    const calls = fakeWebApi();
    const leave = await t.rt.baton.apps.get('leave');

    // The requester submits the form.
    const payload = slackFixture<Record<string, unknown> & { view: Record<string, unknown> }>(
      'view-submission-request',
    );
    payload.view.blocks = renderRequestModal(leave).blocks;
    payload.view.state = {
      values: {
        approver: { value: { type: 'users_select', selected_user: t.people.bob!.id } },
        days: { value: { type: 'number_input', value: '3' } },
        start: { value: { type: 'datepicker', selected_date: '2026-12-01' } },
      },
    };
    const submitted = await t.interact(payload);
    expect(submitted.json()).toEqual({ response_action: 'clear' });

    // The approver gets the task in a DM, with buttons.
    const taskPost = await eventually(async () =>
      calls.find((c) => c.method === 'chat.postMessage' && c.args.channel === `D${t!.people.bob!.id}`),
    );
    const buttons = (
      taskPost.args.blocks as { type: string; block_id: string; elements?: Record<string, unknown>[] }[]
    )
      .filter((b) => b.type === 'actions')
      .flatMap((b) =>
        (b.elements ?? []).map((e): Record<string, unknown> => ({ ...e, block_id: b.block_id })),
      );
    const approve = buttons.find((b) => (b.text as { text: string }).text === 'Approve');
    expect(approve).toBeDefined();

    // `/baton tasks` shows the same task, actionable.
    const tasks = expectResponse();
    await t.command('tasks', 'bob');
    await eventually(async () => tasks.scope.isDone());
    expect(JSON.stringify(tasks.bodies[0]!.blocks)).toContain(JSON.stringify(approve!.value));

    // The approver presses Approve.
    const click = slackFixture<Record<string, unknown>>('block-actions-show-request');
    click.user = { id: t.people.bob!.id, username: 'bob', name: 'bob', team_id: 'T0TEST' };
    click.container = {
      type: 'message',
      message_ts: taskPost.args.ts ?? '1700000000.000100',
      channel_id: `D${t.people.bob!.id}`,
      is_ephemeral: false,
    };
    click.channel = { id: `D${t.people.bob!.id}`, name: 'directmessage' };
    click.actions = [{ ...approve, action_ts: '1700000100.000200' }];
    const clicked = await t.interact(click);
    expect(clicked.statusCode).toBe(200);

    const alice = await t.batonUser('alice');
    await eventually(async () => (await t!.rt.baton.requests.get(alice, 'LEAVE-1')).stage === 'Approved');
    // The requester is told, by the confirmation and by the recipe's notification.
    await eventually(async () =>
      calls.some(
        (c) =>
          c.method === 'chat.postMessage' && String(c.args.text).includes('Your leave LEAVE-1 was approved'),
      ),
    );
    expect(
      calls.some(
        (c) =>
          c.method === 'chat.postMessage' &&
          String(c.args.text).includes('LEAVE-1') &&
          c.args.channel === t!.people.alice!.id,
      ),
    ).toBe(true);

    const show = expectResponse();
    await t.command('show LEAVE-1', 'alice');
    await eventually(async () => show.scope.isDone());
    const shown = JSON.stringify(show.bodies[0]!.blocks);
    expect(shown).toContain('stage *Approved*');
    expect(shown).toContain('Stage changed from Submitted to Approved');
  });
});

describe('admin commands', () => {
  it('apps list / create / add stage, recipes list and stop, jobs list, roles: through the core as the actor', async () => {
    t = await startSlackTestApp({ recipesDir: apps });
    fakeWebApi();
    const say = async (text: string, who = 'admin') => {
      const r = expectResponse();
      await t!.command(text, who);
      await eventually(async () => r.scope.isDone());
      return String(r.bodies[0]!.text);
    };
    expect(await say('admin apps list')).toContain('*Leave* (`leave`)');
    expect(await say('admin apps create trips Business trips')).toContain(
      'App *Business trips* (`trips`) created',
    );
    expect((await t.rt.baton.apps.get('trips')).stages).toEqual(['Submitted', 'Approved', 'Rejected']);
    expect(await say('admin apps add stage trips Booked')).toContain(
      'Submitted → Approved → Rejected → Booked',
    );
    expect(await say('admin apps add stage trips Booked', 'alice')).toContain('Only admins can change apps');
    expect(await say('admin recipes list')).toContain(
      '*leave-approval* — running — when a Leave request is filed',
    );
    expect(await say('admin recipes stop leave-approval', 'alice')).toContain(
      'Only admins and operators can stop recipes',
    );
    expect(await say('admin recipes stop leave-approval')).toContain('is stopped');
    expect(await say('admin jobs list')).toMatch(/No jobs|Jobs/);
    expect(await say('admin recipes install')).toContain('time-off');
    expect(await say('admin roles grant <@U0CAROL|carol> wizard')).toContain('Unknown role wizard');
    expect(await say('admin roles grant <@U0CAROL|carol> admin')).toContain('Carol Manager is now an admin');
    expect(await say('admin roles revoke <@U0CAROL|carol>')).toContain('Carol Manager is now a user');
  });

  it('admin jobs rerun after the recipe was fixed runs the fixed recipe from the failed step', async () => {
    const recipe = (note: string) => `kind: recipe
name: leave-note
trigger: { type: new_request, app: leave }
steps:
  - id: first
    action: update_record
    fields: { title: "first" }
  - id: note
    name: Write the note
    action: update_record
    fields: { reason: "${note}" }
  - action: change_stage
    stage: Approved
`;
    const dir = recipesDir({ 'leave-note.yaml': recipe("{{ $error('boom') }}") }, [
      'tests/fixtures/slack/apps/leave.yaml',
    ]);
    t = await startSlackTestApp({ recipesDir: dir });
    fakeWebApi();
    const say = async (text: string, who = 'admin') => {
      const r = expectResponse();
      await t!.command(text, who);
      await eventually(async () => r.scope.isDone());
      return String(r.bodies[0]!.text);
    };
    const alice = await t.batonUser('alice');
    const bob = await t.batonUser('bob');
    const request = await t.rt.baton.requests.file(alice, 'leave', {
      approver: bob._id,
      days: 1,
      start: '2026-12-01',
    });
    const failed = await eventually(async () => {
      const [job] = await t!.rt.baton.recipes.listJobs(await t!.batonUser('admin'), { status: 'failed' });
      return job;
    });
    expect(failed.error).toMatchObject({ step: 'note' });
    expect(await say(`admin jobs show ${failed._id}`)).toContain('Error at note: boom');

    // The operator fixes the recipe (here: the file, installed again as at a restart) and reruns.
    writeFileSync(path.join(dir, 'leave-note.yaml'), recipe('fixed: {{ record.days }} day'));
    await t.rt.baton.recipes.installDirectory(dir);
    expect(await say(`admin jobs rerun ${failed._id}`)).toContain('now *completed*');
    const after = await t.rt.baton.requests.get(alice, request._id);
    expect(after.stage).toBe('Approved');
    expect(after.record.reason).toBe('fixed: 1 day');
    // Steps done before the failure are not run again.
    const job = await t.rt.baton.recipes.getJob(await t.batonUser('admin'), failed._id);
    expect(job.log.filter((l) => l.step === 'first')).toHaveLength(1);
  });

  it('names typed with &, < and > (escaped by Slack in the command text) are stored as typed', async () => {
    t = await startSlackTestApp({ recipesDir: apps });
    fakeWebApi();
    const say = async (text: string) => {
      const r = expectResponse();
      await t!.command(text, 'admin');
      await eventually(async () => r.scope.isDone());
      return String(r.bodies[0]!.text);
    };
    // What Slack sends for "/baton admin apps create rd R&D <Lab>".
    expect(await say('admin apps create rd R&amp;D &lt;Lab&gt;')).toContain(
      'App *R&amp;D &lt;Lab&gt;* (`rd`)',
    );
    expect((await t.rt.baton.apps.get('rd')).name).toBe('R&D <Lab>');
    await say('admin apps add stage rd On &amp; Off');
    expect((await t.rt.baton.apps.get('rd')).stages).toContain('On & Off');
    await say('admin groups create rnd R&amp;D people');
    expect((await t.rt.baton.groups.find('rnd'))?.description).toBe('R&D people');
    // Mentions still work.
    expect(await say('admin groups add rnd <@U0BOB|bob>')).toContain('Added Bob Manager');
    // What was typed comes back escaped in error messages: no <!channel> or link from input.
    const refusal = await say('admin recipes start &lt;!channel&gt;');
    expect(refusal).toContain('&lt;!channel&gt;');
    expect(refusal).not.toContain('<!channel>');
  });

  it('admin listings are refused below the level help shows them at (groups list: admins only)', async () => {
    t = await startSlackTestApp({ recipesDir: apps });
    fakeWebApi();
    const say = async (text: string, who: string) => {
      const r = expectResponse();
      await t!.command(text, who);
      await eventually(async () => r.scope.isDone());
      return String(r.bodies[0]!.text);
    };
    expect(await say('admin groups create hr Human resources', 'admin')).toContain('Group *hr* created');
    expect(await say('admin groups add hr <@U0BOB|bob>', 'admin')).toContain('Added Bob Manager');
    expect(await say('admin roles grant <@U0CAROL|carol> operator', 'admin')).toContain('an operator');
    expect(await say('admin groups list', 'admin')).toContain('Bob Manager');
    for (const who of ['alice', 'carol']) {
      const text = await say('admin groups list', who);
      expect(text).toContain('Only admins can');
      expect(text).not.toContain('Bob Manager');
    }
    expect(await say('admin apps list', 'alice')).toContain('Only admins and operators can');
    expect(await say('admin apps list', 'carol')).toContain('*Leave* (`leave`)');
    expect(await say('admin recipes install', 'alice')).toContain('Only admins can');
  });

  it('admin apps add field opens the field builder modal; its submission adds the field', async () => {
    t = await startSlackTestApp({ recipesDir: apps });
    const calls = fakeWebApi();
    const r = expectResponse();
    await t.command('admin apps add field leave', 'mallory');
    await eventually(async () => r.scope.isDone());
    expect(r.bodies[0]!.text).toContain('Only admins can change apps');

    await t.command('admin apps add field leave', 'admin');
    const open = await eventually(async () => calls.find((c) => c.method === 'views.open'));
    const view = open.args.view as { callback_id: string; private_metadata: string; blocks: unknown[] };
    expect(view.callback_id).toBe('baton_admin_add_field');
    expect(view.private_metadata).toBe('leave');

    const payload = slackFixture<
      Record<string, unknown> & { view: Record<string, unknown>; user: Record<string, unknown> }
    >('view-submission-request');
    payload.user = { ...payload.user, id: t.people.admin!.id, name: 'admin', username: 'admin' };
    payload.view = { ...payload.view, ...view };
    const submit = (values: Record<string, unknown>) => {
      payload.view.state = {
        values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { value: v }])),
      };
      return t!.interact(payload);
    };
    const bad = await submit({
      key: { type: 'plain_text_input', value: 'Cost Center' },
      label: { type: 'plain_text_input', value: 'Cost center' },
      type: {
        type: 'static_select',
        selected_option: { text: { type: 'plain_text', text: 'select' }, value: 'select' },
      },
    });
    const errors = bad.json();
    expect(errors.response_action).toBe('errors');
    expect(Object.keys(errors.errors).sort()).toEqual(['key', 'options']);

    const good = await submit({
      key: { type: 'plain_text_input', value: 'cost_center' },
      label: { type: 'plain_text_input', value: 'Cost center' },
      type: {
        type: 'static_select',
        selected_option: { text: { type: 'plain_text', text: 'select' }, value: 'select' },
      },
      options: { type: 'plain_text_input', value: 'R&D\nSales' },
      required: { type: 'checkboxes', selected_options: [] },
    });
    expect(good.json()).toEqual({ response_action: 'clear' });
    const field = (await t.rt.baton.apps.get('leave')).fields.find((f) => f.key === 'cost_center');
    expect(field).toMatchObject({ type: 'select', options: ['R&D', 'Sales'], required: false });
    expect(field?.on_form).toBeUndefined();
    // Ticked "Not on the request form": a field a recipe fills in.
    const offForm = await submit({
      key: { type: 'plain_text_input', value: 'po_number' },
      label: { type: 'plain_text_input', value: 'PO number' },
      type: {
        type: 'static_select',
        selected_option: { text: { type: 'plain_text', text: 'text' }, value: 'text' },
      },
      off_form: {
        type: 'checkboxes',
        selected_options: [{ text: { type: 'plain_text', text: 'Not on the request form' }, value: 'true' }],
      },
    });
    expect(offForm.json()).toEqual({ response_action: 'clear' });
    const po = (await t.rt.baton.apps.get('leave')).fields.find((f) => f.key === 'po_number');
    expect(po).toMatchObject({ type: 'text', on_form: false });
    const r2 = expectResponse();
    await t.command('admin apps list', 'admin');
    await eventually(async () => r2.scope.isDone());
    expect(String(r2.bodies[0]!.text)).toContain('po_number (text, set by recipes)');
    expect(String(r2.bodies[0]!.text)).toContain('cost_center (select),');
  });
});
