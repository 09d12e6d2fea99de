import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/core/errors.js';
import { validateRecord } from '../../src/core/records.js';
import type { AppDefinition } from '../../src/recipes/schema.js';

const app = {
  kind: 'app',
  key: 'buy',
  name: 'Purchase',
  stages: ['Submitted'],
  fields: [
    { key: 'qty', label: 'Quantity', type: 'number', required: true },
    { key: 'what', label: 'What', type: 'text' },
    { key: 'why', label: 'Why', type: 'long_text' },
  ],
} as unknown as AppDefinition;

const errorsOf = (input: Record<string, unknown>) => {
  try {
    validateRecord(app, input);
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError & { fields?: Record<string, string> }).fields ?? {};
  }
};

describe('record validation takes what people type, and only that', () => {
  it('numbers in decimal notation, not hex, binary or octal literals', () => {
    expect(validateRecord(app, { qty: ' 12 ' }).qty).toBe(12);
    expect(validateRecord(app, { qty: '-3.5' }).qty).toBe(-3.5);
    expect(validateRecord(app, { qty: '.5' }).qty).toBe(0.5);
    expect(validateRecord(app, { qty: '1e3' }).qty).toBe(1000);
    for (const qty of ['0x10', '0b1', '0o7', '1e400', 'Infinity', '12abc']) {
      expect(errorsOf({ qty }), qty).toEqual({ qty: 'Quantity must be a number' });
    }
  });

  it('text without control characters; long text keeps its line breaks and tabs', () => {
    expect(errorsOf({ qty: 1, what: 'a\u0000b' })).toEqual({
      what: 'What contains characters that are not text',
    });
    expect(errorsOf({ qty: 1, why: 'esc \u001b[31m red' })).toEqual({
      why: 'Why contains characters that are not text',
    });
    expect(validateRecord(app, { qty: 1, why: 'line one\r\n\tline two' }).why).toBe('line one\r\n\tline two');
  });
});
