import { describe, expect, it } from 'vitest';
import { loadDirectory } from '../../src/recipes/loader.js';
import { recipesDir } from '../helpers/runtime.js';

/** Mistakes a new author makes in a first recipe, and the one message each gets. */

const APP = `kind: app
key: purchase
name: Purchase request
stages: [Submitted, Approved, Rejected]
fields:
  - { key: item, label: Item, type: text, required: true }
  - { key: approver, label: Approver, type: user, required: true }
`;

const recipe = (steps: string) => `kind: recipe
name: purchase-flow
trigger: { type: new_request, app: purchase }
steps:
${steps}`;

async function problemsOf(steps: string): Promise<string[]> {
  const { problems } = await loadDirectory(recipesDir({ 'app.yaml': APP, 'recipe.yaml': recipe(steps) }));
  return problems.map((p) => `${p.line}: ${p.severity}: ${p.message}`);
}

describe("validate on a newcomer's recipe", () => {
  it('a duration written in words ("3 days", "1 hour") gets the duration meant', async () => {
    expect(
      await problemsOf(`  - action: wait
    for: 1 hour
  - action: assign_task
    to: "{{ record.approver }}"
    title: Buy it
    expires_in: 3 days
`),
    ).toEqual([
      '6: error: steps[0].for: expected a duration: a whole number followed by s, m, h, d or w (did you mean "1h"?)',
      '10: error: steps[1].expires_in: expected a duration: a whole number followed by s, m, h, d or w (did you mean "3d"?)',
    ]);
  });

  it('== , && and || (JavaScript) in an expression get the JSONata spelling, with or without {{ }} around a condition', async () => {
    expect(
      await problemsOf(`  - id: manager
    action: assign_task
    to: "{{ record.approver }}"
    title: "Buy {{ record.item == 'x' ? 'it' : 'that' }}"
  - if: "{{ steps.manager.outcome == 'Approve' }}"
    then:
      - action: change_stage
        stage: Approved
  - if: "steps.manager.outcome == 'Approve' && record.item != 'a==b' || record.item = 'c'"
    then:
      - action: change_stage
        stage: Approved
`),
    ).toEqual([
      `8: error: steps[0].title: == is written = in JSONata: write "Buy {{ record.item = 'x' ? 'it' : 'that' }}"`,
      `9: error: steps[1].if: a condition is a bare expression, without {{ }}, and == is written = in JSONata: write "steps.manager.outcome = 'Approve'"`,
      `13: error: steps[2].if: == is written =, && is written and, || is written or in JSONata: write "steps.manager.outcome = 'Approve' and record.item != 'a==b' or record.item = 'c'"`,
    ]);
  });
});
