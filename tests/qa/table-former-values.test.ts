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

const HW = `kind: app
key: hw
name: Hardware
stages: [Submitted, Done]
fields:
  - { key: item, label: Item, type: text }
  - { key: priority, label: Priority, type: select, options: [low, high] }
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

  it('filters by a select value the field no longer offers, and shows that filter, whatever the spelling', async () => {
    portal = await startAdminPortal({ 'hw.yaml': HW });
    const { baton, people: p } = portal;
    const high = await baton.requests.file(p.riley!, 'hw', { item: 'Laptop', priority: 'high' });
    const low = await baton.requests.file(p.riley!, 'hw', { item: 'Mouse', priority: 'low' });
    const def = await baton.apps.get('hw');
    await baton.apps.install(
      {
        ...def,
        fields: def.fields.map((f) => (f.key === 'priority' ? { ...f, options: ['low', 'normal'] } : f)),
      },
      'file',
    );

    const admin = await signIn(portal.app, 'ada');
    for (const url of ['/apps/hw?f.priority=high', '/apps/hw?priority=high']) {
      const page = await admin.get(url);
      expect(page.status).toBe(200);
      const text = textOf(mainOf(page.html));
      expect(text, url).toContain('1 request');
      expect(text, url).toContain(high._id);
      expect(text, url).not.toContain(low._id);
      // The form shows the filter in use (not "Any"), so Apply keeps it.
      expect(page.html, url).toContain('<option value="high" selected>high (no longer an option)</option>');
    }
    const csv = await admin.get('/apps/hw/export.csv?priority=high');
    expect(csv.html).toContain(high._id);
    expect(csv.html).not.toContain(low._id);
  });
});
