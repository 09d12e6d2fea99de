/**
 * Card templates: the Adaptive Card JSON files in `cards/`, loaded once, checked, and expanded
 * with data (adaptivecards-templating) for every surface.
 *
 * - `loadCards(dir)` reads every `*.json` in `dir` (default: the repo's `cards/`), parses it with
 *   the `adaptivecards` object model to collect parse and validation events, checks that every
 *   `${...}` binding compiles, and checks what the Slack translation cannot show
 *   (`checkBlockKitSupport`). None of these stop loading: they are returned in
 *   `CardLibrary.problems` and logged as warnings. A file that is not JSON, or not an
 *   `AdaptiveCard`, does stop it (there is nothing to render).
 * - `CardLibrary.render(name, data)` expands the cached template with `{ $root: data }` and returns
 *   plain JSON (a fresh copy every time: callers may mutate it).
 *
 * The `adaptivecards` package's `lib/` is extensionless ESM that plain `node` cannot load, so both
 * libraries are loaded through `createRequire` from their CommonJS builds (the webpack bundle
 * `adaptivecards/dist/adaptivecards.js`); that works the same under tsx, vitest and compiled output.
 * Only types are imported statically. The `adaptivecards` typings pull in its TypeScript sources
 * (which do not compile under this project's settings), so the little of its object model used
 * here is described by `AdaptiveCardsModule` below.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
// The package index's typings pull in adaptivecards' TypeScript sources; the engine's own do not.
import type * as Templating from 'adaptivecards-templating/lib/template-engine.js';
import { checkBlockKitSupport } from '../slack/blockkit.js';
import { accelerate } from './fast-bindings.js';

/** An Adaptive Card (or template) as plain JSON. Elements and actions are left loosely typed. */
export interface AdaptiveCardJson {
  type: 'AdaptiveCard';
  version?: string;
  body?: CardJsonObject[];
  actions?: CardJsonObject[];
  [key: string]: unknown;
}

/** Any object inside a card: an element, an action, a fact, a column... */
export interface CardJsonObject {
  type?: string;
  [key: string]: unknown;
}

export interface CardProblem {
  /** Card name (file name without `.json`). */
  card: string;
  /**
   * `parse`: reported by the adaptivecards object model (unknown types, invalid values...);
   * `binding`: a `${...}` expression that does not compile;
   * `blockkit`: something the Slack translation cannot show.
   */
  kind: 'parse' | 'binding' | 'blockkit';
  severity: 'error' | 'warning';
  message: string;
}

export interface CardLibrary {
  /** Folder the cards were read from. */
  readonly dir: string;
  /** Card names, sorted. */
  names(): string[];
  has(name: string): boolean;
  /** A copy of the raw template. */
  template(name: string): AdaptiveCardJson;
  /** Expands template `name` with `data` (as `$root`); plain JSON, a fresh copy every call. */
  render(name: string, data: unknown): AdaptiveCardJson;
  /** Everything found while loading, in card-name order. Empty when every card is clean. */
  readonly problems: readonly CardProblem[];
}

export interface LoadCardsOptions {
  /** Receives one warning per problem (pino-style `warn(obj, msg)`). */
  logger?: { warn(obj: object, msg: string): void } | undefined;
  /** Evaluate bindings with the compiled evaluator (`fast-bindings.ts`) where it applies; default true. */
  accelerate?: boolean;
}

export class CardError extends Error {
  constructor(
    readonly card: string,
    message: string,
  ) {
    super(message);
    this.name = 'CardError';
  }
}

/** The part of the `adaptivecards` object model used here. */
export interface AdaptiveCardsModule {
  AdaptiveCard: new () => {
    parse(source: unknown, context?: unknown): void;
    validateProperties(): { validationEvents: ValidationEvent[] };
  };
  SerializationContext: new () => { readonly eventCount: number; getEventAt(index: number): ValidationEvent };
  /** The numeric enum (both directions): `ValidationEvent[4] === 'ElementTypeNotAllowed'`. */
  ValidationEvent: Record<number, string>;
}

interface ValidationEvent {
  phase: number;
  event: number;
  message: string;
}

const require = createRequire(import.meta.url);
let adaptiveCardsModule: AdaptiveCardsModule | undefined;
let templatingModule: typeof Templating | undefined;

/** The adaptivecards object model, from its CommonJS bundle (see the header). */
export function adaptiveCards(): AdaptiveCardsModule {
  adaptiveCardsModule ??= require('adaptivecards/dist/adaptivecards.js') as AdaptiveCardsModule;
  return adaptiveCardsModule;
}

function templating(): typeof Templating {
  templatingModule ??= require('adaptivecards-templating') as typeof Templating;
  return templatingModule;
}

/** `<repo>/cards`, found from this file both as source (`adapters/cards/`) and compiled (`dist/adapters/cards/`). */
export function defaultCardsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const repo =
    basename(resolve(here, '../..')) === 'dist' ? resolve(here, '../../..') : resolve(here, '../..');
  return join(repo, 'cards');
}

/** Validation events that make a card wrong rather than merely unusual. */
const ERROR_EVENTS = new Set([
  'ActionTypeNotAllowed',
  'CollectionCantBeEmpty',
  'ElementTypeNotAllowed',
  'InvalidPropertyValue',
  'MissingCardType',
  'PropertyCantBeNull',
  'UnknownActionType',
  'UnknownElementType',
  'UnsupportedCardVersion',
  'DuplicateId',
  'TooManyActions',
]);

/** Parses a card or template with the adaptivecards object model; returns its parse and validation events. */
export function parseCard(name: string, json: AdaptiveCardJson): CardProblem[] {
  const AC = adaptiveCards();
  const card = new AC.AdaptiveCard();
  const context = new AC.SerializationContext();
  card.parse(json, context);
  const events: ValidationEvent[] = [];
  for (let i = 0; i < context.eventCount; i++) events.push(context.getEventAt(i));
  events.push(...card.validateProperties().validationEvents);
  const problems: CardProblem[] = [];
  const seen = new Set<string>();
  for (const event of events) {
    // A template binds some enum/boolean properties (`"style": "${...}"`): the value is only
    // known after expansion, so the object model's complaint about the raw text is not a problem.
    if (event.message.includes('${')) continue;
    const eventName = AC.ValidationEvent[event.event] ?? 'Other';
    const message = `${eventName}: ${event.message}`;
    if (seen.has(message)) continue;
    seen.add(message);
    problems.push({
      card: name,
      kind: 'parse',
      severity: ERROR_EVENTS.has(eventName) ? 'error' : 'warning',
      message,
    });
  }
  return problems;
}

/** Every string in the template that holds `${` must compile to an expression. */
function checkBindings(name: string, json: unknown): CardProblem[] {
  const { Template } = templating();
  const problems: CardProblem[] = [];
  const walk = (node: unknown, path: string): void => {
    if (typeof node === 'string') {
      if (!node.includes('${')) return;
      let compiled: unknown;
      try {
        compiled = Template.parseInterpolatedString(node);
      } catch (error) {
        compiled = error;
      }
      if (typeof compiled === 'string' || compiled instanceof Error) {
        problems.push({
          card: name,
          kind: 'binding',
          severity: 'error',
          message: `${path}: binding does not compile: ${node}`,
        });
      }
    } else if (Array.isArray(node)) {
      node.forEach((item, i) => {
        walk(item, `${path}[${i}]`);
      });
    } else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) walk(value, path ? `${path}.${key}` : key);
    }
  };
  walk(json, '');
  return problems;
}

function readTemplate(name: string, file: string): AdaptiveCardJson {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CardError(name, `Card ${name} (${file}) is not valid JSON: ${(error as Error).message}`);
  }
  if (
    !json ||
    typeof json !== 'object' ||
    Array.isArray(json) ||
    (json as { type?: unknown }).type !== 'AdaptiveCard'
  ) {
    throw new CardError(
      name,
      `Card ${name} (${file}) is not an Adaptive Card: expected "type": "AdaptiveCard".`,
    );
  }
  return json as AdaptiveCardJson;
}

/** Reads, checks and caches every `*.json` card template in `dir`. */
export function loadCards(dir: string = defaultCardsDir(), options: LoadCardsOptions = {}): CardLibrary {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch (error) {
    throw new CardError('', `Cannot read the cards folder ${dir}: ${(error as Error).message}`);
  }
  const { Template } = templating();
  const raw = new Map<string, AdaptiveCardJson>();
  const compiled = new Map<string, Templating.Template>();
  const problems: CardProblem[] = [];
  for (const file of files) {
    const name = file.slice(0, -'.json'.length);
    const json = readTemplate(name, join(dir, file));
    raw.set(name, json);
    const bindings = checkBindings(name, json);
    problems.push(...parseCard(name, json), ...bindings);
    if (bindings.length === 0) {
      const template = new Template(json);
      if (options.accelerate !== false) accelerate(template);
      compiled.set(name, template);
    }
    for (const message of checkBlockKitSupport(json)) {
      problems.push({ card: name, kind: 'blockkit', severity: 'warning', message });
    }
  }
  for (const problem of problems) {
    options.logger?.warn(
      { card: problem.card, kind: problem.kind, severity: problem.severity },
      problem.message,
    );
  }
  const known = (): string => [...raw.keys()].join(', ') || '(none)';
  const lookup = <T>(map: Map<string, T>, name: string): T => {
    const found = map.get(name);
    if (found === undefined)
      throw new CardError(name, `No card named "${name}" in ${dir}. Known cards: ${known()}.`);
    return found;
  };
  return {
    dir,
    problems,
    names: () => [...raw.keys()],
    has: (name) => raw.has(name),
    template: (name) => structuredClone(lookup(raw, name)),
    render(name, data) {
      lookup(raw, name);
      const template = compiled.get(name);
      if (!template) {
        throw new CardError(
          name,
          `Card ${name} has bindings that do not compile; see the problems reported at load.`,
        );
      }
      let expanded: unknown;
      try {
        expanded = template.expand({ $root: data });
      } catch (error) {
        throw new CardError(name, `Card ${name} could not be rendered: ${(error as Error).message}`);
      }
      // Plain JSON, sharing nothing with the cached template or the data.
      return JSON.parse(JSON.stringify(expanded)) as AdaptiveCardJson;
    },
  };
}

/**
 * The shared task card only asks for a comment when an outcome requires one; every outcome
 * takes an optional comment, which a recipe may quote ("was rejected: …"), so an actionable
 * card without a `comment` input gets an optional one (the portal and Teams; Slack offers
 * "<outcome> with comment" in the message's menu instead). `maxLength`: the core's limit
 * (`MAX_COMMENT_LENGTH`, passed in so this module needs nothing of the core at run time).
 */
export function withCommentBox<T>(card: T, maxLength: number): T {
  if (!card || typeof card !== 'object') return card;
  const body = (card as { body?: unknown }).body;
  if (!Array.isArray(body)) return card;
  const hasComment = (items: unknown[]): boolean =>
    items.some((el) => {
      if (!el || typeof el !== 'object') return false;
      const e = el as { id?: unknown; items?: unknown; columns?: unknown };
      if (e.id === 'comment') return true;
      return [e.items, e.columns].some((inner) => Array.isArray(inner) && hasComment(inner));
    });
  if (hasComment(body)) return card;
  const box = {
    type: 'Input.Text',
    id: 'comment',
    label: 'Comment (optional)',
    isMultiline: true,
    maxLength,
  };
  const firstInput = body.findIndex(
    (el) => !!el && typeof el === 'object' && String((el as { type?: unknown }).type).startsWith('Input.'),
  );
  const next = [...body];
  next.splice(firstInput === -1 ? next.length : firstInput, 0, box);
  return { ...(card as object), body: next } as T;
}

const taskBinders = new WeakMap<CardLibrary, Map<string, boolean>>();

/**
 * The card a task is shown with: the one its step names when that card shows a task (binds
 * `task`, as `task.json` does), else `task`. The shipped `request` and `notification` cards
 * bind a request: a task shown with one of them would have raw `${...}` bindings and no buttons
 * to decide it (`npm run validate` warns about such a step).
 */
export function taskCardName(cards: CardLibrary, name: string | undefined): string {
  if (!name || !cards.has(name)) return 'task';
  let known = taskBinders.get(cards);
  if (!known) {
    known = new Map();
    taskBinders.set(cards, known);
  }
  let binds = known.get(name);
  if (binds === undefined) {
    binds = /\$\{[^}]*\btask\./.test(JSON.stringify(cards.template(name)));
    known.set(name, binds);
  }
  return binds ? name : 'task';
}

/**
 * A task's title with its request's id after it ("Quick one (PTO-7)"), for plain texts (Slack's
 * fallback text, Teams' summary); a title that already names the request is left as it is:
 * "Mitigate INC-1", not "Mitigate INC-1 (INC-1)". (INC-12 is another request than INC-1.)
 */
export function titleWithRequestId(title: string, requestId: string): string {
  const escaped = requestId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![A-Za-z0-9])${escaped}(?![0-9])`).test(title) ? title : `${title} (${requestId})`;
}
