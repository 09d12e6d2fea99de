/**
 * The app and recipe file format (YAML, `kind: app` / `kind: recipe`).
 *
 * This format is a public interface: extend it, never break it. Every object is strict, so a
 * typo such as `outcome:` for `outcomes:` is an error that names the allowed keys.
 */
import { z } from 'zod';
import { DURATION_PATTERN, isDuration } from './duration.js';

// ---------------------------------------------------------------------------------------------
// helpers

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** The allowed key closest to a misspelt one, if any is close. */
export function closestKey(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const candidate of allowed) {
    const d = editDistance(key, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/**
 * True when `short` reads as an abbreviation of `long`: its letters in order within it, from the
 * same first letter (mgr of manager, finance of finance_approval); two letters only as its start
 * (hr of hr_review).
 */
function abbreviates(short: string, long: string): boolean {
  if (short.length < 2 || short.length >= long.length || short[0] !== long[0]) return false;
  if (short.length === 2) return long.startsWith(short);
  let i = 0;
  for (const c of long) if (c === short[i]) i++;
  return i === short.length;
}

/**
 * The name (a step or input id) meant by one that is not there: a near miss (manger for manager:
 * a letter in three at most, so that hr is not taken for mgr), or else the only name that it
 * abbreviates or that abbreviates it (mgr for manager or manger, hr_review for hr), which a
 * distance in letters never finds for short names.
 */
export function closestName(name: string, names: readonly string[]): string | undefined {
  const near = closestKey(name, names);
  if (near && editDistance(name, near) <= Math.max(1, Math.floor(name.length / 3))) return near;
  const matches = names.filter((n) => abbreviates(name, n) || abbreviates(n, name));
  return matches.length === 1 ? matches[0] : undefined;
}

/** The keys of action steps (besides id and name), which an if step has none of. */
const ACTION_STEP_KEYS = new Set([
  'action',
  'to',
  'title',
  'instructions',
  'outcomes',
  'inputs',
  'expires_in',
  'quorum',
  'card',
  'stage',
  'fields',
  'text',
  'for',
  'until',
  'reason',
]);

/** Words people write for a key of another name (message: for text:), by what they mean. */
const KEY_SYNONYMS: Record<string, readonly string[]> = {
  text: ['message', 'body', 'content', 'msg'],
  to: [
    'assignee',
    'assignees',
    'assign_to',
    'approver',
    'approvers',
    'recipient',
    'recipients',
    'user',
    'users',
  ],
  expires_in: ['expires', 'expiry', 'expire', 'deadline', 'timeout', 'due', 'due_in'],
  outcomes: ['choices', 'options', 'buttons'],
  title: ['name', 'subject', 'summary'],
  on_form: ['form', 'in_form', 'show_on_form', 'on_request_form', 'hidden', 'internal', 'ask'],
};

/** What is said about one unknown key of a mapping: the allowed key it is closest to, and all of them. */
export function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  // `to:` of a step under then: indented as far as its `- `: YAML gives it to the if step
  if (allowed.includes('if') && allowed.includes('then') && ACTION_STEP_KEYS.has(key))
    return `unknown key "${key}": an if step has no such key: if it belongs to the step above it (under then: or else:), indent it to line up with that step's action:; allowed keys here: ${allowed.join(', ')}`;
  const lower = key.toLowerCase();
  const synonym = Object.entries(KEY_SYNONYMS).find(
    ([target, words]) => allowed.includes(target) && words.includes(lower),
  )?.[0];
  const suggestion = synonym ?? closestKey(key, allowed);
  const hint = suggestion ? ` (did you mean "${suggestion}"?)` : '';
  return `unknown key "${key}"${hint}; allowed keys: ${allowed.join(', ')}`;
}

/** A strict object whose unknown-key error names the keys that are allowed. */
function strict<T extends z.core.$ZodLooseShape>(shape: T, hidden: readonly string[] = []) {
  const allowed = Object.keys(shape).filter((k) => !hidden.includes(k));
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') {
        // `- action: stop` with `if:` beside it, as if a step could have a condition of its own
        if (issue.keys.length === 1 && issue.keys[0] === 'if' && 'action' in shape)
          return 'a step with action: has no condition of its own; put the step under one: - if: "<condition>" then: [the step]';
        if (issue.keys.length === 1) return unknownKeyMessage(issue.keys[0]!, allowed);
        // (the loader reports each key at its line, with its own suggestion: see unknownKeyMessage)
        const keys = issue.keys.map((k) => `"${k}"`).join(', ');
        return `unknown keys ${keys}; allowed keys: ${allowed.join(', ')}`;
      }
      if (issue.code === 'invalid_type' && issue.input === undefined) return 'required';
      return undefined;
    },
  });
}

const nonEmpty = (what: string) =>
  z.string({ error: (i) => (i.input === undefined ? 'required' : `${what} must be a string`) }).min(1, {
    error: `${what} must not be empty`,
  });

/** A template: a string that may contain `{{ expression }}` pieces. */
export const TemplateSchema = z
  .string({ error: (i) => (i.input === undefined ? 'required' : 'expected a string (may contain {{ }})') })
  .min(1, { error: 'must not be empty' });

/** A duration of more than zero and at most 10 years; `zero` says what a zero one would mean here. */
function durationSchema(zero: string) {
  return z
    .string({
      error: (i) => (i.input === undefined ? 'required' : 'expected a duration such as 30m, 4h or 2d'),
    })
    .regex(/^0*[1-9]\d*(s|m|h|d|w)$/, {
      error: (issue) => {
        const input = String(issue.input);
        if (/^(-\d+|0+)(s|m|h|d|w)$/.test(input))
          return `a duration must be more than zero, e.g. 30m or 2d (${zero})`;
        // `3 days`, `1 hour`, `30 mins`: the unit's first letter, without the space
        const words =
          /^\s*(\d+)\s*(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?)\s*$/i.exec(
            input,
          );
        if (words && Number(words[1]) > 0)
          return `expected a duration: a whole number followed by s, m, h, d or w (did you mean "${Number(words[1])}${words[2]![0]!.toLowerCase()}"?)`;
        return 'expected a duration: a whole number followed by s, m, h, d or w (e.g. 2d)';
      },
    })
    .refine((v) => !DURATION_PATTERN.test(v) || isDuration(v), {
      error: 'a duration is at most 10 years (3650d)',
    });
}

export const DurationSchema = durationSchema('a duration of zero is no time at all');

const KEBAB = /^[a-z][a-z0-9-]*$/;

/**
 * The longest app key, recipe name and field key: keys and names are parts of page addresses
 * (`/admin/apps/<key>`), which take at most 100 characters a part.
 */
export const MAX_KEY_LENGTH = 100;
/**
 * The longest app name and stage name: a backstop only. Surfaces cut long names where they
 * show them (a Slack text holds 3,000 characters), and files with long stage names worked
 * before this limit existed.
 */
export const MAX_NAME_LENGTH = 5000;
/** The longest id prefix of an app's requests (PTO in PTO-42): request ids are parts of page addresses too. */
export const MAX_ID_PREFIX_LENGTH = 32;
const STEP_ID = /^[a-z_][a-z0-9_]*$/;

export const StepIdSchema = z.string().regex(STEP_ID, {
  error: 'step ids are lower-case letters, digits and underscores, e.g. manager_approval',
});

function duplicates(values: string[]): string[] {
  const seen = new Set<string>();
  const dups = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) dups.add(v);
    seen.add(v);
  }
  return [...dups];
}

// ---------------------------------------------------------------------------------------------
// apps

export const FIELD_TYPES = [
  'text',
  'long_text',
  'number',
  'date',
  'select',
  'multi_select',
  'user',
  'boolean',
  'email',
  'url',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export const FieldOptionSchema = z.union(
  [z.string().min(1), strict({ value: z.string().min(1), label: z.string().min(1) })],
  { error: 'an option is a string or { value, label }' },
);
export type FieldOption = z.infer<typeof FieldOptionSchema>;

export function optionValue(option: FieldOption): string {
  return typeof option === 'string' ? option : option.value;
}

const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** YYYY-MM-DD naming a real day (2027-02-30 does not). */
function isCalendarDate(value: string): boolean {
  if (!DATE_PATTERN.test(value)) return false;
  const time = Date.parse(`${value}T00:00:00Z`);
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === value;
}

/** Checks a value against a field's type; returns a problem description or null. */
export function checkFieldValue(field: Field, value: unknown): string | null {
  const values = (field.options ?? []).map(optionValue);
  switch (field.type) {
    case 'text':
    case 'long_text':
    case 'user':
      return typeof value === 'string' ? null : `expected a string for a ${field.type} field`;
    case 'email':
      return typeof value === 'string' && EMAIL_PATTERN.test(value) ? null : 'expected an email address';
    case 'url':
      // As a request's own value is checked: a web address (a javascript: or mailto: one is refused there).
      return typeof value === 'string' && /^https?:$/.test(URL.parse(value)?.protocol ?? '')
        ? null
        : 'expected a web address starting with http:// or https://';
    case 'date':
      // A day of the calendar: Date.parse takes 2027-02-30 (as 2 March), which a request refuses.
      return typeof value === 'string' && isCalendarDate(value) ? null : 'expected a date as YYYY-MM-DD';
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'expected a number';
      if (field.min !== undefined && value < field.min) return `must be at least ${field.min}`;
      if (field.max !== undefined && value > field.max) return `must be at most ${field.max}`;
      return null;
    case 'boolean':
      return typeof value === 'boolean' ? null : 'expected true or false';
    case 'select':
      return typeof value === 'string' && values.includes(value)
        ? null
        : `expected one of: ${values.join(', ')}`;
    case 'multi_select':
      return Array.isArray(value) && value.every((v) => typeof v === 'string' && values.includes(v))
        ? null
        : `expected a list of: ${values.join(', ')}`;
  }
}

const FIELD_KEY = /^[a-z][a-z0-9_]*$/;

const FieldBaseSchema = strict({
  key: z
    .string()
    .regex(FIELD_KEY, {
      error: 'field keys are lower-case letters, digits and underscores, e.g. start_date',
    })
    .max(MAX_KEY_LENGTH, { error: `field keys are at most ${MAX_KEY_LENGTH} characters` }),
  label: nonEmpty('label'),
  type: z.enum(FIELD_TYPES, {
    error: (issue) => {
      const said = typeof issue.input === 'string' ? issue.input : '';
      const meant =
        FIELD_TYPE_SYNONYMS[said.toLowerCase().replace(/[\s-]+/g, '')] ?? closestKey(said, FIELD_TYPES);
      return `expected one of: ${FIELD_TYPES.join(', ')}${meant ? ` (did you mean "${meant}"?)` : ''}`;
    },
  }),
  required: z.boolean().default(false),
  /**
   * `false`: the field is not asked on request forms (Slack, Teams, the portal) and cannot be
   * given when filing; a recipe's update_record sets it (or its default does, at filing).
   */
  on_form: z.boolean({ error: 'expected true or false' }).optional(),
  help: z.string().optional(),
  default: z.unknown().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  options: z
    .array(FieldOptionSchema, { error: 'expected a list of options' })
    .min(1, { error: 'needs at least one option' })
    .optional(),
});

/** Field types as other tools and form builders name them, by the type meant. */
const FIELD_TYPE_SYNONYMS: Record<string, (typeof FIELD_TYPES)[number]> = {
  string: 'text',
  textarea: 'long_text',
  longtext: 'long_text',
  paragraph: 'long_text',
  integer: 'number',
  int: 'number',
  float: 'number',
  decimal: 'number',
  currency: 'number',
  datetime: 'date',
  dropdown: 'select',
  enum: 'select',
  choice: 'select',
  radio: 'select',
  multiselect: 'multi_select',
  multichoice: 'multi_select',
  tags: 'multi_select',
  checkboxes: 'multi_select',
  person: 'user',
  people: 'user',
  users: 'user',
  bool: 'boolean',
  checkbox: 'boolean',
  toggle: 'boolean',
  mail: 'email',
  link: 'url',
};

export const FieldSchema = FieldBaseSchema.superRefine((field, ctx) => {
  const isSelect = field.type === 'select' || field.type === 'multi_select';
  if (isSelect && !field.options) {
    ctx.addIssue({ code: 'custom', path: ['options'], message: `a ${field.type} field needs options` });
  }
  if (!isSelect && field.options) {
    ctx.addIssue({
      code: 'custom',
      path: ['options'],
      message: `options are only allowed on select and multi_select fields, not ${field.type}`,
    });
  }
  if (field.options) {
    for (const dup of duplicates(field.options.map(optionValue))) {
      ctx.addIssue({ code: 'custom', path: ['options'], message: `duplicate option "${dup}"` });
    }
  }
  for (const bound of ['min', 'max'] as const) {
    if (field[bound] !== undefined && field.type !== 'number') {
      ctx.addIssue({
        code: 'custom',
        path: [bound],
        message: `${bound} is only allowed on number fields, not ${field.type}`,
      });
    }
  }
  if (field.min !== undefined && field.max !== undefined && field.min > field.max) {
    ctx.addIssue({
      code: 'custom',
      path: ['min'],
      message: `min (${field.min}) is greater than max (${field.max})`,
    });
  }
  if (field.on_form === false && field.required && field.default === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['required'],
      message:
        'required: true asks for a value when the request is filed, but on_form: false keeps the field off the request form: remove required (a recipe sets the field with update_record), or give the field a default (its value at filing)',
    });
  }
  if (field.default !== undefined && (!isSelect || field.options)) {
    const problem = checkFieldValue(field, field.default);
    if (problem) ctx.addIssue({ code: 'custom', path: ['default'], message: problem });
  }
});
export type Field = z.infer<typeof FieldBaseSchema>;

/** Whether a field is asked on request forms (every field is, unless it says `on_form: false`). */
export function onForm(field: Pick<Field, 'on_form'>): boolean {
  return field.on_form !== false;
}

/** The fields of an app's request form, in order: those without `on_form: false`. */
export function formFields<F extends Pick<Field, 'on_form'>>(app: { fields: readonly F[] }): F[] {
  return app.fields.filter(onForm);
}

export const AppDefinitionSchema = strict({
  kind: z.literal('app'),
  key: z
    .string()
    .regex(KEBAB, { error: 'app keys are lower-case letters, digits and dashes, e.g. time-off' })
    .max(MAX_KEY_LENGTH, { error: `app keys are at most ${MAX_KEY_LENGTH} characters` }),
  name: nonEmpty('name').max(MAX_NAME_LENGTH, {
    error: `app names are at most ${MAX_NAME_LENGTH} characters`,
  }),
  description: z.string().optional(),
  id_prefix: z
    .string()
    .regex(/^[A-Z][A-Z0-9]*$/, { error: 'id_prefix is upper-case letters and digits, e.g. PTO' })
    .max(MAX_ID_PREFIX_LENGTH, { error: `id_prefix is at most ${MAX_ID_PREFIX_LENGTH} characters` })
    .optional(),
  stages: z
    .array(
      nonEmpty('stage').max(MAX_NAME_LENGTH, {
        error: `stage names are at most ${MAX_NAME_LENGTH} characters`,
      }),
      { error: 'expected a list of stage names' },
    )
    .min(1, { error: 'an app needs at least one stage' }),
  fields: z.array(FieldSchema, { error: 'expected a list of fields' }).default([]),
}).superRefine((app, ctx) => {
  for (const dup of duplicates(app.stages)) {
    ctx.addIssue({
      code: 'custom',
      path: ['stages', app.stages.lastIndexOf(dup)],
      message: `duplicate stage "${dup}"`,
    });
  }
  // People type stages in any case and spacing (`admin requests move PTO-4 on hold`), and a
  // stage added by command that differs from another only so is refused: so is one in a file.
  const fold = (x: string) => x.normalize('NFKC').toLocaleLowerCase().replace(/\s+/g, ' ').trim();
  const byFold = new Map<string, string>();
  app.stages.forEach((stage, i) => {
    const same = byFold.get(fold(stage));
    if (same === undefined) byFold.set(fold(stage), stage);
    else if (same !== stage)
      ctx.addIssue({
        code: 'custom',
        path: ['stages', i],
        message: `duplicate stage "${stage}": the same as "${same}" (stage names are told apart regardless of case and spacing)`,
      });
  });
  const keys = app.fields.map((f) => f.key);
  for (const dup of duplicates(keys)) {
    ctx.addIssue({
      code: 'custom',
      path: ['fields', keys.lastIndexOf(dup), 'key'],
      message: `duplicate field key "${dup}"`,
    });
  }
});
export type AppDefinition = z.infer<typeof AppDefinitionSchema>;

/** The human id prefix of an app's requests: `id_prefix`, or the key upper-cased without dashes. */
export function idPrefixFor(app: Pick<AppDefinition, 'key' | 'id_prefix'>): string {
  if (app.id_prefix) return app.id_prefix;
  const prefix = app.key.toUpperCase().replace(/[^A-Z0-9]/g, '');
  return /^[A-Z]/.test(prefix) ? prefix : `A${prefix}`;
}

/** The initial stage of an app's requests (the first listed). */
export function initialStage(app: Pick<AppDefinition, 'stages'>): string {
  return app.stages[0]!;
}

// ---------------------------------------------------------------------------------------------
// steps

const common = {
  id: StepIdSchema.optional(),
  name: z.string().optional(),
};

export const OutcomeSchema = z.union(
  [
    z.string().min(1),
    strict({
      label: nonEmpty('label'),
      style: z
        .enum(['primary', 'danger', 'default'], { error: 'expected primary, danger or default' })
        .optional(),
      comment: z.enum(['optional', 'required'], { error: 'expected optional or required' }).optional(),
    }),
  ],
  {
    error: (issue) => {
      const base = 'an outcome is a label or { label, style?, comment? }';
      // A mapping: what is wrong in it (`comment: yes`, `style: red`, `lable:`), not only the shape.
      const input = issue.input;
      if (issue.code !== 'invalid_union' || !input || typeof input !== 'object' || Array.isArray(input))
        return base;
      // (a misspelt key first: `lable:` is why label is missing)
      const inner = issue.errors[1]?.find((i) => i.code === 'unrecognized_keys') ?? issue.errors[1]?.[0];
      if (!inner) return base;
      const key = inner.code === 'unrecognized_keys' ? '' : inner.path.map(String).join('.');
      return `${base}: ${key ? `${key}: ` : ''}${inner.message}`;
    },
  },
);
export type Outcome = z.infer<typeof OutcomeSchema>;

export function outcomeLabel(outcome: Outcome): string {
  return typeof outcome === 'string' ? outcome : outcome.label;
}

export const TaskInputSchema = strict({
  id: StepIdSchema,
  label: nonEmpty('label'),
  type: z.enum(['text', 'long_text'], { error: 'expected text or long_text' }).default('text'),
  required_for: z.array(z.string().min(1), { error: 'expected a list of outcome labels' }).optional(),
});
export type TaskInput = z.infer<typeof TaskInputSchema>;

export const QuorumSchema = strict({
  mode: z.enum(['any', 'all', 'count'], { error: 'expected any, all or count' }),
  count: z.number().int().positive().optional(),
}).superRefine((q, ctx) => {
  if (q.mode === 'count' && q.count === undefined) {
    ctx.addIssue({ code: 'custom', path: ['count'], message: 'quorum mode count needs a count' });
  }
  if (q.mode !== 'count' && q.count !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['count'], message: 'count is only used with mode: count' });
  }
});
export type Quorum = z.infer<typeof QuorumSchema>;

/** A recipient: a Baton user id, an email, `group:<name>`, or a template yielding one of these. */
export const RecipientSchema = TemplateSchema.refine(
  (s) => !s.startsWith('group:') || /^group:\S+$/.test(s),
  {
    error: (issue) => {
      const name = typeof issue.input === 'string' ? issue.input.slice('group:'.length).trim() : '';
      const hint = /^\S+$/.test(name) ? ` (did you mean "group:${name}"?)` : '';
      return `a group recipient is written group:<name>, with no space after the colon${hint}`;
    },
  },
);
/** `to: {group: finance}` (YAML's reading of `group: finance` on its own line): the group it names. */
function nestedGroup(value: unknown): string | undefined {
  if (Array.isArray(value)) return value.map(nestedGroup).find((g) => g !== undefined);
  if (typeof value !== 'object' || value === null) return undefined;
  const entries = Object.entries(value);
  const [key, name] = entries[0] ?? [];
  return entries.length === 1 && key === 'group' && typeof name === 'string' && /^\S+$/.test(name)
    ? name
    : undefined;
}
export const RecipientsSchema = z.union([RecipientSchema, z.array(RecipientSchema).min(1)], {
  error: (issue) => {
    if (issue.input === undefined)
      return 'required: a recipient (user id, email, group:<name>) or a list of them';
    const group = nestedGroup(issue.input);
    return group === undefined
      ? 'expected a recipient (user id, email, group:<name>) or a list of them'
      : `a group recipient is one string, group:<name> with no space after the colon (did you mean "group:${group}"?); "group: ${group}" is read as a nested key`;
  },
});

export const AssignTaskStepSchema = strict({
  ...common,
  action: z.literal('assign_task'),
  to: RecipientsSchema,
  title: TemplateSchema,
  instructions: TemplateSchema.optional(),
  outcomes: z
    .array(OutcomeSchema, { error: 'expected a list of outcome labels' })
    .min(1, { error: 'a task needs at least one outcome' })
    .default(['Approve', 'Reject']),
  inputs: z.array(TaskInputSchema, { error: 'expected a list of inputs' }).optional(),
  expires_in: durationSchema('a task that should not expire has no expires_in').optional(),
  quorum: QuorumSchema.default({ mode: 'any' }),
  card: nonEmpty('card').optional(),
}).superRefine((step, ctx) => {
  if (Array.isArray(step.to) && step.to.length > 1) {
    ctx.addIssue({
      code: 'custom',
      path: ['to'],
      message: `a task has one assignee, a person or group:<name> (this lists ${step.to.length}); to let any of several people decide, assign it to a group`,
    });
  }
  const labels = step.outcomes.map(outcomeLabel);
  for (const dup of duplicates(labels)) {
    ctx.addIssue({ code: 'custom', path: ['outcomes'], message: `duplicate outcome "${dup}"` });
  }
  const ids = (step.inputs ?? []).map((i) => i.id);
  for (const dup of duplicates(ids)) {
    ctx.addIssue({ code: 'custom', path: ['inputs'], message: `duplicate input id "${dup}"` });
  }
  step.inputs?.forEach((input, i) => {
    input.required_for?.forEach((label, j) => {
      if (!labels.includes(label)) {
        ctx.addIssue({
          code: 'custom',
          path: ['inputs', i, 'required_for', j],
          message: `"${label}" is not one of this task's outcomes (${labels.join(', ')})`,
        });
      }
    });
  });
});
export type AssignTaskStep = z.infer<typeof AssignTaskStepSchema>;

export const ChangeStageStepSchema = strict({
  ...common,
  action: z.literal('change_stage'),
  stage: TemplateSchema,
});
export type ChangeStageStep = z.infer<typeof ChangeStageStepSchema>;

export const UpdateRecordStepSchema = strict({
  ...common,
  action: z.literal('update_record'),
  fields: z
    .record(z.string().regex(FIELD_KEY), z.unknown(), {
      error: (issue) => {
        if (issue.code !== 'invalid_key') return 'expected a map of field key to value';
        // `Amount: 5`, `PO number: x`: the key as the app's fields are written, most likely
        const key = String(issue.path?.[issue.path.length - 1] ?? '');
        const guess = key
          .trim()
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '_')
          .replace(/^_+|_+$/g, '');
        const hint = FIELD_KEY.test(guess) ? ` (did you mean "${guess}"?)` : '';
        return `"${key}" is not a field key: field keys are lower-case letters, digits and underscores${hint}`;
      },
    })
    .refine((m) => Object.keys(m).length > 0, { error: 'update_record needs at least one field' }),
});
export type UpdateRecordStep = z.infer<typeof UpdateRecordStepSchema>;

export const NotifyStepSchema = strict({
  ...common,
  action: z.literal('notify'),
  to: RecipientsSchema,
  text: TemplateSchema.optional(),
  card: nonEmpty('card').optional(),
}).superRefine((step, ctx) => {
  if (step.text === undefined && step.card === undefined) {
    ctx.addIssue({ code: 'custom', path: [], message: 'notify needs text or card (or both)' });
  }
});
export type NotifyStep = z.infer<typeof NotifyStepSchema>;

export const WaitStepSchema = strict({
  ...common,
  action: z.literal('wait'),
  for: durationSchema('a wait for 0s waits for nothing: leave the step out').optional(),
  until: TemplateSchema.optional(),
}).superRefine((step, ctx) => {
  if ((step.for === undefined) === (step.until === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [],
      message: 'wait needs exactly one of for (a duration) or until (a date)',
    });
  }
  // Without {{ }} the text is taken as it is: `until: record.when` waits for nothing and fails the job.
  if (step.until !== undefined && !step.until.includes('{{') && Number.isNaN(Date.parse(step.until))) {
    // `record.back` is an expression missing its braces; `tomorrow` names nothing an expression knows.
    const expression = /^\s*(?:(?:record|request|requester|steps|trigger)\s*\.|now\b|\$)/.test(step.until);
    ctx.addIssue({
      code: 'custom',
      path: ['until'],
      message: expression
        ? `"${step.until}" is not a date (e.g. 2026-12-01T09:00:00Z); to compute one, write "{{ ${step.until} }}"`
        : `"${step.until}" is not a date: to wait a while, write for: 1d (s, m, h, d, w); to wait until a date, give one (2026-12-01T09:00) or an expression in {{ }} that gives one, e.g. "{{ record.<date field> }}" or "{{ $toMillis($now()) + 24*60*60*1000 }}" (a day from now)`,
    });
  }
  // Date.parse rolls 2026-02-30 over to 2 March: a day the month does not have is a typo.
  const day =
    step.until !== undefined && !step.until.includes('{{')
      ? /^\s*(\d{4})-(\d{2})-(\d{2})/.exec(step.until)
      : null;
  if (
    day &&
    !isCalendarDate(`${day[1]}-${day[2]}-${day[3]}`) &&
    Number(day[2]) >= 1 &&
    Number(day[2]) <= 12
  ) {
    const days = new Date(Date.UTC(Number(day[1]), Number(day[2]), 0)).getUTCDate();
    const month = new Date(Date.UTC(2000, Number(day[2]) - 1, 1)).toLocaleString('en', {
      month: 'long',
      timeZone: 'UTC',
    });
    ctx.addIssue({
      code: 'custom',
      path: ['until'],
      message: `"${step.until}" is not a day of the calendar (${month} ${day[1]} has ${days} days)`,
    });
  }
});
export type WaitStep = z.infer<typeof WaitStepSchema>;

export const StopStepSchema = strict({
  ...common,
  action: z.literal('stop'),
  reason: z.string().optional(),
});
export type StopStep = z.infer<typeof StopStepSchema>;

export type ActionStep =
  | AssignTaskStep
  | ChangeStageStep
  | UpdateRecordStep
  | NotifyStep
  | WaitStep
  | StopStep;
export const ACTIONS = ['assign_task', 'change_stage', 'update_record', 'notify', 'wait', 'stop'] as const;
export type ActionName = (typeof ACTIONS)[number];

export interface ConditionalStep {
  id?: string | undefined;
  name?: string | undefined;
  if: string;
  then: Step[];
  else?: Step[] | undefined;
}
export type Step = ActionStep | ConditionalStep;

export function isConditionalStep(step: Step): step is ConditionalStep {
  return !('action' in step) || step.action === undefined;
}

const StepListSchema = (what: string) =>
  z.lazy(() =>
    z
      .array(StepSchema, { error: (i) => (i.input === undefined ? 'required' : 'expected a list of steps') })
      .min(1, { error: `${what} needs at least one step` }),
  );

export const ConditionalStepSchema = strict(
  {
    ...common,
    // Present only so the step union can tell a conditional (no action) from an action step.
    action: z.undefined().optional(),
    if: z
      .string({
        error: (i) =>
          i.input === undefined
            ? `a step needs either action: (one of ${ACTIONS.join(', ')}) or if:`
            : 'expected a condition (a JSONata expression)',
      })
      .min(1, { error: 'the condition must not be empty' }),
    // biome-ignore lint/suspicious/noThenProperty: `then:` is the recipe format's keyword
    then: StepListSchema('then'),
    else: StepListSchema('else').optional(),
  },
  ['action'],
);

export const StepSchema: z.ZodType<Step> = z
  .discriminatedUnion(
    'action',
    [
      ConditionalStepSchema,
      AssignTaskStepSchema,
      ChangeStageStepSchema,
      UpdateRecordStepSchema,
      NotifyStepSchema,
      WaitStepSchema,
      StopStepSchema,
    ],
    {
      error: (issue) =>
        issue.code === 'invalid_union'
          ? `unknown action ${JSON.stringify((issue.input as { action?: unknown } | undefined)?.action)}; expected one of: ${ACTIONS.join(', ')}`
          : issue.code === 'invalid_type'
            ? 'expected a step (a mapping with action: or if:)'
            : undefined,
    },
  )
  .meta({
    id: 'Step',
    description: 'An action step (action: ...) or a conditional step (if/then/else).',
  }) as unknown as z.ZodType<Step>;

// ---------------------------------------------------------------------------------------------
// triggers and recipes

const appRef = z.string().regex(KEBAB, {
  error: (issue) => {
    // `app: Purchase`, `app: Time off`: the key as app keys are written, most likely
    const key = typeof issue.input === 'string' ? issue.input : '';
    const guess = key
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '');
    if (!key || !KEBAB.test(guess)) return 'expected an app key, e.g. time-off';
    return `"${key}" is not an app key: app keys are lower-case letters, digits and dashes (did you mean "${guess}"?)`;
  },
});

export const NewRequestTriggerSchema = strict({ type: z.literal('new_request'), app: appRef });
export const StageChangedTriggerSchema = strict({
  type: z.literal('stage_changed'),
  app: appRef,
  to: nonEmpty('to').optional(),
  from: nonEmpty('from').optional(),
});
export const TaskCompletedTriggerSchema = strict({
  type: z.literal('task_completed'),
  app: appRef,
  task: StepIdSchema.optional(),
  outcome: nonEmpty('outcome').optional(),
});
export const TRIGGER_TYPES = ['new_request', 'stage_changed', 'task_completed'] as const;

export const TriggerSchema = z.discriminatedUnion(
  'type',
  [NewRequestTriggerSchema, StageChangedTriggerSchema, TaskCompletedTriggerSchema],
  {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? `unknown trigger type; expected one of: ${TRIGGER_TYPES.join(', ')}`
        : issue.code === 'invalid_type'
          ? 'expected a trigger: { type, app }'
          : undefined,
  },
);
export type Trigger = z.infer<typeof TriggerSchema>;
export type NewRequestTrigger = z.infer<typeof NewRequestTriggerSchema>;
export type StageChangedTrigger = z.infer<typeof StageChangedTriggerSchema>;
export type TaskCompletedTrigger = z.infer<typeof TaskCompletedTriggerSchema>;

/** Every step of a list, depth first, with its path relative to the list's parent (e.g. ['steps', 1, 'then', 0]). */
export function* walkSteps(
  steps: readonly Step[],
  base: (string | number)[] = ['steps'],
): Generator<{ step: Step; path: (string | number)[] }> {
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    const path = [...base, i];
    yield { step, path };
    if (isConditionalStep(step)) {
      yield* walkSteps(step.then, [...path, 'then']);
      if (step.else) yield* walkSteps(step.else, [...path, 'else']);
    }
  }
}

export const RecipeDefinitionSchema = strict({
  kind: z.literal('recipe'),
  name: z
    .string()
    .regex(KEBAB, { error: 'recipe names are lower-case letters, digits and dashes' })
    .max(MAX_KEY_LENGTH, { error: `recipe names are at most ${MAX_KEY_LENGTH} characters` }),
  description: z.string().optional(),
  enabled: z.boolean().default(true),
  trigger: TriggerSchema,
  steps: z
    .array(StepSchema, { error: 'expected a list of steps' })
    .min(1, { error: 'a recipe needs at least one step' }),
}).superRefine((recipe, ctx) => {
  const seen = new Map<string, Step>();
  for (const { step, path } of walkSteps(recipe.steps)) {
    if (!step.id) continue;
    if (seen.has(step.id)) {
      ctx.addIssue({ code: 'custom', path: [...path, 'id'], message: `duplicate step id "${step.id}"` });
    }
    seen.set(step.id, step);
  }
  // A task_completed trigger names a step of another recipe of the app: checked across files by the loader.
});
export type RecipeDefinition = z.infer<typeof RecipeDefinitionSchema>;

export type Definition = AppDefinition | RecipeDefinition;

/** One schema for either file kind (used for the editor JSON Schema). */
export const DefinitionFileSchema = z.discriminatedUnion('kind', [
  AppDefinitionSchema,
  RecipeDefinitionSchema,
]);
