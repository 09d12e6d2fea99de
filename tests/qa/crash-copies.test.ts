/**
 * `npm start` killed (`kill -9`) after a task was decided and before its copies in Slack and
 * Teams were updated: the next start updates them, so no copy keeps offering buttons for a
 * task that is closed.
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { killHard, startBaton } from '../helpers/process.js';
import { eventually, recipesDir, removeDir, tempDir } from '../helpers/runtime.js';
import { activityFrom, cardOf, cardText, executeActions, FakeConnector } from '../helpers/teams.js';
import {
  BOT_TOKEN,
  buttonsOf,
  dm,
  FakeSlackApi,
  type Posted,
  SIGNING_SECRET,
  SLACK,
} from '../slack/tasks-harness.js';

const FILES = {
  'check.yaml': `
kind: app
key: check
name: Check
stages: [Open, Done, Rejected]
fields:
  - { key: note, label: Note, type: text }
`,
  'check-recipe.yaml': `
kind: recipe
name: check-flow
trigger: { type: new_request, app: check }
steps:
  - id: ok
    action: assign_task
    to: bob@example.com
    title: "Check {{ record.note }}"
  - action: change_stage
    stage: "{{ steps.ok.outcome = 'Approve' ? 'Done' : 'Rejected' }}"
`,
};

const send = (url: string, activity: unknown) =>
  fetch(`${url}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(activity),
  });

/** The Slack surface on the fake Web API, and timers polled often. */
const slackEnv = (slackUrl: string) => ({
  SLACK_BOT_TOKEN: BOT_TOKEN,
  SLACK_SIGNING_SECRET: SIGNING_SECRET,
  SLACK_API_URL: slackUrl,
  SCHEDULER_POLL_MS: '100',
});

describe('kill -9 between a decision and the update of its copies', () => {
  const children: ChildProcess[] = [];
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) await killHard(c);
    for (const f of cleanup.splice(0)) await f();
  });

  it('the next start updates the Slack and Teams copies to show the decision', async () => {
    const slack = new FakeSlackApi();
    for (const p of Object.values(SLACK)) slack.people.set(p.id, p);
    await slack.start();
    const connector = new FakeConnector();
    await connector.start();
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    cleanup.push(async () => {
      release();
      await slack.stop();
      await connector.stop();
    });
    const dataDir = tempDir();
    cleanup.push(() => removeDir(dataDir));
    const recipes = recipesDir(FILES);
    const alice = connector.people.get('29:1aliceTeamsId2')!;
    const bob = connector.people.get('29:1bobTeamsId3')!;
    connector.installed.add(bob.id);

    const first = await startBaton(dataDir, recipes, slackEnv(slack.url));
    children.push(first.child);
    // Alice files on Teams; Bob (found on Slack by his email) gets the task in Slack...
    const filed = await send(
      first.url,
      activityFrom('invoke-action', alice, connector.url, {
        value: {
          action: {
            type: 'Action.Execute',
            verb: 'request.submit',
            data: { app: 'check', note: 'the door' },
          },
          trigger: 'manual',
        },
      }),
    );
    expect(cardText(((await filed.json()) as { value: unknown }).value)).toContain('CHECK-1');
    const slackCopy = await eventually(async () =>
      slack
        .of('chat.postMessage')
        .map((m) => m as unknown as Posted)
        .find((m) => m.channel === dm('bob') && m.text.includes('Check the door')),
    );
    expect(buttonsOf(slackCopy.blocks).length).toBeGreaterThan(0);
    // ...and in Teams once he installs Baton there.
    expect((await send(first.url, activityFrom('installation-update', bob, connector.url))).status).toBe(200);
    const teamsCopy = await eventually(async () =>
      connector.posts(bob.conversationId).find((p) => cardText(p.body).includes('Check the door')),
    );
    const approve = executeActions(cardOf(teamsCopy.body)).find((a) => a.title === 'Approve')!;

    // Neither platform answers the updates of the copies: the process dies while they are in flight.
    slack.hold = (method) => method === 'chat.update';
    connector.hold = { match: (c) => c.method === 'PUT', until: released };
    const clicked = await send(
      first.url,
      activityFrom('invoke-action', bob, connector.url, {
        value: {
          action: { type: 'Action.Execute', verb: 'task.complete', data: approve.data },
          trigger: 'manual',
        },
      }),
    );
    expect(clicked.status).toBe(200);
    expect(JSON.stringify(await clicked.json())).not.toContain('task.complete');
    await eventually(async () => slack.held.some((c) => c.args.channel === dm('bob')));
    await eventually(async () => connector.updates().length > 0);
    await killHard(first.child);
    slack.hold = undefined;
    connector.hold = undefined;
    release();
    const slackBefore = slack.calls.length;
    const teamsBefore = connector.calls.length;

    const second = await startBaton(dataDir, recipes, slackEnv(slack.url));
    children.push(second.child);
    const slackUpdate = await eventually(async () =>
      slack.calls.slice(slackBefore).find((c) => c.method === 'chat.update' && c.args.channel === dm('bob')),
    ).then((c) => c.args as unknown as Posted);
    expect(buttonsOf(slackUpdate.blocks)).toEqual([]);
    expect(slackUpdate.text).toMatch(/Approved/);
    const teamsUpdate = await eventually(async () =>
      connector.calls
        .slice(teamsBefore)
        .find((c) => c.method === 'PUT' && c.path.includes(encodeURIComponent(bob.conversationId))),
    );
    expect(cardText(cardOf(teamsUpdate.body))).toMatch(/Approved/);
    expect(JSON.stringify(cardOf(teamsUpdate.body))).not.toContain('task.complete');
  }, 120_000);
});
