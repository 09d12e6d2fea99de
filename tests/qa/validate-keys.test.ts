import { describe, expect, it } from 'vitest';
import { loadDirectory } from '../../src/recipes/loader.js';
import { recipesDir } from '../helpers/runtime.js';

/** Keys mistyped in a recipe, and what `npm run validate` says at each of them. */

const APP = `kind: app
key: po
name: Purchase
stages: [New, Done]
fields:
  - { key: amount, label: Amount, type: number }
  - { key: po_number, label: PO number, type: text }
  - { key: approver, label: Approver, type: user }
`;

const recipe = (steps: string) => `kind: recipe
name: po-flow
trigger: { type: new_request, app: po }
steps:
${steps}`;

async function problemsOf(steps: string): Promise<string[]> {
  const { problems } = await loadDirectory(recipesDir({ 'app.yaml': APP, 'recipe.yaml': recipe(steps) }));
  return problems.map((p) => `${p.line}: ${p.severity}: ${p.message}`);
}

describe('mistyped keys', () => {
  it('suggests the right key for each of several misspelt keys of one step, not only when there is one', async () => {
    const problems = await problemsOf(`  - action: assign_task
    to: "{{ record.approver }}"
    titel: Buy it
    outcomes: [Approve, Reject]
    expire_in: 2d
`);
    expect(problems).toContain(
      '7: error: steps[0].titel: unknown key "titel" (did you mean "title"?); allowed keys: id, name, action, to, title, instructions, outcomes, inputs, expires_in, quorum, card',
    );
    expect(problems).toContain(
      '9: error: steps[0].expire_in: unknown key "expire_in" (did you mean "expires_in"?); allowed keys: id, name, action, to, title, instructions, outcomes, inputs, expires_in, quorum, card',
    );
  });

  it('says a field key of update_record that is not written as one is not a field key (it said "expected a map of field key to value")', async () => {
    const problems = await problemsOf(`  - action: update_record
    fields:
      Amount: 5
      PO number: "A-1"
`);
    expect(problems).toEqual([
      '7: error: steps[0].fields.Amount: "Amount" is not a field key: field keys are lower-case letters, digits and underscores (did you mean "amount"?)',
      '8: error: steps[0].fields.PO number: "PO number" is not a field key: field keys are lower-case letters, digits and underscores (did you mean "po_number"?)',
    ]);
  });

  it('names the key meant by a word of another name (message: for text:, assignee: for to:, deadline: for expires_in:)', async () => {
    const problems = await problemsOf(`  - action: assign_task
    assignee: "{{ record.approver }}"
    title: Buy it
    outcomes: [Approve, Reject]
    deadline: 2d
  - action: notify
    to: "{{ request.requester }}"
    message: Your order was decided
`);
    expect(problems.find((p) => p.includes('steps[0].assignee'))).toMatch(
      /unknown key "assignee" \(did you mean "to"\?\)/,
    );
    expect(problems.find((p) => p.includes('steps[0].deadline'))).toMatch(
      /unknown key "deadline" \(did you mean "expires_in"\?\)/,
    );
    expect(problems.find((p) => p.includes('steps[1].message'))).toMatch(
      /^12: error: steps\[1\]\.message: unknown key "message" \(did you mean "text"\?\)/,
    );
  });
});
