import { afterEach, describe, expect, it } from 'vitest';
import { type AdminPortal, mainOf, signIn, startAdminPortal, textOf } from '../web/admin-kit.js';

/**
 * An app file that drops a stage leaves its requests there, but the requests table's Stage
 * filter offered only the app's current stages, and `?stage=Delivered` was a 400: those
 * requests could not be found by stage any more.
 */

const APP = `kind: app
key: chair
name: Chair
stages: [Submitted, Ordered, Delivered]
fields:
  - { key: model, label: Model, type: text }
`;

describe('the requests table and values an app no longer has', () => {
  let portal: AdminPortal | undefined;
  afterEach(async () => {
    await portal?.close();
    portal = undefined;
  });

  it('offers and filters by a stage requests are still in after the app dropped it', async () => {
    portal = await startAdminPortal({ 'app.yaml': APP });
    const { baton, people: p } = portal;
    const a = await baton.requests.file(p.riley!, 'chair', { model: 'Aeron' });
    const b = await baton.requests.file(p.riley!, 'chair', { model: 'Leap' });
    await baton.requests.setStage(p.ada!, a._id, 'Delivered');
    const def = await baton.apps.get('chair');
    await baton.apps.install({ ...def, stages: ['Submitted', 'Ordered'] }, 'file');

    const admin = await signIn(portal.app, 'ada');
    const page = await admin.get('/apps/chair');
    expect(page.status).toBe(200);
    expect(page.html).toMatch(/<option value="Delivered">Delivered \(no longer a stage\)<\/option>/);

    const filtered = await admin.get('/apps/chair?stage=Delivered');
    expect(filtered.status).toBe(200);
    const text = textOf(mainOf(filtered.html));
    expect(text).toContain('1 request');
    expect(text).toContain(a._id);
    expect(text).not.toContain(b._id);

    // A stage no request is in and the app does not have is still a clear 400.
    const unknown = await admin.get('/apps/chair?stage=Lost');
    expect(unknown.status).toBe(400);
    expect(textOf(mainOf(unknown.html))).toContain('Chair has no stage "Lost"');
  });
});
