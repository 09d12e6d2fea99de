import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDirectory } from '../../src/recipes/loader.js';
import { ROOT, recipesDir, seedPeople, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

const APP = `kind: app
key: ping
name: Ping
stages: [New, Ping, Pong, Review, Rework, Done]
fields:
  - { key: again, label: Again, type: boolean }
`;
const recipe = (name: string, trigger: string, steps: string) =>
  `kind: recipe\nname: ${name}\ntrigger: ${trigger}\nsteps:\n${steps}`;

const FILES = {
  'app.yaml': APP,
  // always loops: Ping -> Pong -> Ping
  'ping.yaml': recipe(
    'on-ping',
    '{ type: stage_changed, app: ping, to: Ping }',
    '  - action: change_stage\n    stage: Pong\n',
  ),
  'pong.yaml': recipe(
    'on-pong',
    '{ type: stage_changed, app: ping, to: Pong }',
    '  - action: change_stage\n    stage: Ping\n',
  ),
  // loops only when a condition holds
  'maybe.yaml': recipe(
    'on-done',
    '{ type: stage_changed, app: ping, to: Done }',
    '  - if: "record.again"\n    then:\n      - action: change_stage\n        stage: Done\n',
  ),
  // a person decides each round: no loop to report
  'review.yaml': recipe(
    'on-review',
    '{ type: stage_changed, app: ping, to: Review }',
    '  - id: review\n    action: assign_task\n    to: someone@example.com\n    title: Review\n    outcomes: [Approve, Rework]\n  - action: change_stage\n    stage: Rework\n',
  ),
  'rework.yaml': recipe(
    'on-rework',
    '{ type: stage_changed, app: ping, to: Rework }',
    '  - action: change_stage\n    stage: Review\n',
  ),
};

describe('validation of recipes that trigger each other', () => {
  let rt: TestRuntime | undefined;
  afterEach(async () => {
    await rt?.close();
    rt = undefined;
  });

  it('reports a loop at the stage change that closes it: an error when it always happens, else a warning', async () => {
    const dir = recipesDir(FILES);
    const { problems, recipes } = await loadDirectory(dir);
    const lines = problems.map(
      (p) => `${p.file.slice(dir.length + 1)}:${p.line}: ${p.severity}: ${p.message}`,
    );
    expect(lines).toEqual([
      'maybe.yaml:8: warning: steps[0].then[0].stage: recipes trigger each other in a loop: on-done (moves to Done) -> on-done; when its conditions hold, Baton stops the chain after 20 stage changes and fails the job',
      'ping.yaml:6: error: steps[0].stage: recipes trigger each other in a loop: on-ping (moves to Pong) -> on-pong (moves to Ping) -> on-ping; it never ends by itself, and Baton stops the chain after 20 stage changes and fails the job',
      'pong.yaml:6: error: steps[0].stage: recipes trigger each other in a loop: on-pong (moves to Ping) -> on-ping (moves to Pong) -> on-pong; it never ends by itself, and Baton stops the chain after 20 stage changes and fails the job',
    ]);
    expect(recipes.map((r) => r.definition.name).sort()).toEqual(['on-done', 'on-review', 'on-rework']);

    const cli = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/cli/validate.ts'), dir], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(cli.status).not.toBe(0);
    expect(cli.stdout).toContain(
      `${join(dir, 'ping.yaml')}:6: steps[0].stage: recipes trigger each other in a loop`,
    );

    // At start the looping recipes are recorded as invalid, the rest run.
    rt = await startTestRuntime({ recipesDir: dir });
    const p = await seedPeople(rt.baton);
    const states = Object.fromEntries((await rt.baton.recipes.list(p.admin!)).map((r) => [r._id, r.state]));
    expect(states).toMatchObject({
      'on-ping': 'invalid',
      'on-pong': 'invalid',
      'on-done': 'running',
      'on-review': 'running',
      'on-rework': 'running',
    });
  });
});
