/**
 * Expressions in recipes are JSONata (https://jsonata.org): no code execution, only the data in
 * the evaluation context. Every evaluation is bounded in time and nesting depth so a bad
 * expression cannot stall the server.
 *
 * Templates are strings with `{{ expr }}` pieces. A template that is exactly one `{{ expr }}`
 * keeps the value's type (number, list, object...); otherwise the pieces are joined as text.
 * Conditions (`if:`) are bare expressions, true or false per JSONata's `$boolean`.
 */
import jsonata from 'jsonata';

export interface StepResult {
  status: string; // e.g. open, completed, expired, skipped, done
  outcome?: string | null;
  completed_by?: string | null;
  comment?: string | null;
  inputs?: Record<string, unknown>;
  completed_at?: string | null;
  [key: string]: unknown;
}

export interface ExpressionContext {
  record: Record<string, unknown>;
  request: { id: string; app: string; stage: string; requester: string; created_at: string };
  requester: { id: string; name: string; email?: string | null };
  steps: Record<string, StepResult>;
  trigger: Record<string, unknown>;
  /** ISO timestamp of the evaluation. */
  now: string;
}

/** What the evaluation functions accept: a full context, or any part of one (tests, previews). */
export type ContextInput = Partial<ExpressionContext> | Record<string, unknown>;

export interface EvaluationLimits {
  /**
   * Maximum work of one evaluation, in evaluation steps (each time JSONata's evaluator enters a
   * node of the expression; default 500,000, about a quarter of a second of work here). This is
   * the budget that stops runaway loops and recursion: it counts the expression's own work only,
   * so a busy server (many jobs interleaving on the event loop, a profiler) cannot exhaust it.
   */
  maxSteps?: number;
  /**
   * Maximum wall time of one evaluation, in ms (default 10,000): a last resort for an expression
   * whose few steps are each very slow (e.g. sorting ten million numbers again and again). Wall
   * time includes time spent waiting for other work on the event loop, hence the wide margin.
   */
  timeoutMs?: number;
  /** Maximum nesting depth of the evaluator (default 200). */
  maxDepth?: number;
}

export const DEFAULT_MAX_STEPS = 500_000;
export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_DEPTH = 200;

export class ExpressionError extends Error {
  readonly expression: string | undefined;
  /** Character offset of the problem inside the expression, when known. */
  readonly position: number | undefined;
  /** The JSONata error code (S0201, D1012...), when there is one. */
  readonly code: string | undefined;
  constructor(message: string, options: { expression?: string; position?: number; code?: string } = {}) {
    super(message);
    this.name = 'ExpressionError';
    this.expression = options.expression;
    this.position = options.position;
    this.code = options.code;
  }
}

type Piece = { kind: 'text'; text: string } | { kind: 'expr'; source: string; offset: number };

export interface CompiledTemplate {
  readonly source: string;
  /** True when the whole template is one `{{ expr }}`: rendering keeps the value's type. */
  readonly single: boolean;
  /** True when the template has no `{{ }}` at all. */
  readonly literal: boolean;
  readonly pieces: readonly Piece[];
}

// ---------------------------------------------------------------------------------------------
// template scanning

/**
 * Splits a template into text and expression pieces. `}}` closes an expression only outside
 * strings, comments and braces, so `{{ {"a": {"b": 1}} }}` works.
 */
function scanTemplate(source: string): Piece[] {
  const pieces: Piece[] = [];
  let i = 0;
  let text = '';
  while (i < source.length) {
    const open = source.indexOf('{{', i);
    if (open < 0) {
      text += source.slice(i);
      break;
    }
    text += source.slice(i, open);
    let j = open + 2;
    let depth = 0;
    let quote: string | null = null;
    let end = -1;
    while (j < source.length) {
      const c = source[j]!;
      if (quote) {
        if (c === '\\' && quote !== '`') j++;
        else if (c === quote) quote = null;
      } else if (c === '"' || c === "'" || c === '`') {
        quote = c;
      } else if (c === '/' && source[j + 1] === '*') {
        const close = source.indexOf('*/', j + 2);
        j = close < 0 ? source.length : close + 1;
      } else if (c === '{') {
        depth++;
      } else if (c === '}') {
        if (depth === 0 && source[j + 1] === '}') {
          end = j;
          break;
        }
        depth = Math.max(0, depth - 1);
      }
      j++;
    }
    if (end < 0) {
      throw new ExpressionError(`unclosed {{ at position ${open}: expected }}`, {
        expression: source,
        position: open,
        code: 'T0001',
      });
    }
    if (text) pieces.push({ kind: 'text', text });
    text = '';
    const inner = source.slice(open + 2, end);
    if (inner.trim() === '') {
      throw new ExpressionError(`empty {{ }} at position ${open}`, {
        expression: source,
        position: open,
        code: 'T0002',
      });
    }
    pieces.push({ kind: 'expr', source: inner, offset: open + 2 });
    i = end + 2;
  }
  if (text) pieces.push({ kind: 'text', text });
  return pieces;
}

// ---------------------------------------------------------------------------------------------
// compilation and caching

const CACHE_LIMIT = 2000;
const expressionCache = new Map<string, jsonata.Expression>();
const templateCache = new Map<string, CompiledTemplate>();

function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(key, value);
  return value;
}

interface JsonataErrorLike {
  code?: string;
  position?: number;
  token?: string;
  message?: string;
  value?: unknown;
  error?: JsonataErrorLike;
}

function syntaxError(err: unknown, source: string, offset = 0): ExpressionError {
  const e = (err ?? {}) as JsonataErrorLike;
  const position = typeof e.position === 'number' ? e.position + offset : undefined;
  const where = position !== undefined ? ` at position ${position}` : '';
  return new ExpressionError(`syntax error${where}: ${e.message ?? String(err)}`, {
    expression: source,
    ...(position !== undefined ? { position } : {}),
    ...(e.code ? { code: e.code } : {}),
  });
}

interface Limits {
  steps: number;
  timeout: number;
  stack: number;
}

function limitsOf(limits: EvaluationLimits | undefined): Limits {
  return {
    steps: limits?.maxSteps ?? DEFAULT_MAX_STEPS,
    timeout: limits?.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    stack: limits?.maxDepth ?? DEFAULT_MAX_DEPTH,
  };
}

/** Thrown from the step hook; JSONata passes it through and runtimeError() translates it. */
const TOO_MANY_STEPS = 'BATON_STEPS';

/**
 * JSONata calls the function bound to this symbol on entry to every evaluation step (it is the
 * hook its own debugging tools use), with the evaluation's environment; `environment.base` is
 * one object per evaluate() call, including the expressions `$eval` runs inside it.
 */
const EVALUATE_ENTRY = Symbol.for('jsonata.__evaluate_entry');

interface EvaluationFrame {
  base?: object;
}

/** Parses a bare JSONata expression (cached). Throws ExpressionError on a syntax error. */
function compileExpression(source: string, limits?: EvaluationLimits): jsonata.Expression {
  const { steps, timeout, stack } = limitsOf(limits);
  const key = `${steps}:${timeout}:${stack}:${source}`;
  const cached = expressionCache.get(key);
  if (cached) return cached;
  let expr: jsonata.Expression;
  try {
    // Nesting depth (D1011) and wall time since evaluate() began (D1012) are JSONata's own
    // guardrails, checked on entry to every evaluation step. Wall time alone cannot tell a
    // runaway expression from one that waited: JSONata awaits between steps, so under load a
    // trivial expression's steps queue behind other work. The main budget is therefore the
    // number of steps, counted per evaluation by the entry hook below.
    expr = jsonata(source, { timeout, stack });
  } catch (err) {
    throw syntaxError(err, source);
  }
  const counts = new WeakMap<object, number>();
  (expr.assign as unknown as (name: symbol, value: unknown) => void)(EVALUATE_ENTRY, (...args: unknown[]) => {
    const base = (args[2] as EvaluationFrame | undefined)?.base;
    if (!base) return;
    const n = (counts.get(base) ?? 0) + 1;
    counts.set(base, n);
    if (n > steps) throw { code: TOO_MANY_STEPS, value: steps };
  });
  return remember(expressionCache, key, expr);
}

/** Parses a template; throws ExpressionError (with the position in the template) on a syntax error. */
export function compileTemplate(source: string): CompiledTemplate {
  const cached = templateCache.get(source);
  if (cached) return cached;
  const pieces = scanTemplate(source);
  for (const piece of pieces) {
    if (piece.kind !== 'expr') continue;
    try {
      compileExpression(piece.source);
    } catch (err) {
      const inner = err instanceof ExpressionError ? err : syntaxError(err, piece.source);
      const position = (inner.position ?? 0) + piece.offset;
      const message = inner.message.replace(/^syntax error( at position \d+)?: /, '');
      throw new ExpressionError(`syntax error at position ${position}: ${message}`, {
        expression: source,
        position,
        ...(inner.code ? { code: inner.code } : {}),
      });
    }
  }
  const exprCount = pieces.filter((p) => p.kind === 'expr').length;
  const single = pieces.length === 1 && exprCount === 1;
  const compiled: CompiledTemplate = { source, single, literal: exprCount === 0, pieces };
  return remember(templateCache, source, compiled);
}

/**
 * Checks the syntax of a template (default) or of a bare condition; returns a message describing
 * the first problem, or null when the syntax is fine. Never throws.
 */
export function checkExpressionSyntax(
  source: string,
  mode: 'template' | 'condition' = 'template',
): string | null {
  // `if: "{{ record.days > 5 }}"`: JSONata reads {{ as an object and fails with 'Expected ":"'.
  const wrapped = mode === 'condition' ? /^\s*\{\{([\s\S]*)\}\}\s*$/.exec(source) : null;
  if (wrapped && !isTemplate(wrapped[1]!)) {
    const inner = wrapped[1]!.trim();
    if (checkExpressionSyntax(inner, 'condition') === null)
      return `a condition is a bare expression, without {{ }}: write "${inner}"`;
    const js = javaScriptSpelling(inner, 'condition');
    if (js) return `a condition is a bare expression, without {{ }}, and ${js.said}: write "${js.fixed}"`;
  }
  try {
    const sources =
      mode === 'template'
        ? compileTemplate(source)
            .pieces.filter((p): p is Extract<Piece, { kind: 'expr' }> => p.kind === 'expr')
            .map((p) => p.source)
        : [source];
    const unknown = [...new Set(sources.flatMap((s) => unknownFunctions(compileExpression(s).ast())))];
    if (unknown.length > 0) {
      return `unknown function ${unknown.map((n) => `$${n}`).join(', ')}: not one of JSONata's (https://docs.jsonata.org/overview) nor defined in the expression`;
    }
    return null;
  } catch (err) {
    const js = javaScriptSpelling(source, mode);
    if (js) return `${js.said}: write "${js.fixed}"`;
    return err instanceof Error ? err.message : String(err);
  }
}

/** JavaScript's operators that JSONata spells otherwise (`!=` is JSONata's too). */
const JS_OPERATORS: readonly [RegExp, string, string][] = [
  [/\s*===?\s*/g, '==', ' = '],
  [/\s*&&\s*/g, '&&', ' and '],
  [/\s*\|\|\s*/g, '||', ' or '],
];

/**
 * For an expression that does not parse because it is written with JavaScript's `==`, `&&` or
 * `||`: what to say and the text with JSONata's `=`, `and`, `or` (outside quoted strings), when
 * that text parses. Otherwise null.
 */
function javaScriptSpelling(
  source: string,
  mode: 'template' | 'condition',
): { said: string; fixed: string } | null {
  const used = new Set<string>();
  const fix = (code: string): string =>
    code
      .split(/('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")/)
      .map((part, i) => {
        if (i % 2 === 1) return part;
        let out = part;
        for (const [re, js, jsonata] of JS_OPERATORS) {
          out = out.replace(re, () => {
            used.add(js);
            return jsonata;
          });
        }
        return out;
      })
      .join('');
  const fixed =
    mode === 'condition'
      ? fix(source)
      : source.replace(/\{\{([\s\S]*?)\}\}/g, (_m, e: string) => `{{${fix(e)}}}`);
  if (used.size === 0 || checkExpressionSyntax(fixed, mode) !== null) return null;
  const said = JS_OPERATORS.filter(([, js]) => used.has(js))
    .map(([, js, jsonata]) => `${js} is written ${jsonata.trim()}`)
    .join(', ')
    .concat(' in JSONata');
  return { said, fixed: fixed.trim() };
}

/** JSONata's built-in functions (jsonata 2.x; a test checks each is one). */
export const JSONATA_FUNCTIONS: ReadonlySet<string> = new Set(
  (
    'string length substring substringBefore substringAfter uppercase lowercase trim pad contains split join ' +
    'match replace eval base64encode base64decode encodeUrlComponent encodeUrl decodeUrlComponent decodeUrl ' +
    'number abs floor ceil round power sqrt random formatNumber formatBase formatInteger parseInteger sum max ' +
    'min average boolean not exists count append sort reverse shuffle distinct zip keys lookup spread merge ' +
    'sift each error assert type now millis fromMillis toMillis map filter single reduce clone'
  ).split(' '),
);

/**
 * Names of the functions an expression calls (`$name(...)`) that are neither JSONata's nor
 * bound in it (`$f := function...`, a lambda's parameters): such a call fails every time it
 * runs ("Attempted to invoke a non-function").
 */
function unknownFunctions(ast: unknown): string[] {
  const bound = new Set<string>();
  const called: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const n = node as Record<string, unknown>;
    if (n.type === 'bind' && (n.lhs as { type?: string } | undefined)?.type === 'variable') {
      bound.add(String((n.lhs as { value: unknown }).value));
    }
    if (n.type === 'lambda' && Array.isArray(n.arguments)) {
      for (const a of n.arguments as { type?: string; value?: unknown }[]) {
        if (a.type === 'variable') bound.add(String(a.value));
      }
    }
    if (
      (n.type === 'function' || n.type === 'partial') &&
      (n.procedure as { type?: string })?.type === 'variable'
    ) {
      called.push(String((n.procedure as { value: unknown }).value));
    }
    for (const v of Object.values(n)) if (typeof v === 'object') visit(v);
  };
  visit(ast);
  return called.filter((name) => !JSONATA_FUNCTIONS.has(name) && !bound.has(name));
}

/** True when a string contains `{{` (so it is a template rather than a literal). */
export function isTemplate(value: string): boolean {
  return value.includes('{{');
}

// ---------------------------------------------------------------------------------------------
// evaluation

/** Converts JSONata results (sequences, functions) to plain data. */
function toPlain(value: unknown): unknown {
  if (typeof value === 'function') return undefined;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) {
      const plain = toPlain(item);
      if (plain !== undefined) out.push(plain);
    }
    return out;
  }
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const plain = toPlain(v);
      if (plain !== undefined) out[k] = plain;
    }
    return out;
  }
  return value;
}

function runtimeError(
  err: unknown,
  source: string,
  limits: Limits,
  written: 'template' | 'condition' = 'template',
): ExpressionError {
  let e = (err ?? {}) as JsonataErrorLike;
  // $eval wraps the error of the expression it evaluated
  while (e.error && (e.code === 'D3121' || e.code === 'D3120')) e = e.error;
  if (e.code === TOO_MANY_STEPS) {
    return new ExpressionError(
      `expression did too much work (more than ${limits.steps} evaluation steps): a runaway loop or recursion?`,
      { expression: source, code: 'D1012' },
    );
  }
  if (e.code === 'D1012') {
    return new ExpressionError(`expression took longer than ${limits.timeout} ms`, {
      expression: source,
      code: e.code,
    });
  }
  if (e.code === 'D1011' || err instanceof RangeError) {
    return new ExpressionError(
      `expression is nested more than ${limits.stack} levels deep (runaway recursion?)`,
      {
        expression: source,
        code: e.code ?? 'D1011',
      },
    );
  }
  // The expression itself, so whoever reads the error (a failed job, the request's history)
  // knows which one of the step's expressions failed: a position alone points nowhere.
  const shown = source.trim().replace(/\s+/g, ' ');
  const quoted = shown.length > 120 ? `${shown.slice(0, 119)}…` : shown;
  const at = typeof e.position === 'number' ? `, at position ${e.position}` : '';
  // (as it is written: a template's piece in {{ }}, a condition bare after if:)
  const where = written === 'condition' ? `if: ${quoted}` : `{{ ${quoted} }}`;
  return new ExpressionError(`${e.message ?? String(err)} (in ${where}${at})`, {
    expression: source,
    ...(typeof e.position === 'number' ? { position: e.position } : {}),
    ...(e.code ? { code: e.code } : {}),
  });
}

/** A fast evaluator's answer when JSONata must decide. */
const UNDECIDED: unique symbol = Symbol('undecided');
type FastEvaluator = (input: unknown) => unknown;

const fastEvaluators = new WeakMap<jsonata.Expression, FastEvaluator | null>();

/** The names of a plain path (`record.days`, `steps.manager.outcome`), or null for anything else. */
function plainPath(node: unknown): string[] | null {
  const n = node as { type?: unknown; steps?: unknown } | null;
  if (n?.type !== 'path' || !Array.isArray(n.steps) || Object.keys(n).length !== 2) return null;
  const names: string[] = [];
  for (const step of n.steps as Record<string, unknown>[]) {
    // A name and nothing else: no filter, index, focus, group or other stage attached.
    if (step.type !== 'name' || typeof step.value !== 'string') return null;
    if (Object.keys(step).some((k) => k !== 'type' && k !== 'value' && k !== 'position')) return null;
    names.push(step.value);
  }
  return names.length > 0 ? names : null;
}

/**
 * The value at a plain path through plain objects: undefined where a name is missing, the
 * value when it is a string, number or boolean; UNDECIDED for anything JSONata treats in a way
 * of its own (arrays map over their items, objects are returned as copies, null, Dates...).
 */
function valueAt(input: unknown, names: readonly string[]): unknown {
  let cur = input;
  for (const name of names) {
    if (cur === undefined) return undefined;
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return UNDECIDED;
    const proto = Object.getPrototypeOf(cur);
    if (proto !== Object.prototype && proto !== null) return UNDECIDED;
    cur = Object.hasOwn(cur, name) ? (cur as Record<string, unknown>)[name] : undefined;
  }
  const t = typeof cur;
  return cur === undefined || t === 'string' || t === 'boolean' || (t === 'number' && Number.isFinite(cur))
    ? cur
    : UNDECIDED;
}

/**
 * The most common recipe expressions — a plain path (`{{ record.approver }}`), or a plain path
 * compared with a string, number or boolean (`steps.manager.outcome = 'Approve'`) — answered
 * without JSONata's asynchronous evaluator when the data along the path are plain objects and
 * the value is a string, number or boolean (or missing); anything else goes to JSONata. A
 * property test holds these answers to JSONata's.
 */
function fastEvaluatorOf(expr: jsonata.Expression): FastEvaluator | null {
  let fast = fastEvaluators.get(expr);
  if (fast !== undefined) return fast;
  fast = null;
  const ast = expr.ast() as { type?: string; value?: unknown; lhs?: unknown; rhs?: unknown };
  const path = plainPath(ast);
  if (path) fast = (input) => valueAt(input, path);
  else if (ast.type === 'binary' && (ast.value === '=' || ast.value === '!=')) {
    const literal = (node: unknown): { value: unknown } | null => {
      const n = node as { type?: string; value?: unknown };
      if (n?.type === 'string' || n?.type === 'number') return { value: n.value };
      if (n?.type === 'value' && typeof n.value === 'boolean') return { value: n.value };
      return null;
    };
    const left = plainPath(ast.lhs);
    const right = plainPath(ast.rhs);
    const names = left ?? right;
    const lit = left ? literal(ast.rhs) : right ? literal(ast.lhs) : null;
    if (names && lit) {
      const equal = ast.value === '=';
      fast = (input) => {
        const v = valueAt(input, names);
        if (v === UNDECIDED) return UNDECIDED;
        // A missing value is neither equal nor unequal to anything.
        if (v === undefined) return false;
        return (v === lit.value) === equal;
      };
    }
  }
  fastEvaluators.set(expr, fast);
  return fast;
}

/**
 * Evaluates one bare JSONata expression against the context, within the limits. `written` is how
 * the recipe writes it, for the error: a piece of a template (`{{ … }}`) or a condition (`if: …`).
 */
export async function evaluateExpression(
  source: string,
  context: ContextInput,
  limits?: EvaluationLimits,
  written: 'template' | 'condition' = 'template',
): Promise<unknown> {
  const expr = compileExpression(source, limits);
  const fast = fastEvaluatorOf(expr);
  if (fast) {
    const value = fast(context);
    if (value !== UNDECIDED) return value;
  }
  try {
    return toPlain(await expr.evaluate(context));
  } catch (err) {
    throw runtimeError(err, source, limitsOf(limits), written);
  }
}

function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(stringify).join(', ');
  return JSON.stringify(value);
}

/**
 * Renders a template. A template that is exactly one `{{ expr }}` returns the value with its type
 * (undefined when the expression yields nothing); any other template returns a string in which
 * undefined/null render as '' and lists as comma-separated items.
 */
export async function renderTemplate(
  template: string | CompiledTemplate,
  context: ContextInput,
  limits?: EvaluationLimits,
): Promise<unknown> {
  const compiled = typeof template === 'string' ? compileTemplate(template) : template;
  if (compiled.literal) return compiled.source;
  if (compiled.single) {
    const piece = compiled.pieces[0] as Extract<Piece, { kind: 'expr' }>;
    return evaluateExpression(piece.source, context, limits);
  }
  let out = '';
  for (const piece of compiled.pieces) {
    out +=
      piece.kind === 'text' ? piece.text : stringify(await evaluateExpression(piece.source, context, limits));
  }
  return out;
}

/**
 * Renders a template and always returns a string (for titles, texts, stages...). `show`, when
 * given, turns each expression's value into what people read (e.g. a user id into a name).
 */
export async function renderText(
  template: string | CompiledTemplate,
  context: ContextInput,
  limits?: EvaluationLimits,
  show?: (value: unknown) => Promise<unknown>,
): Promise<string> {
  if (!show) return stringify(await renderTemplate(template, context, limits));
  const compiled = typeof template === 'string' ? compileTemplate(template) : template;
  if (compiled.literal) return compiled.source;
  let out = '';
  for (const piece of compiled.pieces) {
    out +=
      piece.kind === 'text'
        ? piece.text
        : stringify(await show(await evaluateExpression(piece.source, context, limits)));
  }
  return out;
}

/**
 * Renders every string inside a value (objects and lists are walked), e.g. the `fields` map of
 * an update_record step.
 */
export async function renderDeep(
  value: unknown,
  context: ContextInput,
  limits?: EvaluationLimits,
): Promise<unknown> {
  if (typeof value === 'string') return renderTemplate(value, context, limits);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) out.push(await renderDeep(item, context, limits));
    return out;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await renderDeep(v, context, limits);
    return out;
  }
  return value;
}

/** JSONata's `$boolean` casting rules. */
export function jsonataBoolean(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) {
    if (value.length === 1) return jsonataBoolean(value[0]);
    return value.some((v) => jsonataBoolean(v));
  }
  switch (typeof value) {
    case 'string':
      return value.length > 0;
    case 'number':
      return value !== 0;
    case 'boolean':
      return value;
    case 'function':
      return false;
    case 'object':
      return Object.keys(value as object).length > 0;
    default:
      return false;
  }
}

/** Evaluates a condition (a bare expression, e.g. `steps.manager.outcome = 'Approve'`). */
export async function evaluateCondition(
  expression: string,
  context: ContextInput,
  limits?: EvaluationLimits,
): Promise<boolean> {
  return jsonataBoolean(await evaluateExpression(expression, context, limits, 'condition'));
}
