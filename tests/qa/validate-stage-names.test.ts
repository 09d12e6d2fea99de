import { describe, expect, it } from 'vitest';
import { loadDirectory } from '../../src/recipes/loader.js';
import { recipesDir } from '../helpers/runtime.js';

/** A stage name a letter or a capital away from one of the app's gets a "did you mean", as keys and fields do. */

const APP = `kind: app
key: laptop
name: Laptop
stages: [Submitted, Approved, Rejected, Expired]
`;

describe('validate: stage names close to one of the app', () => {
  it('says which stage was meant, in triggers, change_stage and the literals of a stage expression', async () => {
    const flow = `kind: recipe
name: laptop-flow
trigger: { type: stage_changed, app: laptop, to: submitted, from: Aproved }
steps:
  - action: change_stage
    stage: Approvd
  - action: change_stage
    stage: "{{ steps.x.status = 'expired' ? 'Expird' : 'Rejected' }}"
  - action: change_stage
    stage: Shipped
`;
    const { problems } = await loadDirectory(recipesDir({ 'app.yaml': APP, 'flow.yaml': flow }));
    const stages = '(stages: Submitted, Approved, Rejected, Expired)';
    expect(problems.map((p) => `${p.line}: ${p.severity}: ${p.message}`)).toEqual([
      `3: error: trigger.to: app "laptop" has no stage "submitted": did you mean "Submitted"? ${stages}`,
      `3: error: trigger.from: app "laptop" has no stage "Aproved": did you mean "Approved"? ${stages}`,
      `6: error: steps[0].stage: app "laptop" has no stage "Approvd": did you mean "Approved"? ${stages}`,
      `8: warning: steps[1].stage: no step has id "x"; no step of this recipe has an id (give the step it means one: id: x)`,
      `8: warning: steps[1].stage: app "laptop" has no stage "Expird": did you mean "Expired"? ${stages}`,
      `10: error: steps[2].stage: app "laptop" has no stage "Shipped" ${stages}`,
    ]);
  });
});
