import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { type Portal, startPortal } from './harness.js';
import { signedIn, textOf } from './http-client.js';

const FILES = {
  'laptop.yaml': `
kind: app
key: laptop
name: Laptop
stages: [Asked, Given]
fields:
  - { key: model, label: Model, type: text, required: true }
`,
  'laptop-flow.yaml': `
kind: recipe
name: laptop-flow
trigger: { type: new_request, app: laptop }
steps:
  - action: notify
    to: group:it-desk
    text: "A laptop was asked for"
`,
  'laptop-given.yaml': `
kind: recipe
name: laptop-given
trigger: { type: stage_changed, app: laptop, to: Given }
steps:
  - if: "true"
    then:
      - { action: notify, to: [group:it-desk, group:finance], text: "Given" }
`,
};

/**
 * "Delete it-desk" on a group's page deleted the group at once, with no confirmation, and did not
 * say that recipes send tasks or notices to it. Now a first step (a page, no JavaScript needed)
 * asks, naming the recipes that use the group; only its confirm button deletes.
 */
describe('deleting a group asks first', () => {
  let portal: Portal;
  beforeAll(async () => {
    portal = await startPortal({ RECIPES_DIR: recipesDir(FILES) });
  });
  afterAll(async () => {
    await portal.close();
  });

  it('names the recipes that use it, and deletes only once confirmed', async () => {
    const ada = await signedIn(portal.url, 'ada');
    await ada.get('/admin/groups');
    expect((await ada.post('/admin/groups', { name: 'it-desk' })).status).toBe(303);
    expect((await ada.post('/admin/groups', { name: 'spare' })).status).toBe(303);
    const { baton } = portal.runtime;

    // The group's page: one click (the old button) does not delete.
    const page = await ada.get('/admin/groups/it-desk');
    const first = await ada.post('/admin/groups/it-desk/delete', {});
    expect(first.status).toBe(200);
    expect(await baton.groups.find('it-desk')).not.toBeNull();
    const text = textOf(first.body);
    expect(text).toContain('Delete the group it-desk?');
    expect(text).toMatch(
      /Recipes that use it: laptop-flow ?, laptop-given ?\. They will fail at those steps until a group named it-desk exists again\./,
    );
    expect(first.body).toContain('<a href="/admin/recipes/laptop-flow">laptop-flow</a>');
    expect(first.body).toContain('name="confirm" value="yes"');
    expect(first.body).toContain('<a href="/admin/groups/it-desk">Keep it</a>');
    // The confirm step is also reachable as a page (the group page links to it).
    expect(page.body).toContain('href="/admin/groups/it-desk/delete"');
    const asked = await ada.get('/admin/groups/it-desk/delete');
    expect(asked.status).toBe(200);
    expect(textOf(asked.body)).toContain('Delete the group it-desk?');

    const deleted = await ada.post('/admin/groups/it-desk/delete', { confirm: 'yes' });
    expect(deleted.status).toBe(303);
    expect(deleted.location).toBe('/admin/groups?deleted=1');
    expect(await baton.groups.find('it-desk')).toBeNull();

    // A group no recipe uses says so.
    const spare = await ada.get('/admin/groups/spare/delete');
    expect(textOf(spare.body)).toContain('No recipe uses it.');
  });
});
