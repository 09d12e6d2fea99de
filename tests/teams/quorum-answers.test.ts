/**
 * A member's answer to a group task with a quorum from Teams (Action.Execute over HTTP): the
 * card they get back says the answer is recorded and what the task still waits for, and a
 * refresh of their card (Teams refreshes it when shown) no longer offers the buttons.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { cardText, executeActions, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

const FILES = {
  'offsite.yaml': `
kind: app
key: offsite
name: Team offsite
stages: [Proposed, Agreed, Declined]
fields:
  - { key: place, label: Place, type: text, required: true }
`,
  'vote.yaml': `
kind: recipe
name: offsite-vote
trigger: { type: new_request, app: offsite }
steps:
  - id: vote
    action: assign_task
    to: group:team
    title: "Offsite at {{ record.place }}?"
    outcomes: [Yes, No]
    quorum: { mode: count, count: 2 }
  - action: change_stage
    stage: "{{ steps.vote.outcome = 'Yes' ? 'Agreed' : 'Declined' }}"
`,
};

type InvokeBody = { statusCode: number; type: string; value: Record<string, unknown> };

let t: TeamsTestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('Teams: answering a group task with a quorum', () => {
  it('the card says the answer is recorded and what it waits for; a refresh shows no buttons to that member, still to the others', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    for (const who of ['admin', 'alice', 'hank', 'hedy']) await t.install(who);
    const admin = await t.batonUser('admin');
    await t.rt.baton.groups.create(admin, 'team', 'The team');
    for (const who of ['hank', 'hedy'])
      await t.rt.baton.groups.addMember(admin, 'team', (await t.batonUser(who))._id);
    await t.rt.baton.requests.file(await t.batonUser('alice'), 'offsite', { place: 'Oslo' });
    const task = await eventually(async () => (await t!.rt.baton.tasks.listForRequest('OFFSITE-1'))[0]);
    await t.idle();

    const answered = (
      await t.execute('hank', 'task.complete', { task_id: task._id, outcome: 'Yes' })
    ).json() as InvokeBody;
    expect(cardText(answered.value)).toContain('You answered "Yes"; the task waits for 1 more response.');
    expect(executeActions(answered.value)).toEqual([]);

    const hanks = (await t.execute('hank', 'task.refresh', { task_id: task._id })).json() as InvokeBody;
    expect(executeActions(hanks.value)).toEqual([]);
    expect(cardText(hanks.value)).toContain('You answered "Yes"; the task waits for 1 more response.');
    const hedys = (await t.execute('hedy', 'task.refresh', { task_id: task._id })).json() as InvokeBody;
    expect(executeActions(hedys.value).map((a) => a.title)).toEqual(['Yes', 'No']);
  });
});
