import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import nock from 'nock';
import type { SlackSurface } from '../../adapters/slack/plugin.js';
import { parseConfig } from '../../src/config.js';
import type { User } from '../../src/core/types.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/server/app.js';
import { ROOT, startTestRuntime, type TestRuntime } from './runtime.js';

/**
 * Shared helpers for Slack surface tests: sign bodies the way Slack does, send them to
 * `POST /slack/events` through `app.inject()`, and start the real runtime with the Slack
 * surface on. Keep this API stable: several test files use it.
 */

export const SLACK_TEST_SECRET = 'test-signing-secret';
export const SLACK_TEST_TOKEN = 'xoxb-test-token';
/** The Web API base URL tests intercept with nock (SLACK_API_URL). */
export const SLACK_TEST_API_URL = 'https://slack.test/api/';
export const SLACK_TEST_BOT = { botId: 'B0BATON', botUserId: 'U0BATON' } as const;
export const SLACK_TEST_TEAM = 'T0TEST';

export type SlackContentType = 'application/x-www-form-urlencoded' | 'application/json';

/** Slack's v0 signature headers for `body` at `timestamp` (seconds). */
export function signSlackBody(
  body: string,
  secret = SLACK_TEST_SECRET,
  timestamp = Math.floor(Date.now() / 1000),
): { 'x-slack-signature': string; 'x-slack-request-timestamp': string } {
  const sig = createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
  return { 'x-slack-signature': `v0=${sig}`, 'x-slack-request-timestamp': String(timestamp) };
}

/** A slash command or interactivity body, form-encoded (objects become `payload=<json>`). */
export function formBody(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

/** An interactivity body: `payload=<json>`, form-encoded, as Slack sends block_actions and view_submission. */
export function interactionBody(payload: unknown): string {
  return formBody({ payload: JSON.stringify(payload) });
}

export interface SignedSlackRequest {
  /** A string is sent as is; an object is JSON (Events API) or form fields (slash command) per `contentType`. */
  body: string | Record<string, unknown>;
  contentType?: SlackContentType;
  secret?: string;
  /** Seconds; default now. */
  timestamp?: number;
  /** Extra headers (X-Slack-Retry-Num…); a header set to undefined is left out (e.g. the signature). */
  headers?: Record<string, string | undefined>;
}

/** Sends a correctly signed request to `POST /slack/events`. */
export async function signedSlackRequest(
  app: FastifyInstance,
  request: SignedSlackRequest,
): Promise<LightMyRequestResponse> {
  const contentType =
    request.contentType ??
    (typeof request.body === 'string' ? 'application/x-www-form-urlencoded' : 'application/json');
  const raw =
    typeof request.body === 'string'
      ? request.body
      : contentType === 'application/json'
        ? JSON.stringify(request.body)
        : formBody(Object.fromEntries(Object.entries(request.body).map(([k, v]) => [k, String(v)])));
  const headers: Record<string, string> = {
    'content-type': contentType,
    ...signSlackBody(raw, request.secret ?? SLACK_TEST_SECRET, request.timestamp),
  };
  for (const [k, v] of Object.entries(request.headers ?? {})) {
    if (v === undefined) delete headers[k.toLowerCase()];
    else headers[k.toLowerCase()] = v;
  }
  return app.inject({ method: 'POST', url: '/slack/events', headers, payload: raw });
}

/** A fixture from tests/fixtures/slack/ (the shapes Slack sends), deep-copied. */
export function slackFixture<T = Record<string, unknown>>(name: string): T {
  const file = path.join(ROOT, 'tests/fixtures/slack', name.endsWith('.json') ? name : `${name}.json`);
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** A Slack workspace member, as users.info describes them. */
export interface SlackPerson {
  id: string;
  name: string;
  realName: string;
  /** Absent when the app lacks users:read.email (or the profile hides it). */
  email?: string;
  /** An app's bot user (Slack's people pickers offer them too). */
  bot?: boolean;
  /** A deactivated account. */
  deleted?: boolean;
}

/** Default people of the test workspace. */
export function defaultSlackPeople(): Record<string, SlackPerson> {
  const p = (id: string, name: string, realName: string): SlackPerson => ({
    id,
    name,
    realName,
    email: `${name}@example.com`,
  });
  return {
    admin: p('U0ADMIN', 'admin', 'Ada Admin'),
    alice: p('U0ALICE', 'alice', 'Alice Requester'),
    bob: p('U0BOB', 'bob', 'Bob Manager'),
    carol: p('U0CAROL', 'carol', 'Carol Manager'),
    mallory: p('U0MALLORY', 'mallory', 'Mallory Outsider'),
  };
}

/** users.info as Slack answers it (a trimmed but faithful user object). */
export function usersInfoResponse(person: SlackPerson): Record<string, unknown> {
  return {
    ok: true,
    user: {
      id: person.id,
      team_id: SLACK_TEST_TEAM,
      name: person.name,
      deleted: person.deleted === true,
      real_name: person.realName,
      tz: 'Europe/Paris',
      is_admin: false,
      is_bot: person.bot === true,
      profile: {
        real_name: person.realName,
        display_name: person.name,
        ...(person.email ? { email: person.email } : {}),
        team: SLACK_TEST_TEAM,
      },
    },
  };
}

/** Answers users.info for `people` on `apiUrl`, for as long as nock is not cleaned. */
export function nockUsersInfo(people: Record<string, SlackPerson>, apiUrl = SLACK_TEST_API_URL): nock.Scope {
  const byId = new Map(Object.values(people).map((p) => [p.id, p]));
  return nock(apiUrl.replace(/\/api\/?$/, ''))
    .persist()
    .post('/api/users.info')
    .reply((_uri, body) => {
      const user = new URLSearchParams(String(body)).get('user') ?? (body as { user?: string }).user ?? '';
      const person = byId.get(user);
      return [200, person ? usersInfoResponse(person) : { ok: false, error: 'user_not_found' }];
    });
}

export interface SlackTestAppOptions {
  recipesDir?: string;
  dataDir?: string;
  /** BATON_ADMINS (default: the admin's Slack id). */
  admins?: string[];
  people?: Record<string, SlackPerson>;
  /** SLACK_API_URL (default SLACK_TEST_API_URL, intercepted with nock). */
  apiUrl?: string;
  /** Answer users.info with nock from `people` (default true). */
  mockUsersInfo?: boolean;
  env?: Record<string, string>;
  /** Signature clock, ms. */
  now?: () => number;
  ackTimeoutMs?: number;
  /** Leave out the bot ids so the plugin calls auth.test. */
  withoutBotIds?: boolean;
}

export interface SlackTestApp {
  rt: TestRuntime;
  app: FastifyInstance;
  surface: SlackSurface;
  people: Record<string, SlackPerson>;
  apiUrl: string;
  /** The Baton user behind a person of the workspace (created as the surface would). */
  batonUser(name: string): Promise<User>;
  /** Sends a signed `/baton <text>` from a person; the fixture's response_url is returned for nock. */
  command(text: string, from: string, overrides?: Record<string, string>): Promise<LightMyRequestResponse>;
  /** Sends a signed interactivity payload. */
  interact(payload: unknown, headers?: Record<string, string | undefined>): Promise<LightMyRequestResponse>;
  /** Waits until the surface has finished the work it does after acks. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** The response_url of slash-command.json, for nock. */
export const SLACK_RESPONSE_URL = {
  origin: 'https://hooks.slack.com',
  path: '/commands/T0TEST/1234567890/abcdefABCDEF',
};

/** The real runtime and server with the Slack surface on, Web API at `apiUrl`. */
export async function startSlackTestApp(options: SlackTestAppOptions = {}): Promise<SlackTestApp> {
  const people = options.people ?? defaultSlackPeople();
  const apiUrl = options.apiUrl ?? SLACK_TEST_API_URL;
  const env = {
    SLACK_SIGNING_SECRET: SLACK_TEST_SECRET,
    SLACK_BOT_TOKEN: SLACK_TEST_TOKEN,
    SLACK_API_URL: apiUrl,
    ...options.env,
  };
  const rt = await startTestRuntime({
    ...(options.recipesDir ? { recipesDir: options.recipesDir } : {}),
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    admins: options.admins ?? [people.admin?.id ?? 'admin@example.com'],
    env,
  });
  if (options.mockUsersInfo !== false) nockUsersInfo(people, apiUrl);
  const config = parseConfig({
    DATA_DIR: rt.dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
  let surface: SlackSurface | undefined;
  const app = await buildApp({
    baton: rt.baton,
    config,
    logger: createLogger(config.LOG_LEVEL),
    slack: {
      ...(options.withoutBotIds ? {} : SLACK_TEST_BOT),
      ...(options.now ? { now: options.now } : {}),
      ...(options.ackTimeoutMs !== undefined ? { ackTimeoutMs: options.ackTimeoutMs } : {}),
      onSurface: (s) => {
        surface = s;
      },
    },
  });
  await app.ready();
  if (!surface) throw new Error('the Slack surface did not start: check the Slack configuration');
  const s = surface;
  const command = slackFixture<Record<string, string>>('slash-command');
  return {
    rt,
    app,
    surface: s,
    people,
    apiUrl,
    async batonUser(name) {
      const person = people[name];
      if (!person) throw new Error(`no person ${name}`);
      return s.deps.users.toBaton(person.id);
    },
    command(text, from, overrides = {}) {
      const person = people[from];
      if (!person) throw new Error(`no person ${from}`);
      return signedSlackRequest(app, {
        body: formBody({ ...command, text, user_id: person.id, user_name: person.name, ...overrides }),
        contentType: 'application/x-www-form-urlencoded',
      });
    },
    interact(payload, headers) {
      return signedSlackRequest(app, {
        body: interactionBody(payload),
        contentType: 'application/x-www-form-urlencoded',
        ...(headers ? { headers } : {}),
      });
    },
    async idle() {
      await s.receiver?.drain();
    },
    async close() {
      await app.close();
      await rt.close();
    },
  };
}

/** A Web API call the fake below recorded (JSON arguments parsed). */
export interface WebApiCall {
  method: string;
  args: Record<string, unknown>;
}

/** A small fake of the Web API methods the surface calls (besides users.info), recording every call. */
export function fakeWebApi(apiUrl = SLACK_TEST_API_URL): WebApiCall[] {
  const calls: WebApiCall[] = [];
  let ts = 1_700_000_000;
  nock(apiUrl.replace(/\/api\/$/, ''))
    .persist()
    .post(/^\/api\/(chat|conversations|views)\.[A-Za-z]+$/)
    .reply((uri, body) => {
      const method = uri.replace('/api/', '');
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
      calls.push({ method, args });
      if (method === 'conversations.open')
        return [200, { ok: true, channel: { id: `D${String(args.users)}` } }];
      if (method === 'chat.postMessage')
        return [200, { ok: true, channel: args.channel, ts: `${ts++}.000100` }];
      return [200, { ok: true, channel: args.channel, ts: args.ts }];
    });
  return calls;
}
