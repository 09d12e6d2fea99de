/**
 * A task message's plain text (Slack's notification and fallback text, Teams' summary) adds
 * the request id after the title, "Quick one (QUICK-1)"; a title that already names it
 * ("Mitigate INC-1") became "Mitigate INC-1 (INC-1)". The id is added only when missing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';
import { startSlackAcceptance } from '../slack/acceptance-harness.js';

const files = (title: string) => ({
  'incident.yaml': `
kind: app
key: incident
name: Incident
id_prefix: INC
stages: [Open, Done]
fields:
  - { key: summary, label: Summary, type: text }
`,
  'mitigate.yaml': `
kind: recipe
name: mitigate
trigger: { type: new_request, app: incident }
steps:
  - action: assign_task
    to: "{{ request.requester }}"
    title: "${title}"
    outcomes: [Done]
`,
});

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const CASES: [string, string][] = [
  ['Mitigate {{ request.id }}', 'Mitigate INC-1'],
  ['{{ request.id }}: check the logs', 'INC-1: check the logs'],
  // Another request's id is not this one's.
  ['Follow-up of INC-12', 'Follow-up of INC-12 (INC-1)'],
  ['Quick one', 'Quick one (INC-1)'],
];

describe('a task message’s plain text', () => {
  it.each(CASES)('on Slack, for the title "%s", is "%s: …"', async (title, expected) => {
    const { t, fake } = await startSlackAcceptance(files(title));
    closers.push(async () => {
      await t.close();
      await fake.stop();
    });
    await t.rt.baton.requests.file(await t.batonUser('alice'), 'incident', { summary: 'DB down' });
    const post = await eventually(async () =>
      fake.calls.find((c) => c.method === 'chat.postMessage' && c.args.channel === 'D0ALICE'),
    );
    expect(post.args.text).toBe(`${expected}: Waiting for you`);
  });

  it.each(CASES)('on Teams, for the title "%s", is "%s"', async (title, expected) => {
    const t: TeamsTestApp = await startTeamsTestApp({ recipesDir: recipesDir(files(title)) });
    closers.push(() => t.close());
    await t.install('alice');
    await t.rt.baton.requests.file(await t.batonUser('alice'), 'incident', { summary: 'DB down' });
    const post = await eventually(async () =>
      t.connector.posts(t.people.alice!.conversationId).find((c) => c.body.summary !== undefined),
    );
    expect(post.body.summary).toBe(expected);
  });
});
