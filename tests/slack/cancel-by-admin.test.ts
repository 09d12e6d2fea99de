/**
 * An admin cancels someone's time-off request (`/baton cancel`): the shipped pack's
 * time-off-cancelled recipe tells the approver who cancelled it (the admin, from
 * `trigger.by`), not that the requester did.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import type { SlackTestApp } from '../helpers/slack.js';
import { defaultSlackPeople, startSlackTestApp } from '../helpers/slack.js';
import { slackCommand } from './acceptance-harness.js';
import { FakeSlackApi } from './tasks-harness.js';

let t: SlackTestApp | undefined;
let fake: FakeSlackApi | undefined;
afterEach(async () => {
  await t?.close();
  await fake?.stop();
  t = undefined;
  fake = undefined;
});

describe('time-off cancelled by an admin', () => {
  it('tells the approver the admin cancelled it', async () => {
    fake = new FakeSlackApi();
    await fake.start();
    const people = defaultSlackPeople();
    for (const p of Object.values(people))
      fake.people.set(p.id, { id: p.id, name: p.realName, email: p.email! });
    t = await startSlackTestApp({
      apiUrl: fake.url,
      mockUsersInfo: false,
      people,
      recipesDir: recipesDir({}, ['recipes/time-off']),
    });
    const alice = await t.batonUser('alice');
    const bob = await t.batonUser('bob');
    await t.batonUser('admin');
    const request = await t.rt.baton.requests.file(alice, 'time-off', {
      type: 'Vacation',
      start: '2026-12-01',
      days: 2,
      approver: bob._id,
    });
    const reply = await slackCommand(t, fake, `cancel ${request._id} duplicate of another request`, 'admin');
    expect(reply.text).toContain(`${request._id} is cancelled`);
    const told = await eventually(async () =>
      fake!
        .of('chat.postMessage')
        .map((m) => String(m.text))
        .find((text) => text.includes(`cancelled time off ${request._id}`)),
    );
    expect(told).toContain(`Ada Admin cancelled time off ${request._id}`);
  });
});
