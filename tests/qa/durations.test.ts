import { afterEach, describe, expect, it } from 'vitest';
import { parseDefinitionFile } from '../../src/recipes/loader.js';
import { recipesDir, seedPeople, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

const recipe = (wait: string, expires: string) => `kind: recipe
name: slow
trigger: { type: new_request, app: slow }
steps:
  - action: wait
    for: ${wait}
  - action: assign_task
    to: a@example.com
    title: t
    expires_in: ${expires}
`;

describe('durations', () => {
  let rt: TestRuntime | undefined;
  afterEach(async () => {
    await rt?.close();
    rt = undefined;
  });

  it('longer than 10 years are refused with their line, instead of leaving a job waiting forever', () => {
    const { problems, definition } = parseDefinitionFile(
      recipe('99999999999w', '99999999999999999999d'),
      'slow.yaml',
    );
    expect(definition).toBeUndefined();
    expect(problems.map((p) => `${p.line}: ${p.message}`)).toEqual([
      '6: steps[0].for: a duration is at most 10 years (3650d)',
      '10: steps[1].expires_in: a duration is at most 10 years (3650d)',
    ]);
    expect(parseDefinitionFile(recipe('3650d', '521w'), 'slow.yaml').definition).toBeDefined();
  });

  it('of zero or less are refused with their line (a task that expires at once, a wait for nothing)', () => {
    const { problems, definition } = parseDefinitionFile(recipe('0s', '0d'), 'slow.yaml');
    expect(definition).toBeUndefined();
    expect(problems.map((p) => `${p.line}: ${p.message}`)).toEqual([
      '6: steps[0].for: a duration must be more than zero, e.g. 30m or 2d (a wait for 0s waits for nothing: leave the step out)',
      '10: steps[1].expires_in: a duration must be more than zero, e.g. 30m or 2d (a task that should not expire has no expires_in)',
    ]);
    expect(
      parseDefinitionFile(recipe('-1d', '-2h'), 'slow.yaml').problems.map((p) => `${p.line}: ${p.message}`),
    ).toEqual([
      '6: steps[0].for: a duration must be more than zero, e.g. 30m or 2d (a wait for 0s waits for nothing: leave the step out)',
      '10: steps[1].expires_in: a duration must be more than zero, e.g. 30m or 2d (a task that should not expire has no expires_in)',
    ]);
    expect(parseDefinitionFile(recipe('1s', '1m'), 'slow.yaml').definition).toBeDefined();
  });

  it('of up to 10 years schedule a real timer', async () => {
    const app = 'kind: app\nkey: slow\nname: Slow\nstages: [New]\n';
    rt = await startTestRuntime({
      recipesDir: recipesDir({ 'app.yaml': app, 'slow.yaml': recipe('521w', '1d') }),
    });
    const p = await seedPeople(rt.baton);
    const started = Date.now();
    const r = await rt.baton.requests.file(p.alice!, 'slow', {});
    const [job] = await rt.baton.recipes.listJobs(p.admin!, { request: r._id });
    expect(job!.status).toBe('waiting');
    const waiting = job!.waiting as { kind: 'timer'; until: Date };
    expect(waiting.kind).toBe('timer');
    const until = new Date(waiting.until).getTime();
    expect(until - started).toBeGreaterThanOrEqual(521 * 604_800_000);
    expect((await rt.baton.health()).scheduler.pending).toBe(1);
  });
});
