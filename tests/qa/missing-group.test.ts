import { afterEach, describe, expect, it } from 'vitest';
import { type AdminPortal, mainOf, signIn, startAdminPortal, textOf } from '../web/admin-kit.js';

/**
 * A recipe naming a group that does not exist (`to: group:purchasing`, a typo or a group not
 * created yet) was installed and saved without a word: the admin found out only when a request
 * reached the step and its job failed.
 */

const APP = `kind: app
key: chair
name: Chair
stages: [Submitted, Ordered]
fields:
  - { key: model, label: Model, type: text }
`;
const RECIPE = `kind: recipe
name: chair-order
trigger: { type: new_request, app: chair }
steps:
  - action: assign_task
    to: group:purchasing
    title: Order a chair
  - action: notify
    to: ["{{ request.requester }}", group:facilities]
    text: Ordered
`;
const WARNING =
  'no group named "purchasing": a job that reaches this step fails. Create the group and add its members ("admin groups create purchasing", then "admin groups add purchasing @someone", after /baton in Slack; or the portal\'s Admin → Groups)';

describe('a recipe that names a group that does not exist', () => {
  let portal: AdminPortal | undefined;
  afterEach(async () => {
    await portal?.close();
    portal = undefined;
  });

  it('is shown with a warning at its line on Admin → Recipes until the group is created', async () => {
    portal = await startAdminPortal({ 'app.yaml': APP, 'recipe.yaml': RECIPE });
    const { baton, people: p } = portal;
    await baton.groups.create(p.ada!, 'facilities');
    const admin = await signIn(portal.app, 'ada');

    const list = textOf(mainOf((await admin.get('/admin/recipes')).html));
    expect(list).toContain(`recipe.yaml:6: steps[0].to: ${WARNING}`);
    const detail = textOf(mainOf((await admin.get('/admin/recipes/chair-order')).html));
    expect(detail).toContain(`recipe.yaml:6: steps[0].to: ${WARNING}`);
    expect(detail).not.toContain('facilities"');
    expect((await baton.recipes.get(p.ada!, 'chair-order')).state).toBe('running');

    await baton.groups.create(p.ada!, 'purchasing');
    expect(textOf(mainOf((await admin.get('/admin/recipes/chair-order')).html))).not.toContain(
      'no group named',
    );
  });

  it('saved in the YAML editor, is saved and its page says which group is missing', async () => {
    portal = await startAdminPortal({ 'app.yaml': APP });
    const admin = await signIn(portal.app, 'ada');
    const editor = await admin.get('/admin/recipes/new');
    const saved = await admin.submit(editor, '/admin/recipes/save', {
      yaml: RECIPE.replace('name: chair-order', 'name: chair-typed'),
    });
    expect(saved.status).toBe(303);
    const page = textOf(mainOf((await admin.get(saved.location!)).html));
    expect(page).toContain('Recipe saved.');
    expect(page).toContain(`steps[0].to: ${WARNING}`);
    expect(page).toContain('steps[1].to[1]: no group named "facilities"');
  });
});
