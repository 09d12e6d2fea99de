import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { type AdminPortal, mainOf, signIn, startAdminPortal, textOf } from '../web/admin-kit.js';

/**
 * Saving an app without a stage that requests are in is refused with "move the requests to
 * another stage first", and an app file that drops one leaves its requests there; but no page or
 * command let anyone move a request to another stage. Admins now can, on the request's page.
 */

const APP = `kind: app
key: chair
name: Chair
stages: [Submitted, Ordered, Delivered]
fields:
  - { key: model, label: Model, type: text }
`;
const RECIPE = `kind: recipe
name: chair-delivered
trigger: { type: stage_changed, app: chair, to: Delivered }
steps:
  - action: notify
    to: "{{ request.requester }}"
    text: "Your chair {{ request.id }} arrived ({{ trigger.from }} -> {{ trigger.to }})"
`;

describe('moving a request to another stage by hand', () => {
  let portal: AdminPortal | undefined;
  afterEach(async () => {
    await portal?.close();
    portal = undefined;
  });

  it('is offered to admins on the request page, recorded, and starts the recipes of that stage', async () => {
    portal = await startAdminPortal({ 'app.yaml': APP, 'recipe.yaml': RECIPE });
    const { baton, people: p } = portal;
    const filed = await baton.requests.file(p.riley!, 'chair', { model: 'Aeron' });

    const riley = await signIn(portal.app, 'riley');
    expect(textOf(mainOf((await riley.get(`/requests/${filed._id}`)).html))).not.toContain(
      'Move to another stage',
    );

    const admin = await signIn(portal.app, 'ada');
    const page = await admin.get(`/requests/${filed._id}`);
    expect(textOf(mainOf(page.html))).toContain('Move to another stage');
    const moved = await admin.submit(page, `/requests/${filed._id}/stage`, { stage: 'Delivered' });
    expect(moved.status).toBe(303);
    const after = await baton.requests.get(p.riley!, filed._id);
    expect(after.stage).toBe('Delivered');
    expect(after.history.map((h) => h.text)).toContain('Stage changed from Submitted to Delivered');
    await eventually(async () => {
      const notes = await portal!.runtime.store
        .collection('notifications')
        .find({ request_id: filed._id })
        .toArray();
      return notes.some((n) => n.text === `Your chair ${filed._id} arrived (Submitted -> Delivered)`);
    });

    // A requester who posts the form anyway is refused, and nothing changes.
    const refused = await riley.post(`/requests/${filed._id}/stage`, { stage: 'Ordered' });
    expect(refused.status).toBe(403);
    expect((await baton.requests.get(p.riley!, filed._id)).stage).toBe('Delivered');
  });
});
