/**
 * Slack gets an answer within 3 seconds whatever happens: when a form's submission takes longer
 * (here Slack's `users.info` is slow for someone Baton has not met), the receiver answers on its
 * own and the form closes. That answer acknowledges the submission, so it must survive `kill -9`
 * like any other: the next start files the request.
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { killHard, startBaton } from '../helpers/process.js';
import { eventually, recipesDir, removeDir, tempDir } from '../helpers/runtime.js';
import {
  BOT_TOKEN,
  dm,
  FakeSlackApi,
  type Posted,
  SIGNING_SECRET,
  SLACK,
  sign,
} from '../slack/tasks-harness.js';

const FILES = {
  'ticket.yaml': `
kind: app
key: ticket
name: Ticket
id_prefix: TIX
stages: [Open, Done]
fields:
  - { key: title, label: Title, type: text, required: true }
`,
  'ticket-flow.yaml': `
kind: recipe
name: ticket-flow
trigger: { type: new_request, app: ticket }
steps:
  - action: assign_task
    to: bob@example.com
    title: "Ticket {{ record.title }} ({{ request.id }})"
`,
};

function submission(viewId: string, title: string): string {
  const payload = {
    type: 'view_submission',
    team: { id: 'T0BATON001' },
    user: { id: SLACK.alice!.id, username: 'alice', name: 'alice', team_id: 'T0BATON001' },
    api_app_id: 'A0BATON001',
    trigger_id: 'trig-1',
    view: {
      id: viewId,
      type: 'modal',
      blocks: [],
      private_metadata: 'ticket',
      callback_id: 'baton_request',
      state: { values: { title: { value: { type: 'plain_text_input', value: title } } } },
      hash: 'h',
    },
  };
  return `payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

describe('kill -9 after Slack was answered by the safety timeout', () => {
  const children: ChildProcess[] = [];
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) await killHard(c);
    for (const f of cleanup.splice(0)) await f();
  });

  it('a form submission answered while its work was still running is filed by the next start', async () => {
    const slack = new FakeSlackApi();
    for (const p of Object.values(SLACK)) slack.people.set(p.id, p);
    await slack.start();
    cleanup.push(() => slack.stop());
    const dataDir = tempDir();
    cleanup.push(() => removeDir(dataDir));
    const recipes = recipesDir(FILES);
    const env = {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.url,
      SCHEDULER_POLL_MS: '100',
    };
    // Slack takes its time telling Baton who Alice is (longer than the 2.5 s safety timeout).
    slack.delayWhen = (method, args) => (method === 'users.info' && args.user === SLACK.alice!.id ? 6000 : 0);
    const first = await startBaton(dataDir, recipes, env);
    children.push(first.child);
    const body = submission('VSLOW1', 'printer on fire');
    const started = Date.now();
    const res = await fetch(`${first.url}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...sign(body) },
      body,
    });
    // Answered in time for Slack (the form closes), before the request could be filed.
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(3000);
    await killHard(first.child);
    slack.delayWhen = undefined;

    const second = await startBaton(dataDir, recipes, env);
    children.push(second.child);
    const copy = await eventually(
      async () =>
        slack
          .of('chat.postMessage')
          .map((m) => m as unknown as Posted)
          .find((m) => m.channel === dm('bob') && m.text.includes('Ticket printer on fire (TIX-1)')),
      20_000,
    );
    expect(copy).toBeTruthy();
    // Filed once: the same submission again (Slack retrying it) files nothing more.
    const again = await fetch(`${second.url}/slack/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...sign(body),
        'x-slack-retry-num': '1',
      },
      body,
    });
    expect(again.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    const tickets = slack
      .of('chat.postMessage')
      .map((m) => String(m.text))
      .filter((t) => t.includes('Ticket printer on fire'));
    expect(tickets).toHaveLength(1);
  }, 120_000);
});
