/**
 * The task cards posted in answer to `tasks` were not recorded as copies of their tasks: when
 * the task was decided elsewhere, expired or was reassigned, its own message was updated but
 * these kept their buttons (a click only then learnt it was "Already approved by …"). They are
 * now recorded beside the task's own copy, several per person, and updated with it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LISTED_COPIES_KEPT } from '../../src/core/deliveries.js';
import type { TaskDoc } from '../../src/core/types.js';
import { eventually, recipesDir } from '../helpers/runtime.js';
import {
  activityFrom,
  cardOf,
  cardText,
  executeActions,
  startTeamsTestApp,
  type TeamsTestApp,
} from '../helpers/teams.js';

const QUICK = {
  'quick.yaml': `
kind: app
key: quick
name: Quick
stages: [Submitted, Approved, Rejected, Expired]
fields:
  - { key: note, label: Note, type: text }
`,
  'quick-recipe.yaml': `
kind: recipe
name: quick-approval
trigger: { type: new_request, app: quick }
steps:
  - id: t
    action: assign_task
    to: group:hr
    title: Quick one
    outcomes: [Approve, Reject]
    expires_in: 2d
  - action: change_stage
    stage: "{{ steps.t.status = 'expired' ? 'Expired' : steps.t.outcome = 'Approve' ? 'Approved' : 'Rejected' }}"
`,
};

describe('Teams: task cards listed by `tasks`', () => {
  let t: TeamsTestApp;
  let task: TaskDoc;

  beforeEach(async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(QUICK) });
    for (const who of ['admin', 'alice', 'hank', 'hedy']) await t.install(who);
    const admin = await t.batonUser('admin');
    await t.rt.baton.groups.create(admin, 'hr', 'Human resources');
    await t.rt.baton.groups.addMember(admin, 'hr', (await t.batonUser('hank'))._id);
    await t.rt.baton.groups.addMember(admin, 'hr', (await t.batonUser('hedy'))._id);
    await t.rt.baton.requests.file(await t.batonUser('alice'), 'quick', { note: 'please' });
    task = await eventually(async () => (await t.rt.baton.tasks.listForRequest('QUICK-1'))[0]);
    await eventually(
      async () => (await t.rt.baton.deliveries.taskDeliveries(task._id, 'teams')).length === 2,
    );
    await t.idle();
  });
  afterEach(async () => {
    await t.close();
  });

  /** The activity ids of the task's cards in hank's chat: his own copy and those listed by `tasks`. */
  const hankCards = async (): Promise<string[]> => {
    const chat = t.people.hank!.conversationId;
    const ids: string[] = [];
    for (const c of t.connector.posts(chat)) {
      if (!cardText(c.body).includes('Quick one')) continue;
      const i = t.connector.calls.indexOf(c);
      // The fake answers posts with act-<n>, in order: find this one's by counting.
      const n = t.connector.calls
        .slice(0, i + 1)
        .filter((x) => x.method === 'POST' && x.path.includes('/activities')).length;
      ids.push(`act-${n}`);
    }
    return ids;
  };

  const listTasks = async () => {
    // Once in his chat, once by @mention in a channel (the answer comes in his chat).
    await t.say('hank', 'tasks');
    await t.send(
      activityFrom('message-channel-mention', t.people.hank!, t.connector.url, {
        text: '<at>Baton</at> tasks',
      }),
    );
    await t.idle();
  };

  const expectAllClosed = async (ids: string[], says: RegExp) => {
    for (const id of ids) {
      await eventually(async () => t.connector.updates(id).length > 0);
      const card = cardOf(t.connector.updates(id).at(-1)!.body);
      expect(cardText(card), id).toMatch(says);
      expect(executeActions(card), id).toEqual([]);
    }
  };

  it('are updated when the task is decided elsewhere', async () => {
    await listTasks();
    const ids = await hankCards();
    expect(ids).toHaveLength(3); // his own copy and two listings
    const res = await t.execute('hedy', 'task.complete', { task_id: task._id, outcome: 'Approve' });
    expect(res.statusCode).toBe(200);
    await t.idle();
    await expectAllClosed(ids, /Approved by Hedy HR/);
    // Shown closed everywhere: nothing left for redelivery.
    await eventually(async () => (await t.rt.baton.tasks.load(task._id))?.copies_outdated === undefined);
  });

  it('are updated when the task expires', async () => {
    await listTasks();
    const ids = await hankCards();
    expect(ids).toHaveLength(3);
    await t.rt.baton.ctx.db.tasks.updateOne(
      { _id: task._id },
      { $set: { expires_at: new Date(Date.now() - 1000) } },
    );
    await t.rt.baton.tasks.expire(task._id);
    await t.idle();
    await expectAllClosed(ids, /Expired without a response/);
  });

  it('are updated when the task is reassigned away from the person', async () => {
    await listTasks();
    const ids = await hankCards();
    await t.rt.baton.tasks.reassign(await t.batonUser('admin'), task._id, (await t.batonUser('alice'))._id);
    await t.idle();
    await expectAllClosed(ids, /assigned to Alice Requester/);
  });

  it('keeps the latest copies of someone asking again and again, not all of them', async () => {
    const hank = (await t.batonUser('hank'))._id;
    for (let i = 1; i <= LISTED_COPIES_KEPT + 5; i++)
      await t.rt.baton.deliveries.recordListedCopy(task._id, {
        surface: 'teams',
        user: hank,
        ref: {
          serviceUrl: t.connector.url,
          conversation: t.people.hank!.conversationId,
          activity: `list-${i}`,
        },
      });
    const listed = (await t.rt.baton.tasks.load(task._id))?.listed_copies ?? [];
    expect(listed.map((c) => c.ref.activity)).toEqual(
      Array.from({ length: LISTED_COPIES_KEPT }, (_, i) => `list-${i + 6}`),
    );
  });
});
