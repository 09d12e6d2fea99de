import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, recipesDir } from '../helpers/runtime.js';
import { type AdminPortal, mainOf, signIn, startAdminPortal, textOf } from '../web/admin-kit.js';

/**
 * `quorum: {mode: all}` (or count) on a task sent to `to: a@example.com` was warned about (a
 * quorum counts a group's members' answers; one person's answer decides), but not on a task sent
 * to `"{{ record.owner }}"` where owner is a user field — one person just the same — nor to the
 * requester: the author believed the task waited for several answers.
 */

const APP = `kind: app
key: laptop
name: Laptop request
stages: [Submitted, Approved, Rejected]
fields:
  - { key: owner, label: Owner, type: user, required: true }
  - { key: cc, label: Copy to, type: email }
  - { key: board, label: Board, type: select, options: [group:it, group:finance] }
  - { key: reviewer, label: Reviewer, type: select, options: [ann@example.com, bob@example.com] }
`;

const RECIPE = `kind: recipe
name: laptop-flow
trigger: { type: new_request, app: laptop }
steps:
  - id: mgr
    action: assign_task
    to: "{{ record.owner }}"
    title: Laptop?
    quorum: { mode: all }
  - id: cc
    action: assign_task
    to: ["{{ record.cc }}"]
    title: Laptop?
    quorum: { mode: count, count: 2 }
  - id: self
    action: assign_task
    to: "{{ request.requester }}"
    title: Still want it?
    quorum: { mode: all }
  - id: rev
    action: assign_task
    to: "{{ record.reviewer }}"
    title: Review
    quorum: { mode: all }
  - id: board
    action: assign_task
    to: "{{ record.board }}"
    title: Board
    quorum: { mode: all }
  - id: any
    action: assign_task
    to: "{{ record.owner }}"
    title: Fine
`;

const advice =
  "counts the answers of a group's members: this task is for one person, whose answer decides it (assign it to group:<name>, or to a select field whose options are groups)";

describe('a quorum on a task sent to a person field', () => {
  it('npm run validate warns at the quorum, naming the field', () => {
    const dir = recipesDir({ 'app.yaml': APP, 'flow.yaml': RECIPE });
    const result = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/cli/validate.ts')], {
      cwd: ROOT,
      env: { ...process.env, RECIPES_DIR: dir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.stderr).toBe('');
    const file = join(dir, 'flow.yaml');
    expect(result.stdout.trim().split('\n')).toEqual([
      `${file}:9: warning: steps[0].quorum.mode: quorum mode "all" ${advice.replace('one person', 'one person (record.owner is a user field, Owner)')}`,
      `${file}:14: warning: steps[1].quorum.mode: quorum mode "count" ${advice.replace('one person', 'one person (record.cc is an email field, Copy to)')}`,
      `${file}:19: warning: steps[2].quorum.mode: quorum mode "all" ${advice.replace('one person', 'one person (the requester)')}`,
      `${file}:24: warning: steps[3].quorum.mode: quorum mode "all" ${advice.replace('one person', 'one person (record.reviewer is a select field, Reviewer, whose options are people, not groups)')}`,
      '2 files checked (1 app, 1 recipe): 0 errors, 4 warnings',
    ]);
    expect(result.status).toBe(0);
  });

  describe('in the YAML editor', () => {
    let portal: AdminPortal;
    beforeAll(async () => {
      portal = await startAdminPortal({ 'app.yaml': APP });
    });
    afterAll(async () => {
      await portal?.close();
    });

    it('the saved recipe shows the same warning', async () => {
      const admin = await signIn(portal.app, 'ada');
      const editor = await admin.get('/admin/recipes/new');
      const saved = await admin.submit(editor, '/admin/recipes/save', { yaml: RECIPE });
      expect(saved.status).toBe(303);
      const page = await admin.get(saved.location!);
      expect(textOf(mainOf(page.html))).toContain(
        `warning: portal.yaml:9: steps[0].quorum.mode: quorum mode "all" ${advice.replace('one person', 'one person (record.owner is a user field, Owner)')}`,
      );
    });
  });
});
