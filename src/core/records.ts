import { z } from 'zod';
import type { AppDefinition } from '../recipes/schema.js';
import { ValidationError } from './errors.js';
import { MAX_LONG_TEXT_LENGTH, MAX_TEXT_LENGTH } from './types.js';

type Field = AppDefinition['fields'][number];

/**
 * Records are validated against a zod schema built from the app's fields. Input may come
 * from a form (strings) or an API (typed values); the result holds typed values only.
 * A violation gives one message per field a person can act on ("Days must be at most 30").
 */

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function isBlank(v: unknown): boolean {
  return (
    v === undefined ||
    v === null ||
    (typeof v === 'string' && v.trim() === '') ||
    (Array.isArray(v) && v.length === 0)
  );
}

export function optionValues(field: Field): string[] {
  return (field.options ?? []).map((o) => (typeof o === 'string' ? o : o.value));
}

/** What people see for each option (its label), for messages that list the choices. */
function optionLabels(field: Field): string[] {
  return (field.options ?? []).map((o) => (typeof o === 'string' ? o : o.label));
}

/** Control characters other than tab, line feed and carriage return (NUL, escape, ...). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
/** A number as people type it: 12, -3.5, .5, 1e3 (not hex, binary or octal literals). */
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function validDate(s: string): boolean {
  if (!ISO_DATE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** The zod schema for one field's non-blank value, with messages naming the field. */
function valueSchema(field: Field): z.ZodType<unknown> {
  const label = field.label;
  switch (field.type) {
    case 'text':
      return z
        .string({ message: `${label} must be text` })
        .max(MAX_TEXT_LENGTH, `${label} must be at most ${MAX_TEXT_LENGTH} characters`)
        .refine((v) => !CONTROL_CHARS.test(v), `${label} contains characters that are not text`);
    case 'long_text':
      return z
        .string({ message: `${label} must be text` })
        .max(MAX_LONG_TEXT_LENGTH, `${label} must be at most ${MAX_LONG_TEXT_LENGTH} characters`)
        .refine((v) => !CONTROL_CHARS.test(v), `${label} contains characters that are not text`);
    case 'number': {
      let s = z.preprocess(
        // Decimal notation only: Number() would also take "0x10", "0b1", "1e400" or " 12 ".
        (v) =>
          typeof v === 'string' && DECIMAL.test(v.trim()) && Number.isFinite(Number(v)) ? Number(v) : v,
        z.number({ message: `${label} must be a number` }).finite(`${label} must be a number`),
      );
      const min = field.min;
      const max = field.max;
      if (min !== undefined) s = s.refine((n) => (n as number) >= min, `${label} must be at least ${min}`);
      if (max !== undefined) s = s.refine((n) => (n as number) <= max, `${label} must be at most ${max}`);
      return s;
    }
    case 'date':
      return z.preprocess(
        (v) => (v instanceof Date && !Number.isNaN(v.getTime()) ? v.toISOString().slice(0, 10) : v),
        z
          .string({ message: `${label} must be a date (YYYY-MM-DD)` })
          .refine(validDate, `${label} must be a date (YYYY-MM-DD)`),
      );
    case 'select': {
      const values = optionValues(field);
      const choices = optionLabels(field).join(', ');
      return z
        .string({ message: `${label} must be one of ${choices}` })
        .refine((v) => values.includes(v), `${label} must be one of ${choices}`);
    }
    case 'multi_select': {
      const values = optionValues(field);
      const choices = optionLabels(field).join(', ');
      return z.preprocess(
        (v) => (typeof v === 'string' ? [v] : v),
        z
          .array(z.string(), { message: `${label} must be a list of options` })
          .refine((a) => a.every((v) => values.includes(v)), `${label} must only contain ${choices}`)
          .transform((a) => [...new Set(a)]),
      );
    }
    case 'user':
      return z
        .string({ message: `${label} must be a person` })
        .min(1, `${label} must be a person`)
        .max(200, `${label} must be a person`)
        .refine((s) => !s.startsWith('$'), `${label} must be a person`);
    case 'boolean':
      return z.preprocess(
        (v) =>
          v === 'true' || v === 'on' || v === '1'
            ? true
            : v === 'false' || v === 'off' || v === '0'
              ? false
              : v,
        z.boolean({ message: `${label} must be yes or no` }),
      );
    case 'email':
      return z
        .string({ message: `${label} must be an email address` })
        .transform((s) => s.trim())
        .refine((s) => EMAIL.test(s), `${label} must be an email address`);
    case 'url':
      return z
        .string({ message: `${label} must be a web address` })
        .transform((s) => s.trim())
        .refine((s) => {
          try {
            const u = new URL(s);
            return u.protocol === 'http:' || u.protocol === 'https:';
          } catch {
            return false;
          }
        }, `${label} must be a web address starting with http:// or https://`);
    default:
      return z.never();
  }
}

const schemaCache = new WeakMap<AppDefinition, Map<string, z.ZodType<unknown>>>();

function fieldSchemas(app: AppDefinition): Map<string, z.ZodType<unknown>> {
  let map = schemaCache.get(app);
  if (!map) {
    map = new Map(app.fields.map((f) => [f.key, valueSchema(f)]));
    schemaCache.set(app, map);
  }
  return map;
}

export interface ValidateOptions {
  /** Only the given fields are checked (an update); required fields may be absent. */
  partial?: boolean;
  /**
   * The input comes from a form that showed each field's default as its starting value: a
   * field left blank there was cleared on purpose, so only fields absent from the input get
   * their default (by default, blank ones do too).
   */
  formShowedDefaults?: boolean;
}

/**
 * Validates `input` for `app`. Blank optional values are dropped; defaults fill missing
 * values on create. Throws ValidationError with one message per offending field.
 */
export function validateRecord(
  app: AppDefinition,
  input: Record<string, unknown>,
  options: ValidateOptions = {},
): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('A record must be an object of field values.');
  }
  const schemas = fieldSchemas(app);
  const errors: Record<string, string> = {};
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    if (!schemas.has(key)) errors[key] = `${app.name} has no field "${key}"`;
  }
  for (const field of app.fields) {
    const present = Object.hasOwn(input, field.key);
    if (options.partial && !present) continue;
    let value = present ? input[field.key] : undefined;
    if (
      isBlank(value) &&
      !options.partial &&
      field.default !== undefined &&
      !(options.formShowedDefaults && present)
    )
      value = field.default;
    if (isBlank(value)) {
      // A field off the request form is not asked when filing: it is required of what sets it later.
      if (field.required && (options.partial || field.on_form !== false))
        errors[field.key] = `${field.label} is required`;
      else if (options.partial && present) out[field.key] = null;
      continue;
    }
    const parsed = schemas.get(field.key)!.safeParse(value);
    if (parsed.success) out[field.key] = parsed.data;
    else errors[field.key] = parsed.error.issues[0]?.message ?? `${field.label} is not valid`;
  }
  const keys = Object.keys(errors);
  if (keys.length > 0) {
    const summary = keys.map((k) => errors[k]).join('; ');
    throw new ValidationError(`Please fix: ${summary}.`, errors);
  }
  return out;
}

/** An ISO 8601 date and time (`$now()`, `$fromMillis(...)`): the date is its first 10 characters. */
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * A value an update_record step sets, as the field takes it: a text field gets the
 * text of a number, a yes/no or a list (`{{ record.nights }}` keeps its type as a whole
 * expression), a date field the date of a date and time (`{{ $now() }}`).
 */
export function recipeFieldValue(type: string | undefined, value: unknown): unknown {
  if (type === 'text' || type === 'long_text') {
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number'))
      return value.join(', ');
  }
  if (type === 'date' && typeof value === 'string') {
    const m = DATE_TIME.exec(value.trim());
    if (m) return m[1];
  }
  return value;
}

/** A value rendered for people (history lines, summaries). */
export function displayValue(value: unknown): string {
  if (value === undefined || value === null) return '—';
  if (Array.isArray(value)) return value.map(displayValue).join(', ');
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A select's stored value(s) shown by their option labels ("Green", not "grn"). */
export function selectedLabels(
  options: readonly (string | { value: string; label: string })[],
  raw: unknown,
): string {
  const labels = new Map(options.map((o) => (typeof o === 'string' ? [o, o] : [o.value, o.label])));
  return (Array.isArray(raw) ? raw : [raw]).map((v) => labels.get(String(v)) ?? displayValue(v)).join(', ');
}
