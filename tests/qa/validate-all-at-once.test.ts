import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/core/errors.js';
import { loadDirectory } from '../../src/recipes/loader.js';
import { ROOT, recipesDir, seedPeople, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * A file with a schema error (an unknown key, a malformed value) still gets the checks against
 * its app and the other files (stages, fields, recipients, step ids), so its author sees every
 * problem in one run, and nothing that the schema error alone would make up.
 */

const APP = `kind: app
key: laptop
name: Laptop request
stages: [Submitted, Approved, Rejected]
fields:
  - { key: model, label: Model, type: select, options: [Air, Pro] }
  - { key: manager, label: Manager, type: user, required: true }
`;

const RECIPE = `kind: recipe
name: laptop-flow
trigger: { type: new_request, app: laptop }
steps:
  - id: boss
    action: assign_task
    to: manager
    title: "Laptop {{ record.model }}"
    outcome: [Yes, No]
  - id: boss
    action: wait
    for: 2 days
  - if: "steps.boss.outcome = 'Yes'"
    then:
      - action: change_stage
        stage: Aproved
      - action: update_record
        fields: { colour: red }
    else:
      - action: change_stage
        stage: Rejected
`;

function validate(dir: string) {
  const result = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/cli/validate.ts'), dir], {
    cwd: ROOT,
    env: { ...process.env, RECIPES_DIR: dir },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, out: result.stdout.trim().split('\n'), err: result.stderr };
}

describe('validate reports the checks against the app even when the file has schema errors', () => {
  it('npm run validate lists the schema errors and the wrong stage, field, recipient and step id together', () => {
    const dir = recipesDir({ 'app.yaml': APP, 'flow.yaml': RECIPE });
    const { code, out, err } = validate(dir);
    expect(err).toBe('');
    const f = join(dir, 'flow.yaml');
    expect(out).toEqual([
      `${f}:7: warning: steps[0].to: "manager" is taken as a person's id, not the field Manager: write "{{ record.manager }}"`,
      `${f}:9: steps[0].outcome: unknown key "outcome" (did you mean "outcomes"?); allowed keys: id, name, action, to, title, instructions, outcomes, inputs, expires_in, quorum, card`,
      `${f}:10: steps[1].id: duplicate step id "boss"`,
      `${f}:12: steps[1].for: expected a duration: a whole number followed by s, m, h, d or w (did you mean "2d"?)`,
      `${f}:16: steps[2].then[0].stage: app "laptop" has no stage "Aproved": did you mean "Approved"? (stages: Submitted, Approved, Rejected)`,
      `${f}:18: steps[2].then[1].fields.colour: app "laptop" has no field "colour"`,
      '2 files checked (1 app, 0 recipes): 5 errors, 1 warning',
    ]);
    expect(code).toBe(1);
  });

  it('says nothing the schema error alone causes: no outcome warning for a task whose outcomes are misspelt', async () => {
    // `outcome:` is unknown, so the task's outcomes are not known: "Yes" is not reported as never given.
    const { problems } = await loadDirectory(recipesDir({ 'app.yaml': APP, 'flow.yaml': RECIPE }));
    expect(problems.filter((p) => /never|loop/.test(p.message))).toEqual([]);
  });

  it('still checks a recipe whose app file has errors against the app\'s stages, not "app not defined"', async () => {
    const app = APP.replace('type: user', 'type: person');
    const recipe = `kind: recipe
name: laptop-stage
trigger: { type: new_request, app: laptop }
steps:
  - action: change_stage
    stage: Done
  - action: update_record
    fields: { colour: red }
`;
    const { problems } = await loadDirectory(recipesDir({ 'app.yaml': app, 'stage.yaml': recipe }));
    expect(problems.map((p) => `${p.file.split('/').pop()}:${p.line}: ${p.severity}: ${p.message}`)).toEqual([
      'app.yaml:7: error: fields[1].type: expected one of: text, long_text, number, date, select, multi_select, user, boolean, email, url (did you mean "user"?)',
      'stage.yaml:6: error: steps[0].stage: app "laptop" has no stage "Done" (stages: Submitted, Approved, Rejected)',
    ]);
  });

  describe('the YAML editor (admin recipes)', () => {
    let rt: TestRuntime;
    beforeAll(async () => {
      rt = await startTestRuntime({ recipesDir: recipesDir({ 'app.yaml': APP }) });
    });
    afterAll(async () => {
      await rt?.close();
    });

    it('refuses a recipe with its schema errors and its wrong stage and field in one message', async () => {
      const p = await seedPeople(rt.baton);
      const err = await rt.baton.recipes.saveYaml(p.admin!, RECIPE, 'laptop-flow.yaml').catch((e) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect(err.message).toBe(
        'The laptop-flow.yaml has 5 problems: ' +
          'laptop-flow.yaml:9: steps[0].outcome: unknown key "outcome" (did you mean "outcomes"?); allowed keys: id, name, action, to, title, instructions, outcomes, inputs, expires_in, quorum, card; ' +
          'laptop-flow.yaml:10: steps[1].id: duplicate step id "boss"; ' +
          'laptop-flow.yaml:12: steps[1].for: expected a duration: a whole number followed by s, m, h, d or w (did you mean "2d"?); ' +
          'laptop-flow.yaml:16: steps[2].then[0].stage: app "laptop" has no stage "Aproved": did you mean "Approved"? (stages: Submitted, Approved, Rejected); ' +
          'laptop-flow.yaml:18: steps[2].then[1].fields.colour: app "laptop" has no field "colour"',
      );
    });
  });
});
