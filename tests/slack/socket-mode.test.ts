/**
 * Socket Mode (SLACK_APP_TOKEN set): the real server and runtime, Bolt's Socket Mode client
 * against a local fake of Slack's side — `apps.connections.open` on the fake Web API returns
 * the URL of a local WebSocket server that says `hello` and sends envelopes exactly as
 * Slack does (https://api.slack.com/apis/socket-mode); Baton must ack each envelope on the
 * socket and do the same work as over HTTP.
 */

import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import type { SlackSurface } from '../../adapters/slack/plugin.js';
import { parseConfig } from '../../src/config.js';
import type { User } from '../../src/core/types.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/server/app.js';
import {
  eventually,
  recipesDir,
  seedPeople,
  startTestRuntime,
  type TestRuntime,
} from '../helpers/runtime.js';
import {
  type BlockActionsFixture,
  BOT_TOKEN,
  buttonsOf,
  dm,
  FakeSlackApi,
  fixture,
  GROUP_APPROVAL,
  linkSlackPeople,
  type Posted,
  SLACK,
} from './tasks-harness.js';

/** Slack's end of a Socket Mode connection. */
class FakeSocketModeServer {
  private wss: WebSocketServer | undefined;
  readonly sockets: WebSocket[] = [];
  /** Every message the app sent back (acks), parsed. */
  readonly received: { envelope_id?: string; payload?: unknown }[] = [];
  connections = 0;
  url = '';

  async start(): Promise<void> {
    this.wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => this.wss!.once('listening', () => resolve()));
    this.url = `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/link/?ticket=test-ticket`;
    this.wss.on('connection', (ws) => {
      this.connections++;
      this.sockets.push(ws);
      ws.on('message', (data) => this.received.push(JSON.parse(String(data))));
      ws.send(
        JSON.stringify({
          type: 'hello',
          num_connections: 1,
          debug_info: { host: 'applink-test', build_number: 1, approximate_connection_time: 18060 },
          connection_info: { app_id: 'A0BATON001' },
        }),
      );
    });
  }

  /** Sends an envelope on the open connection; resolves with the app's ack for it. */
  async send(type: string, payload: unknown, acceptsResponsePayload = false): Promise<{ payload?: unknown }> {
    const ws = this.sockets.at(-1);
    if (!ws) throw new Error('no Socket Mode connection');
    const envelopeId = `env-${Math.random().toString(36).slice(2)}`;
    ws.send(
      JSON.stringify({
        envelope_id: envelopeId,
        payload,
        type,
        accepts_response_payload: acceptsResponsePayload,
      }),
    );
    return eventually(async () => {
      const ack = this.received.find((m) => m.envelope_id === envelopeId);
      if (!ack) throw new Error(`no ack for ${envelopeId}`);
      return ack;
    });
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
  }
}

describe('Slack over Socket Mode (SLACK_APP_TOKEN)', () => {
  let rt: TestRuntime;
  let fake: FakeSlackApi;
  let socket: FakeSocketModeServer;
  let app: Awaited<ReturnType<typeof buildApp>>;
  let surface: SlackSurface | undefined;
  let p: Record<string, User>;

  beforeEach(async () => {
    fake = new FakeSlackApi();
    await fake.start();
    socket = new FakeSocketModeServer();
    await socket.start();
    fake.socketUrl = socket.url;
    const env = {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_APP_TOKEN: 'xapp-1-A0BATON001-test',
      SLACK_API_URL: fake.url,
    };
    rt = await startTestRuntime({ recipesDir: recipesDir(GROUP_APPROVAL), env });
    p = await seedPeople(rt.baton);
    await linkSlackPeople(rt.baton, fake);
    const config = parseConfig({
      DATA_DIR: rt.dataDir,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...env,
    });
    app = await buildApp({
      baton: rt.baton,
      config,
      logger: createLogger(config.LOG_LEVEL),
      slack: {
        onSurface: (s) => {
          surface = s;
        },
      },
    });
    await app.ready();
    await eventually(async () => {
      if (socket.connections === 0) throw new Error('not connected yet');
      return true;
    });
  });
  afterEach(async () => {
    await app?.close();
    await rt?.close();
    await socket?.stop();
    await fake?.stop();
  });

  it('connects through apps.connections.open with the app token, and has no HTTP endpoint', async () => {
    expect(surface?.mode).toBe('socket');
    expect(fake.of('apps.connections.open')).toHaveLength(1);
    // Slack needs no request URL in Socket Mode; /slack/events does not exist.
    const res = await app.inject({ method: 'POST', url: '/slack/events', payload: {} });
    expect(res.statusCode).toBe(404);
  });

  it('answers a slash command envelope: ack on the socket, the reply through response_url', async () => {
    const command = {
      ...fixture<Record<string, string>>('slash-command.json'),
      user_id: SLACK.alice!.id,
      user_name: 'alice',
      text: 'help',
      response_url: `${fake.url.replace(/api\/$/, '')}commands/T0TEST/1/socket`,
    };
    await socket.send('slash_commands', command, true);
    const reply = await eventually(async () => {
      const r = fake.calls.find((c) => c.method === '/commands/T0TEST/1/socket');
      if (!r) throw new Error('no reply yet');
      return r.args;
    });
    expect(reply.response_type).toBe('ephemeral');
    expect(JSON.stringify(reply)).toContain('new');
  });

  it('a task button pressed over the socket completes the task and updates every copy', async () => {
    const request = await rt.baton.requests.file(p.alice!, 'quick', { note: 'socket' });
    const copy = await eventually(async () => {
      const c = fake
        .of('chat.postMessage')
        .find((m) => m.channel === dm('hank') && String(m.text).includes('Quick one')) as Posted | undefined;
      if (!c) throw new Error('no DM yet');
      return c;
    });
    const approve = buttonsOf(copy.blocks).find((b) => b.text?.text === 'Approve')!;
    const click = fixture<BlockActionsFixture>('task-block-actions.json');
    click.user = { id: SLACK.hank!.id, username: 'hank', name: 'hank' };
    click.channel = { id: dm('hank') };
    click.container = { type: 'message', channel_id: dm('hank'), message_ts: '1700000000.000001' };
    click.message = { ts: '1700000000.000001' };
    click.actions = [{ ...click.actions[0]!, action_id: 'baton:task:0', value: approve.value! }];
    await socket.send('interactive', click);

    await eventually(async () => {
      const r = await rt.baton.requests.load(request._id);
      if (r?.stage !== 'Approved') throw new Error(`stage ${r?.stage}`);
      return true;
    });
    const tasks = await rt.baton.tasks.listForRequest(request._id);
    expect(tasks[0]!.status).toBe('completed');
    expect(tasks[0]!.completed_by).toBe((await surface!.deps.users.toBaton(SLACK.hank!.id))._id);
    // Both HR members' copies are replaced by the outcome.
    await eventually(async () => {
      const updated = fake.of('chat.update').map((u) => u.channel);
      if (!updated.includes(dm('hank')) || !updated.includes(dm('hedy')))
        throw new Error('copies not updated');
      return true;
    });
  });
});
