import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../src/core/types.js';
import { recipesDir, seedPeople, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

const APP = `
kind: app
key: calc
name: Calc
stages: [New, Done]
fields:
  - { key: n, label: N, type: number, required: true }
  - { key: out, label: Out, type: text }
`;

const RECIPE = `
kind: recipe
name: calc-flow
trigger: { type: new_request, app: calc }
steps:
  - id: compute
    if: "record.n > 0"
    then:
      - id: ok
        action: update_record
        fields:
          out: "{{ $string($sum([1..record.n].($ * 2))) }}"
    else:
      - id: runaway
        action: update_record
        fields:
          out: "{{ ($f := function($x){ $f($x) }; $f(1)) }}"
  - action: change_stage
    stage: Done
`;

describe('expression limits in a job', () => {
  let rt: TestRuntime;
  let p: Record<string, User>;
  beforeEach(async () => {
    rt = await startTestRuntime({ recipesDir: recipesDir({ 'app.yaml': APP, 'flow.yaml': RECIPE }) });
    p = await seedPeople(rt.baton);
  });
  afterEach(async () => {
    await rt.close();
  });

  it('a runaway expression fails its job at that step, with a clear message; ordinary ones run', async () => {
    const good = await rt.baton.requests.file(p.alice!, 'calc', { n: 1000 });
    const bad = await rt.baton.requests.file(p.alice!, 'calc', { n: -1 });
    expect((await rt.baton.requests.get(p.alice!, good._id)).record.out).toBe('1001000');
    const jobs = await rt.baton.recipes.listJobs(p.admin!, { recipe: 'calc-flow' });
    const failed = jobs.find((j) => j.request_id === bad._id)!;
    expect(failed.status).toBe('failed');
    expect(failed.error!.step).toBe('runaway');
    expect(failed.error!.message).toMatch(
      /^expression did too much work \(more than 500000 evaluation steps\): a runaway loop or recursion\?$/,
    );
    expect((await rt.baton.requests.get(p.alice!, bad._id)).stage).toBe('New');
    expect(jobs.find((j) => j.request_id === good._id)!.status).toBe('completed');
  });
});
