import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TeamsSurface } from '../../adapters/teams/plugin.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/server/app.js';
import { eventually, recipesDir, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';
import { activityFrom, defaultTeamsPeople, FakeConnector, type TeamsPerson } from '../helpers/teams.js';
import { FakeSlackApi, SIGNING_SECRET } from '../slack/tasks-harness.js';

const APP = {
  'buy.yaml': `
kind: app
key: buy
name: Purchase
stages: [Submitted, Approved, Rejected]
fields:
  - { key: item, label: Item, type: text, required: true }
  - { key: approver, label: Approver, type: user, required: true }
`,
  'buy-recipe.yaml': `
kind: recipe
name: buy-approval
trigger: { type: new_request, app: buy }
steps:
  - action: notify
    to: "{{ record.approver }}"
    text: "Heads up: {{ request.id }} is coming your way."
  - id: t
    action: assign_task
    to: "{{ record.approver }}"
    title: Buy it?
    outcomes: [Approve, Reject]
  - action: change_stage
    stage: "{{ steps.t.outcome = 'Approve' ? 'Approved' : 'Rejected' }}"
`,
};

const DANA: TeamsPerson = {
  id: '29:1danaTeamsId8',
  aadObjectId: '00000000-0000-4000-8000-000000000008',
  name: 'Dana Both',
  email: 'dana@example.com',
  conversationId: 'a:1personal-dana',
};

/**
 * Someone who met Baton on Teams first, and is in the Slack workspace with the same email but
 * never used Baton there, gets their Slack copies too: Baton finds them on Slack by email.
 */
describe('a person met on Teams first, also on Slack', () => {
  let rt: TestRuntime;
  let slackApi: FakeSlackApi;
  let connector: FakeConnector;
  let app: FastifyInstance;
  let teams: TeamsSurface;

  beforeEach(async () => {
    slackApi = new FakeSlackApi();
    await slackApi.start();
    slackApi.people.set('U0DANA0001', { id: 'U0DANA0001', name: 'Dana Both', email: 'dana@example.com' });
    connector = new FakeConnector({ ...defaultTeamsPeople(), dana: DANA });
    await connector.start();
    connector.installed.add(DANA.id);
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
    for (const kind of ['installation-update', 'message-personal'])
      await app.inject({
        method: 'POST',
        url: '/api/messages',
        headers: { 'content-type': 'application/json' },
        payload: activityFrom(kind, DANA, connector.url),
      });
    await teams.idle();
  });
  afterEach(async () => {
    await app.close();
    await rt.close();
    await slackApi.stop();
    await connector.stop();
  });

  const alice = () =>
    rt.baton.users.resolve({ provider: 'web', id: 'alice', name: 'Alice', email: 'alice@example.com' });

  it('gets the notification and the task on Slack too, and Baton remembers their Slack id', async () => {
    const dana = (await rt.baton.users.lookup('dana@example.com'))!;
    expect(dana.identities.map((i) => i.provider)).toEqual(['teams']);
    const request = await rt.baton.requests.file(await alice(), 'buy', {
      item: 'Laptop',
      approver: 'dana@example.com',
    });
    const task = await eventually(async () => (await rt.baton.tasks.listForRequest(request._id))[0]);
    const copies = await eventually(async () => {
      const all = await rt.baton.deliveries.taskDeliveries(task._id);
      return all.length === 2 ? all : null;
    });
    expect(copies.map((c) => c.surface).sort()).toEqual(['slack', 'teams']);
    expect(new Set(copies.map((c) => c.user))).toEqual(new Set([dana._id]));
    const posted = await eventually(async () => {
      const all = slackApi.of('chat.postMessage').filter((m) => m.channel === 'D0DANA0001');
      return all.length === 2 ? all : null;
    });
    expect(posted.map((m) => String(m.text)).join('\n')).toContain('Heads up');
    // Linked: one Baton user with both identities, and the next task needs no lookup.
    const linked = (await rt.baton.users.lookup('slack:U0DANA0001'))!;
    expect(linked._id).toBe(dana._id);
    expect(linked.identities.map((i) => i.provider).sort()).toEqual(['slack', 'teams']);
    const lookups = slackApi.of('users.lookupByEmail').length;
    await rt.baton.requests.file(await alice(), 'buy', { item: 'Desk', approver: 'dana@example.com' });
    await eventually(async () =>
      slackApi.of('chat.postMessage').filter((m) => m.channel === 'D0DANA0001').length === 4 ? true : null,
    );
    expect(slackApi.of('users.lookupByEmail')).toHaveLength(lookups);
  });

  it('someone not on Slack is asked about once, not for every message', async () => {
    slackApi.people.delete('U0DANA0001');
    for (const item of ['Laptop', 'Desk', 'Chair'])
      await rt.baton.requests.file(await alice(), 'buy', { item, approver: 'dana@example.com' });
    await eventually(async () => (connector.posts(DANA.conversationId).length >= 2 + 6 ? true : null));
    expect(slackApi.of('chat.postMessage')).toEqual([]);
    expect(slackApi.of('users.lookupByEmail').length).toBeLessThanOrEqual(1);
  });
});
