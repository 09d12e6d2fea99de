/**
 * Loads and validates app and recipe files (YAML). Never throws on bad input: every problem is
 * returned with the file, line and column it refers to.
 */
import { readdirSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Document,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type Pair,
  parseDocument,
  visit,
} from 'yaml';
import type { z } from 'zod';
import { ValidationError } from '../core/errors.js';
import { recipeFieldValue, validateRecord } from '../core/records.js';
import { checkExpressionSyntax, isTemplate } from './expressions.js';
import {
  ACTIONS,
  type AppDefinition,
  AppDefinitionSchema,
  type AssignTaskStep,
  closestKey,
  closestName,
  editDistance,
  FieldSchema,
  idPrefixFor,
  isConditionalStep,
  onForm,
  outcomeLabel,
  type RecipeDefinition,
  RecipeDefinitionSchema,
  type Step,
  StepSchema,
  TriggerSchema,
  unknownKeyMessage,
  walkSteps,
} from './schema.js';

export interface Problem {
  file: string;
  line: number;
  column: number;
  message: string;
  severity: 'error' | 'warning';
}

export interface Loaded<T> {
  definition: T;
  file: string;
  source: string;
}

export type PathSegment = string | number;

export interface ParseResult {
  definition?: AppDefinition | RecipeDefinition;
  problems: Problem[];
}

/** Formats a path like `steps[0].then[1].outcomes`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}

/** Formats a problem as `file:line: message` (warnings: `file:line: warning: message`). */
export function formatProblem(problem: Problem): string {
  return `${problem.file}:${problem.line}: ${problem.severity === 'warning' ? 'warning: ' : ''}${problem.message}`;
}

// ---------------------------------------------------------------------------------------------
// locating nodes

class Locator {
  constructor(
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  private pos(offset: number): { line: number; column: number } {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  /** The node at a path, or the nearest existing parent; `key: true` points at the key of the last segment. */
  locate(path: readonly PropertyKey[], options: { key?: boolean } = {}): { line: number; column: number } {
    let node: unknown = this.doc.contents;
    let best: { range?: [number, number, number] | null } | null = (node as Node | null) ?? null;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      if (isMap(node)) {
        const pair = (node.items as Pair[]).find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
        if (!pair) break;
        if (options.key && i === path.length - 1) {
          best = pair.key as Node;
          break;
        }
        best = ((pair.value as Node | null) ?? (pair.key as Node)) as Node;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg] as Node | undefined;
        if (!item) break;
        best = item;
        node = item;
      } else {
        break;
      }
    }
    const offset = best?.range?.[0];
    return offset === undefined ? { line: 1, column: 1 } : this.pos(offset);
  }
}

function problemAt(
  file: string,
  locator: Locator | null,
  path: readonly PropertyKey[],
  message: string,
  severity: Problem['severity'] = 'error',
  options: { key?: boolean } = {},
): Problem {
  const { line, column } = locator ? locator.locate(path, options) : { line: 1, column: 1 };
  const where = formatPath(path);
  return { file, line, column, message: where ? `${where}: ${message}` : message, severity };
}

// ---------------------------------------------------------------------------------------------
// zod issues

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}...` : value}"`;
  return String(value);
}

/** Friendlier default messages than zod's, for the issues that have no message of their own. */
const errorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'required';
      const expected =
        issue.expected === 'array'
          ? 'a list'
          : issue.expected === 'object'
            ? 'a mapping'
            : `a ${issue.expected}`;
      return `expected ${expected}, got ${describe(issue.input)}`;
    }
    case 'invalid_value':
      return issue.values.length === 1
        ? `expected ${JSON.stringify(issue.values[0])}`
        : `expected one of: ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'too_small':
      if (issue.origin === 'array')
        return `needs at least ${issue.minimum} item${issue.minimum === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return 'must not be empty';
      return issue.inclusive === false
        ? `must be greater than ${issue.minimum}`
        : `must be at least ${issue.minimum}`;
    case 'too_big':
      return issue.inclusive === false
        ? `must be less than ${issue.maximum}`
        : `must be at most ${issue.maximum}`;
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`;
    default:
      return undefined;
  }
};

function issueProblems(file: string, locator: Locator, issues: readonly z.core.$ZodIssue[]): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      // point at each unknown key, with the allowed key closest to it
      const allowed = issue.keys.length > 1 ? /; allowed keys: (.*)$/.exec(issue.message)?.[1] : undefined;
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        const { line, column } = locator.locate(path, { key: true });
        const where = formatPath(path);
        const message = allowed ? unknownKeyMessage(key, allowed.split(', ')) : issue.message;
        out.push({ file, line, column, message: `${where}: ${message}`, severity: 'error' });
      }
      continue;
    }
    out.push(problemAt(file, locator, issue.path, issue.message));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// expressions

const CONDITION_KEYS = new Set(['if']);

/** Checks every template and condition in a recipe's steps (walking the raw data so it works on invalid files too). */
function expressionProblems(file: string, locator: Locator, data: unknown): Problem[] {
  const problems: Problem[] = [];
  const visit = (value: unknown, path: PathSegment[]): void => {
    if (typeof value === 'string') {
      const last = path[path.length - 1];
      const isCondition = typeof last === 'string' && CONDITION_KEYS.has(last);
      if (!isCondition && !isTemplate(value)) return;
      const message = checkExpressionSyntax(value, isCondition ? 'condition' : 'template');
      if (message) problems.push(problemAt(file, locator, path, message));
      return;
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) visit(value[i], [...path, i]);
      return;
    }
    if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) visit(v, [...path, k]);
    }
  };
  if (data && typeof data === 'object' && 'steps' in data)
    visit((data as { steps: unknown }).steps, ['steps']);
  problems.push(...stepReferenceProblems(file, locator, data));
  problems.push(...quorumProblems(file, locator, data));
  problems.push(...triggerReferenceProblems(file, locator, data));
  problems.push(...contextKeyProblems(file, locator, data));
  return problems;
}

/** The keys of `request` and `requester` in the context of expressions (see the engine's context). */
const CONTEXT_KEYS: Record<string, readonly string[]> = {
  request: ['id', 'app', 'stage', 'requester', 'created_at'],
  requester: ['id', 'name', 'email'],
};
/** What `steps.<id>` has for a task, and for the other action steps. */
const TASK_RESULT_KEYS = [
  'status',
  'outcome',
  'completed_by',
  'comment',
  'inputs',
  'completed_at',
  'responses',
  'task_id',
];
const STEP_VALUE_KEYS = ['status', 'value'];

/**
 * Warns about `request.<key>`, `requester.<key>` and `steps.<id>.<key>` that are not in the
 * context (`requester.nmae`, `steps.manager.outcom`): nothing at run time, a blank text or a
 * condition never true.
 */
function contextKeyProblems(file: string, locator: Locator, data: unknown): Problem[] {
  const actions = new Map<string, string>();
  for (const { raw } of rawSteps((data as { steps?: unknown } | null)?.steps)) {
    // (an id given twice, an error of its own, may be either step)
    if (typeof raw.id === 'string')
      actions.set(raw.id, actions.has(raw.id) || typeof raw.action !== 'string' ? '' : raw.action);
  }
  const problems: Problem[] = [];
  const check = (expression: string, path: PathSegment[], reported: Set<string>): void => {
    const code = expression.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, "''");
    const say = (name: string, key: string, keys: readonly string[], what: string) => {
      if (keys.includes(key) || reported.has(`${name}.${key}`)) return;
      reported.add(`${name}.${key}`);
      const close = closestKey(key, keys);
      problems.push(
        problemAt(
          file,
          locator,
          path,
          `${name} has no "${key}"${close ? ` (did you mean "${close}"?)` : ''}: ${what} ${keys.join(', ')}`,
          'warning',
        ),
      );
    };
    for (const m of code.matchAll(/(?<![\w$.])(request|requester)\s*\.\s*([A-Za-z_]\w*)/g))
      say(m[1]!, m[2]!, CONTEXT_KEYS[m[1]!]!, 'it has');
    for (const m of code.matchAll(/(?<![\w$.])steps\s*\.\s*([a-z_][a-z0-9_]*)\s*\.\s*([A-Za-z_]\w*)/g)) {
      const action = actions.get(m[1]!);
      if (action === 'assign_task') say(`steps.${m[1]}`, m[2]!, TASK_RESULT_KEYS, 'a task step has');
      else if (action !== undefined && (ACTIONS as readonly string[]).includes(action))
        say(`steps.${m[1]}`, m[2]!, STEP_VALUE_KEYS, `a ${action} step has`);
    }
  };
  forEachExpression((data as { steps?: unknown } | null)?.steps, check);
  return problems;
}

/** Every step of a list as written (a mapping), depth first through then and else. */
function* rawSteps(list: unknown): Generator<{ raw: Record<string, unknown> }> {
  if (!Array.isArray(list)) return;
  for (const step of list) {
    if (!step || typeof step !== 'object' || Array.isArray(step)) continue;
    const raw = step as Record<string, unknown>;
    yield { raw };
    yield* rawSteps(raw.then);
    yield* rawSteps(raw.else);
  }
}

/** What `trigger` carries in the jobs of each trigger type (besides its event id and depth). */
const TRIGGER_KEYS: Record<string, readonly string[]> = {
  new_request: ['type'],
  stage_changed: ['type', 'from', 'to', 'by'],
  task_completed: ['type', 'task_id', 'step_id', 'title', 'outcome', 'comment', 'completed_by', 'inputs'],
};
/** Of the keys a task_completed trigger carries, those a task's own step result has too (steps.<id>.<key>). */
const STEP_RESULT_KEYS = new Set(['task_id', 'outcome', 'comment', 'completed_by', 'inputs']);

/**
 * Warns about `trigger.<key>` where the recipe's trigger never carries that key: a new_request
 * trigger has no comment or outcome (always blank), and `trigger.form` is a typo of from.
 */
function triggerReferenceProblems(file: string, locator: Locator, data: unknown): Problem[] {
  const type = (data as { trigger?: { type?: unknown } } | null)?.trigger?.type;
  const known = typeof type === 'string' ? TRIGGER_KEYS[type] : undefined;
  if (!known) return [];
  // A task of this recipe with an id, for the steps.<id>.<key> to write instead.
  let taskId: string | undefined;
  const findTask = (list: unknown): void => {
    if (!Array.isArray(list)) return;
    for (const step of list) {
      if (taskId || !step || typeof step !== 'object') continue;
      const s = step as { id?: unknown; action?: unknown; then?: unknown; else?: unknown };
      if (s.action === 'assign_task' && typeof s.id === 'string') taskId = s.id;
      findTask(s.then);
      findTask(s.else);
    }
  };
  findTask((data as { steps?: unknown }).steps);
  const problems: Problem[] = [];
  const check = (expression: string, path: PathSegment[], reported: Set<string>): void => {
    const code = expression.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, "''");
    for (const match of code.matchAll(/(?<![\w$.])trigger\s*\.\s*([A-Za-z_][\w]*)/g)) {
      const key = match[1]!;
      if (known.includes(key) || key === 'id' || key === 'depth' || reported.has(`trigger.${key}`)) continue;
      reported.add(`trigger.${key}`);
      const owner = Object.keys(TRIGGER_KEYS).find((t) => TRIGGER_KEYS[t]!.includes(key));
      let message: string;
      if (owner) {
        const instead =
          STEP_RESULT_KEYS.has(key) && type !== 'task_completed'
            ? `; for a task of this recipe, write steps.<id>.${key}${taskId ? `, e.g. steps.${taskId}.${key}` : ''}`
            : key === 'to' || key === 'from'
              ? "; the request's stage is request.stage"
              : '';
        message = `trigger.${key} is never set: a ${type} trigger carries only ${known.join(', ')} (only a ${owner} trigger has ${key})${instead}`;
      } else {
        const close = closestKey(key, known);
        message = `a ${type} trigger has no "${key}"${close ? ` (did you mean "${close}"?)` : ''}: it carries ${known.join(', ')}`;
      }
      problems.push(problemAt(file, locator, path, message, 'warning'));
    }
  };
  forEachExpression((data as { steps?: unknown }).steps, check);
  return problems;
}

/**
 * Warns about a quorum (`all`, `count`) on a task for one person: a quorum counts the answers
 * of a group's members, so such a task is decided by the person's answer.
 */
function quorumProblems(file: string, locator: Locator, data: unknown): Problem[] {
  const problems: Problem[] = [];
  const visit = (list: unknown, path: PathSegment[]): void => {
    if (!Array.isArray(list)) return;
    list.forEach((step, i) => {
      if (!step || typeof step !== 'object') return;
      const s = step as {
        action?: unknown;
        to?: unknown;
        quorum?: { mode?: unknown };
        then?: unknown;
        else?: unknown;
      };
      const mode = s.quorum?.mode;
      const to = Array.isArray(s.to) && s.to.length === 1 ? s.to[0] : s.to;
      const person = typeof to === 'string' && !isTemplate(to) && !to.trim().startsWith('group:');
      if (s.action === 'assign_task' && (mode === 'all' || mode === 'count') && person) {
        problems.push(
          problemAt(
            file,
            locator,
            [...path, i, 'quorum', 'mode'],
            `quorum mode "${mode}" counts the answers of a group's members: this task is for one person, whose answer decides it (assign it to group:<name>)`,
            'warning',
          ),
        );
      }
      visit(s.then, [...path, i, 'then']);
      visit(s.else, [...path, i, 'else']);
    });
  };
  visit((data as { steps?: unknown } | null)?.steps, ['steps']);
  return problems;
}

/** Warns about `steps.<id>` references to ids that no step of the recipe has (usually a typo). */
function stepReferenceProblems(file: string, locator: Locator, data: unknown): Problem[] {
  const steps = (data as { steps?: unknown } | null)?.steps;
  if (!Array.isArray(steps)) return [];
  const ids = new Set<string>();
  // The input ids of each task with an id (absent: a step that is not a task, or inputs that do not parse).
  const inputsOf = new Map<string, string[]>();
  const collect = (list: unknown): void => {
    if (!Array.isArray(list)) return;
    for (const step of list) {
      if (!step || typeof step !== 'object') continue;
      const {
        id,
        action,
        inputs,
        then,
        else: otherwise,
      } = step as { id?: unknown; action?: unknown; inputs?: unknown; then?: unknown; else?: unknown };
      if (typeof id === 'string') {
        ids.add(id);
        const inputIds = Array.isArray(inputs)
          ? inputs.map((i) => (i as { id?: unknown } | null)?.id)
          : inputs === undefined
            ? []
            : null;
        if (action === 'assign_task' && inputIds?.every((i) => typeof i === 'string'))
          inputsOf.set(id, inputIds as string[]);
      }
      collect(then);
      collect(otherwise);
    }
  };
  collect(steps);
  const problems: Problem[] = [];
  const visit = (value: unknown, path: PathSegment[]): void => {
    if (typeof value === 'string') {
      const last = path[path.length - 1];
      if (last !== 'if' && !isTemplate(value)) return;
      const reported = new Set<string>();
      for (const match of value.matchAll(/(?<![\w$.])steps\.([a-z_][a-z0-9_]*)/g)) {
        const id = match[1]!;
        if (ids.has(id) || reported.has(id)) continue;
        reported.add(id);
        const close = closestName(id, [...ids]);
        problems.push(
          problemAt(
            file,
            locator,
            path,
            `no step has id "${id}"${close ? ` (did you mean "${close}"?)` : ''}; ${
              ids.size > 0
                ? `step ids: ${[...ids].join(', ')}`
                : `no step of this recipe has an id (give the step it means one: id: ${id})`
            }`,
            'warning',
          ),
        );
      }
      // An input the task does not have reads as nothing: the field or text it fills stays blank.
      for (const match of value.matchAll(/(?<![\w$.])steps\.([a-z_][a-z0-9_]*)\.inputs\.([A-Za-z_][\w]*)/g)) {
        const [, id, input] = match as unknown as [string, string, string];
        const known = inputsOf.get(id);
        if (!known || known.includes(input) || reported.has(`${id}.inputs.${input}`)) continue;
        reported.add(`${id}.inputs.${input}`);
        const closest = closestName(input, known);
        const message =
          known.length === 0
            ? `step "${id}" has no input "${input}": it has no inputs`
            : `step "${id}" has no input "${input}"${closest ? ` (did you mean "${closest}"?)` : ''} (its inputs: ${known.join(', ')})`;
        problems.push(problemAt(file, locator, path, message, 'warning'));
      }
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) visit(value[i], [...path, i]);
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) visit(v, [...path, k]);
    }
  };
  visit(steps, ['steps']);
  return problems;
}

/**
 * Calls `check` with each expression in a recipe's steps (a bare `if`, and each `{{ }}` of any
 * other string), its path, and a set it may use to report a name once per string.
 */
function forEachExpression(
  steps: unknown,
  check: (expression: string, path: PathSegment[], reported: Set<string>) => void,
): void {
  const visit = (value: unknown, path: PathSegment[]): void => {
    if (typeof value === 'string') {
      const last = path[path.length - 1];
      const reported = new Set<string>();
      if (last === 'if') check(value, path, reported);
      else for (const m of value.matchAll(/\{\{([\s\S]*?)\}\}/g)) check(m[1]!, path, reported);
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) visit(value[i], [...path, i]);
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) visit(v, [...path, k]);
    }
  };
  visit(steps, ['steps']);
}

/**
 * Warns about `record.<key>` in expressions when the app has no such field (a typo such as
 * `record.amout` is undefined at run time: the condition is false, the text blank).
 */
function recordReferenceProblems(
  file: string,
  locator: Locator | null,
  def: RecipeDefinition,
  app: AppDefinition,
): Problem[] {
  const keys = new Set(app.fields.map((f) => f.key));
  const problems: Problem[] = [];
  const check = (expression: string, path: PathSegment[], reported: Set<string>): void => {
    // Not inside quotes: 'record.x' is a string, not a reference.
    const code = expression.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, "''");
    for (const match of code.matchAll(/(?<![\w$.])record\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
      const key = match[1]!;
      if (keys.has(key) || reported.has(key)) continue;
      reported.add(key);
      const closest = closestKey(key, [...keys]);
      // Only a near miss (dayz, aprover), not any key a few letters away (foo -> doc).
      const close =
        closest && editDistance(key, closest) <= Math.max(1, Math.floor(key.length / 3))
          ? closest
          : undefined;
      problems.push(
        problemAt(
          file,
          locator,
          path,
          `app "${app.key}" has no field "${key}"${close ? ` (did you mean "${close}"?)` : ''}; fields: ${[...keys].join(', ') || 'none'}`,
          'warning',
        ),
      );
    }
  };
  forEachExpression(def.steps, check);
  return problems;
}

/**
 * The quoted labels an expression compares `<subject>` with: `subject = 'X'`, `'X' = subject`,
 * `subject != 'X'` and `subject in ['X', 'Y']`, where subject is e.g. `steps.manager.outcome`.
 */
function comparedLabels(expression: string, subject: string): string[] {
  const s = subject.replace(/\./g, '\\s*\\.\\s*');
  const q = `'((?:[^'\\\\]|\\\\.)*)'|"((?:[^"\\\\]|\\\\.)*)"`;
  const labels: string[] = [];
  const before = new RegExp(`(?<![\\w$.])${s}(?![\\w$])\\s*!?=\\s*(?:${q})`, 'g');
  const after = new RegExp(`(?:${q})\\s*!?=\\s*${s}(?![\\w$])`, 'g');
  for (const m of expression.matchAll(before)) labels.push(m[1] ?? m[2]!);
  for (const m of expression.matchAll(after)) labels.push(m[1] ?? m[2]!);
  const list = new RegExp(`(?<![\\w$.])${s}(?![\\w$])\\s+in\\s*\\[([^\\]]*)\\]`, 'g');
  for (const m of expression.matchAll(list)) {
    for (const item of m[1]!.matchAll(new RegExp(q, 'g'))) labels.push(item[1] ?? item[2]!);
  }
  return labels;
}

/** The quoted labels an expression says `<subject>` is not: `subject != 'X'` and `'X' != subject`. */
function unequalLabels(expression: string, subject: string): string[] {
  const s = subject.replace(/\./g, '\\s*\\.\\s*');
  const q = `'((?:[^'\\\\]|\\\\.)*)'|"((?:[^"\\\\]|\\\\.)*)"`;
  const labels: string[] = [];
  const before = new RegExp(`(?<![\\w$.])${s}(?![\\w$])\\s*!=\\s*(?:${q})`, 'g');
  const after = new RegExp(`(?:${q})\\s*!=\\s*${s}(?![\\w$])`, 'g');
  for (const m of expression.matchAll(before)) labels.push(m[1] ?? m[2]!);
  for (const m of expression.matchAll(after)) labels.push(m[1] ?? m[2]!);
  return labels;
}

/**
 * Warns about comparing a task's outcome with a label the task does not have: with outcomes
 * [Approve, Reject], `steps.manager.outcome = 'Approved'` is never true, so every request
 * takes the other branch (approvals handled as rejections) without any error.
 * With `trigger` (the task a task_completed trigger names, from any recipe of the app), the
 * comparisons with `trigger.outcome` are checked instead.
 */
function outcomeReferenceProblems(
  file: string,
  locator: Locator | null,
  steps: readonly Step[],
  trigger?: { task: string; outcomes: readonly string[] },
): Problem[] {
  const outcomesOf = new Map<string, string[]>();
  /** Tasks that can expire: they then have no outcome. */
  const expiring = new Set<string>();
  // (with `trigger`, only trigger.outcome: the steps' own outcomes are checked with the file)
  for (const { step } of trigger ? [] : walkSteps(steps)) {
    if (!isConditionalStep(step) && step.action === 'assign_task' && step.id !== undefined) {
      outcomesOf.set(step.id, step.outcomes.map(outcomeLabel));
      if (step.expires_in !== undefined) expiring.add(step.id);
    }
  }
  const problems: Problem[] = [];
  const check = (expression: string, path: PathSegment[], reported: Set<string>): void => {
    // `steps.finance.outcome != 'Approve'` is not true for an expired task (no outcome: a comparison
    // with a missing value gives nothing), so the request goes on as if the task had been approved.
    for (const id of expiring) {
      const subject = `steps.${id}.outcome`;
      // (an expression that also looks at the status or whether there is an outcome handles expiry itself)
      const handled = new RegExp(
        `steps\\s*\\.\\s*${id}\\s*\\.\\s*status|\\$exists\\(\\s*${subject.replace(/\./g, '\\.')}`,
      );
      if (handled.test(expression)) continue;
      for (const label of unequalLabels(expression, subject)) {
        if (reported.has(`${subject}!=${label}`)) continue;
        reported.add(`${subject}!=${label}`);
        problems.push(
          problemAt(
            file,
            locator,
            path,
            `${subject} != '${label}' is not true when the task expires (it then has no outcome, and a comparison with a missing value is never true), so an expired task goes on as if it were "${label}": write "steps.${id}.status != 'completed' or ${subject} != '${label}'", or test ${subject} = '${label}' and handle the rest in else`,
            'warning',
          ),
        );
      }
    }
    const subjects: [string, string, readonly string[]][] = [...outcomesOf].map(([id, outcomes]) => [
      `steps.${id}.outcome`,
      `step "${id}"`,
      outcomes,
    ]);
    if (trigger) subjects.push(['trigger.outcome', `step "${trigger.task}"`, trigger.outcomes]);
    for (const [subject, owner, outcomes] of subjects) {
      for (const label of comparedLabels(expression, subject)) {
        if (outcomes.includes(label) || reported.has(`${subject}=${label}`)) continue;
        reported.add(`${subject}=${label}`);
        const close =
          outcomes.find((o) => o.toLowerCase() === label.toLowerCase()) ?? closestKey(label, outcomes);
        problems.push(
          problemAt(
            file,
            locator,
            path,
            `${subject} is never "${label}": the outcomes of ${owner} are ${outcomes.join(', ')}${close ? ` (did you mean "${close}"?)` : ''}`,
            'warning',
          ),
        );
      }
    }
  };
  forEachExpression(steps, check);
  return problems;
}

/**
 * Warnings for the groups a recipe's text names (`to: group:<name>` of assign_task and notify,
 * written as is) that are not in `groups` (the groups that exist now): a job that reaches such
 * a step fails with "No group named …". Empty when the text has errors.
 */
export function groupReferenceProblems(text: string, file: string, groups: ReadonlySet<string>): Problem[] {
  let parsed: Parsed;
  try {
    parsed = parseInternal(text, file);
  } catch {
    return [];
  }
  const { definition, locator } = parsed;
  if (definition?.kind !== 'recipe' || !locator) return [];
  const problems: Problem[] = [];
  for (const { step, path } of walkSteps(definition.steps)) {
    if (isConditionalStep(step) || (step.action !== 'assign_task' && step.action !== 'notify')) continue;
    const targets: [unknown, PathSegment[]][] = Array.isArray(step.to)
      ? step.to.map((to, i) => [to, [...path, 'to', i]])
      : [[step.to, [...path, 'to']]];
    for (const [to, at] of targets) {
      if (typeof to !== 'string' || isTemplate(to) || !to.trim().startsWith('group:')) continue;
      const name = to.trim().slice('group:'.length).trim();
      if (!name || groups.has(name)) continue;
      problems.push(
        problemAt(
          file,
          locator,
          at,
          `no group named "${name}": a job that reaches this step fails. Create the group and add its members ("admin groups create ${name}", then "admin groups add ${name} @someone", after /baton in Slack; or the portal's Admin → Groups)`,
          'warning',
        ),
      );
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// one file

interface Parsed extends ParseResult {
  locator: Locator | null;
  kind?: 'app' | 'recipe';
  /** For a file with schema errors: what of it can still be checked against the other files. */
  partial?: Partial_;
}

/**
 * What a file with schema errors still says for sure, for the checks across files: a recipe's
 * trigger and the steps that parse (a step left unparsed is an inert `stop`, so paths stay those
 * of the file), an app's key and stages (and fields, when all of them parse).
 */
type Partial_ =
  | { kind: 'recipe'; definition: RecipeDefinition; lost: unknown[] }
  | { kind: 'app'; definition: AppDefinition; fieldsKnown: boolean };

const KEBAB_NAME = /^[a-z][a-z0-9-]*$/;

/**
 * The steps of a list that parse, repaired when a key they do not need is wrong; others become an
 * inert stop. `lost` collects the steps (as written) of which what matters to other files is not
 * known: those left unparsed, and tasks whose outcomes are unknown.
 */
function partialSteps(list: unknown, lost: unknown[]): Step[] {
  return Array.isArray(list) ? list.map((raw) => partialStep(raw, lost)) : [];
}

function partialStep(raw: unknown, lost: unknown[]): Step {
  const inert: Step = { action: 'stop' };
  const parsed = StepSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return inert;
  const step = raw as Record<string, unknown>;
  if (step.action === undefined && typeof step.if === 'string') {
    return {
      if: step.if,
      // biome-ignore lint/suspicious/noThenProperty: `then:` is the recipe format's keyword
      then: partialSteps(step.then, lost),
      ...(step.else !== undefined ? { else: partialSteps(step.else, lost) } : {}),
    };
  }
  // Without the keys the issues are about (an unknown key, a malformed optional value).
  const unknown = parsed.error.issues.some((i) => i.code === 'unrecognized_keys');
  const bad = new Set(
    parsed.error.issues.flatMap((i) =>
      i.code === 'unrecognized_keys' ? i.keys : i.path.length > 0 ? [String(i.path[0])] : [],
    ),
  );
  const repaired = Object.fromEntries(Object.entries(step).filter(([k]) => !bad.has(k)));
  const again = StepSchema.safeParse(repaired);
  if (!again.success) {
    lost.push(raw);
    return inert;
  }
  const result = again.data;
  // A task whose outcomes are misspelt (`outcome:`) or malformed has unknown outcomes, not the
  // default ones: without its id, nothing is checked against them.
  if (!isConditionalStep(result) && result.action === 'assign_task' && !('outcomes' in repaired)) {
    if (unknown || bad.has('outcomes')) {
      lost.push(raw);
      const { id: _id, ...rest } = result;
      return rest as Step;
    }
  }
  return result;
}

function partialDefinition(kind: 'app' | 'recipe', data: Record<string, unknown>): Partial_ | undefined {
  if (kind === 'recipe') {
    const trigger = TriggerSchema.safeParse(data.trigger);
    if (!trigger.success) return undefined;
    const name = typeof data.name === 'string' && KEBAB_NAME.test(data.name) ? data.name : '';
    const lost: unknown[] = [];
    return {
      kind,
      definition: {
        kind,
        name,
        enabled: true,
        trigger: trigger.data,
        steps: partialSteps(data.steps, lost),
      },
      lost,
    };
  }
  const key = data.key;
  const stages = AppDefinitionSchema.shape.stages.safeParse(data.stages);
  if (typeof key !== 'string' || !KEBAB_NAME.test(key) || !stages.success) return undefined;
  const fields = Array.isArray(data.fields) ? data.fields.map((f) => FieldSchema.safeParse(f)) : [];
  const fieldsKnown =
    fields.every((f) => f.success) && (data.fields === undefined || Array.isArray(data.fields));
  return {
    kind,
    definition: {
      kind,
      key,
      name: key,
      stages: stages.data,
      fields: fieldsKnown ? fields.flatMap((f) => (f.success ? [f.data] : [])) : [],
    },
    fieldsKnown,
  };
}

/** `duplicate step id` for a recipe whose schema errors kept its own check from running. */
function duplicateStepIdProblems(file: string, locator: Locator, data: unknown): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const visit = (list: unknown, base: PathSegment[]): void => {
    if (!Array.isArray(list)) return;
    list.forEach((step, i) => {
      if (!step || typeof step !== 'object') return;
      const { id, then, else: otherwise } = step as { id?: unknown; then?: unknown; else?: unknown };
      if (typeof id === 'string') {
        if (seen.has(id))
          problems.push(problemAt(file, locator, [...base, i, 'id'], `duplicate step id "${id}"`));
        seen.add(id);
      }
      visit(then, [...base, i, 'then']);
      visit(otherwise, [...base, i, 'else']);
    });
  };
  visit((data as { steps?: unknown }).steps, ['steps']);
  return problems;
}

function parseInternal(text: string, file: string): Parsed {
  const problems: Problem[] = [];
  let doc: Document.Parsed;
  const lines = new LineCounter();
  try {
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    problems.push({ file, line: 1, column: 1, message: `cannot parse: ${String(err)}`, severity: 'error' });
    return { problems, locator: null };
  }
  const yamlProblems = (list: typeof doc.errors, severity: Problem['severity']) => {
    for (const e of list) {
      // errors found at the end of the input (an unclosed quote or bracket) point at the last line with content
      const offset = Math.min(e.pos[0], text.trimEnd().length);
      const pos =
        offset < e.pos[0]
          ? lines.linePos(Math.max(0, offset - 1))
          : (e.linePos?.[0] ?? lines.linePos(offset));
      const message =
        e.code === 'MULTIPLE_DOCS'
          ? 'a file holds one app or one recipe: this one has several YAML documents (separated by ---)'
          : e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '') +
            // `title: Leave: {{ record.days }}`: a second ": " on the line
            (e.code === 'BLOCK_AS_IMPLICIT_KEY' || /^Nested mappings are not allowed/.test(e.message)
              ? `; a value with ": " in it must be in quotes, e.g. title: "Leave: {{ record.days }}"`
              : '');
      problems.push({ file, line: pos.line, column: pos.col, message: `YAML: ${message}`, severity });
    }
  };
  yamlProblems(doc.errors, 'error');
  yamlProblems(doc.warnings, 'warning');
  const locator = new Locator(doc, lines);
  if (doc.errors.length > 0) return { problems, locator };
  // `to: {{ record.approver }}` without quotes is YAML for a mapping inside a mapping, not text.
  visit(doc, {
    Map(_key, node) {
      const inner = node.flow && node.items.length === 1 ? node.items[0]!.key : null;
      if (!isMap(inner) || !inner.flow || !node.range) return undefined;
      const written = text.slice(node.range[0], node.range[1]).trim();
      const { line, col } = lines.linePos(node.range[0]);
      problems.push({
        file,
        line,
        column: col,
        message: `YAML: a {{ }} template must be in quotes, or YAML reads it as a mapping: write "${written}"`,
        severity: 'error',
      });
      return visit.SKIP;
    },
  });
  if (problems.some((p) => p.severity === 'error')) return { problems, locator };

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    problems.push({
      file,
      line: 1,
      column: 1,
      message: `cannot read: ${(err as Error).message}`,
      severity: 'error',
    });
    return { problems, locator };
  }
  if (data === null || data === undefined) {
    problems.push({ file, line: 1, column: 1, message: 'the file is empty', severity: 'error' });
    return { problems, locator };
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    problems.push(problemAt(file, locator, [], 'expected a mapping with kind: app or kind: recipe'));
    return { problems, locator };
  }
  const kind = (data as { kind?: unknown }).kind;
  if (kind !== 'app' && kind !== 'recipe') {
    const message =
      kind === undefined
        ? 'kind: missing; expected kind: app or kind: recipe'
        : `kind: unknown kind ${describe(kind)}; expected app or recipe`;
    problems.push({ ...problemAt(file, locator, ['kind'], message), message });
    return { problems, locator };
  }

  const schema = kind === 'app' ? AppDefinitionSchema : RecipeDefinitionSchema;
  const result = schema.safeParse(data, { error: errorMap });
  if (!result.success) problems.push(...issueProblems(file, locator, result.error.issues));
  if (kind === 'recipe') problems.push(...expressionProblems(file, locator, data));
  if (result.success && result.data.kind === 'recipe')
    problems.push(...outcomeReferenceProblems(file, locator, result.data.steps));
  let partial: Partial_ | undefined;
  if (!result.success) {
    partial = partialDefinition(kind, data as Record<string, unknown>);
    if (kind === 'recipe') {
      // (the schema's own check runs only when the rest of the file parses)
      const said = new Set(problems.map((p) => `${p.line}:${p.message}`));
      problems.push(
        ...duplicateStepIdProblems(file, locator, data).filter((p) => !said.has(`${p.line}:${p.message}`)),
      );
    }
    if (partial?.kind === 'recipe')
      problems.push(...outcomeReferenceProblems(file, locator, partial.definition.steps));
  }
  const hasErrors = problems.some((p) => p.severity === 'error');
  return {
    problems: sortProblems(problems),
    locator,
    kind,
    ...(result.success && !hasErrors ? { definition: result.data } : {}),
    ...(partial ? { partial } : {}),
  };
}

function sortProblems(problems: Problem[]): Problem[] {
  return problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

/**
 * Parses and validates one app or recipe file. `definition` is set only when there is no error.
 * With `apps` (e.g. the apps in the store), a recipe is also checked against its app as files
 * are: stages, fields and the values it sets.
 */
export function parseDefinitionFile(
  text: string,
  file: string,
  options: {
    apps?: readonly AppDefinition[];
    /**
     * The other recipes installed (e.g. those in the store): a task_completed trigger is checked
     * against the task it names in one of them, as files are against the recipes beside them.
     * One with this recipe's name is the one being replaced, and is left out.
     */
    recipes?: readonly RecipeDefinition[];
  } = {},
): ParseResult {
  try {
    const parsed = parseInternal(text, file);
    let { definition, problems } = parsed;
    // (a recipe with schema errors: what of it parses is checked too, so all is said at once)
    const recipe =
      definition?.kind === 'recipe'
        ? definition
        : parsed.partial?.kind === 'recipe'
          ? parsed.partial.definition
          : undefined;
    if (recipe && options.apps) {
      const cross = crossChecks(
        options.apps.map((app) => ({ definition: app, file: `app ${app.key}`, source: '', locator: null })),
        [
          {
            definition: recipe,
            file,
            source: text,
            locator: parsed.locator,
            partial: !definition,
            ...(parsed.partial?.kind === 'recipe' ? { lost: parsed.partial.lost } : {}),
          },
          ...(options.recipes ?? [])
            .filter((r) => r.name !== recipe.name)
            .map((r) => ({ definition: r, file: `recipe ${r.name}`, source: '', locator: null })),
        ],
      ).filter((p) => p.file === file);
      problems = sortProblems([...problems, ...cross]);
      if (cross.some((p) => p.severity === 'error')) definition = undefined;
    }
    return definition ? { definition, problems } : { problems };
  } catch (err) {
    return {
      problems: [
        { file, line: 1, column: 1, message: `internal error: ${(err as Error).message}`, severity: 'error' },
      ],
    };
  }
}

// ---------------------------------------------------------------------------------------------
// directories

async function listYamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listYamlFiles(full)));
    else if (entry.isFile() && /\.ya?ml$/i.test(entry.name)) out.push(full);
  }
  return out;
}

export interface LoadResult {
  apps: Loaded<AppDefinition>[];
  recipes: Loaded<RecipeDefinition>[];
  problems: Problem[];
  /** How many YAML files were read. */
  files: number;
}

/**
 * Loads files and directories (recursively, `.yaml`/`.yml`) and runs the cross-file checks:
 * duplicate app keys and recipe names, recipes whose app is not defined here (warning), stages,
 * fields and task steps that do not exist.
 */
export async function loadPaths(
  paths: readonly string[],
  options: {
    /**
     * Files or folders of the apps and recipes installed beside those of `paths`, which these
     * refer to (`npm run validate -- one-recipe.yaml` checks it against its app and the other
     * recipes beside it or in RECIPES_DIR). Their own problems are not reported; a definition
     * given in `paths` wins over one of the same app key or recipe name here.
     */
    context?: readonly string[];
  } = {},
): Promise<LoadResult> {
  const problems: Problem[] = [];
  const files: string[] = [];
  for (const p of paths) {
    try {
      const s = await stat(p);
      if (s.isDirectory()) files.push(...(await listYamlFiles(p)));
      else files.push(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const message =
        code === 'ENOENT' ? 'no such file or directory' : `cannot read: ${(err as Error).message}`;
      problems.push({ file: p, line: 1, column: 1, message, severity: 'error' });
    }
  }

  const apps: (Loaded<AppDefinition> & { locator: Locator })[] = [];
  const recipes: (Loaded<RecipeDefinition> & { locator: Locator })[] = [];
  const partialApps: CrossApp[] = [];
  const partialRecipes: CrossRecipe[] = [];
  for (const file of files) {
    let source: string;
    try {
      source = await readFile(file, 'utf8');
    } catch (err) {
      problems.push({
        file,
        line: 1,
        column: 1,
        message: `cannot read: ${(err as Error).message}`,
        severity: 'error',
      });
      continue;
    }
    let parsed: Parsed;
    try {
      parsed = parseInternal(source, file);
    } catch (err) {
      problems.push({
        file,
        line: 1,
        column: 1,
        message: `internal error: ${(err as Error).message}`,
        severity: 'error',
      });
      continue;
    }
    problems.push(...parsed.problems);
    if (parsed.partial && parsed.locator) {
      // only for the checks across files: never installed
      const partial = { definition: parsed.partial.definition, file, source, locator: parsed.locator };
      if (parsed.partial.kind === 'app')
        partialApps.push({
          ...partial,
          definition: parsed.partial.definition,
          partial: true,
          fieldsKnown: parsed.partial.fieldsKnown,
        });
      else
        partialRecipes.push({
          ...partial,
          definition: parsed.partial.definition,
          partial: true,
          lost: parsed.partial.lost,
        });
    }
    if (!parsed.definition || !parsed.locator) continue;
    if (parsed.definition.kind === 'app') {
      apps.push({ definition: parsed.definition, file, source, locator: parsed.locator });
    } else {
      recipes.push({ definition: parsed.definition, file, source, locator: parsed.locator });
    }
  }

  const context = await loadContext(options.context ?? [], files, apps, recipes);
  const contextFiles = new Set([...context.apps, ...context.recipes].map((d) => d.file));
  const cross = crossChecks(
    [...apps, ...partialApps, ...context.apps],
    [...recipes, ...partialRecipes, ...context.recipes],
  ).filter((p) => !contextFiles.has(p.file));
  problems.push(...cross);
  // only definitions without errors are returned (duplicates and broken references are left out)
  const broken = new Set(cross.filter((p) => p.severity === 'error').map((p) => p.file));
  const strip = <T>({ definition, file, source }: Loaded<T>): Loaded<T> => ({ definition, file, source });
  return {
    apps: apps.filter((a) => !broken.has(a.file)).map(strip),
    recipes: recipes.filter((r) => !broken.has(r.file)).map(strip),
    problems: sortProblems(problems),
    files: files.length,
  };
}

/**
 * The apps and recipes under `paths` that parse without errors, except those of `files` and
 * those whose app key or recipe name the given ones already have.
 */
async function loadContext(
  paths: readonly string[],
  files: readonly string[],
  apps: readonly Loaded<AppDefinition>[],
  recipes: readonly Loaded<RecipeDefinition>[],
): Promise<{
  apps: (Loaded<AppDefinition> & { locator: Locator })[];
  recipes: (Loaded<RecipeDefinition> & { locator: Locator })[];
}> {
  const given = new Set(files.map((f) => resolve(f)));
  const keys = new Set(apps.map((a) => a.definition.key));
  const names = new Set(recipes.map((r) => r.definition.name));
  const out = {
    apps: [] as (Loaded<AppDefinition> & { locator: Locator })[],
    recipes: [] as (Loaded<RecipeDefinition> & { locator: Locator })[],
  };
  const seen = new Set<string>();
  for (const p of paths) {
    let candidates: string[];
    try {
      candidates = (await stat(p)).isDirectory() ? await listYamlFiles(p) : [p];
    } catch {
      continue;
    }
    for (const file of candidates) {
      const full = resolve(file);
      if (given.has(full) || seen.has(full)) continue;
      seen.add(full);
      try {
        const source = await readFile(file, 'utf8');
        const parsed = parseInternal(source, file);
        const def = parsed.definition;
        if (!def || !parsed.locator || parsed.problems.some((x) => x.severity === 'error')) continue;
        if (def.kind === 'app') {
          if (keys.has(def.key)) continue;
          keys.add(def.key);
          out.apps.push({ definition: def, file, source, locator: parsed.locator });
        } else {
          if (names.has(def.name)) continue;
          names.add(def.name);
          out.recipes.push({ definition: def, file, source, locator: parsed.locator });
        }
      } catch {
        // Context only: a file that cannot be read or parsed here is simply not used.
      }
    }
  }
  return out;
}

/** Loads every app and recipe under a directory (recursively). */
export async function loadDirectory(dir: string): Promise<{
  apps: Loaded<AppDefinition>[];
  recipes: Loaded<RecipeDefinition>[];
  problems: Problem[];
}> {
  const { apps, recipes, problems } = await loadPaths([dir]);
  return { apps, recipes, problems };
}

/**
 * A definition the checks across files look at. `partial`: one with schema errors, of which only
 * what parsed is known (see Partial_): nothing is concluded from what it lacks.
 */
type CrossApp = Loaded<AppDefinition> & { locator: Locator | null; partial?: boolean; fieldsKnown?: boolean };
type CrossRecipe = Loaded<RecipeDefinition> & {
  locator: Locator | null;
  partial?: boolean;
  /** Of a partial one: its steps (as written) that are not known (see partialSteps); absent: any may be. */
  lost?: unknown[];
};

const OTHER_ACTIONS = new Set(['change_stage', 'update_record', 'notify', 'wait', 'stop']);

function crossChecks(apps: CrossApp[], recipes: CrossRecipe[]): Problem[] {
  const problems: Problem[] = [];
  const appByKey = new Map<string, CrossApp>();
  for (const app of apps) {
    const first = appByKey.get(app.definition.key);
    if (first) {
      problems.push(
        problemAt(
          app.file,
          app.locator,
          ['key'],
          `duplicate app key "${app.definition.key}" (also in ${first.file})`,
        ),
      );
    } else {
      appByKey.set(app.definition.key, app);
    }
  }
  // Request ids are <prefix>-<number> per app: two apps with one prefix would both make PUR-1.
  const appByPrefix = new Map<string, Loaded<AppDefinition>>();
  for (const app of apps) {
    if (appByKey.get(app.definition.key) !== app || app.partial) continue;
    const prefix = idPrefixFor(app.definition);
    const first = appByPrefix.get(prefix);
    if (first) {
      problems.push(
        problemAt(
          app.file,
          app.locator,
          [app.definition.id_prefix ? 'id_prefix' : 'key'],
          `the request ids ${prefix}-1, ${prefix}-2… are already those of app "${first.definition.key}" (${first.file}): give this app an id_prefix of its own`,
        ),
      );
    } else {
      appByPrefix.set(prefix, app);
    }
  }
  const recipeByName = new Map<string, Loaded<RecipeDefinition>>();
  for (const recipe of recipes) {
    const { definition: def, file, locator } = recipe;
    const first = recipeByName.get(def.name);
    if (def.name === '') {
      // (a partial recipe whose name is wrong: its own error says so)
    } else if (first) {
      problems.push(
        problemAt(file, locator, ['name'], `duplicate recipe name "${def.name}" (also in ${first.file})`),
      );
    } else {
      recipeByName.set(def.name, recipe);
    }

    const appEntry = appByKey.get(def.trigger.app);
    const app = appEntry?.definition;
    // (an app file with errors in its fields: only its stages are known)
    const fieldsKnown = appEntry?.fieldsKnown !== false;
    // Recipes of the app with schema errors may have the task or outcome a trigger names, in a
    // step that could not be read (a task with that id; any step that may be a task).
    const unread = (may: (raw: Record<string, unknown>) => boolean) =>
      recipes.some(
        (r) =>
          r.partial &&
          r.definition.trigger.app === def.trigger.app &&
          (r.lost === undefined ||
            r.lost.some((raw) => !!raw && typeof raw === 'object' && may(raw as Record<string, unknown>))),
      );
    const mayBeTask = (raw: Record<string, unknown>) =>
      typeof raw.action !== 'string' || !OTHER_ACTIONS.has(raw.action);
    if (!app) {
      problems.push(
        problemAt(
          file,
          locator,
          ['trigger', 'app'],
          `app "${def.trigger.app}" is not defined in these files (it must exist in the store)`,
          'warning',
        ),
      );
      continue;
    }
    const stages = new Set(app.stages);
    const trigger = def.trigger;
    if (trigger.type === 'stage_changed') {
      for (const key of ['to', 'from'] as const) {
        const stage = trigger[key];
        if (stage !== undefined && !stages.has(stage)) {
          problems.push(problemAt(file, locator, ['trigger', key], noStageMessage(app, stage)));
        }
      }
    }
    if (trigger.type === 'task_completed' && trigger.task === undefined && trigger.outcome !== undefined) {
      // Any task of the app: the outcome must be one of some task's, or the recipe never starts.
      const outcomes = [
        ...new Set(
          recipes
            .filter((r) => r.definition.trigger.app === app.key)
            .flatMap((r) => [...walkSteps(r.definition.steps)].map((w) => w.step))
            .flatMap((s) =>
              !isConditionalStep(s) && s.action === 'assign_task' ? s.outcomes.map(outcomeLabel) : [],
            ),
        ),
      ];
      if (outcomes.length > 0 && !outcomes.includes(trigger.outcome) && !unread(mayBeTask)) {
        problems.push(
          problemAt(
            file,
            locator,
            ['trigger', 'outcome'],
            `no task of app "${app.key}" in these files has the outcome "${trigger.outcome}" (outcomes: ${outcomes.join(', ')}), so this recipe never starts`,
            'warning',
          ),
        );
      }
    }
    if (trigger.type === 'task_completed' && trigger.task !== undefined) {
      const taskSteps = recipes
        .filter((r) => r.definition.trigger.app === app.key)
        .flatMap((r) => [...walkSteps(r.definition.steps)].map((w) => w.step))
        .filter(
          (s): s is AssignTaskStep =>
            !isConditionalStep(s) && s.action === 'assign_task' && s.id === trigger.task,
        );
      if (taskSteps.length === 0 && !unread((raw) => raw.id === trigger.task && mayBeTask(raw))) {
        const taskIds = [
          ...new Set(
            recipes
              .filter((r) => r.definition.trigger.app === app.key)
              .flatMap((r) => [...walkSteps(r.definition.steps)].map((w) => w.step))
              .flatMap((s) => (!isConditionalStep(s) && s.action === 'assign_task' && s.id ? [s.id] : [])),
          ),
        ];
        const close = closestName(trigger.task, taskIds);
        problems.push(
          problemAt(
            file,
            locator,
            ['trigger', 'task'],
            `no recipe of app "${app.key}" in these files has an assign_task step with id "${trigger.task}"${close ? ` (did you mean "${close}"?)` : ''}${taskIds.length > 0 ? `; task ids: ${taskIds.join(', ')}` : ''}`,
            'warning',
          ),
        );
      } else if (taskSteps.length > 0) {
        const outcomes = [...new Set(taskSteps.flatMap((s) => s.outcomes.map(outcomeLabel)))];
        problems.push(
          ...outcomeReferenceProblems(file, locator, def.steps, { task: trigger.task, outcomes }),
        );
        // trigger.inputs.<id>: an input the task does not have is always blank
        const inputs = [...new Set(taskSteps.flatMap((s) => (s.inputs ?? []).map((i) => i.id)))];
        forEachExpression(def.steps, (expression, path, reported) => {
          for (const match of expression.matchAll(
            /(?<![\w$.])trigger\s*\.\s*inputs\s*\.\s*([A-Za-z_]\w*)/g,
          )) {
            const input = match[1]!;
            if (inputs.includes(input) || reported.has(`inputs.${input}`)) continue;
            reported.add(`inputs.${input}`);
            const close = closestName(input, inputs);
            problems.push(
              problemAt(
                file,
                locator,
                path,
                `step "${trigger.task}" (whose completion starts this recipe) has no input "${input}"${close ? ` (did you mean "${close}"?)` : ''}; ${inputs.length > 0 ? `its inputs: ${inputs.join(', ')}` : 'it has no inputs'}; trigger.inputs.${input} is always blank`,
                'warning',
              ),
            );
          }
        });
      }
      if (taskSteps.length > 0 && trigger.outcome !== undefined) {
        const outcomes = taskSteps.flatMap((s) => s.outcomes.map(outcomeLabel));
        if (!outcomes.includes(trigger.outcome)) {
          problems.push(
            problemAt(
              file,
              locator,
              ['trigger', 'outcome'],
              `"${trigger.outcome}" is not an outcome of step "${trigger.task}" (${[...new Set(outcomes)].join(', ')})`,
            ),
          );
        }
      }
    }
    const fieldKeys = new Set(app.fields.map((f) => f.key));
    if (fieldsKnown) problems.push(...recordReferenceProblems(file, locator, def, app));
    for (const { step, path } of walkSteps(def.steps)) {
      if (isConditionalStep(step)) continue;
      if (step.action === 'assign_task' || step.action === 'notify') {
        const targets: [unknown, PathSegment[]][] = Array.isArray(step.to)
          ? step.to.map((to, i) => [to, [...path, 'to', i]])
          : [[step.to, [...path, 'to']]];
        for (const [to, at] of targets) {
          const message = recipientProblem(to, app);
          if (message) problems.push(problemAt(file, locator, at, message, 'warning'));
        }
      }
      if (step.action === 'assign_task' && step.quorum.mode !== 'any') {
        // (a literal recipient is checked with the file: see quorumProblems)
        const who = onePersonTemplate(
          Array.isArray(step.to) && step.to.length === 1 ? step.to[0] : step.to,
          app,
        );
        if (who) {
          problems.push(
            problemAt(
              file,
              locator,
              [...path, 'quorum', 'mode'],
              `quorum mode "${step.quorum.mode}" counts the answers of a group's members: this task is for one person (${who}), whose answer decides it (assign it to group:<name>, or to a select field whose options are groups)`,
              'warning',
            ),
          );
        }
      }
      if ((step.action === 'assign_task' || step.action === 'notify') && step.card !== undefined) {
        const cards = cardNames();
        if (cards && !cards.includes(step.card)) {
          problems.push(
            problemAt(
              file,
              locator,
              [...path, 'card'],
              `no card named "${step.card}" in cards/ (cards: ${cards.join(', ')}); the default layout would be used`,
              'warning',
            ),
          );
        }
        // The shipped cards bind different data: task.json a task (with its buttons),
        // notification.json and request.json a request.
        const misfit =
          step.action === 'notify' && step.card === 'task'
            ? 'the task card shows a task, and a notification has none (its title and status would be blank): use card: notification or card: request'
            : step.action === 'assign_task' && (step.card === 'notification' || step.card === 'request')
              ? `the ${step.card} card shows a request, not a task (no outcome buttons): the task is shown with the task card instead; use task or leave card out`
              : undefined;
        if (misfit) problems.push(problemAt(file, locator, [...path, 'card'], misfit, 'warning'));
      }
      if (step.action === 'change_stage' && !isTemplate(step.stage) && !stages.has(step.stage)) {
        problems.push(problemAt(file, locator, [...path, 'stage'], noStageMessage(app, step.stage)));
      }
      if (step.action === 'change_stage' && isTemplate(step.stage)) {
        // literal alternatives such as {{ cond ? 'Expired' : 'Rejected' }} must be stages too
        for (const literal of quotedLiterals(step.stage)) {
          if (!stages.has(literal)) {
            problems.push(
              problemAt(file, locator, [...path, 'stage'], noStageMessage(app, literal), 'warning'),
            );
          }
        }
      }
      if (step.action === 'update_record' && fieldsKnown) {
        // values without {{ }} are known now: check them as the form would at run time
        const literals = Object.fromEntries(
          Object.entries(step.fields)
            .filter(([key, v]) => fieldKeys.has(key) && !hasTemplate(v))
            .map(([key, v]) => [key, recipeFieldValue(app.fields.find((f) => f.key === key)?.type, v)]),
        );
        try {
          validateRecord(app, literals, { partial: true });
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          for (const [key, message] of Object.entries(err.fields ?? {})) {
            problems.push(problemAt(file, locator, [...path, 'fields', key], message));
          }
        }
        for (const key of Object.keys(step.fields)) {
          if (!fieldKeys.has(key)) {
            problems.push(
              problemAt(
                file,
                locator,
                [...path, 'fields', key],
                `app "${app.key}" has no field "${key}"`,
                'error',
                {
                  key: true,
                },
              ),
            );
          }
        }
      }
    }
  }
  problems.push(...offFormFieldProblems(apps, appByKey, recipes));
  // (not with partial recipes: an unparsed step may be the task that breaks a loop)
  problems.push(...stageLoopProblems(recipes.filter((r) => !r.partial)));
  return problems;
}

/**
 * A field off the request form (`on_form: false`) without a default that no recipe of its app
 * in these files sets with update_record: nothing ever fills it in (a warning: a recipe kept in
 * the store, not in these files, may).
 */
function offFormFieldProblems(
  apps: CrossApp[],
  appByKey: Map<string, CrossApp>,
  recipes: CrossRecipe[],
): Problem[] {
  const problems: Problem[] = [];
  for (const app of apps) {
    const def = app.definition;
    if (appByKey.get(def.key) !== app || app.partial || app.fieldsKnown === false) continue;
    const own = recipes.filter((r) => r.definition.trigger.app === def.key);
    // A recipe with errors may set it in a step that could not be read.
    if (own.some((r) => r.partial)) continue;
    const set = new Set(
      own
        .flatMap((r) => [...walkSteps(r.definition.steps)].map((w) => w.step))
        .flatMap((s) => (!isConditionalStep(s) && s.action === 'update_record' ? Object.keys(s.fields) : [])),
    );
    def.fields.forEach((field, i) => {
      if (onForm(field) || field.default !== undefined || set.has(field.key)) return;
      problems.push(
        problemAt(
          app.file,
          app.locator,
          ['fields', i, 'on_form'],
          `${field.label} is not on the request form (on_form: false), and no recipe of app "${def.key}" in these files sets it with update_record: it stays blank`,
          'warning',
        ),
      );
    });
  }
  return problems;
}

/** That an app has no such stage, with the one meant when it is close (`Approvd`, `submitted`). */
function noStageMessage(app: AppDefinition, stage: string): string {
  const closest = closestKey(stage, app.stages);
  // Only a near miss (Approvd), not any stage a few letters away (Nope -> Done).
  const close =
    app.stages.find((s) => s.toLowerCase() === stage.trim().toLowerCase()) ??
    (closest && editDistance(stage, closest) <= Math.max(1, Math.floor(stage.length / 3))
      ? closest
      : undefined);
  return `app "${app.key}" has no stage "${stage}"${close ? `: did you mean "${close}"?` : ''} (stages: ${app.stages.join(', ')})`;
}

/** A Baton user id as `newId('u')` makes them. */
const USER_ID = /^u_[0-9a-z]{16}$/;

/**
 * Why a recipient (`to` of assign_task or notify, or one item of a list) can never be a person,
 * or undefined. At run time a literal is looked up as an email, a Baton user id or a platform
 * identity (`slack:U123`), and `{{ record.<key> }}` gives the field's value: a job reaching a
 * step whose recipient is none of these fails with "No person … is known to Baton".
 */
function recipientProblem(to: unknown, app: AppDefinition): string | undefined {
  if (typeof to !== 'string') return undefined;
  const value = to.trim();
  const people = app.fields.filter((f) => f.type === 'user' || f.type === 'email');
  const instead = `write an email (boss@example.com), group:<name>, ${
    people.length > 0
      ? `a person field ("{{ record.${people[0]!.key} }}")`
      : 'a user field ("{{ record.<field> }}")'
  } or the requester ("{{ request.requester }}")`;
  // An email, group:<name>, a platform identity (slack:U123) or a Baton user id.
  const person = (v: string) => v === '' || v.includes('@') || v.includes(':') || USER_ID.test(v);
  if (!isTemplate(value)) {
    if (person(value)) return undefined;
    const field = app.fields.find((f) => f.key === value);
    if (field && (field.type === 'user' || field.type === 'email'))
      return `"${value}" is taken as a person's id, not the field ${field.label}: write "{{ record.${value} }}"`;
    return `"${value}" is not an email, a user id or group:<name>, so it can never be a person and a job that reaches this step fails: ${instead}`;
  }
  const only = /^\{\{\s*record\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/.exec(value);
  if (!only) return undefined;
  const field = app.fields.find((f) => f.key === only[1]);
  if (!field || field.type === 'user' || field.type === 'email') return undefined;
  if (field.type === 'select' || field.type === 'multi_select') {
    // A select of emails or group:<name> options is a fine way to pick who is told.
    const bad = (field.options ?? [])
      .map((o) => (typeof o === 'string' ? o : o.value))
      .find((o) => !person(o.trim()));
    if (bad === undefined) return undefined;
    return `record.${field.key} is a ${field.type} field (${field.label}) whose option "${bad}" is not a person (an email or group:<name>): ${instead}`;
  }
  return `record.${field.key} is a ${field.type} field (${field.label}), not a person: ${instead}`;
}

/**
 * What makes a recipient template one person, or undefined: a `user` or `email` field, a select
 * field none of whose options is a group, the requester, or whoever completed a task.
 */
function onePersonTemplate(to: unknown, app: AppDefinition): string | undefined {
  if (typeof to !== 'string') return undefined;
  const m = /^\{\{\s*([A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*)\s*\}\}$/.exec(to.trim());
  if (!m) return undefined;
  const ref = m[1]!.replace(/\s+/g, '');
  if (['request.requester', 'requester.id', 'requester.email'].includes(ref)) return 'the requester';
  const done = /^steps\.([a-z_][a-z0-9_]*)\.completed_by$/.exec(ref);
  if (done) return `whoever completed step "${done[1]}"`;
  const key = /^record\.([A-Za-z_]\w*)$/.exec(ref)?.[1];
  const field = app.fields.find((f) => f.key === key);
  if (!field) return undefined;
  if (field.type === 'user' || field.type === 'email')
    return `record.${field.key} is ${field.type === 'user' ? 'a user' : 'an email'} field, ${field.label}`;
  if (
    field.type === 'select' &&
    !(field.options ?? []).some((o) => (typeof o === 'string' ? o : o.value).trim().startsWith('group:'))
  )
    return `record.${field.key} is a select field, ${field.label}, whose options are people, not groups`;
  return undefined;
}

/** True when a value holds a `{{ }}` template anywhere (a string, or a string inside a list or mapping). */
function hasTemplate(value: unknown): boolean {
  if (typeof value === 'string') return isTemplate(value);
  if (Array.isArray(value)) return value.some(hasTemplate);
  if (value && typeof value === 'object') return Object.values(value).some(hasTemplate);
  return false;
}

const CARDS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../cards');
let cardList: string[] | null | undefined;

/** The card templates shipped in `cards/` (names without .json), or null if the folder cannot be read. */
function cardNames(): string[] | null {
  if (cardList === undefined) {
    try {
      cardList = readdirSync(CARDS_DIR)
        .filter((f) => f.endsWith('.json'))
        .map((f) => f.slice(0, -'.json'.length))
        .sort();
    } catch {
      cardList = null;
    }
  }
  return cardList;
}

/** Most stage changes in a row that recipes may make by triggering each other (the engine's bound). */
const MAX_STAGE_CHAIN = 20;

interface StageEdge {
  to: number;
  path: (string | number)[];
  stage: string;
  /** The change always happens (a literal stage, not inside if/then/else, no task before it). */
  certain: boolean;
}

/**
 * Recipes that trigger each other through stage changes without a person in between (A moves
 * to X, B runs on X and moves to Y, A runs on Y...). The engine stops such a chain after
 * MAX_STAGE_CHAIN changes and fails the job, so a loop that always happens is an error and one
 * that depends on conditions is a warning. Changes made after a task are left out: a person
 * decides each round of such a loop (rework, resubmit).
 */
function stageLoopProblems(recipes: (Loaded<RecipeDefinition> & { locator: Locator | null })[]): Problem[] {
  const nodes = recipes.filter((r) => r.definition.trigger.type === 'stage_changed');
  const edges: StageEdge[][] = nodes.map((node) => {
    const out: StageEdge[] = [];
    let sawTask = false;
    for (const { step, path } of walkSteps(node.definition.steps)) {
      if (isConditionalStep(step)) continue;
      if (step.action === 'assign_task') sawTask = true;
      if (sawTask || step.action !== 'change_stage') continue;
      const literal = !isTemplate(step.stage);
      const stages = literal ? [step.stage] : quotedLiterals(step.stage);
      for (const stage of stages) {
        nodes.forEach((other, to) => {
          const t = other.definition.trigger;
          if (t.type !== 'stage_changed' || t.app !== node.definition.trigger.app) return;
          if (t.to !== undefined && t.to !== stage) return;
          out.push({ to, path, stage, certain: literal && path.length === 2 && t.from === undefined });
        });
      }
    }
    return out;
  });
  const problems: Problem[] = [];
  nodes.forEach((node, start) => {
    // the shortest loop back to this recipe (breadth first), preferring one made of certain edges
    for (const certainOnly of [true, false]) {
      const via = new Map<number, { from: number; edge: StageEdge }>();
      const queue = [start];
      let found: StageEdge[] | null = null;
      while (queue.length > 0 && !found) {
        const at = queue.shift()!;
        for (const edge of edges[at]!) {
          if (certainOnly && !edge.certain) continue;
          if (edge.to === start) {
            const chain = [edge];
            for (let n = at; n !== start; n = via.get(n)!.from) chain.unshift(via.get(n)!.edge);
            found = chain;
            break;
          }
          if (!via.has(edge.to)) {
            via.set(edge.to, { from: at, edge });
            queue.push(edge.to);
          }
        }
      }
      if (!found) continue;
      const names = [node, ...found.map((e) => nodes[e.to]!)].map((n) => n.definition.name);
      const route = found.map((e, i) => `${names[i]} (moves to ${e.stage})`).join(' -> ');
      const first = found[0]!;
      problems.push(
        problemAt(
          node.file,
          node.locator,
          [...first.path, 'stage'],
          `recipes trigger each other in a loop: ${route} -> ${names[names.length - 1]}; ${
            certainOnly ? 'it never ends by itself, and' : 'when its conditions hold,'
          } Baton stops the chain after ${MAX_STAGE_CHAIN} stage changes and fails the job`,
          certainOnly ? 'error' : 'warning',
        ),
      );
      break;
    }
  });
  return problems;
}

/**
 * String literals that a stage template can yield directly: the branches of `? :` whose value is
 * a quoted string, e.g. `{{ x ? 'Expired' : 'Rejected' }}` -> Expired, Rejected.
 */
function quotedLiterals(template: string): string[] {
  const trimmed = template.trim();
  const m = /^\{\{([\s\S]*)\}\}$/.exec(trimmed);
  if (!m) return [];
  const out: string[] = [];
  const re = /[?:]\s*(['"])([^'"]*)\1/g;
  for (let match = re.exec(m[1]!); match; match = re.exec(m[1]!)) out.push(match[2]!);
  return out;
}
