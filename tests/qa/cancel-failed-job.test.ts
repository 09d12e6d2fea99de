import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { type AdminPortal, mainOf, signIn, startAdminPortal, textOf } from '../web/admin-kit.js';

/**
 * Cancelling a request stopped its running and waiting jobs, but not a failed one: an admin who
 * then fixed the cause and pressed Rerun (as the failure notice tells them to) ran the rest of
 * the recipe on the cancelled request — a new task for the approver, on a request withdrawn.
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
  - action: notify
    to: group:facilities
    text: "New desk request {{ request.id }}"
  - id: approve
    action: assign_task
    to: "{{ request.requester }}"
    title: Approve the desk
  - action: change_stage
    stage: Approved
`;

describe('cancelling a request whose recipe failed', () => {
  let portal: AdminPortal | undefined;
  afterEach(async () => {
    await portal?.close();
    portal = undefined;
  });

  it('stops the failed job too, so a rerun cannot carry on with the cancelled request', async () => {
    portal = await startAdminPortal({ 'app.yaml': APP, 'recipe.yaml': RECIPE });
    const { baton, people: p } = portal;
    const filed = await baton.requests.file(p.riley!, 'desk', { model: 'Standing' });
    const jobs = portal.runtime.store.collection('jobs');
    const job = await eventually(async () => jobs.findOne({ request_id: filed._id, status: 'failed' }));

    const riley = await signIn(portal.app, 'riley');
    const page = await riley.get(`/requests/${filed._id}`);
    const cancelled = await riley.submit(page, `/requests/${filed._id}/cancel`, { reason: 'Not needed' });
    expect(cancelled.status).toBe(303);
    expect((await baton.requests.get(p.riley!, filed._id)).stage).toBe('Cancelled');

    // The admin fixes the cause, then tries to rerun the job.
    await baton.groups.create(p.ada!, 'facilities');
    const admin = await signIn(portal.app, 'ada');
    const jobPage = await admin.get(`/admin/jobs/${job._id}`);
    expect(textOf(mainOf(jobPage.html))).not.toMatch(/\bRerun\b/);
    const rerun = await admin.post(`/admin/jobs/${job._id}/rerun`, {});
    expect(rerun.status).toBeGreaterThanOrEqual(400);
    expect(await portal.runtime.store.collection('tasks').countDocuments({ request_id: filed._id })).toBe(0);
    expect((await baton.requests.get(p.riley!, filed._id)).stage).toBe('Cancelled');
  });
});
