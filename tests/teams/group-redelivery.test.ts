import { afterEach, describe, expect, it } from 'vitest';
import { eventually, recipesDir, startTestRuntime, tempDir } from '../helpers/runtime.js';
import { cardText, FakeConnector, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

const BOARD = {
  'policy.yaml': `
kind: app
key: policy
name: Policy
id_prefix: POL
stages: [Draft, Approved, Rejected]
fields:
  - { key: title, label: Title, type: text, required: true }
`,
  'board.yaml': `
kind: recipe
name: policy-board
trigger: { type: new_request, app: policy }
steps:
  - id: board
    action: assign_task
    to: group:board
    title: "Policy: {{ record.title }}"
  - action: change_stage
    stage: "{{ steps.board.outcome = 'Approve' ? 'Approved' : 'Rejected' }}"
`,
};

/**
 * A group task's members each get a card in their chat. A process that died after posting
 * some members' cards (their copies are recorded, the others' are not) leaves the others to
 * the redelivery at the next start: they get theirs, and nobody gets two.
 */
describe('Teams: a group task whose copies were cut off by a crash', () => {
  const open: TeamsTestApp[] = [];
  let connector: FakeConnector | undefined;
  afterEach(async () => {
    for (const t of open.splice(0)) await t.close();
    await connector?.stop();
  });

  it('the members without a copy get theirs at the next start; the others get no second one', async () => {
    connector = new FakeConnector();
    await connector.start();
    const dataDir = tempDir();
    const recipes = recipesDir(BOARD);
    const members = ['bob', 'hank', 'hedy', 'carol'];
    const first = await startTeamsTestApp({ dataDir, recipesDir: recipes, connector });
    for (const who of ['alice', 'admin', ...members]) await first.install(who);
    const ids = Object.fromEntries(
      await Promise.all(
        ['alice', 'admin', ...members].map(async (w) => [w, await first.batonUser(w)] as const),
      ),
    );
    await first.close();

    // The process that died: it opened the task and posted Bob's and Hank's cards, no more.
    const dead = await startTestRuntime({
      dataDir,
      recipesDir: recipes,
      env: { TEAMS_ALLOW_ANONYMOUS: 'true' },
    });
    await dead.baton.groups.create(ids.admin!, 'board', 'The board');
    for (const who of members) await dead.baton.groups.addMember(ids.admin!, 'board', ids[who]!._id);
    await dead.baton.requests.file(ids.alice!, 'policy', { title: 'Remote work' });
    const task = await eventually(async () => (await dead.baton.tasks.listForRequest('POL-1'))[0]);
    for (const who of ['bob', 'hank'])
      await dead.baton.deliveries.recordTaskDelivery(task._id, {
        surface: 'teams',
        user: ids[who]!._id,
        ref: {
          serviceUrl: connector.url,
          conversation: first.people[who]!.conversationId,
          activity: `act-before-crash-${who}`,
        },
      });
    await dead.close();

    const second = await startTeamsTestApp({ dataDir, recipesDir: recipes, connector });
    open.push(second);
    const cardsIn = (who: string) =>
      connector!
        .posts(second.people[who]!.conversationId)
        .filter((c) => cardText(c.body).includes('Policy: Remote work'));
    expect(await second.rt.baton.redeliver()).toMatchObject({ tasks: 1 });
    await second.idle();
    await eventually(
      async () => (await second.rt.baton.deliveries.taskDeliveries(task._id, 'teams')).length === 4,
    );
    expect(members.map((who) => [who, cardsIn(who).length])).toEqual([
      ['bob', 0], // posted by the process that died
      ['hank', 0],
      ['hedy', 1],
      ['carol', 1],
    ]);
    // Every member has theirs: the next sweep hands out nothing and posts nothing.
    expect(await second.rt.baton.redeliver()).toMatchObject({ tasks: 0 });
    await second.idle();
    expect(members.map((who) => cardsIn(who).length)).toEqual([0, 0, 1, 1]);
  });
});
