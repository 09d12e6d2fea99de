import { afterEach, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

const DESK = {
  'desk.yaml': `
kind: app
key: desk
name: Desk
id_prefix: DESK
stages: [Asked, Done]
fields:
  - { key: where, label: Where, type: text }
`,
  'desk-recipe.yaml': `
kind: recipe
name: desk-flow
trigger: { type: new_request, app: desk }
steps:
  - id: facilities
    action: assign_task
    to: group:facilities
    title: Find a desk
  - action: change_stage
    stage: Done
`,
};

/**
 * A task for a group that does not exist: the job stops with what to do, and the requester and
 * the admins are told in their Teams chat (nobody would hear of it otherwise).
 */
describe('Teams: a task for a group that does not exist', () => {
  let t: TeamsTestApp;
  afterEach(async () => {
    await t.close();
  });

  it('fails the job with the fix, records why, and tells the requester and the admins', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(DESK) });
    for (const who of ['admin', 'alice']) await t.install(who);
    const res = await t.say('alice', 'new desk');
    expect(res.statusCode).toBe(200);
    await t.idle();
    const submit = await t.execute('alice', 'request.submit', { app: 'desk', where: 'Floor 2' }, 'form-1');
    expect(JSON.stringify(submit.json())).toContain('Request DESK-1 filed');
    await t.idle();

    const chat = (who: string) =>
      t.connector.posts(t.people[who]!.conversationId).map((c) => cardText(c.body));
    const missing =
      '"Find a desk" could not be assigned: there is no group named "facilities", so the recipe desk-flow stopped.';
    const alices = await eventually(async () => chat('alice').find((x) => x.includes('is held up')));
    // The requester reads plain words; which recipe stopped and why is for the admins.
    expect(alices).toContain(
      `Your request DESK-1 is held up: "Find a desk" could not be assigned to anyone yet. Baton's admins have been told.`,
    );
    expect(alices).not.toContain('desk-flow');
    expect(alices).not.toContain('no group named');
    const admins = await eventually(async () => chat('admin').find((x) => x.includes('no group named')));
    expect(admins).toContain(
      `DESK-1: ${missing} Create the group and add its members ("admin groups create facilities"`,
    );

    const admin = await t.batonUser('admin');
    const [job] = await t.rt.baton.recipes.listJobs(admin, { status: 'failed' });
    // Which job to rerun, so the admin can do it from the chat without looking it up.
    const rerun = `then rerun the job ("admin jobs rerun ${job!._id}"; or the portal's Admin → Jobs).`;
    expect(admins).toContain(rerun);
    expect(job!.error!.message).toMatch(
      /^No group named "facilities"\. Create the group .* then rerun the job /,
    );
    expect(job!.error!.message.endsWith(rerun)).toBe(true);
    const plain = (await t.rt.baton.requests.get(await t.batonUser('alice'), 'DESK-1')).history;
    expect(plain.filter((h) => h.type === 'problem').map((h) => h.text)).toEqual([
      '"Find a desk" could not be assigned to anyone yet, so this request is held up. An admin has been told.',
    ]);
    const history = (await t.rt.baton.requests.get(admin, 'DESK-1')).history;
    expect(history.filter((h) => h.type === 'problem').map((h) => h.text)).toEqual([
      `${missing} Create the group and add its members ("admin groups create facilities", then "admin groups add facilities @someone", after /baton in Slack; or the portal's Admin → Groups), ${rerun}`,
    ]);
  });
});
