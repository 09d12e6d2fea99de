/**
 * A task click Slack got its ack for before the task's deadline decides the task, even when
 * carrying it out takes past the deadline (a slow Slack API, a queue of clicks, a process that
 * died after the ack): the expiry timer waits for it rather than expiring the task under it
 * and telling the person, who clicked in time, that "This task expired".
 */

import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { killHard, startBaton } from '../helpers/process.js';
import { eventually, recipesDir, removeDir, tempDir } from '../helpers/runtime.js';
import { BOT_TOKEN, FakeSlackApi, type Posted, SIGNING_SECRET, SLACK, sign } from './tasks-harness.js';

const EXPIRES_S = 5;

const GEAR = {
  'gear.yaml': `
kind: app
key: gear
name: Gear
stages: [Requested, Ordered, Refused, Expired]
fields:
  - { key: item, label: Item, type: text, required: true }
`,
  'gear-flow.yaml': `
kind: recipe
name: gear-flow
trigger: { type: new_request, app: gear }
steps:
  - id: hr
    action: assign_task
    to: hank@example.com
    title: "Gear: {{ record.item }}"
    outcomes: [Approve, Reject]
    expires_in: ${EXPIRES_S}s
  - action: change_stage
    stage: "{{ steps.hr.status = 'expired' ? 'Expired' : (steps.hr.outcome = 'Approve' ? 'Ordered' : 'Refused') }}"
`,
};

async function slackPost(url: string, payload: unknown): Promise<number> {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const res = await fetch(`${url}/slack/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...sign(body) },
    body,
  });
  await res.text();
  return res.status;
}

describe('Slack: a click acked before the deadline, carried out after it', { timeout: 90_000 }, () => {
  let child: ChildProcess | undefined;
  let fake: FakeSlackApi | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    if (child) await killHard(child);
    await fake?.stop();
    for (const d of dirs.splice(0)) removeDir(d);
  });

  /** Baton with the Slack surface on the fake, on `dataDir`; the first start files GEAR-1 for Hank. */
  async function start(dataDir: string, recipes: string): Promise<string> {
    const baton = await startBaton(dataDir, recipes, {
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_API_URL: fake!.url,
      BATON_ADMINS: SLACK.admin!.id,
    });
    child = baton.child;
    return baton.url;
  }

  /** Files a request (Hank's task is posted), then Hank clicks Approve; resolves once Slack has its ack. */
  async function fileAndClick(
    url: string,
    slowHank: (deadline: number) => FakeSlackApi['delayWhen'] | 'hold',
  ): Promise<{ deadline: number; hankDm: string }> {
    expect(
      await slackPost(url, {
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
      }),
    ).toBe(200);
    const hankDm = `D${SLACK.hank!.id.slice(1)}`;
    const copy = await eventually(async () =>
      (fake!.of('chat.postMessage') as unknown as Posted[]).find((m) => m.channel === hankDm),
    );
    const deadline = Date.now() + EXPIRES_S * 1000;
    const value = copy.blocks.flatMap((b) => b.elements ?? []).find((e) => e.text?.text === 'Approve')?.value;
    expect(value).toBeTruthy();
    // Slack is slow to say who Hank is: the click is carried out only after the deadline.
    const slow = slowHank(deadline);
    if (slow === 'hold')
      fake!.hold = (method, args) => method === 'users.info' && args.user === SLACK.hank!.id;
    else fake!.delayWhen = slow;
    const ts = '1700000002.000100';
    const status = await slackPost(url, {
      type: 'block_actions',
      user: { id: SLACK.hank!.id, username: 'hank', name: 'hank', team_id: 'T0BATON001' },
      team: { id: 'T0BATON001' },
      api_app_id: 'A0BATON001',
      container: { type: 'message', message_ts: ts, channel_id: hankDm, is_ephemeral: false },
      channel: { id: hankDm },
      message: { ts, text: copy.text, blocks: copy.blocks },
      trigger_id: 'trigger-2',
      response_url: 'https://hooks.slack.com/actions/T0BATON001/1/x',
      actions: [
        { action_id: 'baton:task:0', block_id: 'b', type: 'button', value, action_ts: '1700000042.000001' },
      ],
    });
    expect(status).toBe(200);
    // Acked in time: what follows must treat it as a click before the deadline.
    expect(Date.now()).toBeLessThan(deadline);
    return { deadline, hankDm };
  }

  /** Hank's copy once decided: approved by him, and nobody was told the task expired. */
  async function expectApprovedByHank(hankDm: string): Promise<void> {
    const decided = await eventually(
      async () =>
        (fake!.of('chat.update') as unknown as Posted[]).find(
          (u) => u.channel === hankDm && !/Waiting/.test(u.text),
        ),
      30_000,
    );
    expect(decided.text).toMatch(/Approved by Hank HR/);
    expect(fake!.of('chat.postEphemeral').map((e) => String(e.text))).not.toContainEqual(
      expect.stringMatching(/expired/),
    );
  }

  function setUp(): { dataDir: string; recipes: string } {
    const dataDir = tempDir('races8-expiry-');
    const recipes = recipesDir(GEAR);
    dirs.push(dataDir, recipes);
    return { dataDir, recipes };
  }

  it('carried out after the deadline (a slow Slack): the click completes the task, the expiry does not win', async () => {
    fake = new FakeSlackApi();
    await fake.start();
    for (const p of Object.values(SLACK)) fake.people.set(p.id, p);
    const { dataDir, recipes } = setUp();
    const url = await start(dataDir, recipes);
    const { hankDm } = await fileAndClick(
      url,
      (deadline) => (method, args) =>
        method === 'users.info' && args.user === SLACK.hank!.id
          ? Math.max(0, deadline + 1500 - Date.now())
          : undefined,
    );
    await expectApprovedByHank(hankDm);
  });

  it('held by a process killed before carrying it out, restarted after the deadline: the click completes the task', async () => {
    fake = new FakeSlackApi();
    await fake.start();
    for (const p of Object.values(SLACK)) fake.people.set(p.id, p);
    const { dataDir, recipes } = setUp();
    const url = await start(dataDir, recipes);
    const { deadline, hankDm } = await fileAndClick(url, () => 'hold');
    // The click is held in the store and acked; the process dies before carrying it out.
    await eventually(async () => fake!.held.some((c) => c.method === 'users.info'));
    await killHard(child!);
    fake.hold = undefined;
    while (Date.now() < deadline + 1000) await new Promise((r) => setTimeout(r, 100));
    await start(dataDir, recipes);
    await expectApprovedByHank(hankDm);
  });
});
