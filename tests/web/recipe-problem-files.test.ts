import { afterEach, describe, expect, it } from 'vitest';
import { type AdminPortal, mainOf, signIn, startAdminPortal, textOf } from './admin-kit.js';

/**
 * Admin → Recipes printed a recipe's problems with the file's last two path segments, so a
 * file at the top of RECIPES_DIR read "<the folder's own name>/kit-bad.yaml:8" (a temporary
 * folder's name, say). Problems now name the file as the Source line does: its path inside
 * RECIPES_DIR ("kit-bad.yaml:8", "shipping/kit-ship.yaml:7").
 */
const FILES = {
  'kit.yaml': `
kind: app
key: kit
name: Laptop kit
id_prefix: KIT
stages: [Asked, Approved, Shipped]
fields:
  - { key: item, label: Item, type: text, required: true }
`,
  'kit-bad.yaml': `
kind: recipe
name: kit-bad
trigger: { type: new_request, app: kit }
steps:
  - action: change_stage
    stage: Asked
  - action: bogus_thing
`,
  'shipping/kit-ship.yaml': `
kind: recipe
name: kit-ship
trigger: { type: new_request, app: kit }
steps:
  - action: assign_task
    to: group:kit-shippers
    title: "Ship {{ record.item }}"
`,
};

let portal: AdminPortal | undefined;
afterEach(async () => {
  await portal?.close();
  portal = undefined;
});

describe('Admin → Recipes: problem lines name the file inside RECIPES_DIR', () => {
  it('on the list and on the recipe page', async () => {
    portal = await startAdminPortal(FILES);
    const folder = portal.baton.recipes.folder!.split(/[\\/]/).pop()!;
    const ada = await signIn(portal.app, 'ada');
    const list = textOf(mainOf((await ada.get('/admin/recipes')).html));
    expect(list).not.toContain(folder);
    expect(list).toMatch(/(^|\s)kit-bad\.yaml:8: steps\[1\]\.action/);
    expect(list).toMatch(/(^|\s)shipping\/kit-ship\.yaml:\d+: steps\[0\]\.to: no group named "kit-shippers"/);

    const bad = textOf(mainOf((await ada.get('/admin/recipes/kit-bad')).html));
    expect(bad).not.toContain(folder);
    expect(bad).toMatch(/(^|\s)kit-bad\.yaml:8: steps\[1\]\.action/);
  });
});
