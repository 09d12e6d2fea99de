import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { cardOf, executeActions, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

const FILES = {
  'laptop.yaml': `
kind: app
key: laptop
name: Laptop
id_prefix: LAP
stages: [Submitted, Approved, Rejected]
fields:
  - { key: model, label: Model, type: text, required: true }
`,
  'laptop-approval.yaml': `
kind: recipe
name: laptop-approval
trigger: { type: new_request, app: laptop }
steps:
  - id: it
    action: assign_task
    to: carol@example.com
    title: "Laptop {{ record.model }}"
`,
};

/**
 * A task for someone Baton knows from the portal only (never met on Teams, no other chat account):
 * Teams cannot find a person by email, so no card can reach them. The copy was skipped without
 * a word; a copy Teams cannot deliver to someone it knows is noted in the job's log.
 */
describe('Teams: a task for someone with no Teams identity and no other chat', () => {
  let t: TeamsTestApp;
  beforeEach(async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    await t.install('alice');
  });
  afterEach(async () => {
    await t.close();
  });

  it('is noted in the job’s log with why and what to do, as an unreachable person is', async () => {
    // Carol signed in to the portal once; she has never opened Baton in Teams.
    await t.rt.baton.users.resolve({
      provider: 'web',
      id: 'carol',
      name: 'Carol IT',
      email: 'carol@example.com',
    });
    await t.say('alice', 'new laptop');
    await t.idle();
    const form = cardOf(t.connector.posts(t.people.alice!.conversationId).at(-1)!.body);
    const submit = executeActions(form)[0]!;
    const res = await t.execute('alice', submit.verb, { ...submit.data, model: 'X1' });
    expect(res.statusCode).toBe(200);
    await t.idle();
    const task = await eventually(async () => (await t.rt.baton.tasks.listForRequest('LAP-1'))[0]);
    const job = await eventually(async () => {
      const j = await t.rt.baton.ctx.db.jobs.findOne({ _id: task.job_id! });
      return j?.log.some((l) => l.action === 'deliver:teams') ? j : null;
    });
    const note = job.log.find((l) => l.action === 'deliver:teams')!;
    expect(note).toMatchObject({ status: 'failed', step: 'it' });
    expect(note.error).toBe(
      'Carol IT has not opened Baton in Microsoft Teams yet (Teams gives a bot no way to find people by email), so the bot cannot message them; they can act on the task in the portal, or get it once they open Baton in Teams.',
    );
    // Once per task, not at every redelivery.
    await t.rt.baton.redeliver();
    await t.idle();
    const again = await t.rt.baton.ctx.db.jobs.findOne({ _id: task.job_id! });
    expect(again!.log.filter((l) => l.action === 'deliver:teams')).toHaveLength(1);
    expect(again!.status).toBe('waiting');
  });
});
