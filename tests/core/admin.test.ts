import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../src/core/errors.js';
import type { User } from '../../src/core/types.js';
import { UnsafeInputError } from '../../src/store/safe.js';
import { recipesDir, seedPeople, startTestRuntime, type TestRuntime, tempDir } from '../helpers/runtime.js';

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

describe('admin services: apps, recipes, jobs, groups, roles — each authorized by role', () => {
  let rt: TestRuntime;
  let p: Record<string, User>;
  beforeEach(async () => {
    rt = await startTestRuntime({ recipesDir: recipesDir({ 'app.yaml': APP, 'recipe.yaml': RECIPE }) });
    p = await seedPeople(rt.baton);
  });
  afterEach(async () => {
    await rt.close();
  });

  it('BATON_ADMINS bootstraps admins; roles are granted and revoked by admins only', async () => {
    const { users } = rt.baton;
    expect(p.admin!.role).toBe('admin');
    expect(p.alice!.role).toBe('user');
    await expect(users.setRole(p.alice!, p.alice!._id, 'admin')).rejects.toBeInstanceOf(ForbiddenError);
    const op = await users.setRole(p.admin!, p.carol!._id, 'operator');
    expect(op.role).toBe('operator');
    await expect(users.setRole(p.admin!, p.admin!._id, 'user')).rejects.toThrow(/last admin/);
    await users.setRole(p.admin!, p.carol!._id, 'user');
    expect((await users.get(p.carol!._id)).role).toBe('user');
  });

  it('one person across Slack, Teams and the web is one Baton user, linked by email', async () => {
    const { users } = rt.baton;
    const slack = await users.resolve({
      provider: 'slack',
      id: 'U0ALICE',
      name: 'Alice',
      email: 'ALICE@example.com',
    });
    const teams = await users.resolve({ provider: 'teams', id: '29:alice-aad', email: 'alice@example.com' });
    expect(slack._id).toBe(p.alice!._id);
    expect(teams._id).toBe(p.alice!._id);
    const again = await users.resolve({ provider: 'slack', id: 'U0ALICE' });
    expect(again._id).toBe(p.alice!._id);
    expect(again.identities.map((i) => i.provider).sort()).toEqual(['slack', 'teams', 'web']);
    expect((await users.lookup('slack:U0ALICE'))!._id).toBe(p.alice!._id);
    // Concurrent first sightings of a new person create one user.
    const many = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        users.resolve({ provider: i % 2 ? 'slack' : 'teams', id: `X${i % 2}`, email: 'new@example.com' }),
      ),
    );
    expect(new Set(many.map((u) => u._id)).size).toBe(1);
    // A platform id listed in BATON_ADMINS makes that person admin on first sight.
    const rt2admins = rt.baton.ctx.bootstrapAdmins;
    rt2admins.push('U0BOSS');
    const boss = await users.resolve({ provider: 'slack', id: 'U0BOSS', name: 'Boss' });
    expect(boss.role).toBe('admin');
  });

  it('apps: admins create apps and add fields and stages; others are refused; bad input is explained', async () => {
    const { apps } = rt.baton;
    const def = { key: 'badge', name: 'Badge', stages: ['Submitted', 'Issued'], fields: [] };
    await expect(apps.create(p.alice!, def)).rejects.toBeInstanceOf(ForbiddenError);
    await apps.create(p.admin!, def);
    await expect(apps.create(p.admin!, def)).rejects.toBeInstanceOf(ConflictError);
    await apps.addField(p.admin!, 'badge', { key: 'floor', label: 'Floor', type: 'number', min: 0, max: 40 });
    await apps.addStage(p.admin!, 'badge', 'Revoked');
    const badge = await apps.get('badge');
    expect(badge.stages).toEqual(['Submitted', 'Issued', 'Revoked']);
    expect(badge.fields.map((f) => f.key)).toEqual(['floor']);
    const err = await apps
      .addField(p.admin!, 'badge', { key: 'Bad Key', label: 'x', type: 'colour' })
      .catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toMatch(/fields\.1\.key/);
    await expect(
      apps.create(p.admin!, { key: 'x', name: 'X', stages: [], fields: [], $where: '1' }),
    ).rejects.toBeInstanceOf(UnsafeInputError);
    await expect(apps.get('nope')).rejects.toBeInstanceOf(NotFoundError);
    const req = await rt.baton.requests.file(p.alice!, 'badge', { floor: '12' });
    expect(req._id).toBe('BADGE-1');
    expect(req.record).toEqual({ floor: 12 });
  });

  it('groups: admins create groups and manage members', async () => {
    const { groups } = rt.baton;
    await expect(groups.create(p.alice!, 'it')).rejects.toBeInstanceOf(ForbiddenError);
    await groups.create(p.admin!, 'it');
    await expect(groups.create(p.admin!, 'it')).rejects.toBeInstanceOf(ConflictError);
    await expect(groups.create(p.admin!, 'Bad Name')).rejects.toBeInstanceOf(ValidationError);
    await groups.addMember(p.admin!, 'it', p.bob!._id);
    await groups.addMember(p.admin!, 'it', p.bob!._id);
    expect((await groups.get('it')).members).toEqual([p.bob!._id]);
    await expect(groups.addMember(p.bob!, 'it', p.bob!._id)).rejects.toBeInstanceOf(ForbiddenError);
    await groups.removeMember(p.admin!, 'it', p.bob!._id);
    expect((await groups.get('it')).members).toEqual([]);
  });

  it('recipes: operators stop and start; a stopped recipe starts no job', async () => {
    const { recipes, requests } = rt.baton;
    await rt.baton.users.setRole(p.admin!, p.carol!._id, 'operator');
    const carol = await rt.baton.users.get(p.carol!._id);
    await expect(recipes.list(p.alice!)).rejects.toBeInstanceOf(ForbiddenError);
    expect((await recipes.list(carol)).map((r) => [r.name, r.state])).toEqual([['laptop-order', 'running']]);
    await expect(recipes.stop(p.alice!, 'laptop-order')).rejects.toBeInstanceOf(ForbiddenError);
    await recipes.stop(carol, 'laptop-order');
    await requests.file(p.alice!, 'laptop', { model: 'Air', approver: p.bob!._id });
    expect(await recipes.listJobs(carol)).toEqual([]);
    await recipes.start(carol, 'laptop-order');
    await requests.file(p.alice!, 'laptop', { model: 'Pro', approver: p.bob!._id });
    const jobs = await recipes.listJobs(carol);
    expect(jobs.map((j) => j.request_id)).toEqual(['LAPTOP-2']);
    expect(jobs[0]!.status).toBe('waiting');
    expect(jobs[0]!.current_step).toBe('ok');
    // Operators may not create recipes or install packs; admins may.
    await expect(recipes.installPack(carol, 'expense')).rejects.toBeInstanceOf(ForbiddenError);
    const report = await recipes.installPack(p.admin!, 'expense');
    expect(report.apps).toEqual(['expense']);
    expect(report.problems.filter((x) => x.severity === 'error')).toEqual([]);
    expect(recipes.listPacks()).toEqual(expect.arrayContaining(['access-request', 'expense', 'time-off']));
    await expect(recipes.installPack(p.admin!, '../etc')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('a failed job records the failing step and error; an operator reruns it from that step', async () => {
    const { recipes, requests, tasks } = rt.baton;
    await requests.file(p.alice!, 'laptop', { model: 'Air', approver: p.bob!._id });
    const [t] = await tasks.listOpenFor(p.bob!);
    await tasks.complete(p.bob!, t!._id, 'Reject'); // → stage 'Nowhere', which the app lacks
    const [job] = await recipes.listJobs(p.admin!, { status: 'failed' });
    expect(job!.error!.message).toMatch(/Laptop has no stage "Nowhere"/);
    expect(job!.error!.step).toBe('change_stage#2');
    expect(job!.log.at(-1)!.status).toBe('failed');
    await expect(rt.baton.engine.rerun(p.alice!, job!._id)).rejects.toBeInstanceOf(ForbiddenError);
    // The admin fixes the app, then reruns: the job continues from the failed step, not from the start.
    await rt.baton.apps.addStage(p.admin!, 'laptop', 'Nowhere');
    const rerun = await rt.baton.engine.rerun(p.admin!, job!._id);
    expect(rerun.status).toBe('completed');
    expect(rerun.reruns).toBe(1);
    expect(await rt.store.collection('tasks').countDocuments({ request_id: 'LAPTOP-1' })).toBe(1);
    expect((await requests.get(p.alice!, 'LAPTOP-1')).stage).toBe('Nowhere');
    await expect(rt.baton.engine.rerun(p.admin!, job!._id)).rejects.toThrow(/only failed jobs/);
  });

  it('a running job keeps the recipe version it started with when the recipe is edited', async () => {
    const { recipes, requests, tasks } = rt.baton;
    await requests.file(p.alice!, 'laptop', { model: 'Air', approver: p.bob!._id });
    await recipes.saveYaml(p.admin!, RECIPE.replace("'Ordered' : 'Nowhere'", "'Declined' : 'Declined'"));
    const [t] = await tasks.listOpenFor(p.bob!);
    await tasks.complete(p.bob!, t!._id, 'Approve');
    expect((await requests.get(p.alice!, 'LAPTOP-1')).stage).toBe('Ordered'); // the old version's branch
    await requests.file(p.alice!, 'laptop', { model: 'Pro', approver: p.bob!._id });
    const [t2] = await tasks.listOpenFor(p.bob!);
    await tasks.complete(p.bob!, t2!._id, 'Approve');
    expect((await requests.get(p.alice!, 'LAPTOP-2')).stage).toBe('Declined'); // the new one
    const versions = new Set((await recipes.listJobs(p.admin!)).map((j) => j.recipe_version));
    expect(versions.size).toBe(2);
  });

  it('fields and stages an admin adds to an app from a file survive the next start, and file changes still apply', async () => {
    const dataDir = tempDir();
    const files = { 'app.yaml': APP, 'recipe.yaml': RECIPE };
    const dir = recipesDir(files);
    await rt.close();
    rt = await startTestRuntime({ dataDir, recipesDir: dir });
    p = await seedPeople(rt.baton);
    await rt.baton.apps.addField(p.admin!, 'laptop', { key: 'cost', label: 'Cost centre', type: 'text' });
    await rt.baton.apps.addStage(p.admin!, 'laptop', 'Shipped', 2); // after Ordered
    await rt.close();
    // The file changes too: a new field of its own.
    writeFileSync(
      join(dir, 'app.yaml'),
      APP.replace('fields:', 'fields:\n  - { key: reason, label: Reason, type: long_text }'),
    );
    rt = await startTestRuntime({ dataDir, recipesDir: dir });
    const app = await rt.baton.apps.get('laptop');
    expect(app.fields.map((f) => f.key)).toEqual(['reason', 'model', 'approver', 'cost']);
    expect(app.stages).toEqual(['Submitted', 'Ordered', 'Shipped', 'Declined']);
  });

  it('an app saved as YAML may not drop a stage that requests are in', async () => {
    const { recipes, requests, tasks } = rt.baton;
    await requests.file(p.alice!, 'laptop', { model: 'Air', approver: p.bob!._id });
    const [t] = await tasks.listOpenFor(p.bob!);
    await tasks.complete(p.bob!, t!._id, 'Approve'); // LAPTOP-1 is now Ordered
    const without = APP.replace('[Submitted, Ordered, Declined]', '[Submitted, Declined]');
    const err = await recipes.saveYaml(p.admin!, without, 'laptop.yaml').catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toMatch(/Laptop still has requests in stages this change removes \(1 in "Ordered"\)/);
    expect((await rt.baton.apps.get('laptop')).stages).toEqual(['Submitted', 'Ordered', 'Declined']);
    // Dropping a stage nobody is in, or renaming nothing, is fine.
    const noDeclined = APP.replace('[Submitted, Ordered, Declined]', '[Submitted, Ordered]');
    expect(await recipes.saveYaml(p.admin!, noDeclined, 'laptop.yaml')).toEqual({
      kind: 'app',
      name: 'laptop',
    });
    expect((await rt.baton.apps.get('laptop')).stages).toEqual(['Submitted', 'Ordered']);
  });

  it('recipes saved as YAML by an admin are validated with line numbers', async () => {
    const { recipes } = rt.baton;
    const bad =
      'kind: recipe\nname: broken\ntrigger: { type: new_request, app: laptop }\nsteps:\n  - action: assign_task\n    to: x\n    titel: oops\n';
    const err = await recipes.saveYaml(p.admin!, bad, 'broken.yaml').catch((e) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toMatch(/broken\.yaml:7: .*titel/);
    await expect(recipes.saveYaml(p.alice!, bad)).rejects.toBeInstanceOf(ForbiddenError);
    const ok = RECIPE.replace('laptop-order', 'laptop-two');
    expect(await recipes.saveYaml(p.admin!, ok)).toEqual({ kind: 'recipe', name: 'laptop-two' });
    expect((await recipes.get(p.admin!, 'laptop-two')).state).toBe('running');
  });

  it('user input never becomes a query operator', async () => {
    const { requests, tasks } = rt.baton;
    await expect(
      requests.file(p.alice!, 'laptop', { model: { $ne: 'x' }, approver: p.bob!._id }),
    ).rejects.toBeInstanceOf(UnsafeInputError);
    await expect(requests.get(p.alice!, '{"$gt":""}')).rejects.toBeInstanceOf(ValidationError);
    await expect(tasks.complete(p.bob!, '$where', 'Approve')).rejects.toBeInstanceOf(UnsafeInputError);
    await expect(
      requests.file(p.alice!, 'laptop', JSON.parse('{"__proto__": {"admin": true}, "model": "Air"}')),
    ).rejects.toBeInstanceOf(UnsafeInputError);
  });
});

describe('recipes directory with an invalid recipe', () => {
  it('reports it with file and line, never crashes, and installs the rest', async () => {
    const bad = `kind: recipe
name: broken-one
trigger: { type: new_request, app: laptop }
steps:
  - id: a
    action: assign_task
    to: "{{ record.approver }}"
    title: x
    expires_in: 2 days
`;
    const rt = await startTestRuntime({
      recipesDir: recipesDir({ 'app.yaml': APP, 'ok.yaml': RECIPE, 'bad.yaml': bad }),
    });
    try {
      const p = await seedPeople(rt.baton);
      const list = await rt.baton.recipes.list(p.admin!);
      const broken = list.find((r) => r.name === 'broken-one')!;
      expect(broken.state).toBe('invalid');
      expect(broken.problems[0]!.line).toBe(9);
      expect(broken.problems[0]!.file).toMatch(/bad\.yaml$/);
      expect(list.find((r) => r.name === 'laptop-order')!.state).toBe('running');
      await expect(rt.baton.recipes.start(p.admin!, 'broken-one')).rejects.toThrow(/bad\.yaml:9/);
    } finally {
      await rt.close();
    }
  });
});
