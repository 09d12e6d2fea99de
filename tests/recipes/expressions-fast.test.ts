/**
 * The fast answers for plain paths and path = literal comparisons (expressions.ts) must be
 * JSONata's: random contexts and expressions, evaluated by Baton and by JSONata itself.
 */
import fc from 'fast-check';
import jsonata from 'jsonata';
import { describe, expect, it } from 'vitest';
import { evaluateCondition, evaluateExpression, renderTemplate } from '../../src/recipes/expressions.js';

const NAMES = ['a', 'b', 'outcome', 'days', 'in'] as const;
const scalar = fc.oneof(
  fc.constantFrom('Approve', 'Reject', '', '3', 'a'),
  fc.constantFrom(0, 3, -1, 2.5),
  fc.boolean(),
  fc.constant(null),
);
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('node'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...NAMES), tie('node'), { maxKeys: 4 }),
  ),
})).node;
const context = fc.dictionary(fc.constantFrom(...NAMES), value, { maxKeys: 5 });
const path = fc
  .array(fc.constantFrom('a', 'b', 'outcome', 'days'), { minLength: 1, maxLength: 3 })
  .map((p) => p.join('.'));
const literal = fc.oneof(fc.constantFrom("'Approve'", "'3'", "''", '3', '0', '2.5', 'true', 'false'));
const expression = fc.oneof(
  path,
  fc.tuple(path, fc.constantFrom('=', '!='), literal).map(([p, op, l]) => `${p} ${op} ${l}`),
  fc.tuple(literal, fc.constantFrom('=', '!='), path).map(([l, op, p]) => `${l} ${op} ${p}`),
);

/** JSONata's own answer, as plain data (what Baton hands on). */
async function reference(source: string, input: unknown): Promise<unknown> {
  const result = await jsonata(source).evaluate(input);
  return result === undefined ? undefined : JSON.parse(JSON.stringify(result));
}

describe('plain paths and comparisons answered without the evaluator', () => {
  it('give JSONata’s answers', async () => {
    await fc.assert(
      fc.asyncProperty(context, expression, async (input, source) => {
        const expected = await reference(source, input);
        const got = await evaluateExpression(source, input);
        expect(got === undefined ? undefined : JSON.parse(JSON.stringify(got))).toEqual(expected);
      }),
      { numRuns: 1500 },
    );
  });

  it('in conditions and templates too', async () => {
    const ctx = {
      record: { days: 3, approver: 'u_1', tags: ['x', 'y'] },
      steps: { manager: { outcome: 'Approve', status: 'completed' } },
    };
    expect(await evaluateCondition("steps.manager.outcome = 'Approve'", ctx)).toBe(true);
    expect(await evaluateCondition("steps.manager.outcome != 'Approve'", ctx)).toBe(false);
    expect(await evaluateCondition("steps.hr.outcome != 'Approve'", ctx)).toBe(false);
    expect(await evaluateCondition('record.days = 3', ctx)).toBe(true);
    expect(await evaluateCondition("record.days = '3'", ctx)).toBe(false);
    expect(await renderTemplate('{{ record.days }}', ctx)).toBe(3);
    expect(await renderTemplate('{{ record.tags }}', ctx)).toEqual(['x', 'y']);
    expect(await renderTemplate('{{ record }}', ctx)).toEqual(ctx.record);
    expect(await renderTemplate('Leave {{ record.days }} days for {{ record.approver }}', ctx)).toBe(
      'Leave 3 days for u_1',
    );
  });
});
