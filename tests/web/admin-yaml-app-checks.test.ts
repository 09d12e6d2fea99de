import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminPortal, mainOf, signIn, startAdminPortal, textOf } from './admin-kit.js';

const FILES = {
  'desk.yaml': `
kind: app
key: desk
name: Desk
stages: [New, Done]
fields:
  - { key: qty, label: Quantity, type: number, max: 5 }
`,
};

const RECIPE = `kind: recipe
name: desk-flow
trigger: { type: stage_changed, app: desk, to: Shipped }
steps:
  - action: update_record
    fields:
      qty: 9
  - action: change_stage
    stage: Nope
`;

/**
 * The YAML editor listed the problems of the YAML itself by line ("line 5, column 5: …"), but
 * those the core finds by checking a recipe against its app (a stage or field the app does not
 * have) came back as one run-on sentence about a file nobody has: "The portal.yaml has 3
 * problems: portal.yaml:3: …; portal.yaml:7: …".
 */
describe('the YAML editor, for a recipe that does not fit its app', () => {
  let portal: AdminPortal;
  beforeAll(async () => {
    portal = await startAdminPortal(FILES);
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('lists each problem with its line and column, like the others, and keeps the text', async () => {
    const admin = await signIn(portal.app, 'ada');
    const editor = await admin.get('/admin/recipes/new');
    const refused = await admin.submit(editor, '/admin/recipes/save', { yaml: RECIPE });
    expect(refused.status).toBe(400);
    const text = textOf(mainOf(refused.html));
    expect(text).not.toContain('portal.yaml');
    expect(text).toContain(
      '3 problems; nothing was saved. ' +
        'line 3, column 48: trigger.to: app "desk" has no stage "Shipped" (stages: New, Done) ' +
        'line 7, column 12: steps[0].fields.qty: Quantity must be at most 5 ' +
        'line 9, column 12: steps[1].stage: app "desk" has no stage "Nope" (stages: New, Done)',
    );
    expect(refused.html).toContain('aria-describedby="yaml-errors"');
    expect(refused.html).toContain('stage: Nope'); // the text is kept
    await expect(portal.baton.recipes.get(portal.people.ada!, 'desk-flow')).rejects.toThrow(/No recipe/);
  });
});
