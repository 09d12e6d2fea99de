import { Writable } from 'node:stream';
import { WebClient } from '@slack/web-api';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SLACK_RETRY_POLICY, slackMode, toBoltLogger } from '../../adapters/slack/plugin.js';
import { verifySlackSignature } from '../../adapters/slack/verify.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/server/app.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';
import {
  formBody,
  SLACK_RESPONSE_URL,
  SLACK_TEST_API_URL,
  SLACK_TEST_SECRET,
  type SlackTestApp,
  signedSlackRequest,
  signSlackBody,
  slackFixture,
  startSlackTestApp,
} from '../helpers/slack.js';

const API = SLACK_TEST_API_URL.replace(/\/api\/$/, '');

/** Captures what the surface posts to the slash command's response_url. */
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

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterEach(async () => {
  await t?.close();
  t = undefined;
  nock.cleanAll();
});
afterAll(() => {
  nock.enableNetConnect();
});

describe('POST /slack/events: verification', () => {
  it('refuses a forged signature with 401 and processes nothing', async () => {
    t = await startSlackTestApp();
    const reply = expectResponse();
    const body = formBody({
      ...slackFixture<Record<string, string>>('slash-command'),
      user_id: t.people.admin!.id,
      text: 'admin groups create forged',
    });
    const res = await signedSlackRequest(t.app, { body, secret: 'not-the-secret' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: 'slack.invalid_signature' });
    const missing = await signedSlackRequest(t.app, { body, headers: { 'x-slack-signature': undefined } });
    expect(missing.statusCode).toBe(401);
    await t.idle();
    expect(await t.rt.baton.groups.find('forged')).toBeNull();
    expect(reply.scope.isDone()).toBe(false);
  });

  it('refuses a timestamp more than 5 minutes off, either way, with 401', async () => {
    t = await startSlackTestApp();
    const reply = expectResponse();
    const now = Math.floor(Date.now() / 1000);
    for (const timestamp of [now - 6 * 60, now + 6 * 60]) {
      const res = await signedSlackRequest(t.app, {
        body: formBody(slackFixture<Record<string, string>>('slash-command')),
        timestamp,
      });
      expect(res.statusCode).toBe(401);
      expect(res.json().message).toMatch(/5 minutes/);
    }
    await t.idle();
    expect(reply.scope.isDone()).toBe(false);
  });

  it('checks the timestamp against an injectable clock', () => {
    const body = 'token=x&text=help';
    const at = 1_700_000_000;
    const headers = signSlackBody(body, SLACK_TEST_SECRET, at);
    const check = (nowMs: number) =>
      verifySlackSignature({
        signingSecret: SLACK_TEST_SECRET,
        rawBody: body,
        signature: headers['x-slack-signature'],
        timestamp: headers['x-slack-request-timestamp'],
        nowMs,
      });
    expect(check(at * 1000 + 299_000)).toEqual({ ok: true });
    expect(check(at * 1000 + 301_000).ok).toBe(false);
    expect(check(at * 1000 - 301_000).ok).toBe(false);
    expect(
      verifySlackSignature({
        signingSecret: SLACK_TEST_SECRET,
        rawBody: `${body}&x=1`,
        signature: headers['x-slack-signature'],
        timestamp: headers['x-slack-request-timestamp'],
        nowMs: at * 1000,
      }).ok,
    ).toBe(false);
  });

  it('uses the plugin clock (a request signed at the clock time passes)', async () => {
    const fixed = Date.now() - 3600_000;
    t = await startSlackTestApp({ now: () => fixed });
    const challenge = slackFixture('url-verification');
    const ok = await signedSlackRequest(t.app, { body: challenge, timestamp: Math.floor(fixed / 1000) });
    expect(ok.statusCode).toBe(200);
    const late = await signedSlackRequest(t.app, { body: challenge });
    expect(late.statusCode).toBe(401);
  });

  it('answers url_verification with the challenge and ssl_check with 200', async () => {
    t = await startSlackTestApp();
    const challenge = slackFixture<{ challenge: string }>('url-verification');
    const res = await signedSlackRequest(t.app, { body: challenge, contentType: 'application/json' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ challenge: challenge.challenge });
    const ssl = await signedSlackRequest(t.app, { body: formBody({ ssl_check: '1', token: 'x' }) });
    expect(ssl.statusCode).toBe(200);
    expect(ssl.body).toBe('');
  });

  it('keeps the raw-body parser inside the Slack plugin: other routes still parse JSON', async () => {
    t = await startSlackTestApp();
    t.app.log.level = 'silent';
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(t.app.hasContentTypeParser('application/json')).toBe(true);
  });
});

describe('configuration', () => {
  it('without Slack variables the surface is off, the log says so once, and /slack/events does not exist', async () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const rt = await startTestRuntime();
    const app = await buildApp({
      baton: rt.baton,
      config: parseConfig({}),
      logger: createLogger('info', sink),
    });
    try {
      const res = await app.inject({ method: 'POST', url: '/slack/events', payload: {} });
      expect(res.statusCode).toBe(404);
      expect(out.match(/Slack surface is off/g)).toHaveLength(1);
    } finally {
      await app.close();
      await rt.close();
    }
  });

  it('names what is missing when Slack is half configured', () => {
    expect(slackMode(parseConfig({ SLACK_SIGNING_SECRET: 's' }))).toEqual({
      on: false,
      missing: ['SLACK_BOT_TOKEN'],
    });
    expect(slackMode(parseConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' }))).toEqual({
      on: true,
      mode: 'socket',
    });
    expect(slackMode(parseConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' }))).toEqual({
      on: true,
      mode: 'http',
    });
  });
});

describe('POST /slack/events: acks and retries', () => {
  it('acks before slow work, and at the safety timeout when a listener never acks', async () => {
    t = await startSlackTestApp({ ackTimeoutMs: 150 });
    let finished = false;
    t.surface.bolt.action('test_slow', async () => {
      await new Promise((r) => setTimeout(r, 1500));
      finished = true;
    });
    const payload = slackFixture<Record<string, unknown> & { actions: Record<string, unknown>[] }>(
      'block-actions-show-request',
    );
    payload.actions[0]!.action_id = 'test_slow';
    const started = Date.now();
    const res = await t.interact(payload);
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    expect(Date.now() - started).toBeLessThan(1200);
    expect(finished).toBe(false);
    await t.idle();
    expect(finished).toBe(true);
  });

  it('processes an Events API event once: retries of a claimed event are skipped, a lost first delivery is not', async () => {
    t = await startSlackTestApp();
    const seen: string[] = [];
    t.surface.bolt.event('app_mention', async ({ body }) => {
      seen.push(String((body as { event_id: string }).event_id));
    });
    const event = slackFixture<Record<string, unknown>>('event-app-mention');
    const first = await signedSlackRequest(t.app, { body: event, contentType: 'application/json' });
    expect(first.statusCode).toBe(200);
    for (const n of ['1', '2']) {
      const retry = await signedSlackRequest(t.app, {
        body: event,
        contentType: 'application/json',
        headers: { 'x-slack-retry-num': n, 'x-slack-retry-reason': 'http_timeout' },
      });
      expect(retry.statusCode).toBe(200);
    }
    // A retry whose first delivery never reached us is processed.
    const lost = { ...event, event_id: 'Ev0LOSTFIRST' };
    await signedSlackRequest(t.app, {
      body: lost,
      contentType: 'application/json',
      headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_error' },
    });
    await t.idle();
    expect(seen).toEqual(['Ev0PV52K21', 'Ev0LOSTFIRST']);
  });

  it('calls auth.test once at start when the bot ids are not configured', async () => {
    const auth = nock(API)
      .post('/api/auth.test')
      .reply(200, { ok: true, user_id: 'U0BATON', bot_id: 'B0BATON', team_id: 'T0TEST', user: 'baton' });
    t = await startSlackTestApp({ withoutBotIds: true });
    auth.done();
    expect(t.surface.deps.botUserId).toBe('U0BATON');
  });
});

describe('Web API retries', () => {
  const client = () =>
    new WebClient('xoxb-test', {
      slackApiUrl: SLACK_TEST_API_URL,
      retryConfig: SLACK_RETRY_POLICY,
      rejectRateLimitedCalls: false,
      logger: toBoltLogger(createLogger('silent')),
    });

  it('retries a 429 after Retry-After', async () => {
    const scope = nock(API)
      .post('/api/chat.postMessage')
      .reply(429, { ok: false, error: 'ratelimited' }, { 'Retry-After': '0' })
      .post('/api/chat.postMessage')
      .reply(200, { ok: true, channel: 'D1', ts: '1.2' });
    const res = await client().chat.postMessage({ channel: 'U0ALICE', text: 'hi' });
    expect(res.ok).toBe(true);
    scope.done();
  });

  it('never retries anything else, so a message is never posted twice', async () => {
    let calls = 0;
    nock(API)
      .post('/api/chat.postMessage')
      .times(3)
      .reply(() => {
        calls++;
        return [500, 'upstream error'];
      });
    await expect(client().chat.postMessage({ channel: 'U0ALICE', text: 'hi' })).rejects.toThrow();
    expect(calls).toBe(1);
  });
});

describe('the slash command', () => {
  it('/baton help replies ephemerally with what the user can do, by role', async () => {
    t = await startSlackTestApp();
    const reply = expectResponse();
    const res = await t.command('help', 'alice');
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    await eventually(async () => reply.scope.isDone());
    const msg = reply.bodies[0]!;
    expect(msg.response_type).toBe('ephemeral');
    const text = JSON.stringify(msg.blocks);
    expect(text).toContain('/baton new [app]');
    expect(text).toContain('/baton show');
    expect(text).not.toContain('admin groups');

    const admin = expectResponse();
    await t.command('', 'admin');
    await eventually(async () => admin.scope.isDone());
    const adminText = JSON.stringify(admin.bodies[0]!.blocks);
    expect(adminText).toContain('/baton admin groups create');
    expect(adminText).toContain('/baton admin recipes list');
  });

  it('suggests the closest command for a typo', async () => {
    t = await startSlackTestApp();
    const a = expectResponse();
    await t.command('hlep', 'alice');
    await eventually(async () => a.scope.isDone());
    expect(a.bodies[0]!.text).toContain('Did you mean `/baton help`?');
    expect(a.bodies[0]!.response_type).toBe('ephemeral');

    const b = expectResponse();
    await t.command('admin grups create finance', 'admin');
    await eventually(async () => b.scope.isDone());
    expect(b.bodies[0]!.text).toContain('/baton admin groups create');

    const c = expectResponse();
    await t.command('requets', 'alice');
    await eventually(async () => c.scope.isDone());
    expect(c.bodies[0]!.text).toContain('Did you mean `/baton requests`?');
  });

  it('an admin command is refused for a non-admin and done for an admin (BATON_ADMINS with a Slack id)', async () => {
    t = await startSlackTestApp();
    const refused = expectResponse();
    await t.command('admin groups create finance Finance team', 'mallory');
    await eventually(async () => refused.scope.isDone());
    expect(refused.bodies[0]!.text).toMatch(/Only admins can create groups/);
    expect(await t.rt.baton.groups.find('finance')).toBeNull();

    const done = expectResponse();
    await t.command('admin groups create finance Finance team', 'admin');
    await eventually(async () => done.scope.isDone());
    expect(done.bodies[0]!.text).toMatch(/Group \*finance\* created/);
    expect((await t.rt.baton.groups.find('finance'))?.description).toBe('Finance team');

    const add = expectResponse();
    await t.command('admin groups add finance <@U0BOB|bob> <@U0CAROL>', 'admin');
    await eventually(async () => add.scope.isDone());
    expect(add.bodies[0]!.text).toContain('Added Bob Manager, Carol Manager to *finance*');
    const bob = await t.batonUser('bob');
    expect((await t.rt.baton.groups.find('finance'))?.members).toContain(bob._id);

    const grant = expectResponse();
    await t.command('admin roles grant <@U0BOB|bob> operator', 'admin');
    await eventually(async () => grant.scope.isDone());
    expect((await t.batonUser('bob')).role).toBe('operator');

    const recipes = expectResponse();
    await t.command('admin recipes list', 'bob');
    await eventually(async () => recipes.scope.isDone());
    expect(recipes.bodies[0]!.text).toMatch(/No recipes installed|Recipes/);
  });
});
