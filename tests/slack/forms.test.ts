import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { renderRequestModal } from '../../adapters/slack/modals.js';
import type { AppDefinition } from '../../src/recipes/schema.js';
import { eventually, recipesDir } from '../helpers/runtime.js';
import {
  defaultSlackPeople,
  SLACK_RESPONSE_URL,
  SLACK_TEST_API_URL,
  type SlackTestApp,
  slackFixture,
  startSlackTestApp,
} from '../helpers/slack.js';

const API = SLACK_TEST_API_URL.replace(/\/api\/$/, '');

type Block = {
  type: string;
  block_id?: string;
  optional?: boolean;
  hint?: { text: string };
  element?: Record<string, unknown>;
};
type View = { callback_id: string; private_metadata?: string; blocks: Block[]; title: { text: string } };

/** Intercepts one Web API method and records its arguments (the WebClient sends form fields, objects as JSON). */
function expectApi(
  method: string,
  answer: Record<string, unknown> = {},
): { scope: nock.Scope; calls: Record<string, unknown>[] } {
  const calls: Record<string, unknown>[] = [];
  const scope = nock(API)
    .post(`/api/${method}`, (body: unknown) => {
      const args: Record<string, unknown> = {};
      const entries =
        typeof body === 'string' ? [...new URLSearchParams(body)] : Object.entries(body as object);
      for (const [k, v] of entries) {
        try {
          args[k] = typeof v === 'string' && /^[[{]/.test(v) ? JSON.parse(v) : v;
        } catch {
          args[k] = v;
        }
      }
      calls.push(args);
      return true;
    })
    .reply(200, { ok: true, ...answer });
  return { scope, calls };
}

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

/** A view_submission of the leave form, as Slack sends it, with the given state values. */
function submission(t: SlackTestApp, from: string, values: Record<string, Record<string, unknown>>) {
  const payload = slackFixture<{
    user: { id: string; username: string; name: string };
    view: { state: { values: Record<string, unknown> }; blocks: unknown[] };
  }>('view-submission-request');
  const person = t.people[from]!;
  payload.user = { ...payload.user, id: person.id, username: person.name, name: person.name };
  // Slack echoes the view's blocks back with the submission.
  payload.view.blocks = renderRequestModal(leave).blocks;
  payload.view.state.values = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { value: v }]));
  return payload;
}

const opt = (value: string, text = value) => ({ text: { type: 'plain_text', text, emoji: true }, value });

let t: SlackTestApp | undefined;
const apps = recipesDir({}, ['tests/fixtures/slack/apps/leave.yaml']);
let leave: AppDefinition;

async function start(): Promise<SlackTestApp> {
  const app = await startSlackTestApp({ recipesDir: apps });
  leave = await app.rt.baton.apps.get('leave');
  return app;
}

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

describe('/baton new', () => {
  it('/baton new leave opens the request modal generated from the app fields', async () => {
    t = await start();
    const open = expectApi('views.open', { view: { id: 'V1' } });
    const res = await t.command('new leave', 'alice');
    expect(res.statusCode).toBe(200);
    await eventually(async () => open.scope.isDone());
    const call = open.calls[0]!;
    expect(call.trigger_id).toBe(slackFixture<{ trigger_id: string }>('slash-command').trigger_id);
    const view = call.view as View;
    expect(view.callback_id).toBe('baton_request');
    expect(view.private_metadata).toBe('leave');
    expect(view.title.text).toBe('Leave');
    const inputs: Record<string, Block> = Object.fromEntries(
      view.blocks.filter((b) => b.type === 'input').map((b) => [b.block_id, b]),
    );
    const type = (k: string) => inputs[k]!.element!.type;
    expect(type('approver')).toBe('users_select');
    expect(type('days')).toBe('number_input');
    expect(type('start')).toBe('datepicker');
    expect(type('kind')).toBe('static_select');
    expect(type('tags')).toBe('multi_static_select');
    expect(type('reason')).toBe('plain_text_input');
    expect(inputs.reason!.element!.multiline).toBe(true);
    expect(type('title')).toBe('plain_text_input');
    expect(inputs.title!.element!.multiline).toBeUndefined();
    expect(type('paid')).toBe('checkboxes');
    expect(type('contact')).toBe('email_text_input');
    expect(type('handover')).toBe('url_text_input');
    expect(inputs.days!.element).toMatchObject({
      min_value: '0.5',
      max_value: '30',
      is_decimal_allowed: true,
    });
    expect(inputs.days!.hint?.text).toBe('Half days allowed');
    expect(inputs.approver!.optional).toBe(false);
    expect(inputs.reason!.optional).toBe(true);
    expect(inputs.kind!.element!.initial_option).toMatchObject({ value: 'Vacation' });
    expect(inputs.tags!.element!.options).toEqual([opt('remote', 'Remote'), opt('travel', 'Travel')]);
    expect(inputs.paid!.element!.initial_options).toEqual([opt('true', 'Yes')]);
    for (const b of Object.values(inputs)) expect(b.element!.action_id).toBe('value');
  });

  it('/baton new alone opens an app picker whose submission turns into the app form', async () => {
    t = await start();
    const open = expectApi('views.open', { view: { id: 'V1' } });
    await t.command('new', 'alice');
    await eventually(async () => open.scope.isDone());
    const picker = open.calls[0]!.view as View;
    expect(picker.callback_id).toBe('baton_pick_app');
    const payload = submission(t, 'alice', {
      app: { type: 'static_select', selected_option: opt('leave', 'Leave') },
    });
    (payload.view as Record<string, unknown>).callback_id = 'baton_pick_app';
    (payload.view as Record<string, unknown>).private_metadata = '';
    const res = await t.interact(payload);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.response_action).toBe('update');
    expect(body.view.callback_id).toBe('baton_request');
    expect(body.view.private_metadata).toBe('leave');
  });

  it('/baton new takes the app by the name people see ("time off") or its id prefix, in any case, spacing or quotes', async () => {
    t = await startSlackTestApp({ recipesDir: recipesDir({}, ['recipes/time-off']) });
    for (const typed of [
      'new time off',
      'new  Time   Off ',
      'new “Time off”',
      'new TIME-OFF',
      'new time-off please',
      'new pto', // the prefix of its requests' ids (PTO-12)
      'new PTO',
    ]) {
      const open = expectApi('views.open', { view: { id: 'V1' } });
      await t.command(typed, 'alice');
      await eventually(async () => open.scope.isDone());
      expect((open.calls[0]!.view as View).private_metadata).toBe('time-off');
    }
    const reply = expectResponse();
    await t.command('new time', 'alice');
    await eventually(async () => reply.scope.isDone());
    expect(reply.bodies[0]!.text).toContain('No app named "time". Apps: time-off.');
  });

  it('/baton new <unknown app> says which apps exist', async () => {
    t = await start();
    const reply = expectResponse();
    await t.command('new nosuch', 'alice');
    await eventually(async () => reply.scope.isDone());
    expect(reply.bodies[0]!.text).toContain('No app named "nosuch". Apps: leave.');
    expect(reply.bodies[0]!.response_type).toBe('ephemeral');
  });
});

describe('request modal submission', () => {
  it('answers validation errors with response_action: errors on the offending blocks, and files nothing', async () => {
    t = await start();
    const payload = submission(t, 'alice', {
      approver: { type: 'users_select', selected_user: t.people.bob!.id },
      days: { type: 'number_input', value: '45' },
      start: { type: 'datepicker', selected_date: null },
      contact: { type: 'email_text_input', value: 'not-an-email' },
      handover: { type: 'url_text_input', value: 'ftp://files.example.com/x' },
    });
    const res = await t.interact(payload);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      response_action: 'errors',
      errors: {
        days: 'Days must be at most 30',
        start: 'Start is required',
        contact: 'Contact email must be an email address',
        handover: 'Handover document must be a web address starting with http:// or https://',
      },
    });
    await t.idle();
    const alice = await t.batonUser('alice');
    expect(await t.rt.baton.requests.listMine(alice)).toEqual([]);
  });

  it('refuses an app or a deactivated account picked as a person, on that field', async () => {
    t = await startSlackTestApp({
      recipesDir: apps,
      people: {
        ...defaultSlackPeople(),
        robot: { id: 'U0ROBOT', name: 'baton', realName: 'Baton', bot: true },
        gone: { id: 'U0GONE', name: 'gone', realName: 'Gus Gone', deleted: true },
      },
    });
    leave = await t.rt.baton.apps.get('leave');
    for (const [id, message] of [
      ['U0ROBOT', 'Baton is an app, not a person: pick a person.'],
      ['U0GONE', "Gus Gone's Slack account is deactivated: pick someone else."],
    ] as const) {
      const res = await t.interact(
        submission(t, 'alice', {
          approver: { type: 'users_select', selected_user: id },
          days: { type: 'number_input', value: '2' },
          start: { type: 'datepicker', selected_date: '2026-12-01' },
        }),
      );
      expect(res.json()).toEqual({ response_action: 'errors', errors: { approver: message } });
    }
    await t.idle();
    expect(await t.rt.baton.requests.listMine(await t.batonUser('alice'))).toEqual([]);
  });

  it('files a valid request, closes the modal and confirms to the requester with the request id', async () => {
    t = await start();
    const dm = expectApi('chat.postMessage', { channel: 'D0ALICE', ts: '1700000000.000100' });
    const payload = submission(t, 'alice', {
      approver: { type: 'users_select', selected_user: t.people.bob!.id },
      days: { type: 'number_input', value: '2.5' },
      start: { type: 'datepicker', selected_date: '2026-12-01' },
      kind: { type: 'static_select', selected_option: opt('Sick') },
      tags: { type: 'multi_static_select', selected_options: [opt('remote', 'Remote')] },
      reason: { type: 'plain_text_input', value: 'Flu' },
      title: { type: 'plain_text_input', value: null },
      paid: { type: 'checkboxes', selected_options: [] },
      contact: { type: 'email_text_input', value: 'alice.backup@example.com' },
      handover: { type: 'url_text_input', value: 'https://docs.example.com/handover' },
    });
    const res = await t.interact(payload);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ response_action: 'clear' });

    const alice = await t.batonUser('alice');
    const bob = await t.batonUser('bob');
    const [request] = await t.rt.baton.requests.listMine(alice);
    expect(request).toBeDefined();
    expect(request!._id).toBe('LEAVE-1');
    expect(request!.stage).toBe('Submitted');
    expect(request!.record).toEqual({
      approver: bob._id,
      days: 2.5,
      start: '2026-12-01',
      kind: 'Sick',
      tags: ['remote'],
      reason: 'Flu',
      paid: false,
      contact: 'alice.backup@example.com',
      handover: 'https://docs.example.com/handover',
    });
    expect((await t.rt.baton.requests.get(alice, 'LEAVE-1')).history[0]!.type).toBe('created');

    await eventually(async () => dm.scope.isDone());
    expect(dm.calls[0]!.channel).toBe(t.people.alice!.id);
    expect(String(dm.calls[0]!.text)).toContain('LEAVE-1');
  });
  it('a submission Slack sends again for the same view files one request, even concurrently', async () => {
    t = await start();
    nock(API).persist().post('/api/chat.postMessage').reply(200, { ok: true, channel: 'D0ALICE', ts: '1.2' });
    const payload = submission(t, 'alice', {
      approver: { type: 'users_select', selected_user: t.people.bob!.id },
      days: { type: 'number_input', value: '2' },
      start: { type: 'datepicker', selected_date: '2026-12-01' },
    });
    const first = await t.interact(payload);
    const again = await t.interact(payload);
    const both = await Promise.all([t.interact(payload), t.interact(payload)]);
    for (const res of [first, again, ...both]) {
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ response_action: 'clear' });
    }
    await t.idle();
    const alice = await t.batonUser('alice');
    expect((await t.rt.baton.requests.listMine(alice)).map((r) => r._id)).toEqual(['LEAVE-1']);
  });

  it('a view claimed by a submission that died before filing (a crash) files when submitted again', async () => {
    t = await start();
    const dm = expectApi('chat.postMessage', { channel: 'D0ALICE', ts: '1.2' });
    const payload = submission(t, 'alice', {
      approver: { type: 'users_select', selected_user: t.people.bob!.id },
      days: { type: 'number_input', value: '2' },
      start: { type: 'datepicker', selected_date: '2026-12-01' },
    });
    const viewId = (payload as unknown as { view: { id: string } }).view.id;
    // What a process killed between taking the view's key and filing left behind (the key was
    // taken and committed on its own): five minutes later the person presses Submit again.
    await t.rt.store.collection('dedupe').insertOne({
      _id: `slack:view:${viewId}`,
      expires_at: new Date(Date.now() + 24 * 3600_000 - 5 * 60_000),
    });
    const res = await t.interact(payload);
    expect(res.json()).toEqual({ response_action: 'clear' });
    const alice = await t.batonUser('alice');
    expect((await t.rt.baton.requests.listMine(alice)).map((r) => r._id)).toEqual(['LEAVE-1']);
    await eventually(async () => dm.scope.isDone());
    expect(String(dm.calls[0]!.text)).toContain('LEAVE-1');
    // And once filed, the same view again files nothing more.
    expect((await t.interact(payload)).json()).toEqual({ response_action: 'clear' });
    await t.idle();
    expect((await t.rt.baton.requests.listMine(alice)).map((r) => r._id)).toEqual(['LEAVE-1']);
  });

  it('a view whose first submission had errors can be corrected and submitted', async () => {
    t = await start();
    nock(API).persist().post('/api/chat.postMessage').reply(200, { ok: true, channel: 'D0ALICE', ts: '1.2' });
    const values = {
      approver: { type: 'users_select', selected_user: t.people.bob!.id },
      days: { type: 'number_input', value: '45' },
      start: { type: 'datepicker', selected_date: '2026-12-01' },
    };
    const bad = await t.interact(submission(t, 'alice', values));
    expect(bad.json()).toMatchObject({ response_action: 'errors' });
    const good = await t.interact(
      submission(t, 'alice', { ...values, days: { type: 'number_input', value: '4' } }),
    );
    expect(good.json()).toEqual({ response_action: 'clear' });
    await t.idle();
    const alice = await t.batonUser('alice');
    expect((await t.rt.baton.requests.listMine(alice)).map((r) => r._id)).toEqual(['LEAVE-1']);
  });
});

describe('requests and show', () => {
  it('lists my requests and shows one with fields, stage and history; others cannot see it', async () => {
    t = await start();
    const alice = await t.batonUser('alice');
    const bob = await t.batonUser('bob');
    await t.rt.baton.requests.file(alice, 'leave', { approver: bob._id, days: 1, start: '2026-12-01' });

    const list = expectResponse();
    await t.command('requests', 'alice');
    await eventually(async () => list.scope.isDone());
    expect(list.bodies[0]!.text).toContain('LEAVE-1 (Submitted)');

    const show = expectResponse();
    await t.command('show leave-1', 'alice');
    await eventually(async () => show.scope.isDone());
    const text = JSON.stringify(show.bodies[0]!.blocks);
    expect(text).toContain('*LEAVE-1*');
    expect(text).toContain('stage *Submitted*');
    expect(text).toContain('*Approver:* Bob Manager');
    expect(text).toContain('History');
    expect(text).toContain('filed LEAVE-1 in Leave');

    const refused = expectResponse();
    await t.command('show LEAVE-1', 'mallory');
    await eventually(async () => refused.scope.isDone());
    expect(refused.bodies[0]!.text).toContain("You can't see LEAVE-1.");
  });

  it('the Show button of a listed request opens it for its requester', async () => {
    t = await start();
    const alice = await t.batonUser('alice');
    const bob = await t.batonUser('bob');
    await t.rt.baton.requests.file(alice, 'leave', { approver: bob._id, days: 1, start: '2026-12-01' });
    const bodies: Record<string, unknown>[] = [];
    const scope = nock('https://hooks.slack.com')
      .post('/actions/T0TEST/1234567890/abcdefABCDEF', (b: Record<string, unknown>) => {
        bodies.push(b);
        return true;
      })
      .reply(200, 'ok');
    const res = await t.interact(slackFixture('block-actions-show-request'));
    expect(res.statusCode).toBe(200);
    await eventually(async () => scope.isDone());
    expect(bodies[0]!.replace_original).toBe(false);
    expect(JSON.stringify(bodies[0]!.blocks)).toContain('*LEAVE-1*');
  });
});
