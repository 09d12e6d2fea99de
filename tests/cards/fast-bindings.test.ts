// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Adaptive Card bindings are literal ${...} strings
/**
 * The compiled binding evaluator (adapters/cards/fast-bindings.ts) against adaptive-expressions:
 * the same template expanded by both, with random data, must give the same card, or both
 * must fail.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultCardsDir, loadCards } from '../../adapters/cards/cards.js';
import { accelerate } from '../../adapters/cards/fast-bindings.js';
import { closedTask, openTask } from './fixtures.js';

const require = createRequire(import.meta.url);
const { Template } = require('adaptivecards-templating') as {
  Template: new (payload: unknown) => { expand(context: { $root: unknown }): unknown };
};

function pair(payload: unknown) {
  const library = new Template(payload);
  const fast = new Template(payload);
  const counts = accelerate(fast);
  return { library, fast, counts };
}

/** The expansion as JSON, or the fact that it failed. */
function outcome(template: { expand(context: { $root: unknown }): unknown }, data: unknown): string {
  try {
    return JSON.stringify(template.expand({ $root: data }));
  } catch {
    return 'threw';
  }
}

const scalar = fc.oneof(
  fc.constantFrom('', 'a', 'A', 'required', 'optional', 'primary', 'danger', 'long_text', 'x y'),
  fc.string({ maxLength: 24 }),
  fc.constantFrom(0, 1, 2, 3, 19, -1, 2.5),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('2025-03-04T09:00:00.000Z', '2025-03-04', '${a}'),
);
const keys = fc.constantFrom('a', 'b', 'c', 'A', 'k', 'l', 'x', 'label', 'Label', 'comment', 'value');
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(keys, tie('value'), { maxKeys: 5 }),
})).value;

/** A fixture with some of its values replaced, removed, nulled or re-cased. */
function perturbed(base: unknown): fc.Arbitrary<unknown> {
  return fc
    .array(fc.tuple(fc.nat(), fc.constantFrom('delete', 'null', 'replace', 'recase', 'keep'), json), {
      maxLength: 6,
    })
    .map((edits) => {
      const copy = structuredClone(base) as Record<string, unknown>;
      const objects: Record<string, unknown>[] = [];
      const collect = (node: unknown): void => {
        if (Array.isArray(node)) node.forEach(collect);
        else if (node && typeof node === 'object') {
          objects.push(node as Record<string, unknown>);
          Object.values(node).forEach(collect);
        }
      };
      collect(copy);
      for (const [n, how, value] of edits) {
        const target = objects[n % objects.length]!;
        const names = Object.keys(target);
        if (names.length === 0) continue;
        const key = names[n % names.length]!;
        if (how === 'delete') delete target[key];
        else if (how === 'null') target[key] = null;
        else if (how === 'replace') target[key] = value;
        else if (how === 'recase') {
          const v = target[key];
          delete target[key];
          target[key.toUpperCase()] = v;
        }
      }
      return copy;
    });
}

describe('compiled card bindings', () => {
  const dir = defaultCardsDir();
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

  it('compile every binding of the shipped cards', () => {
    for (const file of files) {
      const { counts } = pair(JSON.parse(readFileSync(join(dir, file), 'utf8')));
      expect(counts.kept, file).toBe(0);
      expect(counts.compiled, file).toBeGreaterThan(0);
    }
  });

  it('render the shipped cards exactly as adaptive-expressions does, for random data', () => {
    const bases = [
      { ...openTask(), actionable: true, url: 'https://baton.example.com/requests/PTO-42' },
      { ...openTask(), actionable: false, url: '' },
      { ...closedTask(), actionable: false, url: '' },
      {
        ...openTask({ inputs: [{ id: 'reason', label: 'Reason', type: 'text', required_for: ['Reject'] }] }),
        actionable: true,
      },
      { text: 'Your request was approved', request: openTask().request, url: 'https://x/y' },
      { ...openTask().request, url: '' },
    ];
    for (const file of files) {
      const { library, fast } = pair(JSON.parse(readFileSync(join(dir, file), 'utf8')));
      for (const base of bases) {
        expect(outcome(fast, base), file).toBe(outcome(library, base));
        fc.assert(
          fc.property(perturbed(base), (data) => {
            expect(outcome(fast, data)).toBe(outcome(library, data));
          }),
          { numRuns: 60 },
        );
      }
    }
  });

  // Every node the compiler knows, in every position a binding can take: a whole value, a
  // piece of an interpolated string, a $when, a $data.
  const expressions = [
    'a',
    'a.b',
    'A.B',
    '$root.a',
    '$data.a',
    '$ROOT.x',
    "a == 'a'",
    'a == b',
    'a != b',
    'a > b',
    'a >= 1',
    'a < b',
    "a <= 'b'",
    'a && b',
    'a || b || c',
    '!a',
    'a.b && !c',
    'exists(a)',
    'exists(a.b)',
    "if(a, b, 'no')",
    "if(a == 'A', 'yes', c)",
    'count(a)',
    'count(a) > 0',
    'length(a)',
    'length(a) >= 1',
    'substring(a, 0, 1)',
    'substring(a, 1)',
    'substring(a, b, c)',
    "join(a, ', ')",
    "join(a, ', ', ' and ')",
    'contains(a, b)',
    "contains(a, 'a')",
    'where(a, x, x.k)',
    "where(a, x, x.k == 'a')",
    'where(a, x, x)',
    'where(b, X, x.l && k)',
    'foreach(a, x, x.k)',
    'foreach(a, x, x)',
    "foreach(a, x, if(x.k, x.l, 'none'))",
    "count(where(a, x, contains(x.l, 'a'))) > 0",
    'foreach(a, x, foreach(x.l, y, y))',
    'foreach(a, x, where(b, y, y == x))',
    "join(foreach(where(a, o, o.comment == 'required'), o, o.label), ', ')",
    "if(c == 'primary', 'positive', if(c == 'danger', 'destructive', 'default'))",
    'where(a, label, label == k)',
  ];
  const positions = (e: string) => [
    { type: 'TextBlock', text: `\${${e}}` },
    { type: 'TextBlock', text: `before \${${e}} after \${k}` },
    { type: 'TextBlock', $when: `\${${e}}`, text: 'shown' },
    { type: 'TextBlock', $data: `\${${e}}`, text: '${x} ${$index} ${k}' },
  ];
  const data = fc.dictionary(keys, json, { maxKeys: 8 });

  it.each(expressions)('%s gives what adaptive-expressions gives, wherever it is bound', (e) => {
    for (const element of positions(e)) {
      const { library, fast, counts } = pair({ type: 'AdaptiveCard', version: '1.5', body: [element] });
      expect(counts.kept).toBe(0);
      fc.assert(
        fc.property(data, (d) => {
          expect(outcome(fast, d)).toBe(outcome(library, d));
        }),
        { numRuns: 150 },
      );
    }
  });

  it('leaves what it does not know to the library (element access, other functions), with the same results', () => {
    const { library, fast, counts } = pair({
      type: 'AdaptiveCard',
      body: [
        { type: 'TextBlock', text: '${a[0]} ${toUpper(b)}' },
        { type: 'TextBlock', text: '${formatNumber(3, 1)}' },
      ],
    });
    expect(counts.kept).toBe(3);
    expect(counts.compiled).toBeGreaterThan(0); // the string pieces between them
    fc.assert(
      fc.property(data, (d) => {
        expect(outcome(fast, d)).toBe(outcome(library, d));
      }),
      { numRuns: 100 },
    );
  });

  it('the card library uses it and renders the same cards', () => {
    const plain = loadCards(undefined, { accelerate: false });
    const accelerated = loadCards();
    const data = { ...openTask(), actionable: true, url: 'https://baton.example.com/requests/PTO-42' };
    expect(accelerated.render('task', data)).toEqual(plain.render('task', data));
  });
});
