import { afterEach, describe, expect, it } from 'vitest';
import {
  eventually,
  recipesDir,
  seedPeople,
  startTestRuntime,
  type TestRuntime,
} from '../helpers/runtime.js';

/**
 * `to: ["{{ request.requester }}", "{{ record.cc }}"]` with the optional cc left empty failed
 * the whole job ('notify "to" gave null'): the request was held up, the requester and every
 * admin were told, and nobody was notified. A blank in a list is now skipped; a notify with
 * nobody at all left still fails.
 */

const APP = `kind: app
key: kit
name: Kit
stages: [New, Done]
fields:
  - { key: cc, label: Copy to, type: user }
`;
const RECIPE = `kind: recipe
name: kit-flow
trigger: { type: new_request, app: kit }
steps:
  - action: notify
    to: ["{{ request.requester }}", "{{ record.cc }}"]
    text: Filed
  - action: notify
    to: "{{ record.cc }}"
    text: Copy
  - action: change_stage
    stage: Done
`;

describe('notify to a list with a blank in it', () => {
  let rt: TestRuntime | undefined;
  afterEach(async () => {
    await rt?.close();
    rt = undefined;
  });

  it('notifies the others; a notify to nobody but the blank still fails the job', async () => {
    rt = await startTestRuntime({ recipesDir: recipesDir({ 'app.yaml': APP, 'recipe.yaml': RECIPE }) });
    const p = await seedPeople(rt.baton);
    const r = await rt.baton.requests.file(p.alice!, 'kit', {});
    const job = await eventually(async () => {
      const [j] = await rt!.baton.recipes.listJobs(p.admin!, { request: r._id });
      return j && j.status !== 'running' ? j : null;
    });
    const notes = await rt.store.collection('notifications').find({ request_id: r._id }).toArray();
    expect(notes.filter((n) => n.text === 'Filed' || n.text === 'Copy').map((n) => [n.to, n.text])).toEqual([
      [p.alice!._id, 'Filed'],
    ]);
    expect(job.status).toBe('failed');
    expect(job.error?.step).toBe('notify#2');
    expect(job.error?.message).toContain('notify "to" gave null');

    const withCc = await rt.baton.requests.file(p.alice!, 'kit', { cc: p.bob!._id });
    await eventually(async () => (await rt!.baton.requests.get(p.alice!, withCc._id)).stage === 'Done');
    const sent = await rt.store.collection('notifications').find({ request_id: withCc._id }).toArray();
    expect(sent.map((n) => [n.to, n.text]).sort()).toEqual(
      [
        [p.alice!._id, 'Filed'],
        [p.bob!._id, 'Filed'],
        [p.bob!._id, 'Copy'],
      ].sort(),
    );
  });
});
