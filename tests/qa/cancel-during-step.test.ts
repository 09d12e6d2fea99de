import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { type AdminPortal, signIn, startAdminPortal } from '../web/admin-kit.js';

/**
 * A request cancelled while its recipe was in the middle of an assign_task step (looking the
 * assignee up in Slack's directory, say): the cancel stopped the job and withdrew the open
 * tasks, then the step went on and opened its task, left open on the cancelled request, in the
 * approver's inbox with buttons, with no job waiting on it.
 */

const APP = `kind: app
key: desk
name: Desk
stages: [Submitted, Approved, Cancelled]
fields:
  - { key: model, label: Model, type: text }
`;
const RECIPE = `kind: recipe
name: desk-flow
trigger: { type: new_request, app: desk }
steps:
  - id: approve
    action: assign_task
    to: newcomer@example.com
    title: Approve the desk
  - action: change_stage
    stage: Approved
`;

describe('cancelling a request while its recipe is opening a task', () => {
  let portal: AdminPortal | undefined;
  let release: () => void = () => {};
  afterEach(async () => {
    release();
    await portal?.close();
    portal = undefined;
  });

  it('opens no task once the cancel has stopped the step, and leaves none open', async () => {
    portal = await startAdminPortal({ 'app.yaml': APP, 'recipe.yaml': RECIPE });
    const { baton, people: p } = portal;
    // A people directory (as Slack's) that answers only when the test says so.
    let asked = false;
    let answer: () => void = () => {};
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    release = answer;
    baton.users.addDirectory(async (email) => {
      asked = true;
      await answered;
      return { provider: 'slack', id: 'U777', name: 'New Comer', email };
    });

    // Filing runs the recipe until it waits: it resolves once the directory has answered.
    const filing = baton.requests.file(p.riley!, 'desk', { model: 'Standing' });
    await eventually(async () => asked);
    const filed = await eventually(async () =>
      portal!.runtime.store.collection('requests').findOne({ app: 'desk' }),
    );

    const riley = await signIn(portal.app, 'riley');
    const page = await riley.get(`/requests/${filed._id}`);
    expect((await riley.submit(page, `/requests/${filed._id}/cancel`, { reason: 'Not needed' })).status).toBe(
      303,
    );
    answer();
    await filing;

    // The step's job was stopped by the cancel: it opens no task (and had it opened one just
    // before, the cancel would have withdrawn it). Nothing is left in anyone's inbox.
    const tasks = portal.runtime.store.collection('tasks');
    expect(await tasks.countDocuments({ request_id: filed._id, status: 'open' })).toBe(0);
    const jobs = await portal.runtime.store.collection('jobs').find({ request_id: filed._id }).toArray();
    expect(jobs.map((j) => j.status)).toEqual(['stopped']);
    expect((await baton.requests.get(p.riley!, filed._id)).stage).toBe('Cancelled');
  });
});
