/**
 * `cancel <ID> <reason>` typed to the bot with someone @mentioned in the reason: the reason is
 * recorded with the person's name, not the `@mention0` token the command parser puts in the
 * mention's place (which the history, the closed task's cards and the portal would show).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { activityFrom, cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

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

let t: TeamsTestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('Teams: cancel with an @mention in the reason', () => {
  it('records the person’s name, not the parser’s token', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    await t.say('alice', 'help');
    await t.say('bob', 'help');
    await t.idle();
    const alice = await t.batonUser('alice');
    const bob = await t.batonUser('bob');
    const request = await t.rt.baton.requests.file(alice, 'purchase', { item: 'Chair', manager: bob._id });
    const b = t.people.bob!;
    const res = await t.send(
      activityFrom('message-personal', t.people.alice!, t.connector.url, {
        text: `cancel ${request._id} <at>Bob Manager</at> said we have spares`,
        entities: [
          {
            type: 'mention',
            text: '<at>Bob Manager</at>',
            mentioned: { id: b.id, name: 'Bob Manager', aadObjectId: b.aadObjectId },
          },
        ],
      }),
    );
    expect(res.statusCode).toBe(200);
    await t.idle();
    const reply = t.connector.posts(t.people.alice!.conversationId).at(-1);
    expect(cardText(reply?.body)).toContain(`${request._id} is cancelled`);
    const after = await t.rt.baton.requests.get(alice, request._id);
    expect(after.history.find((h) => h.type === 'request_cancelled')?.text).toBe(
      `Alice Requester cancelled ${request._id}: Bob Manager said we have spares`,
    );
    const task = await t.rt.baton.ctx.db.tasks.findOne({ request_id: request._id });
    expect(task?.comment).toBe('Bob Manager said we have spares');
  });
});
