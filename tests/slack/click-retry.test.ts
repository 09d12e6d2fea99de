/**
 * Slack delivering the same task click again (X-Slack-Retry-Num: it got no answer in time)
 * carries it out once, and tells the person nothing more: not "Already approved by" them, as
 * if someone had beaten them to it. A group task with a quorum: not "You already answered".
 */

import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { killHard, startBaton } from '../helpers/process.js';
import { eventually, recipesDir, removeDir, tempDir } from '../helpers/runtime.js';
import { BOT_TOKEN, FakeSlackApi, type Posted, SIGNING_SECRET, SLACK, sign } from './tasks-harness.js';

const GEAR = (to: string, quorum = '') => ({
  'gear.yaml': `
kind: app
key: gear
name: Gear
stages: [Requested, Ordered, Refused]
fields:
  - { key: item, label: Item, type: text, required: true }
`,
  'gear-flow.yaml': `
kind: recipe
name: gear-flow
trigger: { type: new_request, app: gear }
steps:
  - id: ok
    action: assign_task
    to: ${to}
    title: "Gear: {{ record.item }}"
    outcomes: [Approve, Reject]${quorum}
  - action: change_stage
    stage: "{{ steps.ok.outcome = 'Approve' ? 'Ordered' : 'Refused' }}"
`,
});

async function slackPost(url: string, payload: unknown, headers: Record<string, string> = {}) {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const res = await fetch(`${url}/slack/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...sign(body), ...headers },
    body,
  });
  await res.text();
  return res.status;
}

const dmOf = (who: string) => `D${SLACK[who]!.id.slice(1)}`;

function click(who: string, value: string): Record<string, unknown> {
  const channel = dmOf(who);
  return {
    type: 'block_actions',
    user: { id: SLACK[who]!.id, username: who, name: who, team_id: 'T0BATON001' },
    team: { id: 'T0BATON001' },
    api_app_id: 'A0BATON001',
    container: { type: 'message', message_ts: '1700000002.000100', channel_id: channel, is_ephemeral: false },
    channel: { id: channel },
    message: { ts: '1700000002.000100', text: '', blocks: [] },
    trigger_id: 'trigger-2',
    response_url: 'https://hooks.slack.com/actions/T0BATON001/1/x',
    actions: [{ action_id: 'baton:task:0', block_id: 'b', type: 'button', value, action_ts: '1700000042.1' }],
  };
}

describe('Slack: a task click delivered again by Slack', { timeout: 90_000 }, () => {
  let child: ChildProcess | undefined;
  let fake: FakeSlackApi | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    if (child) await killHard(child);
    await fake?.stop();
    for (const d of dirs.splice(0)) removeDir(d);
  });

  /** Baton on the fake Slack with `files`; files a request and resolves with the Approve value of `who`'s copy. */
  async function setUp(
    files: Record<string, string>,
    who: string,
    commands: string[] = [],
  ): Promise<{ url: string; approve: string }> {
    fake = new FakeSlackApi();
    await fake.start();
    for (const p of Object.values(SLACK)) fake.people.set(p.id, p);
    const dataDir = tempDir('races8-retry-');
    const recipes = recipesDir(files);
    dirs.push(dataDir, recipes);
    const baton = await startBaton(dataDir, recipes, {
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_API_URL: fake.url,
      BATON_ADMINS: SLACK.admin!.id,
    });
    child = baton.child;
    for (const text of commands) {
      const body = new URLSearchParams({
        command: '/baton',
        text,
        user_id: SLACK.admin!.id,
        user_name: 'admin',
        team_id: 'T0BATON001',
        channel_id: dmOf('admin'),
        response_url: 'https://hooks.slack.com/commands/T0BATON001/1/x',
        trigger_id: 'trigger-0',
      }).toString();
      const res = await fetch(`${baton.url}/slack/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...sign(body) },
        body,
      });
      expect(res.status).toBe(200);
      await res.text();
    }
    const filed = await slackPost(baton.url, {
      type: 'view_submission',
      user: { id: SLACK.alice!.id, username: 'alice', name: 'alice', team_id: 'T0BATON001' },
      team: { id: 'T0BATON001' },
      api_app_id: 'A0BATON001',
      trigger_id: 'trigger-1',
      view: {
        id: 'VGEAR1',
        type: 'modal',
        blocks: [],
        private_metadata: 'gear',
        callback_id: 'baton_request',
        state: { values: { item: { value: { type: 'plain_text_input', value: 'Laptop' } } } },
      },
    });
    expect(filed).toBe(200);
    const copy = await eventually(async () =>
      (fake!.of('chat.postMessage') as unknown as Posted[]).find((m) => m.channel === dmOf(who)),
    );
    const approve = copy.blocks
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.text?.text === 'Approve')?.value;
    expect(approve).toBeTruthy();
    return { url: baton.url, approve: approve! };
  }

  /** Mallory's click on the same task, carried out after the clicks before it (in turn): its refusal marks them done. */
  async function afterTheClicksBefore(url: string, value: string): Promise<void> {
    expect(await slackPost(url, click('mallory', value))).toBe(200);
    await eventually(async () => fake!.of('chat.postEphemeral').some((e) => e.user === SLACK.mallory!.id));
  }

  it('a task of one person: decided once, no "Already approved by" them', async () => {
    const { url, approve } = await setUp(GEAR('bob@example.com'), 'bob');
    expect(await slackPost(url, click('bob', approve))).toBe(200);
    expect(
      await slackPost(url, click('bob', approve), {
        'x-slack-retry-num': '1',
        'x-slack-retry-reason': 'http_timeout',
      }),
    ).toBe(200);
    await afterTheClicksBefore(url, approve);
    await eventually(async () =>
      (fake!.of('chat.update') as unknown as Posted[]).some(
        (u) => u.channel === dmOf('bob') && /Approved by Bob Manager/.test(u.text),
      ),
    );
    expect(fake!.of('chat.postEphemeral').filter((e) => e.user === SLACK.bob!.id)).toEqual([]);
  });

  it('a group task with a quorum: the answer is recorded once, no "You already answered"', async () => {
    const { url, approve } = await setUp(GEAR('group:crew', '\n    quorum: { mode: all }'), 'hank', [
      'admin groups create crew',
      `admin groups add crew <@${SLACK.hank!.id}> <@${SLACK.hedy!.id}>`,
    ]);
    expect(await slackPost(url, click('hank', approve))).toBe(200);
    expect(
      await slackPost(url, click('hank', approve), {
        'x-slack-retry-num': '1',
        'x-slack-retry-reason': 'http_timeout',
      }),
    ).toBe(200);
    await afterTheClicksBefore(url, approve);
    const toHank = fake!.of('chat.postEphemeral').filter((e) => e.user === SLACK.hank!.id);
    // The first delivery's confirmation only.
    expect(toHank.map((e) => String(e.text))).toEqual([expect.stringMatching(/is recorded/)]);
  });
});
