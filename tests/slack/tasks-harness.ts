import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { App, LogLevel, type Receiver, verifySlackRequest } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import Fastify, { type FastifyInstance } from 'fastify';
import type { SlackDeps, SlackUserDirectory } from '../../adapters/slack/deps.js';
import { registerHome } from '../../adapters/slack/home.js';
import { registerTaskHandlers, startTaskDelivery } from '../../adapters/slack/tasks.js';
import { parseConfig } from '../../src/config.js';
import type { Baton } from '../../src/core/baton.js';
import type { User } from '../../src/core/types.js';
import { createLogger } from '../../src/logger.js';
import { ROOT } from '../helpers/runtime.js';

export const SIGNING_SECRET = 'test-signing-secret';
export const BOT_TOKEN = 'xoxb-test-token';

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
}

export interface SlackPerson {
  id: string;
  name: string;
  email: string;
  /** An app's bot user. */
  bot?: boolean;
  /** A deactivated account. */
  deleted?: boolean;
}

/**
 * A fake Slack Web API on 127.0.0.1: answers the methods the surface calls and records
 * every call, so tests can assert "every copy was updated" from what Slack would have seen.
 */
export class FakeSlackApi {
  readonly calls: SlackCall[] = [];
  readonly people = new Map<string, SlackPerson>();
  private server: Server | undefined;
  private seq = 0;
  url = '';
  /** Methods answered with `{ ok: false, error }`. */
  readonly failures = new Map<string, string>();
  /** Finer failures: the error to answer this one call with (undefined: answer normally). */
  failWhen: ((method: string, args: Record<string, unknown>) => string | undefined) | undefined;
  /**
   * Calls recorded but never answered (as if they never reached Slack): the caller waits until
   * it is killed or the fake stops.
   */
  hold: ((method: string, args: Record<string, unknown>) => boolean) | undefined;
  readonly held: SlackCall[] = [];
  /** What `apps.connections.open` answers as the Socket Mode WebSocket URL. */
  socketUrl = '';
  /** A delay (ms) before answering this one call (a slow Slack), or undefined/0 for none. */
  delayWhen: ((method: string, args: Record<string, unknown>) => number | undefined) | undefined;
  /** Delay before each answer (to observe how many calls are in flight). */
  delayMs = 0;
  inFlight = 0;
  maxInFlight = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      void this.handle(req).then(async (body) => {
        if (body === null) return; // held: never answered
        if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
        this.inFlight--;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  of(method: string): Record<string, unknown>[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  private async handle(req: IncomingMessage): Promise<Record<string, unknown> | null> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0]!;
    const args: Record<string, unknown> = {};
    if ((req.headers['content-type'] ?? '').includes('json')) Object.assign(args, JSON.parse(raw || '{}'));
    else {
      for (const [k, v] of new URLSearchParams(raw)) {
        try {
          args[k] = /^[[{]/.test(v) ? JSON.parse(v) : v;
        } catch {
          args[k] = v;
        }
      }
    }
    if (this.hold?.(method, args)) {
      this.held.push({ method, args });
      return null;
    }
    this.calls.push({ method, args });
    const delay = this.delayWhen?.(method, args) ?? 0;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    const failure = this.failures.get(method) ?? this.failWhen?.(method, args);
    if (failure) return { ok: false, error: failure };
    switch (method) {
      case 'auth.test':
        return { ok: true, user_id: 'U0BATONBOT', bot_id: 'B0BATONBOT', team_id: 'T0BATON001' };
      case 'conversations.open':
        return { ok: true, channel: { id: `D${String(args.users).slice(1)}` } };
      case 'chat.postMessage': {
        const ts = `${1700000000 + ++this.seq}.000100`;
        return { ok: true, channel: args.channel, ts, message: { ts, text: args.text } };
      }
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts, text: args.text };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: `${1700000000 + ++this.seq}.000200` };
      case 'users.info': {
        const p = this.people.get(String(args.user));
        if (!p) return { ok: false, error: 'user_not_found' };
        return {
          ok: true,
          user: {
            id: p.id,
            name: p.email.split('@')[0],
            real_name: p.name,
            is_bot: p.bot === true,
            deleted: p.deleted === true,
            profile: { real_name: p.name, email: p.email },
          },
        };
      }
      case 'users.lookupByEmail': {
        const p = [...this.people.values()].find((x) => x.email === String(args.email));
        if (!p) return { ok: false, error: 'users_not_found' };
        return {
          ok: true,
          user: {
            id: p.id,
            name: p.email.split('@')[0],
            real_name: p.name,
            profile: { real_name: p.name, email: p.email },
          },
        };
      }
      case 'apps.connections.open':
        return this.socketUrl
          ? { ok: true, url: this.socketUrl }
          : { ok: false, error: 'not_allowed_token_type' };
      case 'views.open':
      case 'views.publish':
        return { ok: true, view: { id: `V${++this.seq}` } };
      default:
        return { ok: true };
    }
  }
}

/** An app and recipe: a task for the `hr` group (Approve/Reject), then the stage from its outcome. */
export const GROUP_APPROVAL = {
  'quick.yaml': `
kind: app
key: quick
name: Quick
stages: [Submitted, Approved, Rejected]
fields:
  - { key: note, label: Note, type: text }
`,
  'quick-recipe.yaml': `
kind: recipe
name: quick-approval
trigger: { type: new_request, app: quick }
steps:
  - id: t
    action: assign_task
    to: group:hr
    title: Quick one
    outcomes: [Approve, Reject]
  - action: change_stage
    stage: "{{ steps.t.outcome = 'Approve' ? 'Approved' : 'Rejected' }}"
`,
};

/** Slack people: everyone seeded except Carol, who is not on Slack. */
export const SLACK: Record<string, SlackPerson> = {
  admin: { id: 'U0ADMIN001', name: 'Ada Admin', email: 'admin@example.com' },
  alice: { id: 'U0ALICE001', name: 'Alice Requester', email: 'alice@example.com' },
  bob: { id: 'U0BOB00001', name: 'Bob Manager', email: 'bob@example.com' },
  hank: { id: 'U0HANK0001', name: 'Hank HR', email: 'hank@example.com' },
  hedy: { id: 'U0HEDY0001', name: 'Hedy HR', email: 'hedy@example.com' },
  mallory: { id: 'U0MALLORY1', name: 'Mallory Outsider', email: 'mallory@example.com' },
};
export const dm = (who: string) => `D${SLACK[who]!.id.slice(1)}`;

export type Block = { type: string; elements?: { type: string; text?: { text: string }; value?: string }[] };
export type Posted = { channel: string; ts: string; blocks: Block[]; text: string };

export async function linkSlackPeople(baton: Baton, fake: FakeSlackApi): Promise<void> {
  for (const p of Object.values(SLACK)) {
    fake.people.set(p.id, p);
    await baton.users.resolve({ provider: 'slack', id: p.id, name: p.name, email: p.email });
  }
}

export const buttonsOf = (blocks: Block[]) =>
  blocks
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? [])
    .filter((e) => e.type === 'button');

/** Slack's v0 signature over `v0:<ts>:<body>`. */
export function sign(body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const sig = createHmac('sha256', SIGNING_SECRET).update(`v0:${timestamp}:${body}`).digest('hex');
  return { 'x-slack-signature': `v0=${sig}`, 'x-slack-request-timestamp': String(timestamp) };
}

/** The parts of `task-block-actions.json` / `home-block-actions.json` tests fill in. */
export interface BlockActionsFixture {
  user: { id: string; username: string; name: string };
  channel?: { id: string };
  container: { type: string; channel_id?: string; message_ts?: string; view_id?: string };
  message?: { ts: string };
  trigger_id: string;
  actions: { action_id: string; value: string }[];
}

/** The parts of `task-view-submission.json` tests fill in. */
export interface ViewSubmissionFixture {
  user: { id: string };
  view: {
    private_metadata: string;
    callback_id: string;
    blocks: unknown[];
    state: { values: Record<string, Record<string, { type: string; value?: string | null }>> };
  };
}

export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(path.join(ROOT, 'tests/fixtures/slack', name), 'utf8')) as T;
}

/** Receiver for the test surface: signature check on the raw body, then Bolt. */
class InjectReceiver implements Receiver {
  app: App | undefined;
  init(app: App): void {
    this.app = app;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

export interface TestSurface {
  http: FastifyInstance;
  deps: SlackDeps;
  /** POSTs an interactivity payload (form-encoded `payload=`), signed. */
  interact(payload: unknown): Promise<{ status: number; body: string }>;
  /** POSTs an Events API envelope (JSON), signed. */
  event(envelope: unknown): Promise<{ status: number; body: string }>;
  stop(): Promise<void>;
}

function directory(baton: Baton, fake: FakeSlackApi): SlackUserDirectory {
  return {
    async toBaton(slackUserId: string): Promise<User> {
      const p = fake.people.get(slackUserId);
      return baton.users.resolve({ provider: 'slack', id: slackUserId, name: p?.name, email: p?.email });
    },
    async toSlack(user: User | string): Promise<string | null> {
      const u = typeof user === 'string' ? await baton.users.find(user) : user;
      return u?.identities.find((i) => i.provider === 'slack')?.id ?? null;
    },
  };
}

/** The Slack surface's task and Home parts on a Fastify route, against the fake Web API. */
export async function startTestSurface(baton: Baton, fake: FakeSlackApi): Promise<TestSurface> {
  const config = parseConfig({
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_API_URL: fake.url,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  });
  const logger = createLogger(config.LOG_LEVEL);
  const client = new WebClient(BOT_TOKEN, { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
  const deps: SlackDeps = {
    baton,
    config,
    client,
    logger,
    users: directory(baton, fake),
    botUserId: 'U0BATONBOT',
    publicUrl: undefined,
  };
  const receiver = new InjectReceiver();
  const app = new App({
    receiver,
    token: BOT_TOKEN,
    botId: 'B0BATONBOT',
    botUserId: 'U0BATONBOT',
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: fake.url, retryConfig: { retries: 0 } },
  });
  const home = registerHome(app, deps);
  registerTaskHandlers(app, deps, { home });
  const stopDelivery = startTaskDelivery(deps);

  const http = Fastify();
  await http.register(async (scope) => {
    scope.addContentTypeParser(
      ['application/json', 'application/x-www-form-urlencoded'],
      { parseAs: 'string' },
      (_req, body, done) => done(null, body),
    );
    scope.post('/slack/events', async (req, reply) => {
      const raw = String(req.body);
      try {
        verifySlackRequest({
          signingSecret: SIGNING_SECRET,
          body: raw,
          headers: {
            'x-slack-signature': String(req.headers['x-slack-signature']),
            'x-slack-request-timestamp': Number(req.headers['x-slack-request-timestamp']),
          },
        });
      } catch {
        return reply.status(401).send({ error: 'bad signature' });
      }
      const form = (req.headers['content-type'] ?? '').includes('urlencoded');
      const body = form
        ? (JSON.parse(new URLSearchParams(raw).get('payload') ?? '{}') as Record<string, unknown>)
        : (JSON.parse(raw) as Record<string, unknown>);
      return new Promise((resolve) => {
        let answered = false;
        void receiver
          .app!.processEvent({
            body,
            ack: async (response?: unknown) => {
              answered = true;
              resolve(reply.status(200).send(response ?? ''));
            },
          })
          .finally(() => {
            if (!answered) resolve(reply.status(200).send(''));
          });
      });
    });
  });

  const post = async (body: string, contentType: string) => {
    const res = await http.inject({
      method: 'POST',
      url: '/slack/events',
      headers: { 'content-type': contentType, ...sign(body) },
      payload: body,
    });
    return { status: res.statusCode, body: res.body };
  };
  return {
    http,
    deps,
    interact: (payload) =>
      post(
        new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
        'application/x-www-form-urlencoded',
      ),
    event: (envelope) => post(JSON.stringify(envelope), 'application/json'),
    async stop() {
      stopDelivery();
      await http.close();
    },
  };
}
