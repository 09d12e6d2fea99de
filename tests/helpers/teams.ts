import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { TeamsSurface } from '../../adapters/teams/plugin.js';
import { parseConfig } from '../../src/config.js';
import type { User } from '../../src/core/types.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/server/app.js';
import { ROOT, startTestRuntime, type TestRuntime } from './runtime.js';

/**
 * Shared helpers for Teams surface tests: activities in the shapes Teams sends (from
 * tests/fixtures/teams/), sent to `POST /api/messages` through `app.inject()`, and a local
 * fake Bot Connector that records every outbound call and answers like the real one.
 */

export const TEAMS_TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const TEAMS_APP_ID = '00000000-0000-0000-0000-00000000b470';
export const TEAMS_BOT_ID = `28:${TEAMS_APP_ID}`;
/** The largest message Teams accepts (a bot's message, card included). */
export const TEAMS_MAX_MESSAGE_BYTES = 28 * 1024;

export interface TeamsPerson {
  /** Teams id (`29:…`). */
  id: string;
  aadObjectId: string;
  name: string;
  email: string;
  /** The personal chat with the bot. */
  conversationId: string;
}

export function defaultTeamsPeople(): Record<string, TeamsPerson> {
  const p = (key: string, n: number, name: string): TeamsPerson => ({
    id: `29:1${key}TeamsId${n}`,
    aadObjectId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    name,
    email: `${key}@example.com`,
    conversationId: `a:1personal-${key}`,
  });
  return {
    admin: p('admin', 1, 'Ada Admin'),
    alice: p('alice', 2, 'Alice Requester'),
    bob: p('bob', 3, 'Bob Manager'),
    carol: p('carol', 4, 'Carol Manager'),
    hank: p('hank', 5, 'Hank HR'),
    hedy: p('hedy', 6, 'Hedy HR'),
    mallory: p('mallory', 7, 'Mallory Outsider'),
  };
}

export interface ConnectorCall {
  method: string;
  path: string;
  body: Record<string, unknown>;
  authorization: string | undefined;
}

/**
 * A fake Bot Connector on 127.0.0.1 (the activities' serviceUrl): records calls, answers
 * activity posts with fresh ids, members with the people's profiles (email included), and
 * conversation creation for people who have the bot installed (403 otherwise).
 */
export class FakeConnector {
  readonly calls: ConnectorCall[] = [];
  readonly people = new Map<string, TeamsPerson>();
  /** People (Teams ids) the bot is installed for (creating their 1:1 chat works). */
  readonly installed = new Set<string>();
  /** Statuses to answer the next matching calls with, before answering normally. */
  readonly failures: { match: (c: ConnectorCall) => boolean; status: number; retryAfter?: string }[] = [];
  /** Holds matching calls until it resolves (to observe what happens while the connector is slow). */
  hold: { match: (c: ConnectorCall) => boolean; until: Promise<void> } | undefined;
  private server: Server | undefined;
  private seq = 0;
  url = '';

  constructor(people: Record<string, TeamsPerson> = defaultTeamsPeople()) {
    for (const person of Object.values(people)) this.people.set(person.id, person);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(({ status, body, headers }) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(body === undefined ? '' : JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** Messages posted (new activities) into a conversation. */
  posts(conversationId?: string): ConnectorCall[] {
    return this.calls.filter(
      (c) =>
        c.method === 'POST' &&
        /\/v3\/conversations\/[^/]+\/activities/.test(c.path) &&
        (conversationId === undefined || c.path.includes(encodeURIComponent(conversationId))),
    );
  }

  /** Updates (PUT) of one activity. */
  updates(activityId?: string): ConnectorCall[] {
    return this.calls.filter(
      (c) => c.method === 'PUT' && (activityId === undefined || c.path.endsWith(`/activities/${activityId}`)),
    );
  }

  private personOf(id: string): TeamsPerson | undefined {
    return this.people.get(id) ?? [...this.people.values()].find((p) => p.aadObjectId === id);
  }

  private async handle(
    req: IncomingMessage,
  ): Promise<{ status: number; body?: unknown; headers?: Record<string, string> }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const call: ConnectorCall = {
      method: req.method ?? 'GET',
      path: (req.url ?? '').split('?')[0]!,
      body: raw ? (JSON.parse(raw) as Record<string, unknown>) : {},
      authorization: req.headers.authorization,
    };
    this.calls.push(call);
    if (this.hold?.match(call)) await this.hold.until;
    const failure = this.failures.findIndex((f) => f.match(call));
    if (failure !== -1) {
      const f = this.failures.splice(failure, 1)[0]!;
      return {
        status: f.status,
        body: { error: { code: 'Throttled', message: 'fake failure' } },
        ...(f.retryAfter ? { headers: { 'retry-after': f.retryAfter } } : {}),
      };
    }
    const parts = call.path.split('/').map(decodeURIComponent);
    // Teams refuses messages over 28 KB.
    if (
      (call.method === 'POST' || call.method === 'PUT') &&
      parts[4] === 'activities' &&
      Buffer.byteLength(raw) > TEAMS_MAX_MESSAGE_BYTES
    )
      return {
        status: 413,
        body: { error: { code: 'MessageSizeTooBig', message: 'Message size too large' } },
      };
    // /v3/conversations/{id}/members/{userId}
    if (call.method === 'GET' && parts[4] === 'members') {
      // A channel message's conversation (`…;messageid=…`) has no roster: members are the team's.
      if (parts[3]?.includes(';messageid='))
        return {
          status: 404,
          body: { error: { code: 'ThreadNotFound', message: 'Failure due to: ThreadNotFound' } },
        };
      const person = this.personOf(parts[5] ?? '');
      if (!person) return { status: 404, body: { error: { code: 'MemberNotFoundInConversation' } } };
      return {
        status: 200,
        body: {
          id: person.id,
          name: person.name,
          aadObjectId: person.aadObjectId,
          givenName: person.name.split(' ')[0],
          surname: person.name.split(' ')[1],
          email: person.email,
          userPrincipalName: person.email,
          tenantId: TEAMS_TENANT,
          userRole: 'user',
        },
      };
    }
    if (call.method === 'POST' && call.path === '/v3/conversations') {
      const members = (call.body.members as { id: string }[] | undefined) ?? [];
      const person = this.personOf(members[0]?.id ?? '');
      if (!person || !this.installed.has(person.id))
        return {
          status: 403,
          body: { error: { code: 'Forbidden', message: 'Bot is not installed in user scope' } },
        };
      return { status: 201, body: { id: person.conversationId } };
    }
    if (call.method === 'POST' && parts[4] === 'activities')
      return { status: 201, body: { id: `act-${++this.seq}` } };
    if (call.method === 'PUT' && parts[4] === 'activities') return { status: 200, body: { id: parts[5] } };
    if (call.method === 'DELETE' && parts[4] === 'activities') return { status: 200 };
    return { status: 404, body: { error: { code: 'NotFound' } } };
  }
}

/** A fixture from tests/fixtures/teams/, deep-copied. */
export function teamsFixture<T = Record<string, unknown>>(name: string): T {
  const file = path.join(ROOT, 'tests/fixtures/teams', name.endsWith('.json') ? name : `${name}.json`);
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

let activitySeq = 0;

/** The fixture activity, sent by `person` in their personal chat, at the fake connector. */
export function activityFrom(
  fixture: string,
  person: TeamsPerson,
  serviceUrl: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const a = teamsFixture(fixture);
  a.id = `${a.id}-${++activitySeq}`;
  a.serviceUrl = serviceUrl;
  a.from = { id: person.id, name: person.name, aadObjectId: person.aadObjectId };
  const conversation = a.conversation as Record<string, unknown>;
  if (conversation.conversationType === 'personal') conversation.id = person.conversationId;
  return { ...a, ...overrides };
}

export interface TeamsTestAppOptions {
  recipesDir?: string;
  dataDir?: string;
  admins?: string[];
  people?: Record<string, TeamsPerson>;
  env?: Record<string, string>;
  /** Outbound token (default: none, as when anonymous). */
  token?: string;
  /** Invoke time budget (default 30 s here, so slow machines do not change answers; 4 s in production). */
  invokeBudgetMs?: number;
  /** A connector to reuse (a restart against the same fake); it is not stopped by close(). */
  connector?: FakeConnector;
}

export interface TeamsTestApp {
  rt: TestRuntime;
  app: FastifyInstance;
  surface: TeamsSurface;
  connector: FakeConnector;
  people: Record<string, TeamsPerson>;
  /** Sends an activity to POST /api/messages (headers: e.g. authorization). */
  send(activity: unknown, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  /** A message typed by a person in their personal chat with the bot. */
  say(who: string, text: string): Promise<LightMyRequestResponse>;
  /** An Action.Execute from a person on the card in message `replyToId`. */
  execute(
    who: string,
    verb: string,
    data: Record<string, unknown>,
    replyToId?: string,
  ): Promise<LightMyRequestResponse>;
  /** The person installs the bot (installationUpdate add in their personal scope). */
  install(who: string): Promise<void>;
  batonUser(who: string): Promise<User>;
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** The real runtime and server with the Teams surface on (anonymous unless env says otherwise). */
export async function startTeamsTestApp(options: TeamsTestAppOptions = {}): Promise<TeamsTestApp> {
  const people = options.people ?? defaultTeamsPeople();
  const ownConnector = !options.connector;
  const connector = options.connector ?? new FakeConnector(people);
  if (ownConnector) await connector.start();
  const env = { TEAMS_ALLOW_ANONYMOUS: 'true', ...options.env };
  const rt = await startTestRuntime({
    ...(options.recipesDir ? { recipesDir: options.recipesDir } : {}),
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    admins: options.admins ?? ['admin@example.com'],
    env,
  });
  const config = parseConfig({
    DATA_DIR: rt.dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
  let surface: TeamsSurface | undefined;
  const app = await buildApp({
    baton: rt.baton,
    config,
    logger: createLogger(config.LOG_LEVEL),
    teams: {
      token: async () => options.token ?? null,
      connector: { sleep: async () => {}, random: () => 0.5 },
      // A busy test machine must not turn answers into "working on it" (the budget has its own test).
      invokeBudgetMs: options.invokeBudgetMs ?? 30_000,
      onSurface: (s) => {
        surface = s;
      },
    },
  });
  await app.ready();
  if (!surface) throw new Error('the Teams surface did not start');
  const s = surface;
  const person = (who: string) => {
    const p = people[who];
    if (!p) throw new Error(`no person ${who}`);
    return p;
  };
  const send = (activity: unknown, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: '/api/messages',
      headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
      payload: JSON.stringify(activity),
    });
  return {
    rt,
    app,
    surface: s,
    connector,
    people,
    send,
    say: (who, text) => send(activityFrom('message-personal', person(who), connector.url, { text })),
    execute: (who, verb, data, replyToId) =>
      send(
        activityFrom('invoke-action', person(who), connector.url, {
          value: { action: { type: 'Action.Execute', title: verb, verb, data }, trigger: 'manual' },
          ...(replyToId ? { replyToId } : {}),
        }),
      ),
    async install(who) {
      const p = person(who);
      connector.installed.add(p.id);
      const res = await send(activityFrom('installation-update', p, connector.url));
      if (res.statusCode !== 200) throw new Error(`install: ${res.statusCode} ${res.body}`);
      await s.idle();
    },
    async batonUser(who) {
      const p = person(who);
      const u = await rt.baton.users.lookup(`teams:${p.aadObjectId}`);
      if (!u) throw new Error(`${who} has no Baton user yet`);
      return u;
    },
    idle: () => s.idle(),
    async close() {
      await app.close();
      await rt.close();
      if (ownConnector) await connector.stop();
    },
  };
}

/** The Adaptive Card in an outbound call or invoke answer. */
export function cardOf(body: unknown): Record<string, unknown> {
  const b = body as {
    attachments?: { content: Record<string, unknown> }[];
    value?: Record<string, unknown>;
    type?: string;
  };
  if (b.attachments?.[0]) return b.attachments[0].content;
  if (b.type === 'application/vnd.microsoft.card.adaptive' && b.value) return b.value;
  throw new Error(`no card in ${JSON.stringify(body).slice(0, 300)}`);
}

/** Every string in a card, joined (for "the card says …" assertions). */
export function cardText(card: unknown): string {
  const out: string[] = [];
  const walk = (n: unknown) => {
    if (typeof n === 'string') out.push(n);
    else if (Array.isArray(n)) n.forEach(walk);
    else if (n && typeof n === 'object') Object.values(n).forEach(walk);
  };
  walk(card);
  return out.join('\n');
}

/** The Action.Execute actions of a card (its `actions`, then those of ActionSets in its body). */
export function executeActions(
  card: Record<string, unknown>,
): { title: string; verb: string; data: Record<string, unknown> }[] {
  const sets = ((card.body as Record<string, unknown>[] | undefined) ?? [])
    .filter((e) => e.type === 'ActionSet')
    .flatMap((e) => (e.actions as Record<string, unknown>[] | undefined) ?? []);
  return [...((card.actions as Record<string, unknown>[] | undefined) ?? []), ...sets].filter(
    (a) => a.type === 'Action.Execute',
  ) as unknown as { title: string; verb: string; data: Record<string, unknown> }[];
}

/** How many buttons Teams (web and desktop) shows of a card: its first 6 `actions`, and 6 per ActionSet. */
export function visibleActionCount(card: Record<string, unknown>): number {
  const sets = ((card.body as Record<string, unknown>[] | undefined) ?? []).filter(
    (e) => e.type === 'ActionSet',
  );
  return (
    Math.min(((card.actions as unknown[] | undefined) ?? []).length, 6) +
    sets.reduce((n, e) => n + Math.min(((e.actions as unknown[] | undefined) ?? []).length, 6), 0)
  );
}
