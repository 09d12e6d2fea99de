/**
 * The Slack surface over real HTTP on loopback: ack latency of signed task clicks at a fixed
 * rate, and full approval round trips per second, beside a Fastify hello-world baseline.
 *
 * Two processes: this one runs Baton (the real runtime and server, Slack on) and the
 * baseline; a child (this file again, BENCH_SLACK_ROLE=client) runs the fake Slack Web API
 * and the load, so Baton's process does only what it would do in production.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { renderRequestModal } from '../adapters/slack/modals.js';
import type { SlackSurface } from '../adapters/slack/plugin.js';
import { slackQueue } from '../adapters/slack/tasks.js';
import { parseConfig } from '../src/config.js';
import type { User } from '../src/core/types.js';
import { createLogger } from '../src/logger.js';
import { startRuntime } from '../src/runtime.js';
import { buildApp } from '../src/server/app.js';
import { LEAVE_APP, leaveRecipe, profiled, report } from './common.js';
import {
  type ClosedLoopStats,
  closedLoop,
  type LatencyStats,
  loopbackAgent,
  openLoop,
  type PreparedRequest,
  post,
} from './load.js';

const SECRET = 'bench-signing-secret';
const RATE = Number(process.env.BENCH_SLACK_RATE ?? 500);
const WARMUP_S = Number(process.env.BENCH_SLACK_WARMUP ?? 2);
const SECONDS = Number(process.env.BENCH_SLACK_SECONDS ?? 10);
const ROUND_SECONDS = Number(process.env.BENCH_SLACK_ROUND_SECONDS ?? 10);
const CONCURRENCIES = (process.env.BENCH_SLACK_CONCURRENCY ?? '8,32').split(',').map(Number);
const ACK_APPROVERS = 16;
/** Waits inside a round trip (a lost message ends the loop as an error, not the run). */
const WAIT_MS = 10_000;

/** Slack user ids of the bench workspace (users.info answers any of them). */
const slackId = (kind: 'AR' | 'AK' | 'RQ' | 'AP', n: number) => `U0${kind}${String(n).padStart(5, '0')}`;
const person = (id: string) => ({ name: `Person ${id}`, email: `${id.toLowerCase()}@example.com` });
const dmOf = (id: string) => `D${id.slice(1)}`;

function sign(body: string, contentType: string): PreparedRequest {
  const ts = Math.floor(Date.now() / 1000);
  const sig = createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex');
  return {
    body,
    headers: {
      'content-type': contentType,
      'x-slack-signature': `v0=${sig}`,
      'x-slack-request-timestamp': String(ts),
    },
  };
}
const FORM = 'application/x-www-form-urlencoded';
const form = (payload: unknown) => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

// ---------------------------------------------------------------------------------------
// Messages between the two processes

type Command =
  | { cmd: 'count' }
  | { cmd: 'collect' }
  | { cmd: 'baseline'; url: string }
  | { cmd: 'ack'; url: string; rate: number; warmup: number; seconds: number; offset: number }
  | { cmd: 'rounds'; url: string; concurrency: number; modalBlocks: unknown[] };

interface Counts {
  calls: Record<string, number>;
  taskDms: number;
}

// ---------------------------------------------------------------------------------------
// Child: the fake Slack Web API and the load

interface TaskDm {
  channel: string;
  ts: string;
  text: string;
  blocks: { type: string; block_id?: string; elements?: Record<string, unknown>[] }[];
  approve: Record<string, unknown>;
}

/**
 * A local fake of the Slack Web API: answers every method at once, counts calls per method,
 * records task DMs (messages with task buttons) and wakes whoever waits for a message.
 */
class FakeSlackApi {
  readonly calls: Record<string, number> = {};
  readonly taskDms: TaskDm[] = [];
  collecting = false;
  url = '';
  private seq = 0;
  private readonly waiters = new Map<string, (value: unknown) => void>();
  private readonly server = createServer((req, res) => this.handle(req, res));

  async start(): Promise<void> {
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/`;
  }

  /** Resolves with the next message under `key` (`dm:<channel>` a task DM, `update:<channel>:<ts>`, `note:<channel>`). */
  wait<T>(key: string, timeoutMs = WAIT_MS): Promise<T> {
    const p = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.waiters.get(key) === done) this.waiters.delete(key);
        reject(new Error(`timed out waiting for ${key}`));
      }, timeoutMs);
      const done = (value: unknown) => {
        clearTimeout(timer);
        resolve(value as T);
      };
      this.waiters.set(key, done);
    });
    p.catch(() => {});
    return p;
  }

  private wake(key: string, value: unknown): boolean {
    const w = this.waiters.get(key);
    if (!w) return false;
    this.waiters.delete(key);
    w(value);
    return true;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0]!;
      this.calls[method] = (this.calls[method] ?? 0) + 1;
      const raw = Buffer.concat(chunks).toString('utf8');
      const args = (req.headers['content-type'] ?? '').includes('json')
        ? (JSON.parse(raw || '{}') as Record<string, string>)
        : Object.fromEntries(new URLSearchParams(raw));
      const body = JSON.stringify(this.answer(method, args));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  }

  private answer(method: string, args: Record<string, string>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          user_id: 'U0BATONBOT',
          bot_id: 'B0BATONBOT',
          team_id: 'T0BATON001',
          user: 'baton',
        };
      case 'conversations.open':
        return { ok: true, channel: { id: dmOf(String(args.users)) } };
      case 'chat.postMessage': {
        const ts = `${1700000000 + ++this.seq}.000100`;
        this.posted(String(args.channel), ts, args);
        return { ok: true, channel: args.channel, ts, message: { ts, text: args.text } };
      }
      case 'chat.update':
        this.wake(`update:${args.channel}:${args.ts}`, args);
        return { ok: true, channel: args.channel, ts: args.ts, text: args.text };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: `${1700000000 + ++this.seq}.000200` };
      case 'users.info': {
        const id = String(args.user);
        const p = person(id);
        return {
          ok: true,
          user: {
            id,
            team_id: 'T0BATON001',
            name: id.toLowerCase(),
            deleted: false,
            real_name: p.name,
            is_bot: false,
            profile: { real_name: p.name, display_name: id.toLowerCase(), email: p.email },
          },
        };
      }
      case 'views.open':
      case 'views.publish':
      case 'views.update':
        return { ok: true, view: { id: `V${++this.seq}` } };
      default:
        return { ok: true };
    }
  }

  private posted(channel: string, ts: string, args: Record<string, string>): void {
    const text = String(args.text ?? '');
    if (args.blocks?.includes('"actions"')) {
      const blocks = JSON.parse(args.blocks) as TaskDm['blocks'];
      const actions = blocks.find((b) => b.type === 'actions');
      const approve = actions?.elements?.find((e) => (e.text as { text?: string })?.text === 'Approve');
      if (actions && approve) {
        const dm: TaskDm = { channel, ts, text, blocks, approve: { ...approve, block_id: actions.block_id } };
        if (!this.wake(`dm:${channel}`, dm) && this.collecting) this.taskDms.push(dm);
        return;
      }
    }
    if (text.includes('was approved')) this.wake(`note:${channel}`, args);
  }
}

const FIXTURES = path.join(import.meta.dirname, '../tests/fixtures/slack');
const fixture = <T>(name: string): T => JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as T;

/** A click on Approve in a task DM, in the shape of task-block-actions.json (Slack echoes the message). */
function clickPayload(dm: TaskDm): Record<string, unknown> {
  const p = fixture<Record<string, Record<string, unknown>>>('task-block-actions.json');
  const user = `U${dm.channel.slice(1)}`;
  p.user = { ...p.user, id: user, username: user.toLowerCase(), name: user.toLowerCase() };
  p.container = { ...p.container, message_ts: dm.ts, channel_id: dm.channel };
  p.channel = { ...p.channel, id: dm.channel };
  p.message = { ...p.message, ts: dm.ts, text: dm.text, blocks: dm.blocks };
  return { ...p, actions: [{ ...dm.approve, action_ts: (Date.now() / 1000).toFixed(6) }] };
}

let viewSeq = 0;

/** A submission of the leave form, in the shape of view-submission-request.json (as the transport tests send it). */
function submissionPayload(requester: string, approver: string, modalBlocks: unknown[], days: number) {
  const p = fixture<{ user: Record<string, unknown>; view: Record<string, unknown> }>(
    'view-submission-request.json',
  );
  p.user = { ...p.user, id: requester, username: requester.toLowerCase(), name: requester.toLowerCase() };
  // Every modal Slack opens has its own view id (one view files at most one request).
  p.view.id = `V${(++viewSeq).toString(36).toUpperCase().padStart(10, '0')}`;
  p.view.blocks = modalBlocks;
  p.view.state = {
    values: {
      approver: { value: { type: 'users_select', selected_user: approver } },
      days: { value: { type: 'number_input', value: String(days) } },
    },
  };
  return p;
}

async function client(): Promise<void> {
  const fake = new FakeSlackApi();
  await fake.start();
  const send = (m: unknown) => process.send?.(m);
  process.on('disconnect', () => process.exit(0));

  const run = async (c: Command): Promise<unknown> => {
    switch (c.cmd) {
      case 'count':
        return { calls: fake.calls, taskDms: fake.taskDms.length } satisfies Counts;
      case 'collect':
        fake.collecting = true;
        return null;
      case 'baseline': {
        // A body of the size of a click, as JSON (Fastify's default parsers).
        const sample = JSON.stringify({ payload: form(clickPayload(fake.taskDms[0]!)) });
        return openLoop({
          url: c.url,
          rate: RATE,
          warmupSeconds: WARMUP_S,
          seconds: SECONDS,
          request: () => sign(sample, 'application/json'),
        });
      }
      case 'ack': {
        fake.collecting = false;
        const dms = fake.taskDms;
        return openLoop({
          url: c.url,
          rate: c.rate,
          warmupSeconds: c.warmup,
          seconds: c.seconds,
          request: (i) => sign(form(clickPayload(dms[(c.offset + i) % dms.length]!)), FORM),
          ok: (status, body) => status === 200 && body === '',
        });
      }
      case 'rounds': {
        const agent = loopbackAgent();
        const url = new URL(c.url);
        const cpu = process.cpuUsage();
        const stats = await closedLoop({
          concurrency: c.concurrency,
          warmupSeconds: 1,
          seconds: ROUND_SECONDS,
          maxLoopsPerWorker: 100_000,
          loop: async (w, n) => {
            const requester = slackId('RQ', w);
            const approver = slackId('AP', w);
            const taskDm = fake.wait<TaskDm>(`dm:${dmOf(approver)}`);
            const body = form(submissionPayload(requester, approver, c.modalBlocks, 1 + (n % 20)));
            const submitted = await post(agent, url, sign(body, FORM));
            if (submitted.status !== 200 || !submitted.body.includes('"clear"'))
              throw new Error(`submission answered ${submitted.status} ${submitted.body}`);
            const dm = await taskDm;
            const updated = fake.wait(`update:${dm.channel}:${dm.ts}`);
            const told = fake.wait(`note:${dmOf(requester)}`);
            const clicked = await post(agent, url, sign(form(clickPayload(dm)), FORM));
            if (clicked.status !== 200) throw new Error(`click answered ${clicked.status}`);
            await Promise.all([updated, told]);
          },
        });
        agent.destroy();
        const used = process.cpuUsage(cpu);
        // What this process (load generator and fake Web API) spent per round trip, on the other core.
        return { ...stats, client_cpu_ms: (used.user + used.system) / 1000 / Math.max(1, stats.total) };
      }
    }
  };

  process.on('message', (m: { id: number; command: Command }) => {
    run(m.command).then(
      (result) => send({ id: m.id, result }),
      (err: unknown) => send({ id: m.id, error: String(err) }),
    );
  });
  send({ ready: fake.url });
}

// ---------------------------------------------------------------------------------------
// Parent: Baton

function rpc(child: ChildProcess) {
  let next = 0;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (m: { id?: number; result?: unknown; error?: string }) => {
    if (m.id === undefined) return;
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error !== undefined) w?.reject(new Error(m.error));
    else w?.resolve(m.result);
  });
  child.on('exit', (code) => {
    for (const w of waiting.values()) w.reject(new Error(`the load process exited (${code})`));
  });
  return <T>(command: Command): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, command });
    });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - started;
}

const gc = () => (globalThis as { gc?: () => void }).gc?.();

async function main(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    env: { ...process.env, BENCH_SLACK_ROLE: 'client' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const call = rpc(child);
  const apiUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the load process did not start')), 30_000);
    child.on('message', (m: { ready?: string }) => {
      if (m.ready) {
        clearTimeout(timer);
        resolve(m.ready);
      }
    });
  });

  const dir = mkdtempSync(path.join(tmpdir(), 'baton-bench-slack-'));
  const recipes = path.join(dir, 'recipes');
  mkdirSync(recipes);
  writeFileSync(path.join(recipes, 'leave.yaml'), LEAVE_APP);
  writeFileSync(path.join(recipes, 'recipe.yaml'), leaveRecipe('2d'));
  const config = parseConfig({
    DATA_DIR: path.join(dir, 'data'),
    RECIPES_DIR: recipes,
    LOG_LEVEL: 'warn',
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: apiUrl,
  });
  const logger = createLogger(config.LOG_LEVEL);
  const rt = await startRuntime(config, logger);
  let surface: SlackSurface | undefined;
  const app = await buildApp({
    baton: rt.baton,
    config,
    logger,
    slack: {
      onSurface: (s) => {
        surface = s;
      },
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const slackUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/slack/events`;
  if (!surface) throw new Error('the Slack surface did not start');
  const s = surface;
  const settle = async () => {
    await s.receiver?.drain(60_000);
    await Promise.race([slackQueue(s.deps).idle(), new Promise((r) => setTimeout(r, 60_000))]);
  };
  const tasks = rt.store.collection('tasks');

  // Open tasks for the ack runs, filed through the core API (their DMs reach the fake): a
  // short run at a tenth of the rate (the ack path without a backlog), then the real one.
  const low = { rate: Math.max(1, Math.round(RATE / 10)), warmup: 1, seconds: 5 };
  const lowTotal = Math.round(low.rate * (low.warmup + low.seconds));
  const total = Math.round(RATE * (WARMUP_S + SECONDS));
  const filedTotal = lowTotal + total;
  await call({ cmd: 'collect' });
  const users: { requester: User; approver: User }[] = [];
  for (let k = 0; k < ACK_APPROVERS; k++) {
    const resolve = (id: string) => rt.baton.users.resolve({ provider: 'slack', id, ...person(id) });
    users.push({ requester: await resolve(slackId('AR', k)), approver: await resolve(slackId('AK', k)) });
  }
  let filed = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (filed < filedTotal) {
        const i = filed++;
        const { requester, approver } = users[i % ACK_APPROVERS]!;
        await rt.baton.requests.file(requester, 'leave', { approver: approver._id, days: 1 + (i % 20) });
      }
    }),
  );
  await until(
    'the task DMs',
    async () => (await call<Counts>({ cmd: 'count' })).taskDms >= filedTotal,
    180_000,
  );
  await settle();

  // Baseline: Fastify hello-world in this process, same generator, same rate.
  const hello = Fastify();
  hello.post('/', async () => ({}));
  await hello.listen({ host: '127.0.0.1', port: 0 });
  gc();
  const baseline = await call<LatencyStats>({
    cmd: 'baseline',
    url: `http://127.0.0.1:${(hello.server.address() as AddressInfo).port}/`,
  });
  await hello.close();

  // Ack latency: Approve on distinct open tasks, first at a tenth of the rate, then at RATE/s.
  gc();
  const ackLow = await call<LatencyStats>({ cmd: 'ack', url: slackUrl, ...low, offset: 0 });
  await settle();
  gc();
  const before = await tasks.countDocuments({ status: 'completed' });
  let cpu = process.cpuUsage();
  const ackCommitsBefore = (rt.store as { commitCount?: number }).commitCount ?? 0;
  const ack = await call<LatencyStats>({
    cmd: 'ack',
    url: slackUrl,
    rate: RATE,
    warmup: WARMUP_S,
    seconds: SECONDS,
    offset: lowTotal,
  });
  const completedAtEnd = (await tasks.countDocuments({ status: 'completed' })) - before;
  // A click's work (the completion) is done when the receiver has no event in flight.
  const drainStarted = Date.now();
  await s.receiver?.drain(120_000);
  const drainMs = Date.now() - drainStarted;
  const completedAfterDrain = (await tasks.countDocuments({ status: 'completed' })) - before;
  await settle();
  const cpuMs = (since: NodeJS.CpuUsage) => {
    const d = process.cpuUsage(since);
    return (d.user + d.system) / 1000;
  };
  // Per click actually processed (a click the load gave up on before it was read is not).
  const ackCpuMs = cpuMs(cpu) / Math.max(1, completedAfterDrain);
  const ackCommits =
    (((rt.store as { commitCount?: number }).commitCount ?? 0) - ackCommitsBefore) /
    Math.max(1, completedAfterDrain);

  // Round trips: form → task DM → Approve → copy updated and requester told.
  const leave = await rt.baton.apps.get('leave');
  const modalBlocks = renderRequestModal(leave).blocks as unknown[];
  const rounds: (ClosedLoopStats & { client_cpu_ms?: number })[] = [];
  const cpuPerRound: number[] = [];
  const commitsPerRound: number[] = [];
  const commits = () => (rt.store as { commitCount?: number }).commitCount ?? 0;
  async function roundsAt(concurrency: number): Promise<ClosedLoopStats & { client_cpu_ms?: number }> {
    gc();
    cpu = process.cpuUsage();
    const commitsBefore = commits();
    const r = await profiled(`slack-rounds-${concurrency}`, () =>
      call<ClosedLoopStats & { client_cpu_ms?: number }>({
        cmd: 'rounds',
        url: slackUrl,
        concurrency,
        modalBlocks,
      }),
    );
    await settle();
    cpuPerRound.push(cpuMs(cpu) / Math.max(1, r.total));
    commitsPerRound.push((commits() - commitsBefore) / Math.max(1, r.total));
    return r;
  }
  const callsBeforeRounds = (await call<Counts>({ cmd: 'count' })).calls;
  for (const c of CONCURRENCIES) rounds.push(await roundsAt(c));
  const best = rounds.reduce((a, b) => (b.per_second > a.per_second ? b : a));
  const counts = await call<Counts>({ cmd: 'count' });
  const roundsDone = rounds.reduce((n, r) => n + r.total, 0);
  // Web API calls per round trip, by method (what the round trips alone made).
  const callsPerRound = Object.fromEntries(
    Object.entries(counts.calls)
      .map(
        ([method, n]) => [method, (n - (callsBeforeRounds[method] ?? 0)) / Math.max(1, roundsDone)] as const,
      )
      .filter(([, n]) => n > 0)
      .map(([method, n]) => [method, Number(n.toFixed(2))]),
  );
  const rssMb = Math.round(process.memoryUsage().rss / 2 ** 20);
  const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);

  child.disconnect();
  await app.close();
  await rt.close();
  rmSync(dir, { recursive: true, force: true });

  report({
    rate: RATE,
    seconds: SECONDS,
    baseline_p50_ms: baseline.p50_ms,
    baseline_p99_ms: baseline.p99_ms,
    baseline_max_ms: baseline.max_ms,
    baseline_per_second: baseline.achieved_per_second,
    baseline_errors: baseline.errors,
    ack_low_rate: low.rate,
    ack_low_p50_ms: ackLow.p50_ms,
    ack_low_p99_ms: ackLow.p99_ms,
    ack_low_errors: ackLow.errors,
    ack_p50_ms: ack.p50_ms,
    ack_p99_ms: ack.p99_ms,
    ack_max_ms: ack.max_ms,
    ack_sent_per_second: ack.sent_per_second,
    ack_per_second: ack.achieved_per_second,
    ack_errors: ack.errors,
    ack_send_lag_p99_ms: ack.send_lag_p99_ms,
    ack_tasks: total,
    ack_completed_at_end: completedAtEnd,
    ack_completed_after_drain: completedAfterDrain,
    ack_drain_ms: drainMs,
    ack_cpu_ms_per_click: Number(ackCpuMs.toFixed(2)),
    ack_commits_per_click: Number(ackCommits.toFixed(2)),
    round_trips_per_second: best.per_second,
    round_trips_concurrency: best.concurrency,
    round_trip_p50_ms: best.p50_ms,
    round_trip_p99_ms: best.p99_ms,
    round_trip_cpu_ms: Number((cpuPerRound[rounds.indexOf(best)] ?? 0).toFixed(2)),
    round_trip_client_cpu_ms: Number((best.client_cpu_ms ?? 0).toFixed(2)),
    round_trip_commits: Number((commitsPerRound[rounds.indexOf(best)] ?? 0).toFixed(2)),
    round_trips: rounds.map((r) => ({
      concurrency: r.concurrency,
      per_second: r.per_second,
      completed: r.completed,
      errors: r.errors,
      p50_ms: r.p50_ms,
      p99_ms: r.p99_ms,
    })),
    web_api_calls: counts.calls,
    round_trip_web_api_calls: callsPerRound,
    rss_mb: rssMb,
    max_rss_mb: maxRssMb,
  });
}

if (process.env.BENCH_SLACK_ROLE === 'client') await client();
else await main();
