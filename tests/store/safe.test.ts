import { describe, expect, it } from 'vitest';
import { assertSafeId, assertSafeValue, UnsafeInputError } from '../../src/store/safe.js';

describe('assertSafeValue', () => {
  it('accepts scalars, dates, and plain nested data', () => {
    for (const v of [
      'x',
      '$not-a-key',
      1,
      true,
      null,
      undefined,
      new Date(),
      [1, 'a', { b: [{ c: 1 }] }],
      { a: { b: 'c.d' } },
    ]) {
      expect(() => assertSafeValue(v, 'field')).not.toThrow();
    }
  });
  it.each([
    [{ $gt: '' }, /starts with "\$"/],
    [{ a: { $ne: null } }, /starts with "\$"/],
    [[{ ok: 1 }, { $where: 'x' }], /starts with "\$"/],
    [{ 'a.b': 1 }, /contains "\."/],
    [JSON.parse('{"__proto__": {"polluted": true}}'), /forbidden/],
    [{ constructor: 1 }, /forbidden/],
    [{ nested: { prototype: 1 } }, /forbidden/],
    [{ r: /x/ }, /regular expressions/],
  ])('rejects %j', (value, message) => {
    expect(() => assertSafeValue(value, 'form')).toThrow(UnsafeInputError);
    expect(() => assertSafeValue(value, 'form')).toThrow(message);
  });
  it('names the label and the path in the message', () => {
    expect(() => assertSafeValue({ a: [{ $x: 1 }] }, 'answer')).toThrow(/^answer: key "\$x" at \$\.a\[0\]/);
  });
  it('rejects cycles and very deep values', () => {
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    expect(() => assertSafeValue(cyc, 'v')).toThrow(/cycle/);
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = { d: deep };
    expect(() => assertSafeValue(deep, 'v')).toThrow(/nested too deeply/);
  });
});

describe('assertSafeId', () => {
  it('accepts ordinary ids', () => {
    for (const id of ['abc', 'T-123', 'a'.repeat(200), 'user@example.com', 'x$y', 'üñí']) {
      expect(() => assertSafeId(id, 'id')).not.toThrow();
    }
  });
  it.each([
    ['', /empty/],
    ['a'.repeat(201), /longer than 200/],
    ['a\nb', /control/],
    ['a\u0000', /control/],
    ['\u007f', /control/],
    ['$gt', /must not start with "\$"/],
  ])('rejects %j', (id, message) => {
    expect(() => assertSafeId(id, 'taskId')).toThrow(UnsafeInputError);
    expect(() => assertSafeId(id, 'taskId')).toThrow(message);
  });
  it('rejects non-strings', () => {
    for (const id of [1, null, undefined, { $ne: 1 }, ['a']]) {
      expect(() => assertSafeId(id, 'taskId')).toThrow(/must be a string/);
    }
  });
});
