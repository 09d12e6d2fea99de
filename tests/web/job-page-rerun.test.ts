import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { type Portal, startPortal } from './harness.js';
import { signedIn, textOf } from './http-client.js';

const FILES = {
  'badge.yaml': `
kind: app
key: badge
name: Badge
id_prefix: BDG
stages: [Asked, Printing]
fields:
  - { key: who, label: Name on the badge, type: text, required: true }
`,
  'badge-flow.yaml': `
kind: recipe
name: badge-flow
trigger: { type: new_request, app: badge }
steps:
  - action: change_stage
    stage: Printing
  - action: notify
    to: group:front-desk
    text: "Please print a badge for {{ record.who }}"
`,
};

/**
 * The job page showed the raw recipe version ("version rv_…"), and after a successful rerun still
 * said "Current step notify#1" and "No step has a result yet." as if the job had not run.
 */
describe('the job page after a rerun', () => {
  let portal: Portal;
  beforeAll(async () => {
    portal = await startPortal({ RECIPES_DIR: recipesDir(FILES) });
  });
  afterAll(async () => {
    await portal.close();
  });

  it('says what a person needs: which version in words, no current step once done', async () => {
    const riley = await signedIn(portal.url, 'riley');
    const ada = await signedIn(portal.url, 'ada');
    await riley.get('/apps/badge/new');
    expect((await riley.post('/apps/badge/new', { who: 'Sam Lee' })).status).toBe(303);
    // The recipe names a group nobody has created yet: the job fails at its notify step.
    const failed = await eventually(async () => {
      const list = await ada.get('/admin/jobs?status=failed');
      return /href="\/admin\/jobs\/([^"]+)"/.exec(list.body)?.[1];
    });
    const before = await ada.get(`/admin/jobs/${failed}`);
    expect(before.status).toBe(200);
    expect(before.body).not.toMatch(/rv_[A-Za-z0-9_-]{6,}/);
    expect(textOf(before.body)).toMatch(
      /Recipe badge-flow — the version installed now, first run \d{4}-\d\d-\d\d \d\d:\d\d UTC/,
    );
    expect(textOf(before.body)).toContain('Current step Notify (notify#2)');

    // The admin creates the group and reruns the job: it completes.
    await ada.get('/admin/groups');
    expect((await ada.post('/admin/groups', { name: 'front-desk' })).status).toBe(303);
    await ada.get(`/admin/jobs/${failed}`);
    const rerun = await ada.post(`/admin/jobs/${failed}/rerun`, {});
    expect(rerun.status).toBe(303);
    const after = await eventually(async () => {
      const page = await ada.get(rerun.location!);
      return page.body.includes('stage-completed') || /Rerun: the job is now completed/.test(page.body)
        ? page
        : null;
    });
    const text = textOf(after.body);
    expect(text).toContain('Rerun: the job is now completed.');
    expect(text).not.toContain('Current step');
    expect(text).not.toContain('No step has a result yet.');
    expect(text).toContain('None of its steps keeps a result');
    expect(after.body).not.toMatch(/rv_[A-Za-z0-9_-]{6,}/);
  });
});
