import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseDuration } from '../../src/recipes/duration.js';
import {
  AppDefinitionSchema,
  closestKey,
  idPrefixFor,
  type RecipeDefinition,
  RecipeDefinitionSchema,
  StepSchema,
} from '../../src/recipes/schema.js';

/** A conditional step (built this way because a literal `then:` property trips the linter). */
const cond = (condition: string, thenSteps: unknown[], elseSteps?: unknown[]) =>
  Object.fromEntries([['if', condition], ['then', thenSteps], ...(elseSteps ? [['else', elseSteps]] : [])]);

const fixture = (name: string) => new URL(`../fixtures/recipes/${name}`, import.meta.url);

describe('RecipeDefinitionSchema', () => {
  it('accepts the documented example and fills defaults', async () => {
    const data = parse(await readFile(fixture('leave-example.yaml'), 'utf8'));
    const recipe: RecipeDefinition = RecipeDefinitionSchema.parse(data);
    expect(recipe.enabled).toBe(true);
    expect(recipe.trigger).toEqual({ type: 'new_request', app: 'leave' });
    const first = recipe.steps[0]!;
    expect(first).toMatchObject({
      id: 'manager',
      action: 'assign_task',
      outcomes: ['Approve', 'Reject'],
      expires_in: '2d',
      quorum: { mode: 'any' },
    });
    expect(recipe.steps[1]).toMatchObject({ if: "steps.manager.outcome = 'Approve'" });
  });

  const base = { kind: 'recipe', name: 'r', trigger: { type: 'new_request', app: 'a' } };
  const task = { action: 'assign_task', to: 'U1', title: 't' };

  it('defaults outcomes to Approve/Reject and accepts outcome objects, inputs and quorum', () => {
    const r = RecipeDefinitionSchema.parse({ ...base, steps: [task] });
    expect(r.steps[0]).toMatchObject({ outcomes: ['Approve', 'Reject'] });
    const ok = RecipeDefinitionSchema.safeParse({
      ...base,
      steps: [
        {
          ...task,
          to: ['group:it'],
          outcomes: ['Approve', { label: 'Reject', style: 'danger', comment: 'required' }],
          inputs: [{ id: 'ticket', label: 'Ticket', type: 'text', required_for: ['Approve'] }],
          quorum: { mode: 'count', count: 2 },
          card: 'approval',
        },
      ],
    });
    expect(ok.success).toBe(true);
    // A task has one assignee: the engine would refuse a list of several at every run.
    const several = RecipeDefinitionSchema.safeParse({
      ...base,
      steps: [{ ...task, to: ['group:it', 'ann@example.com'] }],
    });
    expect(several.success).toBe(false);
  });

  it.each([
    [
      'unknown key',
      { ...task, outcome: ['A'] },
      /unknown key "outcome" \(did you mean "outcomes"\?\); allowed keys: id, name, action/,
    ],
    ['outcomes not a list', { ...task, outcomes: 'Approve' }, /expected a list of outcome labels/],
    ['bad duration', { ...task, expires_in: '2 days' }, /duration/],
    [
      'required_for naming no outcome',
      { ...task, inputs: [{ id: 'x', label: 'X', required_for: ['Nope'] }] },
      /"Nope" is not one of/,
    ],
    ['quorum count without count', { ...task, quorum: { mode: 'count' } }, /needs a count/],
    ['bad group', { ...task, to: 'group:' }, /group:<name>/],
    ['notify without text or card', { action: 'notify', to: 'U1' }, /text or card/],
    ['wait with both', { action: 'wait', for: '1h', until: '{{ now }}' }, /exactly one/],
    ['wait with neither', { action: 'wait' }, /exactly one/],
    ['unknown action', { action: 'email', to: 'x' }, /unknown action "email"/],
    ['neither action nor if', { to: 'x' }, /either action/],
    ['bad step id', { ...task, id: 'Manager' }, /step ids/],
    ['empty update_record', { action: 'update_record', fields: {} }, /at least one field/],
  ])('rejects %s', (_name, step, message) => {
    const r = RecipeDefinitionSchema.safeParse({ ...base, steps: [step] });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message).join('\n')).toMatch(message);
  });

  it('rejects duplicate step ids across nested branches', () => {
    const r = RecipeDefinitionSchema.safeParse({
      ...base,
      steps: [{ ...task, id: 'a' }, cond('true', [cond('x', [{ ...task, id: 'a' }])])],
    });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]).toMatchObject({ path: ['steps', 1, 'then', 0, 'then', 0, 'id'] });
    expect(r.error!.issues[0]!.message).toMatch(/duplicate step id "a"/);
  });

  it("leaves task_completed triggers naming another recipe's step to the cross-file check", () => {
    const trigger = { type: 'task_completed', app: 'a', task: 'elsewhere', outcome: 'Approve' };
    expect(RecipeDefinitionSchema.safeParse({ ...base, trigger, steps: [task] }).success).toBe(true);
  });

  it('accepts every trigger type and rejects unknown ones', () => {
    for (const trigger of [
      { type: 'new_request', app: 'a' },
      { type: 'stage_changed', app: 'a', to: 'Done', from: 'Open' },
      { type: 'task_completed', app: 'a' },
    ]) {
      expect(RecipeDefinitionSchema.safeParse({ ...base, trigger, steps: [task] }).success).toBe(true);
    }
    const r = RecipeDefinitionSchema.safeParse({
      ...base,
      trigger: { type: 'cron', app: 'a' },
      steps: [task],
    });
    expect(r.error!.issues[0]!.message).toMatch(/unknown trigger type/);
  });

  it('parses a nested conditional step on its own', () => {
    const step = StepSchema.parse(cond('x', [task], [{ action: 'stop' }]));
    expect(step).toMatchObject(cond('x', [{ action: 'assign_task' }], [{ action: 'stop' }]));
  });
});

describe('AppDefinitionSchema', () => {
  const app = { kind: 'app', key: 'time-off', name: 'Time off', stages: ['Submitted'] };
  it('accepts a minimal app and computes the id prefix', () => {
    const parsed = AppDefinitionSchema.parse(app);
    expect(parsed.fields).toEqual([]);
    expect(idPrefixFor(parsed)).toBe('TIMEOFF');
    expect(idPrefixFor({ key: 'x', id_prefix: 'PTO' })).toBe('PTO');
  });

  it.each([
    [
      'options on a text field',
      { key: 'a', label: 'A', type: 'text', options: ['x'] },
      /only allowed on select/,
    ],
    ['select without options', { key: 'a', label: 'A', type: 'select' }, /needs options/],
    ['min > max', { key: 'a', label: 'A', type: 'number', min: 3, max: 1 }, /greater than max/],
    ['min on a date', { key: 'a', label: 'A', type: 'date', min: 1 }, /only allowed on number/],
    [
      'default of the wrong type',
      { key: 'a', label: 'A', type: 'number', default: 'x' },
      /expected a number/,
    ],
    ['default out of range', { key: 'a', label: 'A', type: 'number', max: 3, default: 5 }, /at most 3/],
    [
      'default not an option',
      { key: 'a', label: 'A', type: 'select', options: ['x'], default: 'y' },
      /one of: x/,
    ],
    ['bad field type', { key: 'a', label: 'A', type: 'string' }, /expected one of: text/],
    ['bad field key', { key: 'A', label: 'A', type: 'text' }, /field keys/],
  ])('rejects %s', (_name, field, message) => {
    const r = AppDefinitionSchema.safeParse({ ...app, fields: [field] });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message).join('\n')).toMatch(message);
  });

  it('rejects duplicate stages and field keys, and bad prefixes', () => {
    const f = { key: 'a', label: 'A', type: 'text' };
    const r = AppDefinitionSchema.safeParse({ ...app, stages: ['A', 'A'], fields: [f, f], id_prefix: 'pto' });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message).join('\n')).toMatch(/id_prefix/);
    const r2 = AppDefinitionSchema.safeParse({ ...app, stages: ['A', 'A'], fields: [f, f] });
    expect(r2.error!.issues.map((i) => i.message)).toEqual([
      'duplicate stage "A"',
      'duplicate field key "a"',
    ]);
  });

  it('accepts option objects and typed defaults', () => {
    const r = AppDefinitionSchema.safeParse({
      ...app,
      fields: [
        {
          key: 's',
          label: 'S',
          type: 'multi_select',
          options: [{ value: 'a', label: 'A' }, 'b'],
          default: ['a', 'b'],
        },
        { key: 'd', label: 'D', type: 'date', default: '2025-01-31' },
        { key: 'b', label: 'B', type: 'boolean', default: false },
      ],
    });
    expect(r.success).toBe(true);
  });
});

describe('parseDuration', () => {
  it('converts durations to milliseconds', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('4h')).toBe(14_400_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('1w')).toBe(604_800_000);
    expect(() => parseDuration('2 days')).toThrow(/invalid duration/);
    expect(() => parseDuration('1.5h')).toThrow();
  });
});

describe('closestKey', () => {
  it('suggests near misses only', () => {
    expect(closestKey('outcome', ['outcomes', 'title'])).toBe('outcomes');
    expect(closestKey('zzzzzz', ['outcomes', 'title'])).toBeUndefined();
  });
});
