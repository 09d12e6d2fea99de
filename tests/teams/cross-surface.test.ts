import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TeamsSurface } from '../../adapters/teams/plugin.js';
import { parseConfig } from '../../src/config.js';
import type { TaskDoc } from '../../src/core/types.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/server/app.js';
import { eventually, recipesDir, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';
import { interactionBody, signedSlackRequest } from '../helpers/slack.js';
import { activityFrom, cardOf, cardText, executeActions, FakeConnector } from '../helpers/teams.js';
import {
  type BlockActionsFixture,
  buttonsOf,
  FakeSlackApi,
  fixture,
  type Posted,
  SIGNING_SECRET,
  SLACK,
} from '../slack/tasks-harness.js';

const APP = {
  'ok.yaml': `
kind: app
key: ok
name: Okay
stages: [Submitted, Approved, Rejected]
fields:
  - { key: approver, label: Approver, type: user, required: true }
`,
  'ok-recipe.yaml': `
kind: recipe
name: ok-approval
trigger: { type: new_request, app: ok }
steps:
  - id: t
    action: assign_task
    to: "{{ record.approver }}"
    title: Okay?
    outcomes:
      - { label: Approve, style: primary }
      - { label: Reject, style: danger }
  - action: change_stage
    stage: "{{ steps.t.outcome = 'Approve' ? 'Approved' : 'Rejected' }}"
`,
  'fyi.yaml': `
kind: app
key: fyi
name: For your information
stages: [Submitted]
fields:
  - { key: approver, label: Approver, type: user, required: true }
`,
  'fyi-recipe.yaml': `
kind: recipe
name: fyi-note
trigger: { type: new_request, app: fyi }
steps:
  - action: notify
    to: "{{ record.approver }}"
    text: "For your information: {{ request.id }}."
`,
};

/** One person on Slack and on Teams is one Baton user: a task closed on one surface updates the other's copy. */
describe('Teams and Slack on together', () => {
  let rt: TestRuntime;
  let slackApi: FakeSlackApi;
  let connector: FakeConnector;
  let app: FastifyInstance;
  let teams: TeamsSurface;

  beforeEach(async () => {
    slackApi = new FakeSlackApi();
    await slackApi.start();
    for (const p of Object.values(SLACK)) slackApi.people.set(p.id, p);
    connector = new FakeConnector();
    await connector.start();
    const env = {
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_API_URL: slackApi.url,
      TEAMS_ALLOW_ANONYMOUS: 'true',
    };
    rt = await startTestRuntime({ recipesDir: recipesDir(APP), env });
    const config = parseConfig({
      DATA_DIR: rt.dataDir,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...env,
    });
    app = await buildApp({
      baton: rt.baton,
      config,
      logger: createLogger(config.LOG_LEVEL),
      slack: { botId: 'B0BATONBOT', botUserId: 'U0BATONBOT' },
      teams: {
        token: async () => null,
        connector: { sleep: async () => {} },
        invokeBudgetMs: 30_000,
        onSurface: (s) => {
          teams = s;
        },
      },
    });
    await app.ready();
    // Bob installs Baton in Teams (his email comes from the connector), and is on Slack too.
    const bob = connector.people.get('29:1bobTeamsId3')!;
    connector.installed.add(bob.id);
    await app.inject({
      method: 'POST',
      url: '/api/messages',
      headers: { 'content-type': 'application/json' },
      payload: activityFrom('installation-update', bob, connector.url),
    });
    await teams.idle();
    await rt.baton.users.resolve({
      provider: 'slack',
      id: SLACK.bob!.id,
      name: 'Bob Manager',
      email: 'bob@example.com',
    });
  });
  afterEach(async () => {
    await app.close();
    await rt.close();
    await slackApi.stop();
    await connector.stop();
  });

  const fileRequest = async (): Promise<{ task: TaskDoc; slack: Posted; teamsActivity: string }> => {
    const alice = await rt.baton.users.resolve({
      provider: 'web',
      id: 'alice',
      name: 'Alice',
      email: 'alice@example.com',
    });
    const request = await rt.baton.requests.file(alice, 'ok', { approver: 'bob@example.com' });
    const task = await eventually(async () => (await rt.baton.tasks.listForRequest(request._id))[0]);
    const copies = await eventually(async () => {
      const all = await rt.baton.deliveries.taskDeliveries(task._id);
      return all.length === 2 ? all : null;
    });
    expect(new Set(copies.map((c) => c.user)).size).toBe(1); // one Baton user, two surfaces
    const slackRef = copies.find((c) => c.surface === 'slack')!.ref;
    const slack = slackApi
      .of('chat.postMessage')
      .map((a) => a as unknown as Posted)
      .find((m) => m.channel === slackRef.channel && Array.isArray(m.blocks) && m.text.includes('Okay?'))!;
    return {
      task,
      slack: { ...slack, ts: slackRef.ts! },
      teamsActivity: copies.find((c) => c.surface === 'teams')!.ref.activity!,
    };
  };

  it('a notification Teams refused for good is still posted on Slack at the next redelivery, after a passing Slack failure', async () => {
    const bob = connector.people.get('29:1bobTeamsId3')!;
    // Bob blocked Baton in Teams; Slack has a hiccup on the first post.
    connector.failures.push({
      match: (c) => c.method === 'POST' && c.path.includes(encodeURIComponent(bob.conversationId)),
      status: 403,
    });
    let slackHiccup = true;
    slackApi.failWhen = (method, args) => {
      if (method !== 'chat.postMessage' || !String(args.text ?? '').includes('For your information')) return;
      if (!slackHiccup) return;
      slackHiccup = false;
      return 'internal_error';
    };
    const alice = await rt.baton.users.resolve({
      provider: 'web',
      id: 'alice',
      name: 'Alice',
      email: 'alice@example.com',
    });
    await rt.baton.requests.file(alice, 'fyi', { approver: 'bob@example.com' });
    const bobUser = (await rt.baton.users.lookup(`slack:${SLACK.bob!.id}`))!;
    const refused = await eventually(async () => {
      const n = await rt.baton.ctx.db.notifications.findOne({ to: bobUser._id });
      return n && !slackHiccup && n.deliveries.some((d) => d.surface === 'teams') ? n : null;
    });
    await teams.idle();
    expect(refused.deliveries.find((d) => d.surface === 'teams')?.error).toMatch(/HTTP 403/);
    const slackPosts = () =>
      slackApi
        .of('chat.postMessage')
        .filter((m) => String((m as { text?: unknown }).text ?? '').includes('For your information'));
    expect(slackPosts()).toHaveLength(1); // the one that failed

    await rt.baton.redeliver();
    const n = await eventually(async () => {
      const doc = await rt.baton.ctx.db.notifications.findOne({ to: bobUser._id });
      return doc?.deliveries.some((d) => d.surface === 'slack' && !d.error) ? doc : null;
    });
    expect(n.status).toBe('delivered');
    expect(slackPosts()).toHaveLength(2);
    // Teams' refusal stands: a later redelivery does not post it there again.
    const teamsPosts = connector.posts(bob.conversationId).length;
    await rt.baton.redeliver();
    await teams.idle();
    expect(connector.posts(bob.conversationId)).toHaveLength(teamsPosts);
  });

  it('approved in Teams: the Slack copy is updated', async () => {
    const { task, slack } = await fileRequest();
    const bob = connector.people.get('29:1bobTeamsId3')!;
    const res = await app.inject({
      method: 'POST',
      url: '/api/messages',
      headers: { 'content-type': 'application/json' },
      payload: activityFrom('invoke-action', bob, connector.url, {
        value: {
          action: {
            type: 'Action.Execute',
            verb: 'task.complete',
            data: { task_id: task._id, outcome: 'Approve' },
          },
          trigger: 'manual',
        },
      }),
    });
    expect(cardText((res.json() as { value: unknown }).value)).toContain('Approved by Bob Manager');
    const update = await eventually(async () =>
      slackApi
        .of('chat.update')
        .map((a) => a as unknown as Posted)
        .find((u) => u.channel === slack.channel && u.ts === slack.ts),
    );
    expect(JSON.stringify(update.blocks)).toContain('Approved');
    expect(buttonsOf(update.blocks)).toEqual([]);
  });

  it('approved in Slack: the Teams copy is updated', async () => {
    const { task, slack, teamsActivity } = await fileRequest();
    const button = buttonsOf(slack.blocks).find((b) => b.text?.text === 'Approve')!;
    const body = fixture<BlockActionsFixture>('task-block-actions.json');
    body.user = { id: SLACK.bob!.id, username: 'bob', name: 'bob' };
    body.channel = { id: slack.channel };
    body.container.channel_id = slack.channel;
    body.container.message_ts = slack.ts;
    body.message!.ts = slack.ts;
    body.actions[0]!.value = button.value!;
    body.actions[0]!.action_id = (button as { action_id?: string }).action_id ?? body.actions[0]!.action_id;
    const res = await signedSlackRequest(app, {
      body: interactionBody(body),
      contentType: 'application/x-www-form-urlencoded',
      secret: SIGNING_SECRET,
    });
    expect(res.statusCode).toBe(200);
    await eventually(async () => (await rt.baton.tasks.load(task._id))?.status === 'completed');
    const update = await eventually(async () => connector.updates(teamsActivity).at(-1));
    const card = cardOf(update.body);
    expect(cardText(card)).toContain('Approved by Bob Manager');
    expect(executeActions(card)).toEqual([]);
  });
});
