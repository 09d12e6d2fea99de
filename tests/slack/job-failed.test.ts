import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../src/core/types.js';
import {
  eventually,
  recipesDir,
  seedPeople,
  startTestRuntime,
  type TestRuntime,
} from '../helpers/runtime.js';
import {
  dm,
  FakeSlackApi,
  linkSlackPeople,
  type Posted,
  startTestSurface,
  type TestSurface,
} from './tasks-harness.js';

const DESK = {
  'desk.yaml': `
kind: app
key: desk
name: Desk
id_prefix: DESK
stages: [Asked, Done]
fields:
  - { key: where, label: Where, type: text }
  - { key: contact, label: Contact, type: text }
`,
  'desk-recipe.yaml': `
kind: recipe
name: desk-flow
trigger: { type: new_request, app: desk }
steps:
  - action: notify
    to: "{{ record.contact }}"
    text: A desk is wanted on {{ record.where }}
  - action: change_stage
    stage: Done
`,
};

/**
 * A recipe step that fails stops the job; nobody would hear of it but an admin looking at the
 * jobs page, so the request's history says why, and the requester and the admins are told in
 * Slack (once per failure: again when a rerun fails again).
 */
describe('Slack: a recipe step that fails', () => {
  let rt: TestRuntime;
  let fake: FakeSlackApi;
  let surface: TestSurface;
  let p: Record<string, User>;

  beforeEach(async () => {
    fake = new FakeSlackApi();
    await fake.start();
    rt = await startTestRuntime({ recipesDir: recipesDir(DESK) });
    p = await seedPeople(rt.baton);
    await rt.baton.users.setRole(p.admin!, p.bob!._id, 'admin');
    await linkSlackPeople(rt.baton, fake);
    surface = await startTestSurface(rt.baton, fake);
  });
  afterEach(async () => {
    await surface?.stop();
    await rt?.close();
    await fake.stop();
  });

  const dms = (who: string, part: string) =>
    fake
      .of('chat.postMessage')
      .map((a) => a as unknown as Posted)
      .filter((a) => a.channel === dm(who))
      .map((a) => a.text ?? '')
      .filter((t) => t.includes(part));

  it('records why in the history and tells the requester and every admin, again when a rerun fails', async () => {
    const request = await rt.baton.requests.file(p.alice!, 'desk', { where: 'Floor 2' });
    const [job] = await eventually(async () => {
      const failed = await rt.baton.recipes.listJobs(p.admin!, { status: 'failed' });
      return failed.length > 0 ? failed : undefined;
    });
    expect(job!.request_id).toBe(request._id);

    const alice = await eventually(async () => dms('alice', 'is held up')[0]);
    expect(alice).toBe(
      `Your request ${request._id} is held up: the recipe desk-flow stopped with an error. Baton's admins have been told.`,
    );
    for (const admin of ['admin', 'bob']) {
      const text = await eventually(async () => dms(admin, 'stopped at step')[0]);
      expect(text).toContain(
        `${request._id}: The recipe desk-flow stopped at step "notify#1": notify "to" gave null`,
      );
      expect(text).toContain(`then rerun the job ("admin jobs rerun ${job!._id}", after /baton in Slack`);
    }
    const problems = async () =>
      (await rt.baton.requests.get(p.admin!, request._id)).history.filter((h) => h.type === 'problem');
    expect((await problems()).map((h) => h.text)).toEqual([
      expect.stringMatching(
        /^The recipe desk-flow stopped at step "notify#1": notify "to" gave null.*rerun the job/,
      ),
    ]);
    // The requester reads a plain line: the rerun is the admins' to do.
    expect(
      (await rt.baton.requests.get(p.alice!, request._id)).history
        .filter((h) => h.type === 'problem')
        .map((h) => h.text),
    ).toEqual(['Something went wrong processing this request; an admin has been told.']);

    // A rerun that fails again is told again, once.
    await rt.baton.engine.rerun(p.admin!, job!._id);
    await eventually(async () => ((await problems()).length === 2 ? true : undefined));
    await eventually(async () => (dms('alice', 'is held up').length === 2 ? true : undefined));
    expect(dms('bob', 'stopped at step')).toHaveLength(2);
    expect((await rt.baton.requests.get(p.alice!, request._id)).stage).toBe('Asked');
  });
});
