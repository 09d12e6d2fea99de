import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { type Portal, startPortal } from './harness.js';
import { signedIn } from './http-client.js';

const FILES = {
  'visit.yaml': `
kind: app
key: visit
name: Site visit
id_prefix: VIS
stages: [Asked, Booked, Expired]
fields:
  - { key: site, label: Site, type: text, required: true }
`,
  'visit-flow.yaml': `
kind: recipe
name: visit-flow
trigger: { type: new_request, app: visit }
steps:
  - id: book
    action: assign_task
    to: morgan@playground.baton.invalid
    title: "Book a visit to {{ record.site }}"
    outcomes: [Book, Decline]
    expires_in: 1d
  - if: "steps.book.status = 'expired'"
    then:
      - { action: change_stage, stage: Expired }
    else:
      - { action: change_stage, stage: Booked }
`,
};

/**
 * Without JavaScript, answering a task that expired meanwhile (the page was left open) showed a
 * "Problem" page whose only way on was the inbox: the request the task was about is linked too.
 */
describe('answering a closed task without JavaScript', () => {
  let portal: Portal;
  beforeAll(async () => {
    portal = await startPortal({ RECIPES_DIR: recipesDir(FILES) });
  });
  afterAll(async () => {
    await portal.close();
  });

  it('the refusal links back to the request', async () => {
    const riley = await signedIn(portal.url, 'riley');
    const morgan = await signedIn(portal.url, 'morgan');
    await riley.get('/apps/visit/new');
    const filed = await riley.post('/apps/visit/new', { site: 'Lyon' });
    expect(filed.status).toBe(303);
    const id = 'VIS-1';
    const { baton } = portal.runtime;
    const task = await eventually(async () => (await baton.tasks.listForRequest(id))[0]);
    const page = await morgan.get(`/requests/${id}`);
    expect(page.body).toContain(`action="/tasks/${task._id}/complete"`);
    // The day passes while the page stays open.
    await baton.ctx.db.tasks.updateOne(
      { _id: task._id },
      { $set: { expires_at: new Date(Date.now() - 1000) } },
    );
    expect((await baton.tasks.expire(task._id))?.status).toBe('expired');
    const answered = await morgan.post(`/tasks/${task._id}/complete`, {
      outcome: 'Book',
      return_to: `/requests/${id}`,
    });
    expect(answered.status).toBe(409);
    expect(answered.body).toMatch(/expired/i);
    expect(answered.body).toContain(`<a href="/requests/${id}">`);
    expect(answered.body).toContain('<a href="/">Back to your inbox</a>');
  });
});
