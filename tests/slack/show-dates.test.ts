/**
 * `/baton show`, `requests` and `admin jobs show` as Slack delivers them: dates are Slack date
 * tokens whose fallback (what a client without them, or a notification, shows) is readable
 * ("2026-12-04 20:24 UTC"), like the task messages', not a raw "2026-12-04T20:24:28.451Z".
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import type { SlackTestApp } from '../helpers/slack.js';
import { slackCommand, startSlackAcceptance } from './acceptance-harness.js';
import type { FakeSlackApi } from './tasks-harness.js';

let t: SlackTestApp | undefined;
let fake: FakeSlackApi | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
  await fake?.stop();
  fake = undefined;
});

const FILES = {
  'trips.yaml': `
kind: app
key: trips
name: Trips
stages: [Submitted, Booked]
fields:
  - { key: where, label: Where, type: text, required: true }
`,
  'book.yaml': `
kind: recipe
name: book
trigger: { type: new_request, app: trips }
steps:
  - action: change_stage
    stage: Booked
`,
};

describe('dates in /baton command answers', () => {
  it('read "2026-12-04 20:24 UTC" where Slack cannot show the date token', async () => {
    ({ t, fake } = await startSlackAcceptance(FILES));
    const alice = await t.batonUser('alice');
    await t.rt.baton.requests.file(alice, 'trips', { where: 'Oslo' });
    const blocksOf = (r: { blocks?: unknown[] }) => JSON.stringify(r.blocks ?? []);
    const answers = [
      blocksOf(await slackCommand(t, fake, 'show TRIPS-1', 'alice')),
      blocksOf(await slackCommand(t, fake, 'requests', 'alice')),
    ];
    for (const json of answers) {
      expect(json).toMatch(/<!date\^\d+\^\{date_short_pretty\} at \{time\}\|\d{4}-\d\d-\d\d \d\d:\d\d UTC>/);
      expect(json).not.toMatch(/\|\d{4}-\d\d-\d\dT[\d:.]+Z>/);
    }
  });

  // The task's expiry in the history was the stored UTC text ("expires 2026-12-08 10:19 UTC")
  // beside date tokens each reader sees in their own zone: it is a date token too now.
  it("shows a task's expiry in the history as a date token", async () => {
    ({ t, fake } = await startSlackAcceptance({
      ...FILES,
      'book.yaml': `
kind: recipe
name: book
trigger: { type: new_request, app: trips }
steps:
  - id: travel
    action: assign_task
    to: bob@example.com
    title: "Book {{ record.where }}"
    expires_in: 2d
`,
    }));
    const alice = await t.batonUser('alice');
    const bob = await t.batonUser('bob');
    const request = await t.rt.baton.requests.file(alice, 'trips', { where: 'Oslo' });
    const [task] = await eventually(async () => {
      const tasks = await t!.rt.baton.tasks.listForRequest(request._id);
      return tasks.length === 1 ? tasks : undefined;
    });
    const at = task!.expires_at!;
    const fallback = `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
    const json = JSON.stringify((await slackCommand(t, fake, 'show TRIPS-1', 'alice')).blocks);
    expect(json).toContain(
      `Task \\"Book Oslo\\" assigned to ${bob.name}, expires <!date^${Math.floor(at.getTime() / 1000)}^{date_short_pretty} at {time}|${fallback}>`,
    );
    expect(json).not.toContain(`expires ${fallback}`);
  });
});
