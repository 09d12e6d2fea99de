import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { type Portal, startPortal } from './harness.js';
import { signedIn } from './http-client.js';

const FILES = {
  'purchase.yaml': `
kind: app
key: purchase
name: Purchase
id_prefix: BUY
stages: [Submitted, Approved, Rejected, Cancelled]
fields:
  - { key: item, label: Item, type: text, required: true }
`,
  'purchase-flow.yaml': `
kind: recipe
name: purchase-flow
trigger: { type: new_request, app: purchase }
steps:
  - id: review
    action: assign_task
    to: morgan@playground.baton.invalid
    title: "Buy {{ record.item }}?"
    outcomes: [Approve, Reject]
  - if: "steps.review.outcome = 'Approve'"
    then:
      - { action: change_stage, stage: Approved }
    else:
      - { action: change_stage, stage: Rejected }
`,
};

/**
 * The request page offered "Cancel this request" on a request already Rejected with nothing
 * under way, which the core then refused ("… is Rejected: there is nothing left to cancel.").
 */
describe('portal: no cancelling of a request with nothing left to cancel', () => {
  let portal: Portal;
  beforeAll(async () => {
    portal = await startPortal({ RECIPES_DIR: recipesDir(FILES) });
  });
  afterAll(async () => {
    await portal.close();
  });

  it('Rejected and settled: no Cancel section; Approved: still offered', async () => {
    const riley = await signedIn(portal.url, 'riley');
    const morgan = await signedIn(portal.url, 'morgan');
    const ada = await signedIn(portal.url, 'ada');
    const { baton } = portal.runtime;
    // Filed and decided as people would: the form, then the approver's button (the plain form).
    const decide = async (item: string, outcome: string) => {
      const filed = await riley.post('/apps/purchase/new', { item });
      expect(filed.status).toBe(303);
      const id = decodeURIComponent(filed.location!.split('/').pop()!.split(/[?#]/)[0]!);
      const task = await eventually(async () => (await baton.tasks.listForRequest(id))[0]);
      await morgan.get(`/requests/${id}`);
      const answered = await morgan.post(`/tasks/${task._id}/complete`, {
        outcome,
        return_to: `/requests/${id}`,
      });
      expect(answered.status).toBe(303);
      // Its job has finished (the admin's jobs page says so).
      await eventually(async () => {
        const jobs = await ada.get(`/admin/jobs?recipe=purchase-flow&status=completed`);
        return jobs.body.includes(`>${id}</a>`);
      });
      return id;
    };

    const rejected = await decide('Desk', 'Reject');
    const page = await riley.get(`/requests/${rejected}`);
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/data-testid="stage">[\s\S]*?Rejected/);
    expect(page.body).not.toContain('Cancel this request');
    expect(page.body).not.toContain(`action="/requests/${rejected}/cancel"`);
    // The core agrees: nothing left to cancel.
    const refused = await riley.post(`/requests/${rejected}/cancel`, {});
    expect(refused.status).toBe(409);
    expect(refused.body).toContain('there is nothing left to cancel');

    const approved = await decide('Chair', 'Approve');
    const offered = await riley.get(`/requests/${approved}`);
    expect(offered.body).toContain('Cancel this request');
    const done = await riley.post(`/requests/${approved}/cancel`, { reason: 'Found one' });
    expect(done.status).toBe(303);
  });
});
