import { describe, expect, it } from 'vitest';
import { loadDirectory } from '../../src/recipes/loader.js';
import { recipesDir } from '../helpers/runtime.js';

/**
 * A task that expires has no outcome, and in JSONata a comparison with a missing value is never
 * true: `if: "steps.finance.outcome != 'Approve'"` (reject unless finance approved) is not taken
 * when finance lets the task run out, so a purchase order whose finance task expired went on to
 * Approved. `npm run validate` said nothing; it now warns at the condition.
 */

const APP = `kind: app
key: po
name: Purchase
stages: [New, Approved, Rejected, Expired]
fields:
  - { key: amount, label: Amount, type: number }
`;

const recipe = (steps: string) => `kind: recipe
name: po-flow
trigger: { type: new_request, app: po }
steps:
  - id: finance
    action: assign_task
    to: group:finance
    title: Finance
    expires_in: 2d
  - id: board
    action: assign_task
    to: group:board
    title: Board
${steps}`;

async function problemsOf(steps: string): Promise<string[]> {
  const { problems } = await loadDirectory(recipesDir({ 'app.yaml': APP, 'recipe.yaml': recipe(steps) }));
  return problems.map((p) => `${p.line}: ${p.severity}: ${p.message}`);
}

describe('an outcome compared with != on a task that can expire', () => {
  it('is warned about, in a condition and in a template, with what to write instead', async () => {
    expect(
      await problemsOf(`  - if: "steps.finance.outcome != 'Approve'"
    then:
      - action: change_stage
        stage: Rejected
  - action: change_stage
    stage: "{{ 'Approve' != steps.finance.outcome ? 'Rejected' : 'Approved' }}"
`),
    ).toEqual([
      `14: warning: steps[2].if: steps.finance.outcome != 'Approve' is not true when the task expires (it then has no outcome, and a comparison with a missing value is never true), so an expired task goes on as if it were "Approve": write "steps.finance.status != 'completed' or steps.finance.outcome != 'Approve'", or test steps.finance.outcome = 'Approve' and handle the rest in else`,
      `19: warning: steps[3].stage: steps.finance.outcome != 'Approve' is not true when the task expires (it then has no outcome, and a comparison with a missing value is never true), so an expired task goes on as if it were "Approve": write "steps.finance.status != 'completed' or steps.finance.outcome != 'Approve'", or test steps.finance.outcome = 'Approve' and handle the rest in else`,
    ]);
  });

  it('is left alone when the expression looks at the status, and for a task without expires_in', async () => {
    expect(
      await problemsOf(`  - if: "steps.finance.status != 'completed' or steps.finance.outcome != 'Approve'"
    then:
      - action: stop
  - if: "$exists(steps.finance.outcome) and steps.finance.outcome != 'Approve'"
    then:
      - action: stop
  - if: "steps.board.outcome != 'Approve'"
    then:
      - action: stop
  - if: "steps.finance.outcome = 'Approve'"
    then:
      - action: change_stage
        stage: Approved
`),
    ).toEqual([]);
  });
});
