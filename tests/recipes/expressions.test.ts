import { describe, expect, it } from 'vitest';
import {
  checkExpressionSyntax,
  compileTemplate,
  type ExpressionContext,
  ExpressionError,
  evaluateCondition,
  JSONATA_FUNCTIONS,
  jsonataBoolean,
  renderDeep,
  renderTemplate,
  renderText,
} from '../../src/recipes/expressions.js';

const ctx: ExpressionContext = {
  record: { days: 7, approver: 'U123', tags: ['a', 'b'], start: '2025-03-01', missing: null },
  request: {
    id: 'PTO-42',
    app: 'time-off',
    stage: 'Submitted',
    requester: 'U9',
    created_at: '2025-02-01T10:00:00Z',
  },
  requester: { id: 'U9', name: 'Ann', email: 'ann@example.com' },
  steps: {
    manager: {
      status: 'completed',
      outcome: 'Approve',
      completed_by: 'U123',
      comment: 'enjoy',
      inputs: {},
      completed_at: '2025-02-01T11:00:00Z',
    },
    hr: {
      status: 'expired',
      outcome: null,
      completed_by: null,
      comment: null,
      inputs: {},
      completed_at: null,
    },
  },
  trigger: { type: 'new_request' },
  now: '2025-02-02T00:00:00Z',
};

describe('templates', () => {
  it('keeps the type of a single {{ expr }}', async () => {
    expect(await renderTemplate('{{ record.days }}', ctx)).toBe(7);
    expect(await renderTemplate('{{ record.tags }}', ctx)).toEqual(['a', 'b']);
    expect(await renderTemplate('{{ record.days > 5 }}', ctx)).toBe(true);
    expect(await renderTemplate('{{ {"n": record.days, "nested": {"x": 1}} }}', ctx)).toEqual({
      n: 7,
      nested: { x: 1 },
    });
    expect(await renderTemplate('{{ record.nothing }}', ctx)).toBeUndefined();
    expect(await renderTemplate('  {{ record.days }}  ', ctx)).toBe('  7  ');
  });

  it('joins pieces as a string otherwise', async () => {
    expect(await renderTemplate('Leave: {{ record.days }} days for {{ requester.name }}', ctx)).toBe(
      'Leave: 7 days for Ann',
    );
    expect(await renderTemplate('[{{ record.nothing }}][{{ record.missing }}]', ctx)).toBe('[][]');
    expect(await renderTemplate('tags: {{ record.tags }}', ctx)).toBe('tags: a, b');
    expect(await renderTemplate('no expressions', ctx)).toBe('no expressions');
    expect(await renderText('{{ record.days }}', ctx)).toBe('7');
  });

  it('evaluates the example expressions', async () => {
    expect(await renderTemplate("{{ steps.hr.status = 'expired' ? 'Expired' : 'Rejected' }}", ctx)).toBe(
      'Expired',
    );
    expect(await renderTemplate("{{ steps.manager.status = 'expired' ? 'Expired' : 'Rejected' }}", ctx)).toBe(
      'Rejected',
    );
    expect(await renderTemplate('Your leave {{ request.id }} was approved', ctx)).toBe(
      'Your leave PTO-42 was approved',
    );
    expect(await renderTemplate('{{ $uppercase(requester.name) & "!" }}', ctx)).toBe('ANN!');
  });

  it('renders nested values', async () => {
    expect(await renderDeep({ a: '{{ record.days }}', b: ['x {{ requester.name }}', 3] }, ctx)).toEqual({
      a: 7,
      b: ['x Ann', 3],
    });
  });

  it('reuses compiled templates', () => {
    const a = compileTemplate('x {{ record.days }}');
    expect(compileTemplate('x {{ record.days }}')).toBe(a);
    expect(a.single).toBe(false);
    expect(compileTemplate('{{ a }}').single).toBe(true);
  });

  it('reports syntax errors with their position', () => {
    expect(() => compileTemplate('abc {{ record.days + }}')).toThrow(ExpressionError);
    try {
      compileTemplate('abc {{ record.days + }}');
    } catch (err) {
      expect((err as ExpressionError).position).toBeGreaterThanOrEqual(6);
      expect((err as ExpressionError).message).toMatch(/^syntax error at position \d+/);
    }
    expect(checkExpressionSyntax('hello {{ name')).toMatch(/unclosed \{\{/);
    expect(checkExpressionSyntax('hello {{ }}')).toMatch(/empty/);
    expect(checkExpressionSyntax('hello {{ name }}')).toBeNull();
    expect(checkExpressionSyntax("a = 'b'", 'condition')).toBeNull();
    expect(checkExpressionSyntax('a = = b', 'condition')).toMatch(/syntax error/);
  });
});

describe('conditions', () => {
  it('follow $boolean', async () => {
    expect(await evaluateCondition("steps.manager.outcome = 'Approve'", ctx)).toBe(true);
    expect(await evaluateCondition("steps.hr.outcome = 'Approve'", ctx)).toBe(false);
    expect(await evaluateCondition("$not(steps.hr.outcome = 'Approve')", ctx)).toBe(true);
    expect(await evaluateCondition('record.days > 5 and record.days <= 30', ctx)).toBe(true);
    expect(await evaluateCondition('record.nothing', ctx)).toBe(false);
    expect(await evaluateCondition('record.tags', ctx)).toBe(true);
    expect(await evaluateCondition("''", ctx)).toBe(false);
    expect(await evaluateCondition('0', ctx)).toBe(false);
  });

  it('matches JSONata $boolean casting', () => {
    expect(jsonataBoolean([])).toBe(false);
    expect(jsonataBoolean([0])).toBe(false);
    expect(jsonataBoolean([0, 1])).toBe(true);
    expect(jsonataBoolean({})).toBe(false);
    expect(jsonataBoolean({ a: 1 })).toBe(true);
    expect(jsonataBoolean('x')).toBe(true);
  });

  it('sees only the context', async () => {
    expect(await renderTemplate('{{ process }}', ctx)).toBeUndefined();
    expect(await renderTemplate('{{ $process }}', ctx)).toBeUndefined();
    await expect(renderTemplate('{{ $require("fs") }}', ctx)).rejects.toThrow(ExpressionError);
  });
});

describe('bounds', () => {
  const runaway = /did too much work \(more than 500000 evaluation steps\): a runaway loop or recursion\?/;

  it('stops infinite (tail) recursion by its amount of work, with a clear message', async () => {
    const started = Date.now();
    const err = await renderTemplate('{{ ($f := function($x){$f($x)}; $f(1)) }}', ctx).catch((e) => e);
    expect(err).toBeInstanceOf(ExpressionError);
    expect((err as ExpressionError).message).toMatch(runaway);
    expect((err as ExpressionError).expression).toBe(' ($f := function($x){$f($x)}; $f(1)) ');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stops deep recursion by depth', async () => {
    const started = Date.now();
    await expect(evaluateCondition('($f := function($x){ 1 + $f($x) }; $f(1))', ctx)).rejects.toThrow(
      /nested more than 200 levels/,
    );
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('stops a huge loop', async () => {
    const started = Date.now();
    await expect(renderTemplate('{{ $sum([1..5000000].($ * 2)) }}', ctx)).rejects.toThrow(runaway);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('bounds $eval too, and honours custom limits', async () => {
    await expect(renderTemplate('{{ $eval("($f := function($x){$f($x)}; $f(1))") }}', ctx)).rejects.toThrow(
      runaway,
    );
    await expect(renderTemplate('{{ $sum([1..1000].($ * 2)) }}', ctx, { maxSteps: 100 })).rejects.toThrow(
      'expression did too much work (more than 100 evaluation steps)',
    );
    expect(await renderTemplate('{{ $sum([1..1000].($ * 2)) }}', ctx, { maxSteps: 10_000 })).toBe(1001000);
    await expect(
      renderTemplate('{{ ($f := function($x){$f($x)}; $f(1)) }}', ctx, { timeoutMs: 50, maxSteps: 1e12 }),
    ).rejects.toThrow('expression took longer than 50 ms');
  });

  it('counts the work of each evaluation separately, even when they interleave', async () => {
    // 400 evaluations of 4,000 steps each, at once: 1.6 million steps in all, but each one is
    // far below the budget.
    const results = await Promise.all(
      Array.from({ length: 400 }, (_, i) => renderTemplate(`{{ $sum([1..1000].($ * 2)) + ${i} }}`, ctx)),
    );
    expect(results[0]).toBe(1001000);
    expect(results[399]).toBe(1001399);
  });

  it('does not fail a trivial expression that waits behind other work (a busy server)', async () => {
    // Other jobs interleaving on the event loop: 20 chains of microtasks, each slice doing 1 ms
    // of synchronous work (as a store write does). Each await inside the evaluation queues
    // behind a slice of every chain, so a dozen steps take far longer than 250 ms of wall time
    // while the expression itself does almost nothing.
    let busy = true;
    const hog = async () => {
      while (busy) {
        const until = performance.now() + 1;
        while (performance.now() < until) {
          // burn CPU
        }
        await null;
      }
    };
    const hogs = Array.from({ length: 20 }, () => hog());
    let took = 0;
    try {
      const started = performance.now();
      const text = await renderTemplate(
        "{{ 'Leave: ' & record.days * 2 & ' days for ' & $uppercase(requester.name) & ' from ' & record.start }}",
        ctx,
      );
      took = performance.now() - started;
      expect(text).toBe('Leave: 14 days for ANN from 2025-03-01');
    } finally {
      busy = false;
      await Promise.all(hogs);
    }
    // The starvation was real: a 250 ms wall-time limit would have failed this evaluation.
    expect(took).toBeGreaterThan(250);
  });

  it('still evaluates ordinary expressions after a runaway one', async () => {
    expect(await renderTemplate('{{ record.days * 2 }}', ctx)).toBe(14);
  });
});

describe('unknown functions', () => {
  it("are reported at load, with their names; JSONata's own and those the expression defines are not", () => {
    expect(checkExpressionSyntax('Hi {{ $uppercse(requester.name) }}')).toMatch(
      /^unknown function \$uppercse:/,
    );
    expect(checkExpressionSyntax('$nosuchfn(record.days) > 3 and $foo()', 'condition')).toMatch(
      /^unknown function \$nosuchfn, \$foo:/,
    );
    expect(checkExpressionSyntax('{{ record.name ~> $trimm() }}')).toMatch(/\$trimm/);
    expect(checkExpressionSyntax('{{ $uppercase($substring(requester.name, 0, 1)) }}')).toBeNull();
    expect(checkExpressionSyntax('{{ ($twice := function($x){ $x * 2 }; $twice(record.days)) }}')).toBeNull();
    expect(checkExpressionSyntax('{{ $map(record.items, function($v, $i){ $string($v) }) }}')).toBeNull();
    expect(checkExpressionSyntax('{{ (function($f){ $f(1) })($string) }}')).toBeNull();
  });

  it('knows only names that are JSONata functions', async () => {
    const jsonata = (await import('jsonata')).default;
    for (const name of JSONATA_FUNCTIONS) {
      expect(await jsonata(`$type($${name})`).evaluate({}), name).toBe('function');
    }
    expect(JSONATA_FUNCTIONS.size).toBeGreaterThan(60);
  });
});
