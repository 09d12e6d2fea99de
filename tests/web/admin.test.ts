import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../src/core/types.js';
import { type AdminPortal, mainOf, signIn, startAdminPortal, textOf } from './admin-kit.js';

const APP = `
kind: app
key: laptop
name: Laptop
stages: [Submitted, Ordered, Declined]
fields:
  - { key: model, label: Model, type: select, required: true, options: [Air, Pro] }
  - { key: approver, label: Approver, type: user, required: true }
`;

const RECIPE = `
kind: recipe
name: laptop-order
trigger: { type: new_request, app: laptop }
steps:
  - id: ok
    action: assign_task
    to: "{{ record.approver }}"
    title: "Laptop {{ record.model }}"
  - action: change_stage
    stage: "{{ steps.ok.outcome = 'Approve' ? 'Ordered' : 'Nowhere' }}"
`;

const BROKEN = `kind: recipe
name: broken-one
trigger: { type: new_request, app: laptop }
steps:
  - id: a
    action: assign_task
    to: "{{ record.approver }}"
    title: "<b>bold</b> & co"
    expires_in: 2 days
`;

/**
 * The real server with the playground's people: Ada (admin), Ivan (made an operator here),
 * Riley (a user who files laptops) and Morgan (who approves them), signed in through the
 * playground's "continue as" form; every POST carries the session's CSRF token.
 */
describe('admin pages over HTTP', () => {
  let portal: AdminPortal;
  let app: FastifyInstance;
  let p: Record<string, User>;
  let operator: User;
  /** A browser stand-in signed in as the given demo user. */
  const signedIn = (user: User) => signIn(app, slugOf(user));
  const slugOf = (user: User) => user.identities.find((i) => i.provider === 'web')!.id.replace(/^demo-/, '');

  beforeEach(async () => {
    portal = await startAdminPortal({ 'app.yaml': APP, 'recipe.yaml': RECIPE, 'bad.yaml': BROKEN });
    app = portal.app;
    p = portal.people;
    operator = await portal.baton.users.setRole(p.ada!, p.ivan!._id, 'operator');
  });
  afterEach(async () => {
    await portal.close();
  });

  it('an admin creates an app, adds a field and a stage; bad input is shown inline with the values kept', async () => {
    const admin = await signedIn(p.ada!);
    const list = await admin.get('/admin/apps');
    expect(list.status).toBe(200);
    expect(textOf(list.html)).toContain('Laptop');

    // A bad key: 400, the error next to the key input, the other values kept, nothing created.
    const bad = await admin.submit(list, '/admin/apps', {
      key: 'Badge Key',
      name: 'Badge <requests>',
      stages: 'Submitted\nIssued',
    });
    expect(bad.status).toBe(400);
    expect(bad.html).toMatch(/<p class="field-error" id="app-key-error">app keys are lower-case/);
    expect(bad.html).toContain('aria-invalid="true" aria-describedby="app-key-error"');
    expect(bad.html).toContain('value="Badge &lt;requests&gt;"');
    expect(bad.html).toContain('Submitted\nIssued</textarea>');
    expect((await portal.baton.apps.list()).map((a) => a._id)).toEqual(['laptop']);

    const created = await admin.submit(bad, '/admin/apps', {
      key: 'badge',
      name: 'Badge',
      description: 'Office badges',
      stages: 'Submitted\n\n Issued \n',
    });
    expect(created.status).toBe(303);
    expect(created.location).toBe('/admin/apps/badge');
    expect(await portal.baton.apps.get('badge')).toMatchObject({
      key: 'badge',
      name: 'Badge',
      description: 'Office badges',
      stages: ['Submitted', 'Issued'],
      fields: [],
    });

    const editor = await admin.get('/admin/apps/badge');
    expect(editor.status).toBe(200);
    const floor = await admin.submit(editor, '/admin/apps/badge/fields', {
      key: 'floor',
      label: 'Floor',
      type: 'number',
      min: '0',
      max: '40',
      default: '3',
      required: 'on',
      help: 'Where you sit',
    });
    expect(floor.status).toBe(303);
    const colour = await admin.submit(editor, '/admin/apps/badge/fields', {
      key: 'colour',
      label: 'Colour',
      type: 'select',
      options: 'red | Red badge\nblue\n',
      default: 'blue',
    });
    expect(colour.status).toBe(303);
    const stage = await admin.submit(editor, '/admin/apps/badge/stages', { stage: 'Revoked', position: '1' });
    expect(stage.status).toBe(303);
    const badge = await portal.baton.apps.get('badge');
    expect(badge.stages).toEqual(['Submitted', 'Revoked', 'Issued']);
    expect(badge.fields).toEqual([
      {
        key: 'floor',
        label: 'Floor',
        type: 'number',
        required: true,
        help: 'Where you sit',
        min: 0,
        max: 40,
        default: 3,
      },
      {
        key: 'colour',
        label: 'Colour',
        type: 'select',
        required: false,
        options: [{ value: 'red', label: 'Red badge' }, 'blue'],
        default: 'blue',
      },
    ]);
    const after = await admin.get('/admin/apps/badge?added=stage');
    expect(textOf(after.html)).toContain('Stage added.');
    expect(textOf(after.html)).toMatch(/floor Floor Number yes min 0; max 40; default: 3 Where you sit/);

    // Field errors land on the field's own inputs; a duplicate key is explained; nothing is added.
    const badField = await admin.submit(after, '/admin/apps/badge/fields', {
      key: 'Bad Key',
      label: 'x',
      type: 'number',
      min: 'ten',
    });
    expect(badField.status).toBe(400);
    expect(badField.html).toMatch(/id="field-min-error">min must be a number/);
    expect(badField.html).toContain('value="Bad Key"');
    const badKey = await admin.submit(after, '/admin/apps/badge/fields', {
      key: 'Bad Key',
      label: 'x',
      type: 'text',
    });
    expect(badKey.status).toBe(400);
    expect(badKey.html).toMatch(/id="field-key-error">field keys are lower-case/);
    const noOptions = await admin.submit(after, '/admin/apps/badge/fields', {
      key: 'size',
      label: 'Size',
      type: 'select',
    });
    expect(noOptions.html).toMatch(/id="field-options-error">a select field needs options/);
    const dup = await admin.submit(after, '/admin/apps/badge/fields', {
      key: 'floor',
      label: 'Again',
      type: 'text',
    });
    expect(dup.status).toBe(400);
    expect(textOf(dup.html)).toContain('Badge already has a field "floor".');
    const dupStage = await admin.submit(after, '/admin/apps/badge/stages', { stage: 'Issued' });
    expect(dupStage.status).toBe(400);
    expect(textOf(dupStage.html)).toContain('Badge already has a stage "Issued".');
    expect((await portal.baton.apps.get('badge')).fields.map((f) => f.key)).toEqual(['floor', 'colour']);
    expect((await portal.baton.apps.get('badge')).stages).toHaveLength(3);
  });

  it('an operator stops and starts a recipe (a stopped recipe starts no job) but cannot create or change apps', async () => {
    const op = await signedIn(operator);
    const recipes = await op.get('/admin/recipes');
    expect(recipes.status).toBe(200);
    const row = /<tr data-recipe="laptop-order">[\s\S]*?<\/tr>/.exec(recipes.html)![0];
    expect(textOf(row)).toContain('Running');
    expect(row).toContain(
      '<button type="submit" class="button" aria-describedby="recipe-laptop-order">Stop</button>',
    );
    // The invalid recipe: its problem with file and line, and no start button.
    const broken = /<tr data-recipe="broken-one">[\s\S]*?<\/tr>/.exec(recipes.html)![0];
    expect(textOf(broken)).toMatch(/Invalid .*bad\.yaml:9: steps\[0\]\.expires_in: expected a duration/);
    expect(broken).not.toContain('<button');
    // Operators see no pack installer.
    expect(recipes.html).not.toContain('action="/admin/recipes/install"');

    const stopped = await op.submit(recipes, '/admin/recipes/laptop-order/stop');
    expect(stopped.status).toBe(303);
    expect((await portal.baton.recipes.get(operator, 'laptop-order')).state).toBe('stopped');
    const page = await op.get(stopped.location!);
    expect(textOf(page.html)).toContain('Recipe stopped');
    expect(textOf(/<tr data-recipe="laptop-order">[\s\S]*?<\/tr>/.exec(page.html)![0])).toContain('Stopped');
    await portal.baton.requests.file(p.riley!, 'laptop', { model: 'Air', approver: p.morgan!._id });
    expect(await portal.baton.recipes.listJobs(operator)).toEqual([]);

    const started = await op.submit(page, '/admin/recipes/laptop-order/start');
    expect(started.status).toBe(303);
    expect((await portal.baton.recipes.get(operator, 'laptop-order')).state).toBe('running');
    await portal.baton.requests.file(p.riley!, 'laptop', { model: 'Pro', approver: p.morgan!._id });
    expect((await portal.baton.recipes.listJobs(operator)).map((j) => j.request_id)).toEqual(['LAPTOP-2']);

    // Apps: read-only for operators — no forms, and a forged POST is refused with nothing changed.
    const apps = await op.get('/admin/apps');
    expect(apps.status).toBe(200);
    expect(apps.html).not.toContain('action="/admin/apps"');
    expect(textOf(apps.html)).toContain('Only admins can create or change apps.');
    const forged = await op.post('/admin/apps', { key: 'sneaky', name: 'Sneaky', stages: 'A' });
    expect(forged.status).toBe(403);
    expect(textOf(forged.html)).toContain('Only admins can create apps.');
    expect((await portal.baton.apps.list()).map((a) => a._id)).toEqual(['laptop']);
    const field = await op.post('/admin/apps/laptop/fields', { key: 'x', label: 'X', type: 'text' });
    expect(field.status).toBe(403);
    const stage = await op.post('/admin/apps/laptop/stages', { stage: 'Lost' });
    expect(stage.status).toBe(403);
    expect(await portal.baton.apps.get('laptop')).toMatchObject({
      stages: ['Submitted', 'Ordered', 'Declined'],
      fields: [{ key: 'model' }, { key: 'approver' }],
    });
    const pack = await op.post('/admin/recipes/install', { pack: 'expense' });
    expect(pack.status).toBe(403);
    expect(await portal.baton.apps.find('expense')).toBeNull();
    const group = await op.post('/admin/groups', { name: 'ops' });
    expect(group.status).toBe(403);
    expect(await portal.baton.groups.find('ops')).toBeNull();
    const role = await op.post('/admin/roles', { user: p.riley!._id, role: 'admin' });
    expect(role.status).toBe(403);
    expect((await portal.baton.users.get(p.riley!._id)).role).toBe('user');
  });

  it('a user gets 403 on every admin page and POST', async () => {
    const alice = await signedIn(p.riley!);
    for (const url of [
      '/admin',
      '/admin/apps',
      '/admin/apps/laptop',
      '/admin/recipes',
      '/admin/recipes/laptop-order',
      '/admin/jobs',
      '/admin/jobs/j_nothing',
      '/admin/groups',
      '/admin/groups/hr',
      '/admin/roles',
    ]) {
      const page = await alice.get(url);
      expect(page.status, url).toBe(403);
      expect(textOf(mainOf(page.html)), url).toMatch(
        /Only admins and operators can (use the admin pages|see recipes|see jobs)\./,
      );
    }
    const stop = await alice.post('/admin/recipes/laptop-order/stop', {});
    expect(stop.status).toBe(403);
    expect((await portal.baton.recipes.get(p.ada!, 'laptop-order')).state).toBe('running');
    const member = await alice.post('/admin/groups/hr/add', { user: p.riley!._id });
    expect(member.status).toBe(403);
    expect((await portal.baton.groups.get('hr')).members).not.toContain(p.riley!._id);
    // Nobody signed in: to the sign-in page.
    const anonymous = await app.inject({ method: 'GET', url: '/admin/recipes' });
    expect(anonymous.statusCode).toBe(303);
    expect(anonymous.headers.location).toBe('/login?return_to=%2Fadmin%2Frecipes');
  });

  it('the jobs list filters by status and recipe; a failed job shows its error and an operator reruns it', async () => {
    const { requests, tasks } = portal.baton;
    await requests.file(p.riley!, 'laptop', { model: 'Air', approver: p.morgan!._id });
    await requests.file(p.riley!, 'laptop', { model: 'Pro', approver: p.morgan!._id });
    const [t] = await tasks.listOpenFor(p.morgan!);
    await tasks.complete(p.morgan!, t!._id, 'Reject'); // → stage 'Nowhere', which the app lacks
    const [failed] = await portal.baton.recipes.listJobs(p.ada!, { status: 'failed' });
    expect(failed).toBeDefined();

    const op = await signedIn(operator);
    const all = await op.get('/admin/jobs');
    expect(all.status).toBe(200);
    expect([...all.html.matchAll(/<tr data-job="/g)]).toHaveLength(2);
    const onlyFailed = await op.get('/admin/jobs?status=failed&recipe=laptop-order');
    const rows = [...onlyFailed.html.matchAll(/<tr data-job="([^"]+)">([\s\S]*?)<\/tr>/g)];
    expect(rows.map((r) => r[1])).toEqual([failed!._id]);
    expect(textOf(rows[0]![2]!)).toMatch(/laptop-order LAPTOP-1 Failed .*Laptop has no stage "Nowhere"/);
    const firstOnly = await op.get('/admin/jobs?limit=1');
    expect([...firstOnly.html.matchAll(/<tr data-job="/g)]).toHaveLength(1);
    expect(firstOnly.html).toContain('<a href="/admin/jobs?limit=4">Show more</a>');
    const waiting = await op.get('/admin/jobs?status=waiting');
    expect(textOf(waiting.html)).toMatch(/LAPTOP-2 Waiting Assign a task ok/);
    expect((await op.get('/admin/jobs?status=bogus')).status).toBe(400);
    expect(textOf((await op.get('/admin/jobs?recipe=nothing-here')).html)).toContain(
      'No jobs of nothing-here.',
    );

    const detail = await op.get(`/admin/jobs/${failed!._id}`);
    expect(detail.status).toBe(200);
    const text = textOf(detail.html);
    expect(text).toMatch(/Failed at change_stage#2 .*Laptop has no stage "Nowhere"/);
    expect(text).toMatch(/ok Completed Reject Morgan Manager/);
    expect(text).toMatch(
      /1 ok Assign a task Waiting .* 2 change_stage#2 Change the stage Failed .*Laptop has no stage/,
    );
    expect((await op.get('/admin/jobs/j_missing')).status).toBe(404);

    // A rerun that fails again stays failed; after the admin adds the stage, the rerun completes.
    const again = await op.submit(detail, `/admin/jobs/${failed!._id}/rerun`);
    expect(again.status).toBe(303);
    expect((await portal.baton.recipes.getJob(operator, failed!._id)).status).toBe('failed');
    const admin = await signedIn(p.ada!);
    await admin.submit(await admin.get('/admin/apps/laptop'), '/admin/apps/laptop/stages', {
      stage: 'Nowhere',
    });
    const rerun = await op.submit(
      await op.get(`/admin/jobs/${failed!._id}`),
      `/admin/jobs/${failed!._id}/rerun`,
    );
    expect(rerun.status).toBe(303);
    const job = await portal.baton.recipes.getJob(operator, failed!._id);
    expect(job.status).toBe('completed');
    expect(job.reruns).toBe(2);
    expect((await requests.get(p.ada!, 'LAPTOP-1')).stage).toBe('Nowhere');
    const done = await op.get(rerun.location!);
    expect(textOf(done.html)).toContain('Rerun: the job is now completed.');
    expect(done.html).not.toContain(`action="/admin/jobs/${failed!._id}/rerun"`);
    // Only failed jobs can be rerun.
    const twice = await op.post(`/admin/jobs/${failed!._id}/rerun`, {});
    expect(twice.status).toBe(400);
  });

  it('recipes: source shown escaped with problem lines marked; an admin installs a template pack', async () => {
    const admin = await signedIn(p.ada!);
    const broken = await admin.get('/admin/recipes/broken-one');
    expect(broken.status).toBe(200);
    expect(broken.html).toContain('&lt;b&gt;bold&lt;/b&gt; &amp; co');
    expect(broken.html).not.toContain('<b>bold</b>');
    expect(broken.html).toMatch(/<span class="line bad" id="L9">/);
    expect(broken.html).toMatch(/<a href="#L9">[^<]*bad\.yaml:9: /);
    const ok = await admin.get('/admin/recipes/laptop-order');
    expect(textOf(ok.html)).toMatch(/State: Running Stop/);
    expect(textOf(ok.html)).toContain('Steps ok Assign a task Change the stage');
    const stopped = await admin.submit(ok, '/admin/recipes/laptop-order/stop');
    expect(stopped.location).toBe('/admin/recipes/laptop-order?done=stopped');
    expect(textOf((await admin.get(stopped.location!)).html)).toMatch(/State: Stopped Start/);
    expect((await admin.get('/admin/recipes/nope')).status).toBe(404);

    const list = await admin.get('/admin/recipes');
    expect(list.html).toContain('<option value="expense">expense</option>');
    const installed = await admin.submit(list, '/admin/recipes/install', { pack: 'expense' });
    expect(installed.status).toBe(303);
    expect(installed.location).toBe('/admin/recipes?installed=expense');
    expect(await portal.baton.apps.find('expense')).not.toBeNull();
    const after = await admin.get(installed.location!);
    expect(textOf(after.html)).toContain('Template pack expense installed.');
    expect(after.html).toMatch(/<tr data-recipe="expense-approval">/);
    const unknown = await admin.post('/admin/recipes/install', { pack: '../etc' });
    expect(unknown.status).toBe(404);
  });

  it('recipes: an admin writes one as YAML; problems come back with their lines and nothing is saved', async () => {
    const admin = await signedIn(p.ada!);
    const editor = await admin.get('/admin/recipes/new');
    expect(editor.status).toBe(200);
    const bad = RECIPE.replace('laptop-order', 'laptop-check').replace('title:', 'titel:');
    const refused = await admin.submit(editor, '/admin/recipes/save', { yaml: bad });
    expect(refused.status).toBe(400);
    expect(textOf(refused.html)).toMatch(
      /2 problems; nothing was saved\. line 5, column 5: steps\[0\]\.title: required line 8, column 5: steps\[0\]\.titel: unknown key "titel" \(did you mean "title"\?\)/,
    );
    expect(refused.html).toContain('aria-describedby="yaml-errors"');
    expect(refused.html).toContain('name: laptop-check'); // the text is kept
    await expect(portal.baton.recipes.get(p.ada!, 'laptop-check')).rejects.toThrow(/No recipe/);
    const unknownApp = await admin.submit(editor, '/admin/recipes/save', {
      yaml: RECIPE.replace('laptop-order', 'laptop-check').replace('app: laptop', 'app: nothing'),
    });
    expect(unknownApp.status).toBe(400);
    expect(textOf(unknownApp.html)).toContain('triggered by app "nothing", which does not exist');

    const saved = await admin.submit(editor, '/admin/recipes/save', {
      yaml: RECIPE.replace('laptop-order', 'laptop-check'),
    });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe('/admin/recipes/laptop-check?done=saved');
    const doc = await portal.baton.recipes.get(p.ada!, 'laptop-check');
    expect(doc).toMatchObject({ state: 'running', source: 'store', trigger_app: 'laptop' });
    const page = await admin.get(saved.location!);
    expect(textOf(page.html)).toContain('Recipe saved.');
    expect(page.html).toContain('href="/admin/recipes/laptop-check/edit"');
    const edit = await admin.get('/admin/recipes/laptop-check/edit');
    expect(edit.html).toContain('name: laptop-check');

    // Operators may not write recipes.
    const op = await signedIn(operator);
    expect((await op.get('/admin/recipes/new')).status).toBe(403);
    const forged = await op.post('/admin/recipes/save', { yaml: RECIPE.replace('laptop-order', 'sneaky') });
    expect(forged.status).toBe(403);
    await expect(portal.baton.recipes.get(p.ada!, 'sneaky')).rejects.toThrow(/No recipe/);
  });

  it('apps: an admin edits an app as YAML (the only way to rename or remove); problems come back with lines', async () => {
    const admin = await signedIn(p.ada!);
    const page = await admin.get('/admin/apps/laptop');
    expect(page.html).toContain('href="/admin/apps/laptop/edit"');
    const editor = await admin.get('/admin/apps/laptop/edit');
    expect(editor.status).toBe(200);
    const text = /<textarea id="yaml" name="yaml"[^>]*>([\s\S]*?)<\/textarea>/
      .exec(editor.html)![1]!
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
    expect(text).toMatch(/^kind: app\nkey: laptop\nname: Laptop\n/);
    const broken = text.replace(/stages:\n( {2}- .*\n)+/, 'stages: []\n');
    const refused = await admin.submit(editor, '/admin/recipes/save', { yaml: broken });
    expect(refused.status).toBe(400);
    expect(textOf(refused.html)).toMatch(
      /1 problem; nothing was saved\. line 4, column \d+: stages: an app needs at least one stage/,
    );
    expect((await portal.baton.apps.get('laptop')).stages).toEqual(['Submitted', 'Ordered', 'Declined']);
    const saved = await admin.submit(editor, '/admin/recipes/save', {
      yaml: text.replace('label: Model', 'label: Laptop model').replace(/ {2}- Declined\n/, ''),
    });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe('/admin/apps/laptop');
    const laptop = await portal.baton.apps.get('laptop');
    expect(laptop.stages).toEqual(['Submitted', 'Ordered']);
    expect(laptop.fields[0]).toMatchObject({ key: 'model', label: 'Laptop model' });
    const op = await signedIn(operator);
    expect((await op.get('/admin/apps/laptop/edit')).status).toBe(403);
    expect((await op.get('/admin/apps/laptop')).html).not.toContain('/admin/apps/laptop/edit');
  });

  it('a refused save keeps the editor of the recipe or app it was opened on (heading, file note)', async () => {
    const admin = await signedIn(p.ada!);
    const editor = await admin.get('/admin/recipes/laptop-order/edit');
    expect(textOf(editor.html)).toContain('Edit laptop-order');
    const refused = await admin.submit(editor, '/admin/recipes/save', {
      yaml: RECIPE.replace('title:', 'titel:'),
    });
    expect(refused.status).toBe(400);
    // It read "New recipe", and the file note was gone.
    expect(/<h1>([^<]*)<\/h1>/.exec(refused.html)![1]).toBe('Edit laptop-order');
    expect(textOf(refused.html)).toContain('This recipe comes from a file');
    const again = await admin.submit(refused, '/admin/recipes/save', {
      yaml: RECIPE.replace('title:', 'titel:'),
    });
    expect(/<h1>([^<]*)<\/h1>/.exec(again.html)![1]).toBe('Edit laptop-order');

    const appEditor = await admin.get('/admin/apps/laptop/edit');
    const appRefused = await admin.submit(appEditor, '/admin/recipes/save', {
      yaml: 'kind: app\nkey: laptop\n',
    });
    expect(appRefused.status).toBe(400);
    expect(/<h1>([^<]*)<\/h1>/.exec(appRefused.html)![1]).toBe('Edit Laptop');
    expect(textOf(appRefused.html)).toContain('This app comes from a file');
  });

  it('groups: an admin creates a group and adds and removes members', async () => {
    const admin = await signedIn(p.ada!);
    const groups = await admin.get('/admin/groups');
    expect(textOf(mainOf(groups.html))).toMatch(/hr Human resources 1 member Hana HR/);
    const bad = await admin.submit(groups, '/admin/groups', { name: 'IT People', description: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.html).toMatch(/id="group-name-error">Use lower-case|id="group-name-error">Use lowercase/);
    expect(bad.html).toContain('value="IT People"');
    const created = await admin.submit(groups, '/admin/groups', {
      name: 'facilities',
      description: 'Help desk',
    });
    expect(created.status).toBe(303);
    expect(created.location).toBe('/admin/groups/facilities?done=created');
    expect(await portal.baton.groups.get('facilities')).toMatchObject({
      description: 'Help desk',
      members: [],
    });
    const dup = await admin.submit(groups, '/admin/groups', { name: 'facilities' });
    expect(dup.status).toBe(400);
    expect(textOf(dup.html)).toContain('Group facilities already exists.');

    const page = await admin.get('/admin/groups/facilities');
    expect(page.html).toContain(
      `<option value="${p.morgan!._id}">Morgan Manager (morgan@playground.baton.invalid)</option>`,
    );
    expect((await admin.submit(page, '/admin/groups/facilities/add', { user: p.morgan!._id })).status).toBe(
      303,
    );
    expect((await admin.submit(page, '/admin/groups/facilities/add', { user: p.ivan!._id })).status).toBe(
      303,
    );
    expect((await portal.baton.groups.get('facilities')).members).toEqual([p.morgan!._id, p.ivan!._id]);
    const withMembers = await admin.get('/admin/groups/facilities?done=added');
    expect(textOf(withMembers.html)).toMatch(
      /Members \(2\) Morgan Manager \(morgan@playground\.baton\.invalid\) Remove Ivan IT/,
    );
    // Members are no longer offered; removing one leaves the other.
    expect(withMembers.html).not.toContain(`<option value="${p.morgan!._id}">`);
    const removed = await admin.submit(withMembers, '/admin/groups/facilities/remove', {
      user: p.morgan!._id,
    });
    expect(removed.status).toBe(303);
    expect((await portal.baton.groups.get('facilities')).members).toEqual([p.ivan!._id]);
    expect((await admin.get('/admin/groups/nope')).status).toBe(404);
    const noOne = await admin.post('/admin/groups/facilities/add', { user: '' });
    expect(noOne.status).toBe(400);
    expect(textOf(mainOf(noOne.html))).toContain('id must not be empty');
    expect((await admin.post('/admin/roles', { user: '$where', role: 'admin' })).status).toBe(400);
    // Deleting: operators may not; admins may.
    const deletePage = await admin.get('/admin/groups/facilities');
    expect((await (await signedIn(operator)).post('/admin/groups/facilities/delete', {})).status).toBe(403);
    expect(await portal.baton.groups.find('facilities')).not.toBeNull();
    // The group's page links to a confirm step; only its button deletes.
    expect(deletePage.html).toContain('href="/admin/groups/facilities/delete"');
    const confirm = await admin.get('/admin/groups/facilities/delete');
    expect(await portal.baton.groups.find('facilities')).not.toBeNull();
    const deleted = await admin.submit(confirm, '/admin/groups/facilities/delete');
    expect(deleted.location).toBe('/admin/groups?deleted=1');
    expect(await portal.baton.groups.find('facilities')).toBeNull();
    expect(textOf((await admin.get(deleted.location!)).html)).toContain('Group deleted.');
    await portal.baton.groups.create(p.ada!, 'facilities');
    await portal.baton.groups.addMember(p.ada!, 'facilities', p.ivan!._id);

    // Operators see groups but cannot change them.
    const op = await signedIn(operator);
    const opPage = await op.get('/admin/groups/facilities');
    expect(opPage.status).toBe(200);
    expect(mainOf(opPage.html)).not.toContain('<form method="post"');
    const forged = await op.post('/admin/groups/facilities/remove', { user: p.ivan!._id });
    expect(forged.status).toBe(403);
    expect((await portal.baton.groups.get('facilities')).members).toEqual([p.ivan!._id]);
  });

  it('roles: an admin grants and revokes roles; the last admin cannot demote themselves', async () => {
    const admin = await signedIn(p.ada!);
    const roles = await admin.get('/admin/roles');
    expect(roles.status).toBe(200);
    expect(
      textOf(/<tr data-user="[^"]+">\s*<td id="user-[^"]+">Ivan IT[\s\S]*?<\/tr>/.exec(roles.html)![0]),
    ).toContain('operator');
    const granted = await admin.submit(roles, '/admin/roles', { user: p.riley!._id, role: 'operator' });
    expect(granted.status).toBe(303);
    expect((await portal.baton.users.get(p.riley!._id)).role).toBe('operator');
    expect(textOf((await admin.get(granted.location!)).html)).toContain(
      'Riley Requester is now an operator.',
    );
    await admin.submit(roles, '/admin/roles', { user: p.riley!._id, role: 'user' });
    expect((await portal.baton.users.get(p.riley!._id)).role).toBe('user');
    // Finding people: by part of a name, by role.
    const found = await admin.get('/admin/roles?q=rile');
    expect([...found.html.matchAll(/<tr data-user="([^"]+)"/g)].map((m) => m[1])).toEqual([p.riley!._id]);
    const operators = await admin.get('/admin/roles?role=operator');
    expect([...operators.html.matchAll(/<tr data-user="([^"]+)"/g)].map((m) => m[1])).toEqual([p.ivan!._id]);
    const byEmail = await admin.get(`/admin/roles?q=${encodeURIComponent('hana@playground.baton.invalid')}`);
    expect([...byEmail.html.matchAll(/<tr data-user="([^"]+)"/g)].map((m) => m[1])).toEqual([p.hana!._id]);
    const last = await admin.submit(roles, '/admin/roles', { user: p.ada!._id, role: 'user' });
    expect(last.status).toBe(400);
    expect(textOf(last.html)).toContain('You are the last admin');
    expect((await portal.baton.users.get(p.ada!._id)).role).toBe('admin');
    const unknownRole = await admin.submit(roles, '/admin/roles', { user: p.riley!._id, role: 'owner' });
    expect(unknownRole.status).toBe(400);
    expect((await portal.baton.users.get(p.riley!._id)).role).toBe('user');

    // Operators see roles, with no way to change them.
    const op = await (await signedIn(operator)).get('/admin/roles');
    expect(op.status).toBe(200);
    expect(op.html).not.toContain('<form method="post" action="/admin/roles"');
  });

  it('the overview counts what is there and names the role', async () => {
    const page = await (await signedIn(operator)).get('/admin');
    expect(page.status).toBe(200);
    const text = textOf(page.html);
    expect(text).toContain('You are an operator');
    expect(text).toMatch(/Recipes 2 1 running, 0 stopped, 1 invalid/);
    expect(text).toMatch(/Apps 1 2 fields in all/);
    expect(text).toMatch(/Groups 4/);
  });
});

describe('admin jobs pages: a job a stop step ended', () => {
  let portal: AdminPortal;
  afterEach(async () => {
    await portal.close();
  });

  it('the list and the job page say why it stopped', async () => {
    portal = await startAdminPortal({
      'app.yaml': APP,
      'guard.yaml': `
kind: recipe
name: laptop-guard
trigger: { type: new_request, app: laptop }
steps:
  - if: "record.model = 'Air'"
    then:
      - action: stop
        reason: Airs come from the stock <cupboard>
  - action: change_stage
    stage: Ordered
`,
    });
    const p = portal.people;
    await portal.baton.requests.file(p.riley!, 'laptop', { model: 'Air', approver: p.morgan!._id });
    const [job] = await portal.baton.recipes.listJobs(p.ada!, {});
    expect(job?.stop_reason).toBe('Airs come from the stock <cupboard>');
    const admin = await signIn(portal.app, 'ada');
    const list = await admin.get('/admin/jobs');
    expect(textOf(list.html)).toContain('Stopped: Airs come from the stock <cupboard>');
    const detail = await admin.get(`/admin/jobs/${job!._id}`);
    expect(textOf(detail.html)).toContain('Stopped by a stop step: Airs come from the stock <cupboard>');
    expect(detail.html).toContain('&lt;cupboard&gt;');
  });
});
