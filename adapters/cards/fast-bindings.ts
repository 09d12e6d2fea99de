/**
 * Faster evaluation of card bindings, with the same answers as adaptive-expressions.
 *
 * Expanding a card spends most of its time in adaptive-expressions' evaluator rather than in
 * the template walk: every `task.title` builds a path string, cleans it with two regular
 * expressions, splits it again, and looks each segment up by lower-casing every key of the
 * object; every `&&` allocates options; every lambda item a Map and a memory stack. A task
 * card took ~0.3–0.5 ms to render here, three renders per Slack approval round trip.
 *
 * `accelerate(template)` walks a parsed template and, for each expression made only of the
 * nodes below, replaces that expression's `tryEvaluate` with a closure compiled once from its
 * tree. Anything else (another function, an element access `a[0]`, a lambda whose iterator is
 * not a plain name) keeps the library's evaluator, for the whole expression. The closures
 * follow the library's rules exactly, including the odd ones a card can observe: property
 * names match case-insensitively (the first key in `Object.keys` order wins), a missing value
 * in a binding becomes the substitution string (`${path}`) while the operands of `&&`, `||`,
 * `!`, comparisons and an `if` condition see it missing, errors inside logical operators and
 * comparisons read as false, a name a lambda does not bind is looked up in `$data`.
 * `tests/cards/fast-bindings.test.ts` renders every card of `cards/`, and templates using
 * every supported node, with random data through both evaluators and demands equal results.
 *
 * The library's helpers (`FunctionUtils.commonEquals`, `isNumber`) are used, not rewritten.
 */
import { createRequire } from 'node:module';

/** The part of an adaptive-expressions `Expression` read here. */
interface Expr {
  type: string;
  children: Expr[];
  value?: unknown;
  tryEvaluate(state: unknown, options?: unknown): { value: unknown; error?: string };
  toString(): string;
}

interface AelModule {
  Expression: new (...args: never[]) => Expr;
  FunctionUtils: {
    commonEquals(a: unknown, b: unknown): boolean;
    isNumber(v: unknown): boolean;
  };
}

const require = createRequire(import.meta.url);
let ael: AelModule | undefined;
/** The adaptive-expressions instance adaptivecards-templating itself uses. */
function aelModule(): AelModule {
  if (!ael) {
    const fromTemplating = createRequire(require.resolve('adaptivecards-templating'));
    ael = fromTemplating('adaptive-expressions') as AelModule;
  }
  return ael;
}

/** An evaluation error (the library returns `{ error }`; values here are JSON data, never this). */
class Failure {
  constructor(
    readonly message: string,
    /** The value the library returns alongside the error (an `||` goes on with it). */
    readonly value: unknown = undefined,
  ) {}
}

type NullSubstitution = ((path: string) => unknown) | undefined;

/** Where a name is looked up: the lambda iterators in scope (innermost last), then the template memory. */
interface Scope {
  memory: object;
  locals: [string, unknown][];
}

type Compiled = (scope: Scope, sub: NullSubstitution) => unknown;

const isFailure = (v: unknown): v is Failure => v instanceof Failure;

/** `InternalFunctionUtils.isLogicTrue`. */
function isLogicTrue(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  return v != null;
}

/** `InternalFunctionUtils.accessProperty`: case-insensitive, the first key in `Object.keys` order wins. */
function accessProperty(instance: unknown, property: string, lower: string): unknown {
  if (!instance) return undefined;
  if (instance instanceof Map) {
    const exact = instance.get(property);
    if (exact !== undefined) return exact;
    for (const k of instance.keys()) if (String(k).toLowerCase() === lower) return instance.get(k);
    return undefined;
  }
  for (const k of Object.keys(instance)) {
    if (k === property || k.toLowerCase() === lower) return (instance as Record<string, unknown>)[k];
  }
  return undefined;
}

interface Segment {
  name: string;
  lower: string;
  /** `!isNaN(parseInt(name))`: an index when the value is a list. */
  index: number | null;
}

function segment(name: string): Segment {
  const n = Number.parseInt(name, 10);
  return { name, lower: name.toLowerCase(), index: Number.isNaN(n) ? null : n };
}

/** `SimpleObjectMemory.getValue` over segments already split. */
function resolveIn(root: unknown, segments: Segment[]): unknown {
  let value: unknown;
  let cur = root;
  for (const s of segments) {
    if (s.index !== null && Array.isArray(cur)) {
      if (s.index >= 0 && s.index < cur.length) value = cur[s.index];
      else return undefined; // out of range: an error, read as undefined
    } else {
      value = accessProperty(cur, s.name, s.lower);
    }
    cur = value;
  }
  return value;
}

const DATA = segment('$data');

/** A plain path `a.b.c` (an Accessor chain): its segments, or null for anything else. */
function accessorPath(e: Expr): string[] | null {
  const names: string[] = [];
  let left: Expr | undefined = e;
  while (left !== undefined) {
    if (left.type !== 'Accessor') return null;
    const name = left.children[0];
    if (name?.type !== 'Constant' || typeof name.value !== 'string') return null;
    if (left.children.length > 2) return null;
    names.unshift(name.value);
    left = left.children[1];
  }
  // What SimpleObjectMemory's split would do to the joined path; names from the parser never
  // hold separators or quotes, but a name that did would not be a plain path.
  if (names.some((n) => n === '' || /[.[\]'"]/.test(n))) return null;
  return names;
}

function compilePath(names: string[]): Compiled {
  const path = names.join('.');
  const segments = names.map(segment);
  // TemplateObjectMemory prefixes `$data.` unless the path starts with `$`.
  const inMemory = path.startsWith('$') ? segments : [DATA, ...segments];
  const first = segments[0]!;
  const rest = segments.slice(1);
  return (scope, sub) => {
    let value: unknown;
    // StackedMemory: the innermost layer with a value wins; each layer resolves the whole path.
    // A lambda's layer is a Map of its one iterator name (matched case-insensitively too).
    for (let i = scope.locals.length - 1; i >= 0; i--) {
      const [name, item] = scope.locals[i]!;
      if (name !== first.name && name.toLowerCase() !== first.lower) continue;
      value = segments.length === 1 ? item : resolveIn(item, rest);
      if (value !== undefined) return value;
    }
    value = resolveIn(scope.memory, inMemory);
    if (value === undefined && sub !== undefined) return sub(path);
    return value;
  };
}

function comparable(a: unknown, b: unknown): boolean {
  const { isNumber } = aelModule().FunctionUtils;
  return (
    (isNumber(a) && isNumber(b)) ||
    (typeof a === 'string' && typeof b === 'string') ||
    (a instanceof Date && b instanceof Date)
  );
}

const ORDER: Record<string, (a: never, b: never) => boolean> = {
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
};

/** The library's error for operands an order cannot compare (its message may itself fail to build). */
function notComparable(x: unknown, y: unknown): Failure {
  try {
    return new Failure(`${x} and ${y} must be comparable.`, false);
  } catch (err) {
    return new Failure((err as Error).message, false);
  }
}

/** `InternalFunctionUtils.convertToList`. */
function convertToList(instance: unknown): unknown[] | undefined {
  if (Array.isArray(instance)) return instance;
  if (typeof instance === 'object') {
    const out: unknown[] = [];
    for (const key of Object.keys(instance as object))
      out.push({ key, value: (instance as Record<string, unknown>)[key] });
    return out;
  }
  return undefined;
}

/** Evaluates compiled children in order, stopping at the first failure (`FunctionUtils.evaluateChildren`). */
function evaluateAll(children: Compiled[], scope: Scope, sub: NullSubstitution): unknown[] | Failure {
  const args: unknown[] = [];
  for (const child of children) {
    const v = child(scope, sub);
    if (isFailure(v)) return v;
    args.push(v);
  }
  return args;
}

/** Compiles `e`, or returns null when any node of it is not one this file knows. */
export function compile(e: Expr): Compiled | null {
  const children = (): Compiled[] | null => {
    const out: Compiled[] = [];
    for (const c of e.children) {
      const f = compile(c);
      if (!f) return null;
      out.push(f);
    }
    return out;
  };
  const text = (i: number): string => String(e.children[i]);
  switch (e.type) {
    case 'Constant': {
      const value = e.value;
      return () => value;
    }
    case 'Accessor': {
      const names = accessorPath(e);
      return names ? compilePath(names) : null;
    }
    case '&&':
    case '||': {
      const cs = children();
      if (!cs || cs.length === 0) return null;
      if (e.type === '&&') {
        return (scope) => {
          for (const c of cs) {
            const v = c(scope, undefined);
            if (isFailure(v) || !isLogicTrue(v)) return false;
          }
          return true;
        };
      }
      return (scope) => {
        let result: unknown = false;
        for (const c of cs) {
          const v = c(scope, undefined);
          if (isFailure(v)) {
            result = v.value;
            continue;
          }
          if (isLogicTrue(v)) return true;
          result = v;
        }
        return result;
      };
    }
    case '!': {
      const cs = children();
      if (cs?.length !== 1) return null;
      const [c] = cs as [Compiled];
      return (scope) => {
        const v = c(scope, undefined);
        return isFailure(v) ? true : !isLogicTrue(v);
      };
    }
    case '==':
    case '!=': {
      const cs = children();
      if (cs?.length !== 2) return null;
      const [a, b] = cs as [Compiled, Compiled];
      const negate = e.type === '!=';
      return (scope) => {
        const x = a(scope, undefined);
        if (isFailure(x)) return false;
        const y = b(scope, undefined);
        if (isFailure(y)) return false;
        try {
          const equal = aelModule().FunctionUtils.commonEquals(x, y);
          return negate ? !equal : equal;
        } catch (err) {
          return new Failure((err as Error).message, false);
        }
      };
    }
    case '>':
    case '>=':
    case '<':
    case '<=': {
      const cs = children();
      if (cs?.length !== 2) return null;
      const [a, b] = cs as [Compiled, Compiled];
      const op = ORDER[e.type]!;
      return (scope) => {
        // verifyNotNull on each operand, in order; any failure reads as false.
        const x = a(scope, undefined);
        if (isFailure(x) || x == null) return false;
        const y = b(scope, undefined);
        if (isFailure(y) || y == null) return false;
        // Operands that cannot be compared are an error (with the value false), not false.
        if (!comparable(x, y)) return notComparable(x, y);
        return op(x as never, y as never);
      };
    }
    case 'exists': {
      const cs = children();
      if (cs?.length !== 1) return null;
      const [a] = cs as [Compiled];
      return (scope) => {
        const x = a(scope, undefined);
        return !isFailure(x) && x != null;
      };
    }
    case 'if': {
      const cs = children();
      if (cs?.length !== 3) return null;
      const [cond, then, otherwise] = cs as [Compiled, Compiled, Compiled];
      return (scope, sub) => {
        const c = cond(scope, undefined);
        return !isFailure(c) && isLogicTrue(c) ? then(scope, sub) : otherwise(scope, sub);
      };
    }
    case 'count': {
      const cs = children();
      if (cs?.length !== 1) return null;
      const [a] = cs as [Compiled];
      return (scope, sub) => {
        const x = a(scope, sub);
        if (isFailure(x)) return x;
        if (typeof x === 'string' || Array.isArray(x)) return x.length;
        if (x instanceof Map) return x.size;
        if (typeof x === 'object') {
          if (x === null) return new Failure(`Cannot convert undefined or null to object`);
          return Object.keys(x).length;
        }
        return new Failure(`${text(0)} must be a string, list, map or object.`);
      };
    }
    case 'length': {
      const cs = children();
      if (cs?.length !== 1) return null;
      const [a] = cs as [Compiled];
      return (scope, sub) => {
        const x = a(scope, sub);
        if (isFailure(x)) return x;
        if (typeof x === 'string') return x.length;
        if (x === undefined) return 0;
        return new Failure(`${text(0)} is neither a string nor a null object.`);
      };
    }
    case 'substring': {
      const cs = children();
      if (!cs || cs.length < 2 || cs.length > 3) return null;
      const [a, startOf, lengthOf] = cs as [Compiled, Compiled, Compiled | undefined];
      return (scope, sub) => {
        const str = a(scope, sub);
        if (isFailure(str)) return str;
        if (str === undefined) return '';
        if (typeof str !== 'string') return new Failure(`${text(0)} is neither a string nor a null object.`);
        const start = startOf(scope, sub);
        if (isFailure(start) || !Number.isInteger(start)) return new Failure(`${text(1)} is not an integer.`);
        const s = start as number;
        if (s < 0 || s > str.length) return new Failure(`${text(1)}=${s} which is out of range for ${str}`);
        let length = str.length - s;
        if (lengthOf) {
          const l = lengthOf(scope, sub);
          if (isFailure(l) || !Number.isInteger(l)) return new Failure(`${text(2)} is not an integer`);
          length = l as number;
          if (length < 0 || s + length > str.length)
            return new Failure(`${text(2)}=${length} which is out of range for ${str}`);
        }
        return str.substr(s, length);
      };
    }
    case 'join': {
      const cs = children();
      if (!cs || cs.length < 2 || cs.length > 3) return null;
      return (scope, sub) => {
        const args = evaluateAll(cs, scope, sub);
        if (isFailure(args)) return args;
        const list = args[0];
        if (!Array.isArray(list)) return new Failure(`${text(0)} evaluates to ${list} which is not a list.`);
        if (args.length === 2) return list.join(args[1] as string);
        if (list.length < 3) return list.join(args[2] as string);
        return list
          .slice(0, list.length - 1)
          .join(args[1] as string)
          .concat(args[2] as string, list[list.length - 1] as string);
      };
    }
    case 'contains': {
      const cs = children();
      if (cs?.length !== 2) return null;
      return (scope, sub) => {
        const args = evaluateAll(cs, scope, sub);
        if (isFailure(args)) return false;
        const [x, y] = args;
        if (typeof x === 'string' && typeof y === 'string') return x.includes(y);
        if (Array.isArray(x)) {
          const { commonEquals } = aelModule().FunctionUtils;
          for (const item of x) if (commonEquals(item, y)) return true;
          return false;
        }
        if (typeof y === 'string') return accessProperty(x, y, y.toLowerCase()) !== undefined;
        return false;
      };
    }
    case 'where':
    case 'foreach':
      return compileLambda(e);
    default:
      return null;
  }
}

/** Evaluates a lambda's body with its iterator bound to `item` (a layer of the memory stack). */
function withLocal(
  scope: Scope,
  variable: string,
  item: unknown,
  body: Compiled,
  sub: NullSubstitution,
): unknown {
  scope.locals.push([variable, item]);
  try {
    return body(scope, sub);
  } finally {
    scope.locals.pop();
  }
}

function compileLambda(e: Expr): Compiled | null {
  if (e.children.length !== 3) return null;
  const iterator = e.children[1]!;
  const name =
    iterator.type === 'Accessor' && iterator.children.length === 1 ? iterator.children[0] : undefined;
  if (name?.type !== 'Constant' || typeof name.value !== 'string') return null;
  const variable = name.value;
  const list = compile(e.children[0]!);
  const body = compile(e.children[2]!);
  if (!list || !body) return null;
  const source = String(e.children[0]);
  if (e.type === 'where') {
    return (scope, sub) => {
      const instance = list(scope, sub);
      if (isFailure(instance)) return instance;
      const items = convertToList(instance);
      if (!items) return new Failure(`${source} is not a collection or structure object to run Where`);
      const kept: unknown[] = [];
      for (const item of items) {
        const r = withLocal(scope, variable, item, body, sub);
        if (!isFailure(r) && isLogicTrue(r)) kept.push(item);
      }
      if (Array.isArray(instance)) return kept;
      const obj: Record<string, unknown> = {};
      for (const item of kept as { key: string; value: unknown }[]) obj[item.key] = item.value;
      return obj;
    };
  }
  return (scope, sub) => {
    const instance = list(scope, sub);
    if (isFailure(instance)) return instance;
    if (!instance) return new Failure(`'${source}' evaluated to null.`);
    const items = convertToList(instance);
    if (!items) return new Failure(`${source} is not a collection or structure object to run Foreach`);
    const out: unknown[] = [];
    for (const item of items) {
      const r = withLocal(scope, variable, item, body, sub);
      if (isFailure(r)) return new Failure(r.message, out);
      out.push(r);
    }
    return out;
  };
}

/** Gives `e` a compiled `tryEvaluate` when it compiles; returns whether it did. */
function install(e: Expr): boolean {
  const compiled = compile(e);
  if (!compiled) return false;
  const original = e.tryEvaluate.bind(e);
  e.tryEvaluate = (state, options) => {
    // The templating engine evaluates with its TemplateObjectMemory as state; anything else
    // (a caller of the library's API) gets the library's evaluator.
    if (!isTemplateMemory(state)) return original(state, options);
    const sub = (options as { nullSubstitution?: NullSubstitution } | undefined)?.nullSubstitution;
    const value = compiled({ memory: state, locals: [] }, sub);
    return isFailure(value) ? { value: undefined, error: value.message } : { value, error: undefined };
  };
  return true;
}

/** The templating engine's memory: its own class, holding `$root`, `$data` and `_memory`. */
let templateMemoryProto: object | undefined;
function isTemplateMemory(state: unknown): state is object {
  if (!state || typeof state !== 'object') return false;
  const proto = Object.getPrototypeOf(state) as { constructor?: { name?: string } } | null;
  if (templateMemoryProto) return proto === templateMemoryProto;
  if (proto?.constructor?.name === 'TemplateObjectMemory' && '_memory' in state && '$root' in state) {
    templateMemoryProto = proto;
    return true;
  }
  return false;
}

/**
 * Compiles the expressions of a parsed `Template` (its prepared payload) in place. Returns how
 * many expressions now evaluate compiled, and how many kept the library's evaluator.
 */
export function accelerate(template: object): { compiled: number; kept: number } {
  const { Expression } = aelModule();
  const counts = { compiled: 0, kept: 0 };
  const visit = (e: Expr): void => {
    // An interpolated string is a concat the engine evaluates child by child (substituting a
    // failed child with its source), so its children are evaluated directly, and the concat
    // itself only where no substitution applies ($when).
    if (e.type === 'concat') for (const child of e.children) visit(child);
    if (install(e)) counts.compiled++;
    else if (e.type !== 'concat') counts.kept++;
  };
  const walk = (node: unknown): void => {
    if (node instanceof Expression) {
      const e = node as Expr;
      visit(e);
      // The engine prints a `$when` that is not true into a warning on every expansion; an
      // expression never changes, so neither does its text.
      const text = e.toString();
      e.toString = () => text;
    } else if (Array.isArray(node)) for (const item of node) walk(item);
    else if (node && typeof node === 'object') for (const value of Object.values(node)) walk(value);
  };
  walk((template as { _preparedPayload?: unknown })._preparedPayload);
  return counts;
}
