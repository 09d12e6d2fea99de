import { createHash } from 'node:crypto';
import type { App, types, ViewOutput, ViewResponseAction, ViewSubmitAction } from '@slack/bolt';
import { isBatonError, ValidationError } from '../../src/core/errors.js';
import type { AppDoc, RequestDoc, User } from '../../src/core/types.js';
import {
  type AppDefinition,
  FIELD_TYPES,
  type FieldOption,
  formFields,
  MAX_ID_PREFIX_LENGTH,
  MAX_KEY_LENGTH,
  MAX_NAME_LENGTH,
} from '../../src/recipes/schema.js';
import type { SlackDeps, SlackUserDirectory } from './deps.js';
import { ackOnce, describeError, escapeMrkdwn, truncate } from './replies.js';

type Field = AppDefinition['fields'][number];
type InputBlock = types.InputBlock;
type ModalView = types.ModalView;

/** callback_ids of Baton's modals. */
export const MODAL = {
  request: 'baton_request',
  pickApp: 'baton_pick_app',
  createApp: 'baton_admin_create_app',
  addField: 'baton_admin_add_field',
} as const;

/** Every input in Baton's modals uses this action_id; the block_id names the field. */
export const INPUT_ACTION = 'value';

/** Slack's static selects hold at most 100 options; longer lists are searched (external selects). */
export const MAX_STATIC_OPTIONS = 100;

type ViewValues = ViewOutput['state']['values'];

const plain = (text: string): types.PlainTextElement => ({ type: 'plain_text', text, emoji: true });

/** Slack's limit on an option's value; a longer one is sent as a digest and mapped back on submit. */
const MAX_OPTION_VALUE = 150;
const LONG_OPTION = 'baton:option:';

/** What Slack carries for an option value: the value itself, or a digest of one too long for Slack. */
export function toOptionValue(value: string): string {
  return value.length <= MAX_OPTION_VALUE
    ? value
    : `${LONG_OPTION}${createHash('sha256').update(value).digest('base64url')}`;
}

/** The field's option a submitted value stands for (a long one comes back as its digest). */
function fromOptionValue(field: Field, value: string): string {
  if (!value.startsWith(LONG_OPTION)) return value;
  const values = (field.options ?? []).map((o) => (typeof o === 'string' ? o : o.value));
  return values.find((v) => toOptionValue(v) === value) ?? value;
}

function option(o: FieldOption): types.PlainTextOption {
  const value = typeof o === 'string' ? o : o.value;
  const label = typeof o === 'string' ? o : o.label;
  return { text: plain(truncate(label, 75)), value: toOptionValue(value) };
}

function optionsFor(field: Field, values: unknown): types.PlainTextOption[] {
  const wanted = Array.isArray(values) ? values.map(String) : values === undefined ? [] : [String(values)];
  return (field.options ?? [])
    .filter((o) => wanted.includes(typeof o === 'string' ? o : o.value))
    .map(option);
}

/** The options of `field` whose label (or value) contains `query`, at most 100 (Slack's limit). */
export function matchingOptions(field: Field, query: string): types.PlainTextOption[] {
  const q = query.trim().toLowerCase();
  return (field.options ?? [])
    .filter((o) => {
      if (q === '') return true;
      const label = typeof o === 'string' ? o : o.label;
      const value = typeof o === 'string' ? o : o.value;
      return label.toLowerCase().includes(q) || value.toLowerCase().includes(q);
    })
    .slice(0, MAX_STATIC_OPTIONS)
    .map(option);
}

/**
 * The Block Kit element for one app field (its `initial_*` from the field's default; for a
 * user field, `initialUser` is the Slack id of the person it starts with).
 */
export function toFieldElement(field: Field, initialUser?: string): InputBlock['element'] {
  const d = field.default;
  const base = { action_id: INPUT_ACTION };
  switch (field.type) {
    case 'text':
      return {
        type: 'plain_text_input',
        ...base,
        max_length: 2000,
        ...(typeof d === 'string' ? { initial_value: d } : {}),
      };
    case 'long_text':
      return {
        type: 'plain_text_input',
        ...base,
        multiline: true,
        max_length: 3000,
        ...(typeof d === 'string' ? { initial_value: d } : {}),
      };
    case 'number':
      return {
        type: 'number_input',
        ...base,
        is_decimal_allowed: true,
        ...(field.min !== undefined ? { min_value: String(field.min) } : {}),
        ...(field.max !== undefined ? { max_value: String(field.max) } : {}),
        ...(typeof d === 'number' ? { initial_value: String(d) } : {}),
      };
    case 'date':
      return { type: 'datepicker', ...base, ...(typeof d === 'string' ? { initial_date: d } : {}) };
    case 'select': {
      const initial = optionsFor(field, d)[0];
      if ((field.options ?? []).length > MAX_STATIC_OPTIONS) {
        // Too many for one menu: Slack asks Baton for the options matching what is typed.
        return {
          type: 'external_select',
          ...base,
          min_query_length: 0,
          ...(initial ? { initial_option: initial } : {}),
        };
      }
      return {
        type: 'static_select',
        ...base,
        options: (field.options ?? []).slice(0, 100).map(option),
        ...(initial ? { initial_option: initial } : {}),
      };
    }
    case 'multi_select': {
      const initial = optionsFor(field, d);
      if ((field.options ?? []).length > MAX_STATIC_OPTIONS) {
        return {
          type: 'multi_external_select',
          ...base,
          min_query_length: 0,
          ...(initial.length > 0 ? { initial_options: initial } : {}),
        };
      }
      return {
        type: 'multi_static_select',
        ...base,
        options: (field.options ?? []).slice(0, 100).map(option),
        ...(initial.length > 0 ? { initial_options: initial } : {}),
      };
    }
    case 'user':
      return { type: 'users_select', ...base, ...(initialUser ? { initial_user: initialUser } : {}) };
    case 'boolean': {
      const yes: types.PlainTextOption = { text: plain('Yes'), value: 'true' };
      return {
        type: 'checkboxes',
        ...base,
        options: [yes],
        ...(d === true ? { initial_options: [yes] } : {}),
      };
    }
    case 'email':
      return { type: 'email_text_input', ...base, ...(typeof d === 'string' ? { initial_value: d } : {}) };
    case 'url':
      return { type: 'url_text_input', ...base, ...(typeof d === 'string' ? { initial_value: d } : {}) };
  }
}

/** The input block of a field: block_id = field key, label, hint from `help`, optional unless required. */
export function toFieldBlock(field: Field, initialUser?: string): InputBlock {
  return {
    type: 'input',
    block_id: field.key,
    label: plain(truncate(field.label, 2000)),
    // A checkbox always answers yes or no, and the core takes either for a required field: as
    // a required input Slack would refuse it unticked (a default of true could not be undone).
    optional: field.type === 'boolean' || !field.required,
    element: toFieldElement(field, initialUser),
    ...(field.help ? { hint: plain(truncate(field.help, 2000)) } : {}),
  };
}

/**
 * The request form of an app, generated from its fields. `private_metadata` holds the app key
 * only. `initialUsers` (field key → Slack user id) pre-selects people in user fields.
 */
export function renderRequestModal(app: AppDefinition, initialUsers: Record<string, string> = {}): ModalView {
  const blocks: types.KnownBlock[] = [];
  if (app.description) {
    blocks.push({
      type: 'context',
      block_id: 'baton_description',
      elements: [{ type: 'mrkdwn', text: escapeMrkdwn(truncate(app.description, 2000)) }],
    });
  }
  // Fields a recipe sets later (`on_form: false`) are not asked.
  const fields = formFields(app);
  blocks.push(...fields.slice(0, 99).map((f) => toFieldBlock(f, initialUsers[f.key])));
  if (fields.length === 0) {
    blocks.push({
      type: 'section',
      block_id: 'baton_no_fields',
      text: { type: 'mrkdwn', text: `${escapeMrkdwn(app.name)} has no fields: submit to file a request.` },
    });
  }
  return {
    type: 'modal',
    callback_id: MODAL.request,
    private_metadata: app.key,
    title: plain(truncate(app.name, 24)),
    submit: plain('Submit'),
    close: plain('Cancel'),
    blocks,
  };
}

/** The "pick an app" modal of `/baton new` without an app. */
export function renderAppPicker(apps: AppDoc[]): ModalView {
  return {
    type: 'modal',
    callback_id: MODAL.pickApp,
    title: plain('New request'),
    submit: plain('Next'),
    close: plain('Cancel'),
    blocks: [
      {
        type: 'input',
        block_id: 'app',
        label: plain('What do you want to request?'),
        element: {
          type: 'static_select',
          action_id: INPUT_ACTION,
          options: apps.slice(0, 100).map((a) => ({
            text: plain(truncate(a.definition.name, 75)),
            value: a._id,
            ...(a.definition.description
              ? { description: plain(truncate(a.definition.description, 75)) }
              : {}),
          })),
        },
      },
    ],
  };
}

/** The most a Slack plain_text_input takes (its max_length may not be more). */
const SLACK_INPUT_MAX = 3000;

/**
 * A plain-text input block of an admin modal. `maxLength`: what the core takes there (keys,
 * id prefixes), so Slack says so as it is typed; at most what Slack takes.
 */
function textInput(
  block_id: string,
  label: string,
  hint: string,
  optional: boolean,
  multiline = false,
  maxLength = SLACK_INPUT_MAX,
): InputBlock {
  return {
    type: 'input',
    block_id,
    label: plain(label),
    hint: plain(hint),
    optional,
    element: {
      type: 'plain_text_input',
      action_id: INPUT_ACTION,
      multiline,
      max_length: Math.min(maxLength, SLACK_INPUT_MAX),
    },
  };
}

/** Admin modal: create an app (key, name, stages, id prefix). */
export function renderCreateAppModal(): ModalView {
  const text = (
    block_id: string,
    label: string,
    hint: string,
    optional = false,
    multiline = false,
    maxLength = SLACK_INPUT_MAX,
  ) => textInput(block_id, label, hint, optional, multiline, maxLength);
  return {
    type: 'modal',
    callback_id: MODAL.createApp,
    title: plain('New app'),
    submit: plain('Create'),
    close: plain('Cancel'),
    blocks: [
      text(
        'key',
        'Key',
        'Lower-case letters, digits and dashes, e.g. time-off',
        false,
        false,
        MAX_KEY_LENGTH,
      ),
      text('name', 'Name', 'What people see, e.g. Time off', false, false, MAX_NAME_LENGTH),
      text('stages', 'Stages', 'One per line; the first is where new requests start', false, true),
      text(
        'id_prefix',
        'Request id prefix',
        'Upper-case letters, e.g. PTO (requests become PTO-1, PTO-2…)',
        true,
        false,
        MAX_ID_PREFIX_LENGTH,
      ),
    ],
  };
}

/** Admin modal: add a field to an app. `private_metadata` holds the app key. */
export function renderAddFieldModal(app: AppDefinition): ModalView {
  const text = (
    block_id: string,
    label: string,
    hint: string,
    optional = true,
    multiline = false,
    maxLength = SLACK_INPUT_MAX,
  ) => textInput(block_id, label, hint, optional, multiline, maxLength);
  const num = (block_id: string, label: string): InputBlock => ({
    type: 'input',
    block_id,
    label: plain(label),
    optional: true,
    hint: plain('Number fields only'),
    element: { type: 'number_input', action_id: INPUT_ACTION, is_decimal_allowed: true },
  });
  return {
    type: 'modal',
    callback_id: MODAL.addField,
    private_metadata: app.key,
    title: plain(truncate(`Field for ${app.name}`, 24)),
    submit: plain('Add field'),
    close: plain('Cancel'),
    blocks: [
      text(
        'key',
        'Key',
        'Lower-case letters, digits and underscores, e.g. start_date',
        false,
        false,
        MAX_KEY_LENGTH,
      ),
      text('label', 'Label', 'What the form shows, e.g. First day', false),
      {
        type: 'input',
        block_id: 'type',
        label: plain('Type'),
        element: {
          type: 'static_select',
          action_id: INPUT_ACTION,
          options: FIELD_TYPES.map((t) => ({ text: plain(t.replace('_', ' ')), value: t })),
        },
      },
      {
        type: 'input',
        block_id: 'required',
        label: plain('Required'),
        optional: true,
        element: {
          type: 'checkboxes',
          action_id: INPUT_ACTION,
          options: [{ text: plain('People must fill it in'), value: 'true' }],
        },
      },
      {
        type: 'input',
        block_id: 'off_form',
        label: plain('Request form'),
        optional: true,
        element: {
          type: 'checkboxes',
          action_id: INPUT_ACTION,
          options: [{ text: plain('Not on the request form (a recipe fills it in)'), value: 'true' }],
        },
      },
      text('help', 'Help', 'A hint shown under the field'),
      text('options', 'Options', 'Select fields only: one option per line', true, true),
      num('min', 'Minimum'),
      num('max', 'Maximum'),
      text('default', 'Default', 'The initial value (for a multi select: one per line)', true, true),
    ],
  };
}

/** The raw value of one input of a submitted view (strings, lists, booleans; undefined when blank). */
export function inputValue(values: ViewValues, blockId: string): string | string[] | boolean | undefined {
  const v = values[blockId]?.[INPUT_ACTION];
  if (!v) return undefined;
  switch (v.type) {
    case 'datepicker':
      return v.selected_date ?? undefined;
    case 'static_select':
    case 'external_select':
      return v.selected_option?.value ?? undefined;
    case 'multi_static_select':
    case 'multi_external_select':
      return (v.selected_options ?? []).map((o) => o.value);
    case 'users_select':
      return v.selected_user ?? undefined;
    case 'checkboxes':
      return (v.selected_options ?? []).length > 0;
    default: {
      const s = v.value;
      return s === null || s === undefined || s.trim() === '' ? undefined : s;
    }
  }
}

/** Whether the form's input for `key` started with a value (the field's default), as Slack echoes the view back. */
function startedWithValue(blocks: unknown[] | undefined, key: string): boolean {
  const block = (blocks ?? []).find((b) => (b as { block_id?: unknown } | null)?.block_id === key) as
    | { element?: Record<string, unknown> }
    | undefined;
  const element = block?.element ?? {};
  return ['initial_value', 'initial_date', 'initial_option', 'initial_options', 'initial_user'].some((k) => {
    const v = element[k];
    return v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0);
  });
}

/**
 * Maps a submitted request form to a record input for `baton.requests.file` (with
 * `formShowedDefaults`): a blank input the form had pre-filled with the field's default was
 * cleared by the person and is sent as null (no value); other blank inputs are left out (so
 * a default the form could not show still applies). Numbers stay strings for the core to
 * check; people picked in Slack become Baton user ids. `blocks` are the view's, as submitted.
 */
export async function toRecordInput(
  app: AppDefinition,
  values: ViewValues,
  users: SlackUserDirectory,
  blocks?: unknown[],
): Promise<Record<string, unknown>> {
  const input: Record<string, unknown> = {};
  // Only what the form asks: a field off it (`on_form: false`) in an older form is left out.
  for (const field of formFields(app)) {
    const raw = inputValue(values, field.key);
    if (raw === undefined || (Array.isArray(raw) && raw.length === 0)) {
      // Sent blank (not missing) for an input that started with the default: cleared.
      if (values[field.key]?.[INPUT_ACTION] && startedWithValue(blocks, field.key)) input[field.key] = null;
      continue;
    }
    if (field.type === 'user' && typeof raw === 'string') {
      try {
        input[field.key] = (await users.toBaton(raw, { person: true }))._id;
      } catch (err) {
        // On the field's block, like the core's own checks.
        if (err instanceof ValidationError)
          throw new ValidationError(err.message, { [field.key]: err.message });
        throw err;
      }
    } else if (field.type === 'select' && typeof raw === 'string') {
      input[field.key] = fromOptionValue(field, raw);
    } else if (field.type === 'multi_select' && Array.isArray(raw)) {
      input[field.key] = raw.map((v) => fromOptionValue(field, v));
    } else {
      input[field.key] = raw;
    }
  }
  return input;
}

/**
 * `response_action: errors` for a ValidationError: each message on the block of its field
 * (a path like `fields.2.key` lands on block `key`); messages for no block of this view go
 * on the first input, so Slack never rejects the response for an unknown block id.
 */
export function toViewErrors(
  err: unknown,
  view: { blocks: unknown[] },
  expected: string[] = [],
): Record<string, string> | null {
  const shown = view.blocks
    .filter((b): b is { type: string; block_id: string } => {
      const x = b as { type?: string; block_id?: unknown };
      return x.type === 'input' && typeof x.block_id === 'string';
    })
    .map((b) => b.block_id);
  // The view as Slack echoes it back; the blocks we know we rendered if it came without them.
  const inputs = shown.length > 0 ? shown : expected;
  if (inputs.length === 0) return null;
  const errors: Record<string, string> = {};
  const extra: string[] = [];
  const fields = err instanceof ValidationError ? err.fields : {};
  for (const [key, message] of Object.entries(fields)) {
    const block = inputs.includes(key)
      ? key
      : key
          .split('.')
          .reverse()
          .find((part) => inputs.includes(part));
    if (block) errors[block] = errors[block] ? `${errors[block]}; ${message}` : message;
    else extra.push(`${key}: ${message}`);
  }
  if (Object.keys(errors).length === 0 || extra.length > 0) {
    const first = inputs[0]!;
    const text = extra.length > 0 ? extra.join('; ') : err instanceof Error ? err.message : String(err);
    errors[first] = errors[first] ? `${errors[first]}; ${text}` : text;
  }
  for (const key of Object.keys(errors)) errors[key] = truncate(errors[key]!, 2000);
  return errors;
}

/**
 * The people user fields start with, as the portal's form does: the field's default (an email,
 * a Baton id or `slack:U…`), else for an approver/manager field the requester's manager. Slack
 * ids only: someone who is not on Slack cannot be pre-selected (and is left blank).
 */
export async function initialUsers(
  deps: SlackDeps,
  app: AppDefinition,
  requester: User | null,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const field of formFields(app)) {
    if (field.type !== 'user') continue;
    const ref =
      typeof field.default === 'string'
        ? field.default
        : /^(approver|manager)$/.test(field.key) && typeof requester?.manager === 'string'
          ? requester.manager
          : undefined;
    if (!ref) continue;
    try {
      const user = await deps.baton.users.lookup(ref);
      const slackId = user ? await deps.users.toSlack(user) : null;
      if (slackId) out[field.key] = slackId;
    } catch (err) {
      deps.logger.debug({ err, field: field.key }, 'slack: initial person of a user field not found');
    }
  }
  return out;
}

/** The fields of the form as rendered now that the submitted view (as Slack echoes it) did not show: added since it opened. */
function addedSinceOpened(app: AppDefinition, blocks: unknown[] | undefined): Field[] {
  const shown = new Set(
    (blocks ?? [])
      .filter((b) => (b as { type?: unknown } | null)?.type === 'input')
      .map((b) => (b as { block_id?: unknown }).block_id),
  );
  // A view echoed without its blocks tells nothing about what it showed.
  if (shown.size === 0) return [];
  return formFields(app)
    .slice(0, 99)
    .filter((f) => !shown.has(f.key));
}

/**
 * The request form as the app is now, for a submission from a form opened before fields were
 * added: each input starts with what was submitted, and a line on top says what is new.
 */
function renderChangedForm(
  app: AppDefinition,
  values: ViewValues,
  input: Record<string, unknown>,
  added: Field[],
): ModalView {
  const users: Record<string, string> = {};
  const fields = app.fields.map((f): Field => {
    const v = input[f.key];
    if (v === undefined) return f;
    const { default: _default, ...rest } = f;
    if (v === null) return rest as Field;
    if (f.type === 'user') {
      const slackId = inputValue(values, f.key);
      if (typeof slackId === 'string') users[f.key] = slackId;
      return rest as Field;
    }
    const value = f.type === 'number' && typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    return { ...rest, default: value } as Field;
  });
  const view = renderRequestModal({ ...app, fields }, users);
  const names = added.map((f) => f.label).join(', ');
  view.blocks = [
    {
      type: 'context',
      block_id: 'baton_form_changed',
      elements: [
        {
          type: 'mrkdwn',
          text: `:information_source: ${escapeMrkdwn(
            truncate(
              `This form changed since you opened it: ${names} ${added.length === 1 ? 'is' : 'are'} new. Check the form and submit it again.`,
              2000,
            ),
          )}`,
        },
      ],
    },
    ...view.blocks,
  ];
  return view;
}

/** Opens the request form of the app named `app` (its key or name; an unknown app becomes a BatonError for the caller). */
export async function openRequestModal(
  deps: SlackDeps,
  triggerId: string,
  app: string,
  requester: User | null = null,
): Promise<void> {
  const def = await deps.baton.apps.resolve(app);
  const view = renderRequestModal(def, await initialUsers(deps, def, requester));
  await deps.client.views.open({ trigger_id: triggerId, view });
}

/** Tells a Slack user something in their DM with the bot. */
export async function sendDm(
  deps: SlackDeps,
  slackUserId: string,
  text: string,
  blocks?: types.KnownBlock[],
) {
  await deps.client.chat.postMessage({ channel: slackUserId, text, ...(blocks ? { blocks } : {}) });
}

type Ack = (response?: ViewResponseAction) => Promise<void>;

/**
 * Runs a core call for a submitted view and acks with its outcome: `errors` on the right
 * blocks for a BatonError, `clear` (or the given response) on success. If Slack was
 * already answered (the safety timeout closed the form), the outcome goes to the user's DM
 * instead: a refusal as `refused` words it with the reasons ("Your Time off request was not
 * filed: Working days must be at most 30. …"), and a form its success answer would have shown
 * again (`update`: the form changed since it was opened) as `unshown` words it.
 */
async function submitWith<T>(
  deps: SlackDeps,
  body: ViewSubmitAction,
  ack: Ack,
  run: (actor: User) => Promise<T>,
  onSuccess: (result: T, actor: User) => Promise<ViewResponseAction | undefined>,
  options: {
    refused: (reasons: string) => Promise<string>;
    expectedBlocks?: () => Promise<string[]>;
    /** What to tell in a DM when `onSuccess`'s answer could no longer be shown (undefined: nothing). */
    unshown?: (result: T) => Promise<string | undefined>;
  },
): Promise<T | undefined> {
  let result: T;
  let actor: User;
  try {
    actor = await deps.users.toBaton(body.user.id);
    result = await run(actor);
  } catch (err) {
    const expected = options.expectedBlocks ?? (async () => []);
    const errors = isBatonError(err) ? toViewErrors(err, body.view, await expected().catch(() => [])) : null;
    const shown = await ackOnce(
      ack,
      errors ? { response_action: 'errors', errors } : { response_action: 'clear' },
    );
    if (!errors) await sendDm(deps, body.user.id, escapeMrkdwn(describeError(err, deps.logger)));
    else if (!shown) {
      // The form closed before its errors could be shown on it: nobody would know otherwise.
      const reasons = [...new Set(Object.values(errors))].join('; ');
      const refused = await options.refused(reasons).catch(() => `The form was not saved: ${reasons}.`);
      await sendDm(deps, body.user.id, `:warning: ${escapeMrkdwn(refused)}`).catch((e: unknown) =>
        deps.logger.warn({ err: e }, 'slack: could not tell why a form was refused'),
      );
    }
    return undefined;
  }
  const response = await onSuccess(result, actor);
  // Answered already (the form closed): the confirmation in the DM says it was done, and what
  // the answer would have shown on the form (a form to look at again) is said there instead.
  if (!(await ackOnce(ack, response ?? { response_action: 'clear' })) && options.unshown) {
    const text = await options.unshown(result).catch(() => undefined);
    if (text)
      await sendDm(deps, body.user.id, `:warning: ${escapeMrkdwn(text)}`).catch((e: unknown) =>
        deps.logger.warn({ err: e }, 'slack: could not tell that a form was not saved'),
      );
  }
  return result;
}

/** Modal submissions: the request form, the app picker, and the admin app and field builders. */
export function registerModals(app: App, deps: SlackDeps): void {
  const { baton } = deps;

  app.view<ViewSubmitAction>(MODAL.request, async ({ ack, body, view }) => {
    const appKey = view.private_metadata;
    // Slack may send a submission again (a retry after a slow answer, a double submit): the
    // view id files at most one request (taken with the request, so a crash leaves both or
    // neither). A refused form takes nothing, so the person can correct it and submit again.
    let duplicate = false;
    const request = await submitWith<
      { request: RequestDoc; def: AppDefinition } | { changed: ModalView; added: Field[] } | null
    >(
      deps,
      body,
      ack,
      async (actor) => {
        const def = await baton.apps.get(appKey);
        const input = await toRecordInput(def, view.state.values, deps.users, view.blocks);
        let filed: Awaited<ReturnType<typeof baton.requests.fileOnce>>;
        try {
          filed = await baton.requests.fileOnce(actor, appKey, input, `slack:view:${view.id}`, {
            formShowedDefaults: true,
          });
        } catch (err) {
          // The form was opened before fields were added to the app and one of them is refused
          // (a new required field): the form as it is now, with what was typed, not an error
          // on a block that does not name the field.
          const added = addedSinceOpened(def, view.blocks);
          if (err instanceof ValidationError && added.some((f) => Object.hasOwn(err.fields, f.key)))
            return { changed: renderChangedForm(def, view.state.values, input, added), added };
          throw err;
        }
        if (!filed || filed.repeat) {
          duplicate = true;
          return null;
        }
        return { request: filed.request, def };
      },
      async (result) =>
        result && 'changed' in result
          ? { response_action: 'update', view: result.changed }
          : { response_action: 'clear' },
      {
        refused: async (reasons) =>
          `Your ${(await baton.apps.get(appKey)).name} request was not filed: ${reasons}. Fill in the form again with /baton new ${appKey}.`,
        expectedBlocks: async () => formFields(await baton.apps.get(appKey)).map((f) => f.key),
        // The form as it is now could not be shown (it had closed): nothing was filed, say why.
        unshown: async (result) => {
          if (!result || !('changed' in result)) return undefined;
          const names = result.added.map((f) => f.label).join(', ');
          return `Your ${(await baton.apps.get(appKey)).name} request was not filed: the form changed since you opened it (${names} ${result.added.length === 1 ? 'is' : 'are'} new). Fill in the form again with /baton new ${appKey}.`;
        },
      },
    );
    if (!request || 'changed' in request) {
      if (duplicate) deps.logger.info({ view: view.id }, 'a request form submitted again: already filed');
      return;
    }
    const { request: r, def } = request;
    const text = `Your request *${r._id}* was filed in ${escapeMrkdwn(def.name)} (stage: ${escapeMrkdwn(r.stage)}). Use \`/baton show ${r._id}\` to follow it.`;
    try {
      await sendDm(deps, body.user.id, text.replace(/\*/g, ''), [
        { type: 'section', text: { type: 'mrkdwn', text: `:white_check_mark: ${text}` } },
      ]);
    } catch (err) {
      deps.logger.warn({ err, request: r._id }, 'could not send the filing confirmation');
    }
  });

  // The options of a select with more than 100 of them, as the person types (block_suggestion).
  app.options<'block_suggestion'>(
    { type: 'block_suggestion', action_id: INPUT_ACTION },
    async ({ ack, body }) => {
      const b = body as {
        block_id?: string;
        value?: string;
        view?: { callback_id?: string; private_metadata?: string };
      };
      let options: types.PlainTextOption[] = [];
      try {
        const def =
          b.view?.callback_id === MODAL.request && b.view.private_metadata
            ? await baton.apps.find(b.view.private_metadata)
            : null;
        const field = def?.fields.find((f) => f.key === b.block_id);
        if (field?.type === 'select' || field?.type === 'multi_select') {
          options = matchingOptions(field, b.value ?? '');
        }
      } catch (err) {
        deps.logger.warn({ err }, 'slack: options for a select not loaded');
      }
      await ack({ options });
    },
  );

  app.view<ViewSubmitAction>(MODAL.pickApp, async ({ ack, body, view }) => {
    const key = inputValue(view.state.values, 'app');
    const def = typeof key === 'string' ? await baton.apps.find(key) : null;
    if (!def) {
      await ack({ response_action: 'errors', errors: { app: 'Pick one of the apps.' } });
      return;
    }
    const requester = await deps.users.toBaton(body.user.id).catch(() => null);
    await ack({
      response_action: 'update',
      view: renderRequestModal(def, await initialUsers(deps, def, requester)),
    });
  });

  app.view<ViewSubmitAction>(MODAL.createApp, async ({ ack, body, view }) => {
    const v = view.state.values;
    const created = await submitWith(
      deps,
      body,
      ack,
      async (actor) => {
        const stages = String(inputValue(v, 'stages') ?? '')
          .split('\n')
          .map((s) => s.trim())
          .filter((s) => s !== '');
        const prefix = inputValue(v, 'id_prefix');
        // As `/baton admin apps create Trips` does: the key is lower-case, the prefix upper-case.
        return baton.apps.create(actor, {
          key: String(inputValue(v, 'key') ?? '')
            .trim()
            .toLowerCase(),
          name: String(inputValue(v, 'name') ?? '').trim(),
          stages,
          ...(typeof prefix === 'string' ? { id_prefix: prefix.trim().toUpperCase() } : {}),
          fields: [],
        });
      },
      async () => undefined,
      { refused: async (reasons) => `The app was not created: ${reasons}.` },
    );
    if (created) {
      await sendDm(
        deps,
        body.user.id,
        escapeMrkdwn(
          `App ${created.name} (${created.key}) created with stages ${created.stages.join(', ')}. Add fields with /baton admin apps add field ${created.key}.`,
        ),
      );
    }
  });

  app.view<ViewSubmitAction>(MODAL.addField, async ({ ack, body, view }) => {
    const v = view.state.values;
    const appKey = view.private_metadata;
    const updated = await submitWith(
      deps,
      body,
      ack,
      async (actor) => {
        const field = toFieldInput(v);
        return { def: await baton.apps.addField(actor, appKey, field), key: String(field.key) };
      },
      async () => undefined,
      { refused: async (reasons) => `The field was not added: ${reasons}.` },
    );
    if (updated) {
      await sendDm(deps, body.user.id, escapeMrkdwn(`Field ${updated.key} added to ${updated.def.name}.`));
    }
  });
}

/** The field definition typed into the "add field" modal. */
export function toFieldInput(v: ViewValues): Record<string, unknown> {
  const type = String(inputValue(v, 'type') ?? 'text');
  const str = (k: string) => {
    const x = inputValue(v, k);
    return typeof x === 'string' ? x.trim() : undefined;
  };
  const field: Record<string, unknown> = {
    key: str('key') ?? '',
    label: str('label') ?? '',
    type,
    required: inputValue(v, 'required') === true,
  };
  // Ticked: the field is left off the request forms (on_form: false), for a recipe to fill in.
  if (inputValue(v, 'off_form') === true) field.on_form = false;
  const help = str('help');
  if (help) field.help = help;
  const lines = (s: string | undefined) =>
    (s ?? '')
      .split('\n')
      .map((x) => x.trim())
      .filter((x) => x !== '');
  const options = lines(str('options'));
  if (options.length > 0) field.options = options;
  for (const bound of ['min', 'max'] as const) {
    const n = str(bound);
    if (n !== undefined) field[bound] = Number(n);
  }
  const d = str('default');
  if (d !== undefined) {
    if (type === 'number') field.default = Number(d);
    else if (type === 'boolean') field.default = /^(true|yes|1)$/i.test(d);
    else if (type === 'multi_select') field.default = lines(d);
    else field.default = d;
  }
  return field;
}
