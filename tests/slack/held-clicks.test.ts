/**
 * A task click is held in the store before Slack gets its ack, and released once carried
 * out: a process that dies in between (Slack never resends an acked interaction) leaves
 * the click held, and the next start carries it out — the task completes and every copy
 * is updated, as if the click had just arrived.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import type { User } from '../../src/core/types.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/server/app.js';
import {
  eventually,
  recipesDir,
  removeDir,
  seedPeople,
  startTestRuntime,
  type TestRuntime,
  tempDir,
} from '../helpers/runtime.js';
import {
  BOT_TOKEN,
  buttonsOf,
  dm,
  FakeSlackApi,
  GROUP_APPROVAL,
  linkSlackPeople,
  type Posted,
  SIGNING_SECRET,
  SLACK,
  sign,
} from './tasks-harness.js';

describe('Slack: clicks held until carried out', () => {
  let fake: FakeSlackApi;
  let dataDir: string;
  let recipes: string;
  const env = () => ({
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: fake.url,
  });

  /** The real runtime and server (Slack over HTTP) on the shared DATA_DIR. */
  async function start(): Promise<{
    rt: TestRuntime;
    app: Awaited<ReturnType<typeof buildApp>>;
    p: Record<string, User>;
  }> {
    const rt = await startTestRuntime({ dataDir, recipesDir: recipes, env: env() });
    const p = await seedPeople(rt.baton).catch(async () => {
      // Second start on the same data: the people and groups are there already.
      const out: Record<string, User> = {};
      for (const u of await rt.baton.users.list()) out[u.email?.split('@')[0] ?? u._id] = u;
      return out;
    });
    await linkSlackPeople(rt.baton, fake);
    const config = parseConfig({
      DATA_DIR: dataDir,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...env(),
    });
    const app = await buildApp({
      baton: rt.baton,
      config,
      logger: createLogger(config.LOG_LEVEL),
      slack: { botId: 'B0BATONBOT', botUserId: 'U0BATONBOT' },
    });
    await app.ready();
    return { rt, app, p };
  }

  beforeEach(async () => {
    fake = new FakeSlackApi();
    await fake.start();
    dataDir = tempDir();
    recipes = recipesDir(GROUP_APPROVAL);
  });
  afterEach(async () => {
    await fake.stop();
    removeDir(dataDir);
  });

  const taskDm = (who: string) =>
    eventually(async () =>
      fake
        .of('chat.postMessage')
        .map((m) => m as unknown as Posted)
        .find((m) => m.channel === dm(who) && m.text.includes('Quick one') && Array.isArray(m.blocks)),
    );

  it('a click carried out leaves nothing held', async () => {
    const { rt, app, p } = await start();
    try {
      const request = await rt.baton.requests.file(p.alice!, 'quick', { note: 'x' });
      const copy = await taskDm('hank');
      const approve = buttonsOf(copy.blocks).find((b) => b.text?.text === 'Approve')!;
      const payload = {
        type: 'block_actions',
        user: { id: SLACK.hank!.id, username: 'hank', name: 'hank', team_id: 'T0BATON001' },
        team: { id: 'T0BATON001', domain: 'baton' },
        api_app_id: 'A0BATON001',
        trigger_id: '1.2.3',
        container: { type: 'message', channel_id: copy.channel, message_ts: copy.ts, is_ephemeral: false },
        channel: { id: copy.channel, name: 'directmessage' },
        message: { ts: copy.ts, type: 'message', text: copy.text },
        actions: [
          { type: 'button', action_id: 'baton:task:0', block_id: 'b', value: approve.value, action_ts: '1' },
        ],
      };
      const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      const res = await app.inject({
        method: 'POST',
        url: '/slack/events',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...sign(body) },
        payload: body,
      });
      expect(res.statusCode).toBe(200);
      await eventually(async () => (await rt.baton.requests.load(request._id))?.stage === 'Approved');
      await eventually(async () => (await rt.baton.deliveries.claimHeldActions('slack', 0)).length === 0);
    } finally {
      await app.close();
      await rt.close();
    }
  });

  it('a click held by a process that died is carried out at the next start', async () => {
    const first = await start();
    const request = await first.rt.baton.requests.file(first.p.alice!, 'quick', { note: 'crash' });
    const copy = await taskDm('hank');
    const [task] = await first.rt.baton.tasks.listForRequest(request._id);
    // What the click handler holds right before acking — then the process is gone.
    await first.rt.baton.deliveries.holdAction('slack', {
      kind: 'task_click',
      task_id: task!._id,
      outcome: 'Approve',
      slack_user: SLACK.hank!.id,
      channel: copy.channel,
      message_ts: copy.ts,
      ephemeral: false,
    });
    expect((await first.rt.baton.tasks.load(task!._id))?.status).toBe('open');
    await first.app.close();
    await first.rt.close();

    const updatesBefore = fake.of('chat.update').length;
    const second = await start();
    try {
      await eventually(async () => (await second.rt.baton.requests.load(request._id))?.stage === 'Approved');
      const done = await second.rt.baton.tasks.load(task!._id);
      expect(done?.status).toBe('completed');
      expect(done?.completed_by).toBe((await second.rt.baton.users.lookup('hank@example.com'))?._id);
      // Both HR members' copies show the outcome.
      await eventually(async () => {
        const updated = fake
          .of('chat.update')
          .slice(updatesBefore)
          .map((u) => u.channel);
        return updated.includes(dm('hank')) && updated.includes(dm('hedy'));
      });
      expect(await second.rt.baton.deliveries.claimHeldActions('slack', 0)).toEqual([]);
    } finally {
      await second.app.close();
      await second.rt.close();
    }
  });

  it('a held click the dead process had already carried out updates the copies and tells nobody "already approved"', async () => {
    const first = await start();
    const request = await first.rt.baton.requests.file(first.p.alice!, 'quick', { note: 'crash' });
    const copy = await taskDm('hank');
    const [task] = await first.rt.baton.tasks.listForRequest(request._id);
    const click = {
      kind: 'task_click',
      task_id: task!._id,
      outcome: 'Approve',
      slack_user: SLACK.hank!.id,
      channel: copy.channel,
      message_ts: copy.ts,
      ephemeral: false,
    };
    // Held, carried out (the task is completed by Hank), then the process died before it
    // released the click and before the copies were updated.
    await first.rt.baton.deliveries.holdAction('slack', click);
    await first.app.close();
    const hank = (await first.rt.baton.users.lookup('hank@example.com'))!;
    await first.rt.baton.tasks.complete(hank, task!._id, 'Approve');
    await first.rt.close();

    const updatesBefore = fake.of('chat.update').length;
    const second = await start();
    try {
      await eventually(
        async () => (await second.rt.baton.deliveries.claimHeldActions('slack', 0)).length === 0,
      );
      await eventually(async () => {
        const updated = fake
          .of('chat.update')
          .slice(updatesBefore)
          .map((u) => u as unknown as Posted)
          .filter((u) => u.text.includes('Approved by'))
          .map((u) => u.channel);
        return updated.includes(dm('hank')) && updated.includes(dm('hedy'));
      });
      expect(fake.of('chat.postEphemeral').map((e) => String(e.text))).toEqual([]);
    } finally {
      await second.app.close();
      await second.rt.close();
    }
  });
});
