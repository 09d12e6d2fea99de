import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../src/core/types.js';
import { recipesDir, seedPeople, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

const APP = `
kind: app
key: buy
name: Buy
stages: [New, Checked, Done]
fields:
  - { key: item, label: Item, type: text, required: true }
`;
const RECIPE = `
kind: recipe
name: buy-flow
trigger: { type: new_request, app: buy }
steps:
  - action: change_stage
    stage: Checked
  - id: buyer
    action: assign_task
    to: group:buyers
    title: "Buy {{ record.item }}"
  - action: notify
    to: "{{ request.requester }}"
    text: "{{ record.item }}: {{ steps.buyer.outcome }}"
  - action: change_stage
    stage: Done
`;

describe('rerunning a failed job', () => {
  let rt: TestRuntime;
  let p: Record<string, User>;
  beforeEach(async () => {
    rt = await startTestRuntime({ recipesDir: recipesDir({ 'app.yaml': APP, 'flow.yaml': RECIPE }) });
    p = await seedPeople(rt.baton);
    await rt.baton.users.setRole(p.admin!, p.carol!._id, 'operator');
    p.carol = await rt.baton.users.get(p.carol!._id);
  });
  afterEach(async () => {
    await rt.close();
  });

  it('continues from the failed step once the cause is fixed, without repeating earlier steps', async () => {
    const { baton } = rt;
    const r = await baton.requests.file(p.alice!, 'buy', { item: 'Desk' });
    const [failed] = await baton.recipes.listJobs(p.admin!, { status: 'failed' });
    expect(failed!.error).toMatchObject({
      step: 'buyer',
      message: expect.stringMatching(
        /^No group named "buyers"\. Create the group and add its members .* then rerun the job \("admin jobs rerun j_[^"]+"; or the portal's Admin → Jobs\)\.$/,
      ),
    });
    expect((await baton.requests.get(p.alice!, r._id)).stage).toBe('Checked');
    // Only operators and admins may rerun.
    await expect(baton.engine.rerun(p.alice!, failed!._id)).rejects.toThrow(/Only admins and operators/);
    await baton.groups.create(p.admin!, 'buyers', 'Buyers');
    await baton.groups.addMember(p.admin!, 'buyers', p.bob!._id);
    const rerun = await baton.engine.rerun(p.carol!, failed!._id);
    expect(rerun.status).toBe('waiting');
    expect(rerun.reruns).toBe(1);
    const [task] = await baton.tasks.listOpenFor(p.bob!);
    await baton.tasks.complete(p.bob!, task!._id, 'Approve');
    const done = await baton.requests.get(p.alice!, r._id);
    expect(done.stage).toBe('Done');
    // The first stage change ran once, not again on the rerun.
    expect(done.history.filter((h) => h.type === 'stage_changed').map((h) => h.data!.to)).toEqual([
      'Checked',
      'Done',
    ]);
    await expect(baton.engine.rerun(p.carol!, failed!._id)).rejects.toThrow(/is completed; only failed jobs/);
  });

  it('refuses a job id that is not a string instead of using it as a query', async () => {
    const { baton } = rt;
    await baton.requests.file(p.alice!, 'buy', { item: 'Desk' });
    await baton.requests.file(p.alice!, 'buy', { item: 'Chair' });
    const failed = await baton.recipes.listJobs(p.admin!, { status: 'failed' });
    expect(failed).toHaveLength(2);
    for (const id of [{ $ne: 'nothing' }, { $exists: true }, '$where']) {
      await expect(baton.engine.rerun(p.admin!, id as unknown as string)).rejects.toThrow(/job id/);
    }
    // Nothing was rerun.
    expect(await baton.recipes.listJobs(p.admin!, { status: 'failed' })).toHaveLength(2);
    for (const job of await baton.recipes.listJobs(p.admin!)) expect(job.reruns).toBe(0);
  });
});
