import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../src/core/types.js';
import { recipesDir, seedPeople, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

const APP = `
kind: app
key: ping
name: Ping
stages: [New, Ping, Pong, Done, Review, Rework]
fields:
  - { key: note, label: Note, type: text }
`;

// Two recipes that keep triggering each other: Ping -> Pong -> Ping -> ... (behind a condition,
// so validation only warns and installs them; an unconditional loop is refused at install)
const PING = `
kind: recipe
name: on-ping
trigger: { type: stage_changed, app: ping, to: Ping }
steps:
  - if: "record.note = 'go'"
    then:
      - action: change_stage
        stage: Pong
`;
const PONG = `
kind: recipe
name: on-pong
trigger: { type: stage_changed, app: ping, to: Pong }
steps:
  - action: change_stage
    stage: Ping
`;
// A loop with a person in it: review, send back for rework, review again...
const REVIEW = `
kind: recipe
name: on-review
trigger: { type: stage_changed, app: ping, to: Review }
steps:
  - id: review
    action: assign_task
    to: bob@example.com
    title: Review
    outcomes: [Approve, Rework]
  - action: change_stage
    stage: "{{ steps.review.outcome = 'Rework' ? 'Rework' : 'Done' }}"
`;
const REWORK = `
kind: recipe
name: on-rework
trigger: { type: stage_changed, app: ping, to: Rework }
steps:
  - action: change_stage
    stage: Review
`;
const START = `
kind: recipe
name: start-ping
trigger: { type: new_request, app: ping }
steps:
  - if: "record.note = 'go'"
    then:
      - action: change_stage
        stage: Ping
`;

describe('recipes that trigger each other', () => {
  let rt: TestRuntime;
  let p: Record<string, User>;
  let changes = 0;
  beforeEach(async () => {
    rt = await startTestRuntime({
      recipesDir: recipesDir({
        'app.yaml': APP,
        'ping.yaml': PING,
        'pong.yaml': PONG,
        'start.yaml': START,
        'review.yaml': REVIEW,
        'rework.yaml': REWORK,
      }),
    });
    p = await seedPeople(rt.baton);
    changes = 0;
    // Without a bound the loop never ends (and eats the server's memory): fail fast instead.
    rt.baton.events.on('request.changed', () => {
      if (++changes > 200) throw new Error('stage loop was not stopped');
    });
  });
  afterEach(async () => {
    await rt.close();
  });

  it('stop after a bounded chain: the job that would go on fails with a clear message', async () => {
    const r = await rt.baton.requests.file(p.alice!, 'ping', { note: 'go' });
    expect(changes).toBeLessThanOrEqual(25);
    const jobs = await rt.baton.recipes.listJobs(p.admin!, { request: r._id, limit: 500 });
    const failed = jobs.filter((j) => j.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.error!.message).toMatch(/^Too many recipes triggering each other \(a stage loop\)/);
    expect(jobs.filter((j) => j.status === 'completed').length).toBe(jobs.length - 1);
    expect(jobs.length).toBeLessThanOrEqual(25);
    // The server is still fine: a person can move the request, and that starts a new bounded chain.
    await rt.baton.requests.setStage(p.admin!, r._id, 'Done');
    const req = await rt.baton.requests.get(p.admin!, r._id);
    expect(req.stage).toBe('Done');
  });

  it('do not count the rounds of a loop in which a person decides each time', async () => {
    const r = await rt.baton.requests.file(p.alice!, 'ping', { note: 'rework' });
    await rt.baton.requests.setStage(p.admin!, r._id, 'Review');
    for (let round = 0; round < 25; round++) {
      const [task] = await rt.baton.tasks.listOpenFor(p.bob!);
      expect(task, `round ${round}`).toBeDefined();
      await rt.baton.tasks.complete(p.bob!, task!._id, round < 24 ? 'Rework' : 'Approve');
    }
    expect((await rt.baton.requests.get(p.admin!, r._id)).stage).toBe('Done');
    const jobs = await rt.baton.recipes.listJobs(p.admin!, { request: r._id, limit: 500 });
    expect(jobs.filter((j) => j.status === 'failed')).toEqual([]);
    expect(jobs.filter((j) => j.recipe === 'on-review')).toHaveLength(25);
  });
});
