/**
 * `/baton cancel <ID> [reason]`: the requester cancels a time-off request from Slack; the
 * approver's task message loses its buttons, the approver is told (the shipped pack's
 * Cancelled-stage recipe), and someone else's attempt is refused with the reason.
 */
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { fakeWebApi, SLACK_RESPONSE_URL, type SlackTestApp, startSlackTestApp } from '../helpers/slack.js';

/** The ephemeral answers the command sends to its response_url. */
function responses(): Record<string, unknown>[] {
  const bodies: Record<string, unknown>[] = [];
  nock(SLACK_RESPONSE_URL.origin)
    .persist()
    .post(SLACK_RESPONSE_URL.path, (b: Record<string, unknown>) => {
      bodies.push(b);
      return true;
    })
    .reply(200, 'ok');
  return bodies;
}

let t: SlackTestApp | undefined;
beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterEach(async () => {
  await t?.close();
  t = undefined;
  nock.cleanAll();
});
afterAll(() => nock.enableNetConnect());

describe('/baton cancel', () => {
  it('cancels the requester’s request: the task message loses its buttons, the approver is told; others are refused', async () => {
    t = await startSlackTestApp({ recipesDir: recipesDir({}, ['recipes/time-off']) });
    const calls = fakeWebApi();
    const answers = responses();
    const alice = await t.batonUser('alice');
    const bob = await t.batonUser('bob');
    const request = await t.rt.baton.requests.file(alice, 'time-off', {
      type: 'Vacation',
      start: '2026-12-01',
      days: '2',
      approver: bob._id,
    });
    const bobDm = `D${t.people.bob!.id}`;
    // The task message (the first post: ts 1700000000.000100).
    await eventually(async () =>
      calls.find((c) => c.method === 'chat.postMessage' && c.args.channel === bobDm && c.args.blocks),
    );

    // Bob is not the requester: refused, nothing changes.
    await t.command(`cancel ${request._id}`, 'bob');
    await eventually(async () => answers.length === 1);
    expect(answers[0]!.text).toContain(
      `Only Alice Requester, who filed ${request._id}, or an admin can cancel it.`,
    );

    // Alice cancels, with a reason in quotes.
    await t.command(`cancel ${request._id.toLowerCase()} "Plans changed"`, 'alice');
    await eventually(async () => answers.length === 2);
    expect(answers[1]!.text).toBe(
      `:white_check_mark: ${request._id} is cancelled (stage *Cancelled*); its open task was withdrawn.`,
    );
    expect((await t.rt.baton.requests.get(alice, request._id)).stage).toBe('Cancelled');

    // Bob's task message is updated without buttons, saying who cancelled it and why.
    const update = await eventually(async () =>
      calls.find(
        (c) => c.method === 'chat.update' && c.args.channel === bobDm && c.args.ts === '1700000000.000100',
      ),
    );
    expect(JSON.stringify(update.args.blocks)).not.toContain('"type":"actions"');
    expect(JSON.stringify(update.args.blocks)).toContain('Cancelled by Alice Requester');
    expect(JSON.stringify(update.args.blocks)).toContain('Plans changed');
    // And the shipped pack's recipe tells him.
    await eventually(async () =>
      calls.some(
        (c) =>
          c.method === 'chat.postMessage' &&
          c.args.channel === bobDm &&
          String(c.args.text).includes(`Alice Requester cancelled time off ${request._id}`),
      ),
    );

    // Cancelling again says so.
    await t.command(`cancel ${request._id}`, 'alice');
    await eventually(async () => answers.length === 3);
    expect(answers[2]!.text).toContain(`${request._id} is already Cancelled.`);
  });
});
