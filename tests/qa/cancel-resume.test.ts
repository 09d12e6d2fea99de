import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { type AdminPortal, signIn, startAdminPortal } from '../web/admin-kit.js';

/**
 * A cancel that stopped part-way (the process died, the store failed a write) and is tried
 * again: the retry finishes what the first one left (tasks withdrawn, recipes stopped, the
 * stage) and the trail says once that the request was cancelled.
 */

const APP = `kind: app
key: laptop
name: Laptop
id_prefix: LAP
stages: [Submitted, Approved, Rejected, Cancelled]
fields:
  - { key: model, label: Model, type: text }
`;
const RECIPE = `kind: recipe
name: laptop-approval
trigger: { type: new_request, app: laptop }
steps:
  - id: t
    action: assign_task
    to: group:it
    title: Laptop OK?
    outcomes: [Approve, Reject]
  - action: change_stage
    stage: "{{ steps.t.outcome = 'Approve' ? 'Approved' : 'Rejected' }}"
  - id: why
    action: assign_task
    to: "{{ request.requester }}"
    title: Tell us more
    outcomes: [Done]
`;

describe('a cancel tried again after it stopped part-way', () => {
  let portal: AdminPortal | undefined;
  afterEach(async () => {
    await portal?.close();
    portal = undefined;
  });

  /** The next move to Cancelled fails, as if the process had died just before it. */
  const failNextMoveToCancelled = (p: AdminPortal) => {
    const requests = p.baton.requests;
    const original = requests.changeStage.bind(requests);
    let failed = false;
    requests.changeStage = (async (...args: Parameters<typeof original>) => {
      if (!failed && args[2] === 'Cancelled') {
        failed = true;
        throw new Error('the store went away');
      }
      return original(...args);
    }) as typeof original;
  };

  const trail = async (p: AdminPortal, id: string) =>
    (await p.baton.requests.history(id)).filter(
      (e) => e.type === 'request_cancelled' || (e.type === 'stage_changed' && e.data?.to === 'Cancelled'),
    );

  it('records the cancel once and moves the request', async () => {
    portal = await startAdminPortal({ 'app.yaml': APP, 'recipe.yaml': RECIPE });
    const { baton, people: p } = portal;
    const request = await baton.requests.file(p.riley!, 'laptop', { model: 'X1' });
    await eventually(async () => (await baton.tasks.listOpenFor(p.ivan!)).length === 1);
    const riley = await signIn(portal.app, 'riley');
    failNextMoveToCancelled(portal);
    const first = await riley.post(`/requests/${request._id}/cancel`, { reason: 'Not needed' });
    expect(first.status).toBe(500);
    const again = await riley.post(`/requests/${request._id}/cancel`, { reason: 'Not needed' });
    expect(again.status).toBe(303);

    expect((await baton.requests.load(request._id))?.stage).toBe('Cancelled');
    expect((await trail(portal, request._id)).map((e) => e.type)).toEqual([
      'request_cancelled',
      'stage_changed',
    ]);
    expect(await baton.tasks.listOpenFor(p.ivan!)).toEqual([]);
  });

  it('a rejected request whose recipe was still at work: the retry is not refused as "nothing left"', async () => {
    portal = await startAdminPortal({ 'app.yaml': APP, 'recipe.yaml': RECIPE });
    const { baton, people: p } = portal;
    const request = await baton.requests.file(p.riley!, 'laptop', { model: 'X1' });
    const [task] = await eventually(async () => {
      const open = await baton.tasks.listOpenFor(p.ivan!);
      return open.length === 1 ? open : null;
    });
    await baton.tasks.complete(p.ivan!, task!._id, 'Reject');
    await eventually(async () => (await baton.tasks.listOpenFor(p.riley!)).length === 1);
    expect((await baton.requests.load(request._id))?.stage).toBe('Rejected');

    const riley = await signIn(portal.app, 'riley');
    failNextMoveToCancelled(portal);
    expect((await riley.post(`/requests/${request._id}/cancel`, { reason: 'Never mind' })).status).toBe(500);
    const again = await riley.post(`/requests/${request._id}/cancel`, { reason: 'Never mind' });
    expect(again.status).toBe(303);
    expect((await baton.requests.load(request._id))?.stage).toBe('Cancelled');
    expect((await trail(portal, request._id)).map((e) => e.type)).toEqual([
      'request_cancelled',
      'stage_changed',
    ]);
  });

  it('a cancel left part-way is finished at the next start, with nobody trying again', async () => {
    portal = await startAdminPortal({ 'app.yaml': APP, 'recipe.yaml': RECIPE });
    const { baton, people: p } = portal;
    const request = await baton.requests.file(p.riley!, 'laptop', { model: 'X1' });
    await eventually(async () => (await baton.tasks.listOpenFor(p.ivan!)).length === 1);
    const riley = await signIn(portal.app, 'riley');
    failNextMoveToCancelled(portal);
    expect((await riley.post(`/requests/${request._id}/cancel`, { reason: 'Oops' })).status).toBe(500);
    await baton.recover(); // what the next start runs
    expect((await baton.requests.load(request._id))?.stage).toBe('Cancelled');
    expect((await trail(portal, request._id)).map((e) => e.type)).toEqual([
      'request_cancelled',
      'stage_changed',
    ]);
  });
});
