/**
 * Adaptive Card → Slack Block Kit, for a documented subset of Adaptive Cards 1.5.
 *
 * Elements
 * - `TextBlock`: `size` Large/ExtraLarge or `style: "heading"` → `header` (plain text, 150 chars);
 *   otherwise `isSubtle` → `context` (mrkdwn); otherwise `weight: "Bolder"` or `size: "Medium"` →
 *   `section` with the text in bold; otherwise a mrkdwn `section`.
 * - `RichTextBlock`: its inlines (strings and `TextRun`s: bold, italic, strikethrough, monospace)
 *   → one mrkdwn `section`.
 * - `FactSet` → `section` fields (`*title*\nvalue`), 10 per section, further sections beyond 10.
 * - `Container`, `ColumnSet`, `Column`: flattened (their items, in order).
 * - `Image` (http/https URL) → `image`; `ImageSet` → one `image` per image.
 * - `ActionSet` → an `actions` block where it stands; card-level `actions` → an `actions` block
 *   at the end (25 buttons per block, split beyond).
 * - `Input.Text`: a message cannot hold inputs. It is not shown; it is reported in the result's
 *   `inputs` (id, label, multiline...) so the Slack adapter can collect it in a modal, and the
 *   buttons that would submit it are marked (below).
 * - Elements with `isVisible: false` are skipped.
 *
 * Actions (buttons)
 * - `Action.Execute` / `Action.Submit` → `button`, `action_id` = `baton:<verb>:<index>` (`submit`
 *   as the verb of an `Action.Submit`; index = position among the card's buttons, so ids are
 *   unique in a message); `value` = JSON of the action's `data` and nothing else the template did
 *   not put there, except the `needs_input` flag; `style` `positive` → `primary`, `destructive`
 *   → `danger`.
 * - `Action.OpenUrl` → link button (`url`), `action_id` = `baton:open_url:<index>`; Slack still
 *   sends a `block_actions` event for it, which the adapter only acknowledges.
 *
 * The input rule. An `Action.Execute`/`Action.Submit` takes input when the card has at least one
 * `Input.Text` and the action's `associatedInputs` is not `"none"`. Such a button gets
 * `"needs_input": true` in its value (merged into the data object; a data value that is not an
 * object becomes `{ "data": <value>, "needs_input": true }`), and the Slack adapter opens a modal
 * with the card's inputs instead of completing at once — unless the action carries the Baton
 * extension property `"x-baton-inputs": "optional"`, which says nothing must be typed for it
 * (its button completes in one click). Adaptive Card hosts ignore unknown properties, so
 * Teams and the portal are unaffected. `cards/task.json` sets it per outcome: `required` when the
 * outcome needs a comment or a task input is `required_for` it, `optional` otherwise.
 *
 * Text. Bound text is escaped for mrkdwn (`&`, `<`, `>`), so no user text can mention
 * `<!channel>` or forge a link; the caller may turn known people's names into mentions
 * (`options.mentions`). The Adaptive Card markdown the subset understands is then
 * translated: `**bold**` → `*bold*`, `[text](https://...)` → `<https://...|text>` (only the card
 * template's own: in data marked with `literalMarkdown` it is shown as typed), and the date
 * functions `{{DATE(<RFC 3339>, SHORT|LONG|COMPACT)}}` / `{{TIME(<RFC 3339>)}}` → Slack's
 * `<!date^…|…>` (shown in the reader's time zone; UTC in plain text).
 *
 * Limits. Slack's limits are respected by truncating with an ellipsis, never by failing: 50
 * blocks (content is cut and a context line says so; action blocks are kept), 3000 characters per
 * text, 2000 per field, 150 per header, 75 per button label, 3000 per URL. A button whose
 * value would exceed 2000 characters cannot be truncated (its JSON would break): it is left out
 * and reported in `warnings`. `text` is a plain fallback summary (notifications, screen readers).
 *
 * Everything outside the subset is listed by `checkBlockKitSupport(template)` when cards are
 * loaded (`CardLibrary.problems`), and skipped by `toBlockKit` (with a `warnings` entry).
 */
import type {
  ActionsBlock,
  Button,
  ContextBlock,
  HeaderBlock,
  ImageBlock,
  KnownBlock,
  SectionBlock,
} from '@slack/types';
import type { AdaptiveCardJson, CardJsonObject } from '../cards/cards.js';

export const SLACK_LIMITS = {
  blocks: 50,
  text: 3000,
  field: 2000,
  fieldsPerSection: 10,
  header: 150,
  buttonText: 75,
  buttonValue: 2000,
  buttonsPerActions: 25,
  contextElements: 10,
  url: 3000,
  altText: 2000,
  actionId: 255,
  fallbackText: 3000,
} as const;

/** An input the message could not show (to be collected in a modal). */
export interface CardInput {
  id: string;
  label: string;
  placeholder: string;
  isMultiline: boolean;
  isRequired: boolean;
  maxLength: number | undefined;
  value: string;
}

export interface BlockKitOptions {
  /** Fallback `text` to use instead of the summary built from the card. */
  text?: string;
  /** Block budget (default and maximum: 50). */
  maxBlocks?: number;
  /**
   * Display name → Slack user id (`U…`/`W…`): occurrences of the name in mrkdwn text (not headers,
   * not the fallback) become a `<@id>` mention. Opt-in, for names the caller knows are people.
   */
  mentions?: Record<string, string>;
}

export interface BlockKitMessage {
  blocks: KnownBlock[];
  /** Plain fallback summary (mrkdwn-escaped). */
  text: string;
  /** The card's inputs, which a message cannot show. */
  inputs: CardInput[];
  /** What was skipped or cut while translating this card. */
  warnings: string[];
}

/** Value of a button made from `Action.Execute`/`Action.Submit` (the action's data, plus the flag). */
export type ButtonValue = Record<string, unknown> & { needs_input?: true };

const TEXT_ELEMENTS = new Set(['TextBlock', 'RichTextBlock', 'FactSet', 'Image', 'ImageSet']);
const CONTAINERS: Record<string, string> = { Container: 'items', Column: 'items', ColumnSet: 'columns' };
const SUPPORTED_ELEMENTS = new Set([...TEXT_ELEMENTS, ...Object.keys(CONTAINERS), 'ActionSet', 'Input.Text']);
const SUPPORTED_ACTIONS = new Set(['Action.Execute', 'Action.Submit', 'Action.OpenUrl']);

// ---------------------------------------------------------------------------------------------
// Text helpers

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Cuts `text` to `max` characters with an ellipsis, never inside an `&...;` entity or a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 1));
  const amp = cut.lastIndexOf('&');
  if (amp !== -1 && amp >= cut.length - 5 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** Adaptive Card date/time functions: `{{DATE(2025-03-04T09:00:00Z, SHORT)}}`, `{{TIME(...)}}`. */
const DATE_FUNCTION =
  /\{\{(DATE|TIME)\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))(?:,\s*(COMPACT|SHORT|LONG))?\)\}\}/g;

/** UTC rendering of a date function, for plain text and for Slack's fallback. */
function dateFallback(fn: string, iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const text = date.toISOString();
  return fn === 'DATE' ? text.slice(0, 10) : `${text.slice(11, 16)} UTC`;
}

/** `{{DATE(...)}}` → `<!date^…^{date_short_pretty}|…>` (Slack shows it in the reader's time zone). */
function slackDates(text: string): string {
  return text.replace(DATE_FUNCTION, (whole, fn: string, iso: string, format: string | undefined) => {
    const ms = Date.parse(iso);
    if (Number.isNaN(ms)) return whole;
    const token =
      fn === 'TIME'
        ? '{time}'
        : format === 'LONG'
          ? '{date_long_pretty}'
          : format === 'COMPACT'
            ? '{date_num}'
            : '{date_short_pretty}';
    return `<!date^${Math.floor(ms / 1000)}^${token}|${dateFallback(fn, iso)}>`;
  });
}

/**
 * Marks a `[` that came from data (what people typed, what recipes computed) rather than from the
 * card template: `[text](url)` there is shown as typed, never turned into a link whose text hides
 * where it goes. `toBlockKit` removes the marks from everything it returns.
 */
const LITERAL_MARK = '\uE000';

/** `data` for a card with every `[` in its strings marked literal (see `LITERAL_MARK`). */
export function literalMarkdown<T>(data: T): T {
  if (typeof data === 'string')
    return (data.includes('[') ? data.replaceAll('[', `${LITERAL_MARK}[`) : data) as T;
  if (Array.isArray(data)) return data.map((x) => literalMarkdown(x)) as T;
  if (data !== null && typeof data === 'object' && !(data instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(data)) {
      const v = literalMarkdown((data as Record<string, unknown>)[k]);
      if (k === '__proto__')
        Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
      else out[k] = v;
    }
    return out as T;
  }
  return data;
}

function withoutMarks<T>(value: T): T {
  const json = JSON.stringify(value);
  return json.includes(LITERAL_MARK) ? (JSON.parse(json.replaceAll(LITERAL_MARK, '')) as T) : value;
}

/** Matches `name` (already escaped) as a whole: not preceded or followed by a letter, a digit or `_`. */
function mentionPattern(name: string): RegExp {
  const literal = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\p{L}\\p{N}_])${literal}(?![\\p{L}\\p{N}_])`, 'gu');
}

/** Adaptive Card markdown (bound text) → escaped Slack mrkdwn. */
function toMrkdwn(text: string): string {
  return slackDates(
    escapeMrkdwn(text)
      .replace(/\*\*([^*\n]+)\*\*/g, '*$1*')
      .replace(/(?<!\uE000)\[([^\]\n]+)\]\(((?:https?:\/\/|mailto:)[^)\s|]+)\)/g, '<$2|$1>'),
  );
}

/** Adaptive Card markdown → plain text (headers, button labels, the fallback). */
function toPlain(text: string): string {
  return text
    .replace(DATE_FUNCTION, (_whole, fn: string, iso: string) => dateFallback(fn, iso))
    .replace(/\*\*([^*\n]+)\*\*/g, '$1')
    .replace(/(?<!\uE000)\[([^\]\n]+)\]\(([^)\s]+)\)/g, '$1')
    .trim();
}

/** Wraps in a mrkdwn marker, keeping the marker against non-space characters (`* x *` is not bold). */
function wrap(text: string, marker: string): string {
  const match = /^(\s*)([\s\S]*?)(\s*)$/.exec(text);
  if (!match || match[2] === '') return text;
  return `${match[1]}${marker}${match[2]}${marker}${match[3]}`;
}

function str(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function lower(value: unknown): string {
  return typeof value === 'string' ? value.toLowerCase() : '';
}

function isObject(value: unknown): value is CardJsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objects(value: unknown): CardJsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function isHttpUrl(value: string): boolean {
  return /^https?:\/\/\S+$/i.test(value);
}

// ---------------------------------------------------------------------------------------------
// Support check (load time)

/**
 * Lists what the Block Kit translation cannot show in `template` (a raw template or a rendered
 * card): `"<path>: <type> ..."`, one line per element, action or property outside the subset.
 */
export function checkBlockKitSupport(template: AdaptiveCardJson): string[] {
  const found: string[] = [];
  let inputs = 0;
  let submitters = 0;
  const checkAction = (action: CardJsonObject, path: string): void => {
    const type = str(action.type);
    if (!SUPPORTED_ACTIONS.has(type)) {
      found.push(`${path}: ${type || '(no type)'} is not supported in Block Kit (the button is left out)`);
    } else if (type !== 'Action.OpenUrl' && lower(action.associatedInputs) !== 'none') {
      submitters++;
    }
  };
  const checkSelect = (node: CardJsonObject, path: string): void => {
    if (isObject(node.selectAction)) {
      found.push(
        `${path}.selectAction: ${str(node.selectAction.type) || 'an action'} on a ${str(node.type) || 'element'} is not supported in Block Kit (Slack has no clickable text or images)`,
      );
    }
  };
  const walk = (element: CardJsonObject, path: string): void => {
    const type = str(element.type);
    if (!SUPPORTED_ELEMENTS.has(type)) {
      found.push(`${path}: ${type || '(no type)'} is not supported in Block Kit (it is left out)`);
      return;
    }
    checkSelect(element, path);
    if (type === 'Input.Text') {
      inputs++;
      if (isObject(element.inlineAction)) {
        found.push(`${path}.inlineAction: an inline action on Input.Text is not supported in Block Kit`);
      }
    } else if (type === 'ActionSet') {
      objects(element.actions).forEach((a, i) => {
        checkAction(a, `${path}.actions[${i}]`);
      });
    } else if (type === 'RichTextBlock') {
      objects(element.inlines).forEach((inline, i) => {
        checkSelect(inline, `${path}.inlines[${i}]`);
      });
    } else if (type === 'ImageSet') {
      objects(element.images).forEach((image, i) => {
        checkSelect(image, `${path}.images[${i}]`);
      });
    }
    const childKey = CONTAINERS[type];
    if (childKey) {
      objects(element[childKey]).forEach((child, i) => {
        walk(child, `${path}.${childKey}[${i}]`);
      });
    }
  };
  checkSelect(template as CardJsonObject, 'card');
  objects(template.body).forEach((element, i) => {
    walk(element, `body[${i}]`);
  });
  objects(template.actions).forEach((action, i) => {
    checkAction(action, `actions[${i}]`);
  });
  if (inputs > 0 && submitters === 0) {
    found.push(
      'card: Input.Text without an Action.Execute/Action.Submit to open a modal for it is lost in Block Kit',
    );
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Translation (render time)

function sectionText(text: string): SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, SLACK_LIMITS.text) } };
}

function collectInputs(card: AdaptiveCardJson): CardInput[] {
  const inputs: CardInput[] = [];
  const walk = (element: CardJsonObject): void => {
    const type = str(element.type);
    if (type === 'Input.Text' && element.isVisible !== false) {
      inputs.push({
        id: str(element.id),
        label: str(element.label) || str(element.placeholder) || str(element.id),
        placeholder: str(element.placeholder),
        isMultiline: element.isMultiline === true,
        isRequired: element.isRequired === true,
        maxLength: typeof element.maxLength === 'number' ? element.maxLength : undefined,
        value: str(element.value),
      });
    }
    const childKey = CONTAINERS[type];
    if (childKey) objects(element[childKey]).forEach(walk);
  };
  objects(card.body).forEach(walk);
  return inputs;
}

/**
 * Translates a rendered card (no `${}` left) to Block Kit. Never throws on content: what does not
 * fit is truncated, what is outside the subset is skipped and listed in `warnings`.
 */
export function toBlockKit(card: AdaptiveCardJson, options: BlockKitOptions = {}): BlockKitMessage {
  const blocks: KnownBlock[] = [];
  const warnings: string[] = [];
  const summary: string[] = [];
  const inputs = collectInputs(card);
  let buttonIndex = 0;
  const mentions = Object.entries(options.mentions ?? {})
    .filter(([name, id]) => name.trim() !== '' && /^[UW][A-Z0-9]+$/.test(id))
    .sort((a, b) => b[0].length - a[0].length)
    .map(([name, id]) => [mentionPattern(escapeMrkdwn(name)), `<@${id}>`] as const);
  const mrkdwn = (text: string): string => {
    const out = toMrkdwn(text);
    if (mentions.length === 0) return out;
    // Only whole names ("Al" is not in "Alice"), and never inside markup (`<…>`: links, dates).
    return out
      .split(/(<[^>]*>)/)
      .map((part, i) => {
        if (i % 2 === 1) return part;
        let plain = part;
        for (const [pattern, mention] of mentions) plain = plain.replace(pattern, mention);
        return plain;
      })
      .join('');
  };

  const button = (action: CardJsonObject, path: string): Button | undefined => {
    const type = str(action.type);
    const index = buttonIndex++;
    const label = truncate(toPlain(str(action.title)) || 'Open', SLACK_LIMITS.buttonText);
    if (type === 'Action.OpenUrl') {
      const url = str(action.url);
      if (!isHttpUrl(url) || url.length > SLACK_LIMITS.url) {
        warnings.push(
          `${path}: Action.OpenUrl without a usable http(s) URL (at most 3000 characters) left out`,
        );
        return undefined;
      }
      return {
        type: 'button',
        text: { type: 'plain_text', text: label, emoji: true },
        url,
        action_id: `baton:open_url:${index}`,
      };
    }
    if (type !== 'Action.Execute' && type !== 'Action.Submit') {
      warnings.push(`${path}: ${type || '(no type)'} is not supported in Block Kit; left out`);
      return undefined;
    }
    const verb = type === 'Action.Submit' ? 'submit' : str(action.verb) || 'execute';
    const actionId = `baton:${verb.slice(0, SLACK_LIMITS.actionId - 20)}:${index}`;
    const takesInput = inputs.length > 0 && lower(action.associatedInputs) !== 'none';
    const needsInput = takesInput && lower(action['x-baton-inputs']) !== 'optional';
    const data = action.data;
    let value: unknown = data ?? {};
    if (needsInput)
      value = isObject(data) ? { ...data, needs_input: true } : { data: data ?? null, needs_input: true };
    const json = JSON.stringify(value);
    if (json.length > SLACK_LIMITS.buttonValue) {
      warnings.push(
        `${path}: the data of "${label}" is ${json.length} characters (Slack allows 2000); button left out`,
      );
      return undefined;
    }
    const result: Button = {
      type: 'button',
      text: { type: 'plain_text', text: label, emoji: true },
      action_id: actionId,
      value: json,
    };
    const style = lower(action.style);
    if (style === 'positive') result.style = 'primary';
    else if (style === 'destructive') result.style = 'danger';
    return result;
  };

  const pushActions = (actions: CardJsonObject[], path: string): void => {
    const buttons: Button[] = [];
    actions.forEach((action, i) => {
      const b = button(action, `${path}[${i}]`);
      if (b) buttons.push(b);
    });
    for (let i = 0; i < buttons.length; i += SLACK_LIMITS.buttonsPerActions) {
      const block: ActionsBlock = {
        type: 'actions',
        elements: buttons.slice(i, i + SLACK_LIMITS.buttonsPerActions),
      };
      blocks.push(block);
    }
  };

  const textBlock = (element: CardJsonObject): void => {
    const raw = str(element.text);
    if (raw.trim() === '') return;
    const size = lower(element.size);
    if (size === 'large' || size === 'extralarge' || lower(element.style) === 'heading') {
      const plain = toPlain(raw).replace(/\s+/g, ' ');
      if (plain === '') return;
      summary.push(plain);
      const header: HeaderBlock = {
        type: 'header',
        text: { type: 'plain_text', text: truncate(plain, SLACK_LIMITS.header), emoji: true },
      };
      blocks.push(header);
      return;
    }
    summary.push(toPlain(raw));
    const text = mrkdwn(raw);
    if (element.isSubtle === true) {
      const context: ContextBlock = {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: truncate(text, SLACK_LIMITS.text) }],
      };
      blocks.push(context);
    } else if (lower(element.weight) === 'bolder' || size === 'medium') {
      // Slack's bold does not span lines: each line gets its own markers.
      const bold = truncate(text, SLACK_LIMITS.text - 2 * (text.split('\n').length + 1))
        .split('\n')
        .map((line) => wrap(line, '*'))
        .join('\n');
      blocks.push(sectionText(bold));
    } else {
      blocks.push(sectionText(text));
    }
  };

  const richText = (element: CardJsonObject): void => {
    let text = '';
    let plain = '';
    for (const inline of Array.isArray(element.inlines) ? element.inlines : []) {
      if (typeof inline === 'string') {
        text += mrkdwn(inline);
        plain += inline;
        continue;
      }
      if (!isObject(inline) || (inline.type !== undefined && inline.type !== 'TextRun')) continue;
      const content = str(inline.text);
      plain += content;
      let run = escapeMrkdwn(content);
      if (lower(inline.fontType) === 'monospace') run = wrap(run, '`');
      if (lower(inline.weight) === 'bolder') run = wrap(run, '*');
      if (inline.italic === true) run = wrap(run, '_');
      if (inline.strikethrough === true) run = wrap(run, '~');
      text += run;
    }
    if (text.trim() === '') return;
    summary.push(plain.trim());
    blocks.push(sectionText(text));
  };

  const factSet = (element: CardJsonObject): void => {
    const fields = objects(element.facts)
      .map((fact) => {
        const title = str(fact.title).trim();
        const value = str(fact.value);
        if (title === '' && value.trim() === '') return undefined;
        const head = title ? `*${truncate(escapeMrkdwn(title), 200)}*\n` : '';
        return {
          type: 'mrkdwn' as const,
          text: truncate(`${head}${mrkdwn(value) || ' '}`, SLACK_LIMITS.field),
        };
      })
      .filter((f) => f !== undefined);
    for (let i = 0; i < fields.length; i += SLACK_LIMITS.fieldsPerSection) {
      const section: SectionBlock = {
        type: 'section',
        fields: fields.slice(i, i + SLACK_LIMITS.fieldsPerSection),
      };
      blocks.push(section);
    }
  };

  const image = (element: CardJsonObject, path: string): void => {
    const url = str(element.url);
    if (!isHttpUrl(url) || url.length > SLACK_LIMITS.url) {
      warnings.push(`${path}: Image without an http(s) URL Slack can fetch; left out`);
      return;
    }
    const block: ImageBlock = {
      type: 'image',
      image_url: url,
      alt_text: truncate(str(element.altText) || 'image', SLACK_LIMITS.altText),
    };
    blocks.push(block);
  };

  const walk = (element: CardJsonObject, path: string): void => {
    if (element.isVisible === false) return;
    const type = str(element.type);
    switch (type) {
      case 'TextBlock':
        textBlock(element);
        return;
      case 'RichTextBlock':
        richText(element);
        return;
      case 'FactSet':
        factSet(element);
        return;
      case 'Image':
        image(element, path);
        return;
      case 'ImageSet':
        objects(element.images).forEach((img, i) => {
          image(img, `${path}.images[${i}]`);
        });
        return;
      case 'ActionSet':
        pushActions(objects(element.actions), `${path}.actions`);
        return;
      case 'Input.Text':
        return; // reported in `inputs`; collected in a modal
      default: {
        const childKey = CONTAINERS[type];
        if (childKey) {
          objects(element[childKey]).forEach((child, i) => {
            walk(child, `${path}.${childKey}[${i}]`);
          });
          return;
        }
        warnings.push(`${path}: ${type || '(no type)'} is not supported in Block Kit; left out`);
      }
    }
  };

  objects(card.body).forEach((element, i) => {
    walk(element, `body[${i}]`);
  });
  pushActions(objects(card.actions), 'actions');

  const maxBlocks = Math.min(options.maxBlocks ?? SLACK_LIMITS.blocks, SLACK_LIMITS.blocks);
  const fitted = fitBlocks(blocks, maxBlocks, warnings);
  const fallback =
    options.text !== undefined
      ? escapeMrkdwn(options.text)
      : escapeMrkdwn(
          summary
            .filter((s) => s !== '')
            .slice(0, 3)
            .join('\n'),
        );
  return withoutMarks({
    blocks: fitted,
    text: truncate(fallback || 'Message', SLACK_LIMITS.fallbackText),
    inputs,
    warnings,
  });
}

/** Keeps at most `max` blocks: action blocks survive, content is cut, and a context line says so. */
function fitBlocks(blocks: KnownBlock[], max: number, warnings: string[]): KnownBlock[] {
  if (blocks.length <= max) return blocks;
  const actionCount = Math.min(
    blocks.filter((b) => b.type === 'actions').length,
    max - 2, // keep room for some content and the note
  );
  const contentRoom = max - actionCount - 1;
  const kept: KnownBlock[] = [];
  const note: ContextBlock = { type: 'context', elements: [] };
  let content = 0;
  let actions = 0;
  let dropped = 0;
  for (const block of blocks) {
    if (block.type === 'actions' && actions < actionCount) {
      actions++;
      kept.push(block);
    } else if (block.type !== 'actions' && content < contentRoom) {
      content++;
      kept.push(block);
    } else {
      if (dropped === 0) kept.push(note);
      dropped++;
    }
  }
  note.elements = [
    { type: 'mrkdwn', text: `… ${dropped} more block${dropped === 1 ? '' : 's'} not shown in Slack` },
  ];
  warnings.push(`the card makes ${blocks.length} blocks; Slack shows at most ${max}: ${dropped} left out`);
  return kept;
}
