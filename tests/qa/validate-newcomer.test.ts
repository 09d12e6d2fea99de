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
});
