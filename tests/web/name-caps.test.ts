import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminPortal, mainOf, signIn, startAdminPortal, textOf } from './admin-kit.js';

const FILES = {
  'laptop.yaml': `
kind: app
key: laptop
name: Laptop
stages: [Submitted, Approved]
fields:
  - { key: model, label: Model, type: text }
`,
};
const long = (n: number) => `a${'b'.repeat(n - 1)}`;

/**
 * Nothing bounded app keys, app names, stage names or recipe names: an app with a 300-character
 * key was created, and none of its pages opened (the router takes at most 100 characters a
 * parameter). Now they are capped (as group names are, at 63) with the reason next to the input.
 */
describe('names and keys have a length limit, said where they are typed', () => {
  let portal: AdminPortal;
  beforeAll(async () => {
    portal = await startAdminPortal(FILES);
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('the create-app form refuses a key over 100 and a name over 5,000 characters, inline', async () => {
    const ada = await signIn(portal.app, 'ada');
    const page = await ada.get('/admin/apps');
    expect(page.html).toMatch(/<input id="app-key" name="key"[^>]* maxlength="100"/);
    expect(page.html).toMatch(/<input id="app-name" name="name"[^>]* maxlength="5000"/);
    const refused = await ada.submit(page, '/admin/apps', {
      key: long(300),
      name: 'N'.repeat(5001),
      stages: `Submitted\n${'S'.repeat(5001)}`,
    });
    expect(refused.status).toBe(400);
    expect(refused.html).toMatch(/id="app-key-error">[^<]*at most 100 characters/);
    expect(refused.html).toMatch(/id="app-name-error">[^<]*at most 5000 characters/);
    expect(refused.html).toMatch(/id="app-stages-error">[^<]*at most 5000 characters/);
    expect((await portal.baton.apps.list()).map((a) => a._id)).toEqual(['laptop']);

    const ok = await ada.submit(page, '/admin/apps', {
      key: long(100),
      name: 'N'.repeat(5000),
      stages: 'Open',
    });
    expect(ok.status).toBe(303);
    expect((await ada.get(ok.location!)).status).toBe(200);
  });

  it('the add-stage form and the YAML editor say so too', async () => {
    const ada = await signIn(portal.app, 'ada');
    const app = await ada.get('/admin/apps/laptop');
    expect(app.html).toMatch(/<input id="stage-name" name="stage"[^>]* maxlength="5000"/);
    const stage = await ada.submit(app, '/admin/apps/laptop/stages', { stage: 'S'.repeat(5001) });
    expect(stage.status).toBe(400);
    expect(stage.html).toMatch(/id="stage-name-error">[^<]*at most 5000 characters/);

    const editor = await ada.get('/admin/recipes/new');
    const recipe = await ada.submit(editor, '/admin/recipes/save', {
      yaml: `kind: recipe\nname: ${long(101)}\ntrigger: { type: new_request, app: laptop }\nsteps:\n  - action: change_stage\n    stage: Approved\n`,
    });
    expect(recipe.status).toBe(400);
    expect(textOf(mainOf(recipe.html))).toContain(
      'line 2, column 7: name: recipe names are at most 100 characters',
    );
  });
});
