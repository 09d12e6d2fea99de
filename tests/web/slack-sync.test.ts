import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sign as signCookie } from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buttonValue } from '../../adapters/slack/tasks.js';
import { parseConfig } from '../../src/config.js';
import type { User } from '../../src/core/types.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/server/app.js';
import { eventually, ROOT, removeDir, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';
import {
  BOT_TOKEN,
  FakeSlackApi,
  fixture,
  linkSlackPeople,
  SIGNING_SECRET,
  SLACK,
  sign,
} from '../slack/tasks-harness.js';

/**
 * One Baton with both surfaces: a task completed in the portal updates its Slack message,
 * and a Slack click shows on an open portal page (the same core call, the same events).
 */
describe('portal and Slack stay in step', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  let fake: FakeSlackApi;
  let url: string;
  const people: Record<string, User> = {};

  /** A portal session for a Slack person (signed like the portal's own cookie). */
  const session = (user: User) => {
    const secret = readFileSync(path.join(rt.dataDir, 'session-secret'), 'utf8').trim();
    const sid = randomBytes(12).toString('base64url');
    const value = JSON.stringify({ s: sid, u: user._id, v: 'test', t: Date.now() });
    return {
      cookie: `baton_session=${encodeURIComponent(signCookie(value, secret))}`,
      csrf: createHmac('sha256', secret).update(`csrf:${sid}`).digest('base64url'),
    };
  };

  beforeAll(async () => {
    fake = new FakeSlackApi();
    await fake.start();
    rt = await startTestRuntime({ recipesDir: path.join(ROOT, 'recipes'), admins: [] });
    const config = parseConfig({
      DATA_DIR: rt.dataDir,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: fake.url,
    });
    app = await buildApp({
      baton: rt.baton,
      config,
      logger: createLogger('silent'),
      slack: { botId: 'B0BATONBOT', botUserId: 'U0BATONBOT' },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    await linkSlackPeople(rt.baton, fake);
    for (const who of ['alice', 'bob'])
      people[who] = (await rt.baton.users.lookup(`slack:${SLACK[who]!.id}`))!;
  });

  afterAll(async () => {
    await app?.close();
    await rt?.close();
    await fake?.stop();
    removeDir(rt.dataDir);
  });

  const file = async () => {
    const request = await rt.baton.requests.file(people.alice!, 'time-off', {
      start: '2026-12-01',
      days: 2,
      approver: people.bob!._id,
    });
    const task = await eventually(async () => (await rt.baton.tasks.listForRequest(request._id))[0]);
    const posted = await eventually(async () =>
      fake.calls.find((c) => c.method === 'chat.postMessage' && String(c.args.text).includes(request._id)),
    );
    return { request, task, posted };
  };

  it('approving in the portal updates the approver’s Slack message', async () => {
    const { request, task } = await file();
    const bob = session(people.bob!);
    const res = await fetch(`${url}/tasks/${task._id}/complete`, {
      method: 'POST',
      headers: {
        cookie: bob.cookie,
        'x-csrf-token': bob.csrf,
        'x-requested-with': 'fetch',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ outcome: 'Approve', comment: 'Have fun' }),
    });
    expect(res.status).toBe(200);
    const update = await eventually(async () =>
      fake.calls.find((c) => c.method === 'chat.update' && String(c.args.text).includes(request._id)),
    );
    expect(String(update.args.text)).toContain('Approved by Bob Manager');
    expect(JSON.stringify(update.args.blocks)).not.toContain('"type":"button"');
  });

  it('a click in Slack shows on the requester’s open portal page', async () => {
    const { request, task, posted } = await file();
    const alice = session(people.alice!);
    const controller = new AbortController();
    const stream = await fetch(`${url}/events?request=${request._id}`, {
      headers: { cookie: alice.cookie },
      signal: controller.signal,
    });
    const reader = stream.body!.getReader();
    let text = '';
    const read = async (until: (t: string) => boolean) => {
      const decoder = new TextDecoder();
      while (!until(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        text += decoder.decode(value, { stream: true });
      }
    };
    await read((t) => t.includes('event: ready'));
    const payload = fixture<Record<string, unknown> & { actions: Record<string, unknown>[] }>(
      'task-block-actions.json',
    );
    payload.actions[0]!.value = buttonValue(task._id, 'Approve');
    payload.actions[0]!.block_id = `baton:task:${task._id}`;
    (payload.container as Record<string, unknown>).message_ts =
      (posted as { args: { ts?: string } }).args.ts ?? '1.1';
    const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
    const click = await app.inject({
      method: 'POST',
      url: '/slack/events',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...sign(body) },
      payload: body,
    });
    expect(click.statusCode).toBe(200);
    // The page hears of the change, and what it fetches then shows the decision and the stage.
    await read((t) => t.includes(`"task":"${task._id}"`));
    controller.abort();
    const html = await eventually(async () => {
      const page = await fetch(`${url}/requests/${request._id}/fragment`, {
        headers: { cookie: alice.cookie },
      });
      const body = await page.text();
      return body.includes('stage-good">Approved') ? body : null;
    });
    expect(html).toContain('Bob Manager approved');
    expect((await rt.baton.tasks.load(task._id))?.completed_by).toBe(people.bob!._id);
  });
});
