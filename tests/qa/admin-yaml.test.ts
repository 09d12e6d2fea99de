import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../src/core/types.js';
import { recipesDir, seedPeople, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

const APP = `kind: app
key: desk
name: Desk
stages: [New, Done]
fields:
  - { key: qty, label: Quantity, type: number, max: 5 }
`;

describe('recipes created by admins from YAML', () => {
  let rt: TestRuntime;
  let p: Record<string, User>;
  beforeEach(async () => {
    rt = await startTestRuntime({ recipesDir: recipesDir({ 'app.yaml': APP }) });
    p = await seedPeople(rt.baton);
  });
  afterEach(async () => {
    await rt.close();
  });

  it('are checked against their app in the store, with lines, like files', async () => {
    const yaml = `kind: recipe
name: desk-flow
trigger: { type: stage_changed, app: desk, to: Shipped }
steps:
  - action: update_record
    fields:
      qty: 9
      colour: red
  - action: change_stage
    stage: Nope
`;
    const err = await rt.baton.recipes.saveYaml(p.admin!, yaml, 'desk-flow.yaml').catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe(
      'The desk-flow.yaml has 4 problems: ' +
        'desk-flow.yaml:3: trigger.to: app "desk" has no stage "Shipped" (stages: New, Done); ' +
        'desk-flow.yaml:7: steps[0].fields.qty: Quantity must be at most 5; ' +
        'desk-flow.yaml:8: steps[0].fields.colour: app "desk" has no field "colour"; ' +
        'desk-flow.yaml:10: steps[1].stage: app "desk" has no stage "Nope" (stages: New, Done)',
    );
    expect((await rt.baton.recipes.list(p.admin!)).map((r) => r._id)).not.toContain('desk-flow');

    const fixed = yaml
      .replace('to: Shipped', 'to: New')
      .replace('qty: 9', 'qty: 2')
      .replace('      colour: red\n', '')
      .replace('stage: Nope', 'stage: Done');
    expect(await rt.baton.recipes.saveYaml(p.admin!, fixed, 'desk-flow.yaml')).toEqual({
      kind: 'recipe',
      name: 'desk-flow',
    });
    expect((await rt.baton.recipes.get(p.admin!, 'desk-flow')).state).toBe('running');
  });
});
