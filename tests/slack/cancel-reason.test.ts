/**
 * `/baton cancel <ID> <reason>` with a person, a channel or a link in the reason: Slack sends them
 * as `<@U123|handle>`, `<#C123|name>` and `<https://…>` (the manifest escapes mentions). The reason
 * is recorded as people read it (the person's name), not as Slack's markup, which the history,
 * Teams cards and the portal would otherwise show raw.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SlackTestApp } from '../helpers/slack.js';
import { slackCommand, startSlackAcceptance } from './acceptance-harness.js';
import type { FakeSlackApi } from './tasks-harness.js';

const FILES = {
  'purchase.yaml': `
kind: app
key: purchase
name: Purchase
id_prefix: PO
stages: [Submitted, Approved, Rejected, Cancelled]
fields:
  - { key: item, label: Item, type: text, required: true }
  - { key: manager, label: Manager, type: user, required: true }
`,
  'purchase-recipe.yaml': `
kind: recipe
name: purchase-approval
trigger: { type: new_request, app: purchase }
steps:
  - id: m
    action: assign_task
    to: "{{ record.manager }}"
    title: "Buy {{ record.item }}?"
`,
};

let t: SlackTestApp | undefined;
let fake: FakeSlackApi | undefined;
afterEach(async () => {
  await t?.close();
  await fake?.stop();
  t = undefined;
  fake = undefined;
});

describe('/baton cancel with a mention in the reason', () => {
  it('records the person’s name, the channel and the link, not Slack’s markup', async () => {
    ({ t, fake } = await startSlackAcceptance(FILES));
    const alice = await t.batonUser('alice');
    const bob = await t.batonUser('bob');
    const request = await t.rt.baton.requests.file(alice, 'purchase', { item: 'Chair', manager: bob._id });
    const bobId = t.people.bob!.id;
    const reply = await slackCommand(
      t,
      fake,
      `cancel ${request._id} <@${bobId}|bob> said we have spares in <#C0STORE|storeroom> &amp; see <https://wiki.example.com/chairs>`,
      'alice',
    );
    expect(reply.text).toContain(`${request._id} is cancelled`);
    const after = await t.rt.baton.requests.get(alice, request._id);
    const cancelled = after.history.find((h) => h.type === 'request_cancelled');
    expect(cancelled?.text).toBe(
      `Alice Requester cancelled ${request._id}: Bob Manager said we have spares in #storeroom & see https://wiki.example.com/chairs`,
    );
    const task = await t.rt.baton.ctx.db.tasks.findOne({ request_id: request._id });
    expect(task?.comment).toBe(
      'Bob Manager said we have spares in #storeroom & see https://wiki.example.com/chairs',
    );
  });
});
