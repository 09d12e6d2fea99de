import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminPortal, mainOf, type Page, signIn, startAdminPortal, textOf } from './admin-kit.js';

const APP = `
kind: app
key: laptop
name: Laptop
stages: [Submitted, Approved, Rejected]
fields:
  - { key: approver, label: Approver, type: user, required: true }
`;
const RECIPE = `kind: recipe
name: laptop-approval
trigger: { type: new_request, app: laptop }
steps:
  - id: approval
    action: assign_task
    to: "{{ record.approver }}"
    title: "Laptop {{ request.id }}"
    outcomes: [Approve, Reject]
`;
const OTHER = RECIPE.replace('name: laptop-approval', 'name: laptop-notice');

function textarea(page: Page): string {
  return /<textarea id="yaml" name="yaml"[^>]*>([\s\S]*?)<\/textarea>/
    .exec(page.html)![1]!
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/**
 * Changing `name:` in the editor of laptop-approval saved a second recipe beside it, both running
 * (every new request started both), without a word; a new recipe named like an installed one
 * replaced it; and changing an app's `key:` made a second app.
 */
describe('renaming in the YAML editor', () => {
  let portal: AdminPortal;
  beforeAll(async () => {
    portal = await startAdminPortal({ 'laptop.yaml': APP, 'approval.yaml': RECIPE, 'notice.yaml': OTHER });
  });
  afterAll(async () => {
    await portal?.close();
  });
  const names = async () =>
    (await portal.baton.recipes.list(portal.people.ada!)).map((r) => [r.name, r.state]);

  it('asks first, then saves a new recipe and stops or keeps the old one as chosen', async () => {
    const ada = await signIn(portal.app, 'ada');
    const editor = await ada.get('/admin/recipes/laptop-approval/edit');
    const renamed = textarea(editor).replace('name: laptop-approval', 'name: laptop-review');
    const asked = await ada.submit(editor, '/admin/recipes/save', { yaml: renamed });
    expect(asked.status).toBe(409);
    const said = textOf(mainOf(asked.html));
    expect(said).toContain('You changed the name from laptop-approval to laptop-review');
    expect(said).toContain('Nothing was saved yet');
    expect(asked.html).toContain('name: laptop-review'); // the text is kept
    expect(await names()).toEqual([
      ['laptop-approval', 'running'],
      ['laptop-notice', 'running'],
    ]);

    const stopped = await ada.submit(asked, '/admin/recipes/save', { yaml: renamed, rename: 'stop' });
    expect(stopped.status).toBe(303);
    expect(stopped.location).toBe('/admin/recipes/laptop-review?done=renamed&from=laptop-approval');
    expect(textOf(mainOf((await ada.get(stopped.location!)).html))).toContain(
      'Saved as a new recipe; laptop-approval was stopped',
    );
    expect(await names()).toEqual([
      ['laptop-approval', 'stopped'],
      ['laptop-notice', 'running'],
      ['laptop-review', 'running'],
    ]);

    const again = await ada.get('/admin/recipes/laptop-review/edit');
    const copy = textarea(again).replace('name: laptop-review', 'name: laptop-copy');
    const kept = await ada.submit(again, '/admin/recipes/save', { yaml: copy, rename: 'keep' });
    expect(kept.location).toBe('/admin/recipes/laptop-copy?done=saved');
    expect((await names()).filter(([, s]) => s === 'running').map(([n]) => n)).toEqual([
      'laptop-copy',
      'laptop-notice',
      'laptop-review',
    ]);
  });

  it('refuses to replace another recipe or app, or to change an app key, saying how', async () => {
    const ada = await signIn(portal.app, 'ada');
    const editor = await ada.get('/admin/recipes/laptop-notice/edit');
    const onto = await ada.submit(editor, '/admin/recipes/save', {
      yaml: textarea(editor).replace('name: laptop-notice', 'name: laptop-approval'),
      rename: 'keep',
    });
    expect(onto.status).toBe(409);
    expect(textOf(mainOf(onto.html))).toContain('A recipe named laptop-approval already exists');

    const fresh = await ada.get('/admin/recipes/new');
    const dup = await ada.submit(fresh, '/admin/recipes/save', { yaml: OTHER });
    expect(dup.status).toBe(409);
    expect(textOf(mainOf(dup.html))).toContain('A recipe named laptop-notice already exists');
    expect((await portal.baton.recipes.get(portal.people.ada!, 'laptop-notice')).source).toBe('file');

    const appEditor = await ada.get('/admin/apps/laptop/edit');
    const rekeyed = await ada.submit(appEditor, '/admin/recipes/save', {
      yaml: textarea(appEditor).replace('key: laptop', 'key: laptops'),
    });
    expect(rekeyed.status).toBe(409);
    expect(textOf(mainOf(rekeyed.html))).toContain("An app's key cannot be changed");
    expect((await portal.baton.apps.list()).map((a) => a._id)).toEqual(['laptop']);
  });
});
