/**
 * Request forms as Adaptive Cards, generated from an app's fields and submitted with
 * Action.Execute (Universal Actions): the invoke's answer is the same card re-rendered with
 * the messages next to the inputs and the person's values kept, or a confirmation naming
 * the request id. Also the two admin forms (create an app, add a field).
 */
import { createHash } from 'node:crypto';
import type { Activity } from 'botbuilder';
import { ValidationError } from '../../src/core/errors.js';
import { validateRecord } from '../../src/core/records.js';
import { MAX_LONG_TEXT_LENGTH, MAX_TEXT_LENGTH, type User } from '../../src/core/types.js';
import {
  type AppDefinition,
  FIELD_TYPES,
  type FieldOption,
  formFields,
  MAX_ID_PREFIX_LENGTH,
  MAX_KEY_LENGTH,
  MAX_NAME_LENGTH,
} from '../../src/recipes/schema.js';
import type { AdaptiveCardJson, CardJsonObject } from '../cards/cards.js';
import type { TeamsDeps } from './deps.js';
import { addErrors, fitsInput, MAX_CARD_BYTES, messageCard, requestUrl, VERB } from './render.js';

type Field = AppDefinition['fields'][number];

/** What a submitted form carries beside its inputs (Action.Execute `data`). */
export const FORM_KEYS = new Set(['app', 'form']);

/** Patterns Teams checks in the client before submitting (the core checks again). */
const EMAIL_REGEX = '^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$';
const URL_REGEX = '^https?://\\S+$';

function choice(o: FieldOption): { title: string; value: string } {
  return typeof o === 'string' ? { title: o, value: o } : { title: o.label, value: o.value };
}

/** Input ids must not collide with the action's own data keys. */
export function inputId(key: string): string {
  return FORM_KEYS.has(key) ? `field_${key}` : key;
}

/** What Teams shows under a number input out of its bounds (in the core's words). */
function boundsMessage(field: Field): string {
  if (field.min !== undefined && field.max !== undefined)
    return `${field.label} must be between ${field.min} and ${field.max}`;
  return field.min !== undefined
    ? `${field.label} must be at least ${field.min}`
    : `${field.label} must be at most ${field.max}`;
}

/** The Adaptive Card input of one app field, with its default (or the value typed before). */
export function toFieldInput(
  field: Field,
  value?: unknown,
  people: Record<string, string> = {},
): CardJsonObject {
  const v = value ?? field.default;
  const base: CardJsonObject = {
    id: inputId(field.key),
    label: field.label,
    isRequired: field.required,
    errorMessage: `${field.label} is required`,
  };
  const str = (x: unknown) => (typeof x === 'string' ? { value: x } : {});
  switch (field.type) {
    case 'text':
      return { type: 'Input.Text', ...base, maxLength: MAX_TEXT_LENGTH, ...str(v) };
    case 'long_text':
      // The core's limit: Teams itself sets none on what an input collects (Slack's is 3,000).
      return { type: 'Input.Text', ...base, isMultiline: true, maxLength: MAX_LONG_TEXT_LENGTH, ...str(v) };
    case 'number':
      return {
        type: 'Input.Number',
        ...base,
        ...(field.min !== undefined ? { min: field.min } : {}),
        ...(field.max !== undefined ? { max: field.max } : {}),
        ...(typeof v === 'number'
          ? { value: v }
          : typeof v === 'string' && v !== '' && Number.isFinite(Number(v))
            ? { value: Number(v) }
            : {}),
        ...(field.min !== undefined || field.max !== undefined ? { errorMessage: boundsMessage(field) } : {}),
      };
    case 'date':
      return { type: 'Input.Date', ...base, ...str(v) };
    case 'select':
      return {
        type: 'Input.ChoiceSet',
        ...base,
        style: 'compact',
        choices: (field.options ?? []).map(choice),
        ...str(v),
      };
    case 'multi_select':
      return {
        type: 'Input.ChoiceSet',
        ...base,
        isMultiSelect: true,
        choices: (field.options ?? []).map(choice),
        ...(Array.isArray(v) ? { value: v.map(String).join(',') } : str(v)),
      };
    case 'user':
      // The people picker: Teams searches the organization's directory (Microsoft Graph).
      return {
        type: 'Input.ChoiceSet',
        ...base,
        // A person picked before (re-rendered form) shows by name.
        choices: typeof v === 'string' && people[v] ? [{ title: people[v], value: v }] : [],
        'choices.data': { type: 'Data.Query', dataset: 'graph.microsoft.com/users' },
        ...str(v),
      };
    case 'boolean':
      return {
        type: 'Input.Toggle',
        ...base,
        // A toggle always answers yes or no, and the core takes either for a required field:
        // `isRequired` would make Teams refuse the card unless it is on (a field whose default
        // is true could never be turned off).
        isRequired: false,
        title: field.help ?? field.label,
        valueOn: 'true',
        valueOff: 'false',
        value: v === true || v === 'true' ? 'true' : 'false',
      };
    case 'email':
      return {
        type: 'Input.Text',
        ...base,
        style: 'Email',
        regex: EMAIL_REGEX,
        errorMessage: `${field.label} must be an email address`,
        ...str(v),
      };
    case 'url':
      return {
        type: 'Input.Text',
        ...base,
        style: 'Url',
        regex: URL_REGEX,
        errorMessage: `${field.label} must start with http:// or https://`,
        ...str(v),
      };
  }
}

/**
 * The request form of an app. `values` (raw submitted strings) and `errors` re-render a
 * refused submit; `people` names the people already picked (AAD object id → name).
 */
export function renderRequestForm(
  app: AppDefinition,
  state: {
    values?: Record<string, unknown>;
    errors?: Record<string, string>;
    people?: Record<string, string>;
  } = {},
): AdaptiveCardJson {
  const body: CardJsonObject[] = [
    { type: 'TextBlock', text: `New request: ${app.name}`, size: 'Large', weight: 'Bolder', wrap: true },
  ];
  if (app.description) body.push({ type: 'TextBlock', text: app.description, isSubtle: true, wrap: true });
  // Fields a recipe sets later (`on_form: false`) are not asked.
  const fields = formFields(app);
  for (const field of fields.slice(0, 99)) {
    const input = toFieldInput(field, state.values?.[inputId(field.key)], state.people);
    // A value over what the input takes (a crafted submit) is refused, not sent back.
    if (typeof input.value === 'string' && !fitsInput(input, input.value)) delete input.value;
    body.push(input);
    if (field.help && field.type !== 'boolean')
      body.push({
        type: 'TextBlock',
        text: field.help,
        isSubtle: true,
        size: 'Small',
        spacing: 'None',
        wrap: true,
      });
  }
  if (fields.length === 0)
    body.push({
      type: 'TextBlock',
      text: `${app.name} has no fields: submit to file a request.`,
      wrap: true,
    });
  if (state.errors) {
    const mapped: Record<string, string> = {};
    for (const [key, message] of Object.entries(state.errors)) {
      const field = fields.find((f) => f.key === key || key.split('.').includes(f.key));
      const id = field ? inputId(field.key) : '_';
      mapped[id] = mapped[id] ? `${mapped[id]}; ${message}` : message;
    }
    addErrors(body, mapped);
  }
  const card: AdaptiveCardJson = {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body,
    actions: [
      {
        type: 'Action.Execute',
        title: 'Submit',
        verb: VERB.submitRequest,
        data: { app: app.key },
        style: 'positive',
      },
    ],
  };
  withoutOversizedValues(card);
  return card;
}

/** Room kept for what fitCard adds to a form (each action's Action.Submit fallback). */
const FORM_FALLBACK_BYTES = 1024;

/**
 * A re-rendered form gives back what was typed, but a value cannot be cut (that would file
 * something else): while the card is too large for Teams (long texts, in a script of several
 * bytes a character), the longest value typed is left out, and the form says so under its
 * input, so it is pasted again rather than lost without a word.
 */
function withoutOversizedValues(card: AdaptiveCardJson): void {
  const body = card.body as CardJsonObject[];
  const size = () => Buffer.byteLength(JSON.stringify(card)) + FORM_FALLBACK_BYTES;
  while (size() > MAX_CARD_BYTES) {
    let longest: CardJsonObject | undefined;
    for (const e of body)
      if (typeof e.value === 'string' && (!longest || e.value.length > (longest.value as string).length))
        longest = e;
    if (!longest) return;
    const chars = Array.from(longest.value as string).length;
    delete longest.value;
    body.splice(body.indexOf(longest) + 1, 0, {
      type: 'TextBlock',
      text: `${String(longest.label ?? 'This field')}: your text (${chars.toLocaleString('en-US')} characters) is too long to show again here: paste it again.`,
      color: 'Attention',
      size: 'Small',
      spacing: 'None',
      wrap: true,
    });
  }
}

/** How many apps the picker shows as buttons (the card must stay small); the rest are named. */
const PICKER_MAX_APPS = 30;

/** A card listing the apps, each with a button opening its form (`new` without an app). */
export function renderAppPicker(
  apps: { key: string; name: string; description?: string | undefined }[],
): AdaptiveCardJson {
  const shown = apps.slice(0, PICKER_MAX_APPS);
  const others = apps.slice(PICKER_MAX_APPS);
  return {
    type: 'AdaptiveCard',
    version: '1.5',
    body: [
      { type: 'TextBlock', text: 'What do you want to request?', weight: 'Bolder', wrap: true },
      ...apps
        .filter((a) => a.description)
        .slice(0, 20)
        .map((a) => ({
          type: 'TextBlock',
          text: `**${a.name}**: ${a.description}`,
          wrap: true,
          size: 'Small',
        })),
      ...(others.length > 0
        ? [
            {
              type: 'TextBlock',
              text: `More apps (type "new" and the app's key): ${others.map((a) => `${a.key} (${a.name})`).join(', ')}`,
              wrap: true,
              size: 'Small',
            },
          ]
        : []),
    ],
    // More than Teams shows at once go into the body (fitActions), so every app has its button.
    actions: shown.map((a) => ({
      type: 'Action.Execute',
      title: a.name,
      verb: VERB.openForm,
      data: { app: a.key },
    })),
  };
}

/**
 * What a request form submitted, with each toggle that is not in it as off: the form shows
 * every field, and a toggle left out of the data was off (the Adaptive Cards renderer leaves
 * out a required toggle that is off, cards posted by older versions had those). Read as "not
 * filled in", it would give the field its default again: a default of true could not be undone.
 */
export function submittedValues(app: AppDefinition, data: Record<string, unknown>): Record<string, unknown> {
  const out = { ...data };
  for (const field of formFields(app))
    if (field.type === 'boolean' && out[inputId(field.key)] === undefined) out[inputId(field.key)] = 'false';
  return out;
}

/**
 * Maps submitted inputs (Teams sends every input as a string) to a record for
 * `baton.requests.file`: blanks are left out (a blank field that has a default is kept blank:
 * the card showed the default and the person cleared it), multi-selects split on
 * commas, people picked in the people picker (AAD object ids) become Baton users.
 */
export async function toRecordInput(
  deps: TeamsDeps,
  activity: Partial<Activity>,
  app: AppDefinition,
  data: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const input: Record<string, unknown> = {};
  const unknownPeople: Record<string, string> = {};
  // Only what the form asks: a field off it (`on_form: false`) in an older card is left out.
  for (const field of formFields(app)) {
    const raw = data[inputId(field.key)];
    // Teams sends every input as a string (a number or a toggle from another client is
    // taken as its text); anything else (an object, a list) is not from one of our cards.
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') continue;
    const s = String(raw).trim();
    if (s === '') {
      // Cleared on a form that showed the field's default: it stays blank (see formShowedDefaults).
      if (field.default !== undefined) input[field.key] = '';
      continue;
    }
    if (field.type === 'multi_select') {
      input[field.key] = splitChoices(s, field);
    } else if (field.type === 'user') {
      try {
        input[field.key] = await personRef(deps, activity, field, s);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        Object.assign(unknownPeople, err.fields);
      }
    } else {
      input[field.key] = s;
    }
  }
  if (Object.keys(unknownPeople).length > 0) {
    // Say everything that is wrong at once, not the unknown person first and the rest after.
    let others: Record<string, string> = {};
    try {
      validateRecord(app, input, { formShowedDefaults: true });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      others = err.fields;
    }
    const fields = { ...others, ...unknownPeople };
    throw new ValidationError(`Please fix: ${Object.values(fields).join('; ')}.`, fields);
  }
  return input;
}

/**
 * The values of a multi-select as Teams submits them: joined with commas. An option whose
 * value has a comma in it ("Sales, EMEA") is taken whole, not cut in two at its comma.
 */
export function splitChoices(submitted: string, field: Field): string[] {
  const values = (field.options ?? []).map((o) => choice(o).value);
  const withComma = values.filter((v) => v.includes(',')).sort((a, b) => b.length - a.length);
  const out: string[] = [];
  let rest = submitted;
  while (rest !== '') {
    const whole = withComma.find((v) => rest === v || rest.startsWith(`${v},`));
    const comma = rest.indexOf(',');
    const piece = whole ?? (comma === -1 ? rest : rest.slice(0, comma));
    rest = rest.slice(piece.length + 1);
    if (piece.trim() !== '') out.push(whole ?? piece.trim());
  }
  return out;
}

/**
 * A picked person (the people picker gives an AAD object id) as a Baton user id; emails pass
 * through for the core to resolve. Someone Baton has never seen and the connector cannot
 * describe is a field error (rather than a nameless user who may be someone known by email).
 */
async function personRef(
  deps: TeamsDeps,
  activity: Partial<Activity>,
  field: Field,
  value: string,
): Promise<string> {
  if (value.includes('@')) return value;
  const aad = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
  const user = await deps.users.knownOrDescribed(
    activity,
    aad ? { id: value, aadObjectId: value } : { id: value },
  );
  if (user) return user._id;
  throw new ValidationError(`${field.label}: Baton does not know this person yet`, {
    [field.key]: `${field.label}: Baton does not know this person yet. Ask them to open Baton in Teams once, or pick someone else.`,
  });
}

/** How long a submitted form card stays submitted (Teams' retries come within seconds). */
const SUBMIT_CLAIM_MS = 24 * 3600_000;
/** A submission still unfinished after this long was cut off (the process died): it is given back. */
const SUBMIT_STALE_MS = 60_000;

/**
 * The claim of one person's submission of one form card: its message (replyToId), else the
 * invoke's id. Per person: in a channel, several people may each file from the same card.
 */
export function submitKey(activity: Partial<Activity>, form: string): string | null {
  const ref = activity.replyToId || activity.id;
  if (!ref) return null;
  const who = activity.from?.aadObjectId || activity.from?.id || '';
  const digest = createHash('sha256')
    .update(`${form}\n${activity.conversation?.id ?? ''}\n${ref}\n${who}`)
    .digest('hex')
    .slice(0, 40);
  return `teams:submit:${digest}`;
}

/**
 * What became of the earlier submission of the same card: what it did, 'released' (it was
 * refused, or a crash cut it off over a minute ago, so this one may try), or null while it is
 * still running after a while.
 */
async function earlierSubmit(deps: TeamsDeps, claim: string): Promise<string | null> {
  const deadline = Date.now() + 3000;
  for (;;) {
    if (await deps.baton.deliveries.releaseStaleClaim(claim, SUBMIT_CLAIM_MS, SUBMIT_STALE_MS))
      return 'released';
    const result = await deps.baton.deliveries.claimResult(claim);
    if (result) return result;
    if (!(await deps.baton.deliveries.isClaimed(claim))) return 'released';
    if (Date.now() > deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Runs a form's submission once per person and card: Teams retries an invoke it got no
 * answer for in time, and a double click sends two. A later submission of the same card is
 * answered with `replay` of what the first one did (`done`); a refused one (no `done`) gives
 * the claim back, so the corrected form can be submitted again.
 */
async function oncePerCard(
  deps: TeamsDeps,
  activity: Partial<Activity>,
  form: string,
  run: () => Promise<{ card: AdaptiveCardJson; done?: string }>,
  replay: (done: string) => Promise<AdaptiveCardJson>,
): Promise<AdaptiveCardJson> {
  const claim = submitKey(activity, form);
  if (!claim) return (await run()).card;
  for (;;) {
    if (await deps.baton.deliveries.claimOnce(claim, SUBMIT_CLAIM_MS)) break;
    const earlier = await earlierSubmit(deps, claim);
    if (earlier === 'released') continue;
    if (earlier) return replay(earlier);
    return messageCard('This form is already being submitted.', 'Its result shows in a moment.', 'Attention');
  }
  try {
    const { card, done } = await run();
    if (done) await deps.baton.deliveries.claimResult(claim, done);
    else await deps.baton.deliveries.releaseClaim(claim);
    return card;
  } catch (err) {
    await deps.baton.deliveries.releaseClaim(claim).catch(() => {});
    throw err;
  }
}

/** `request.submit`: files the request; the card to answer with (confirmation or the form with errors). */
export async function submitRequestForm(
  deps: TeamsDeps,
  activity: Partial<Activity>,
  actor: User,
  data: Record<string, unknown>,
): Promise<AdaptiveCardJson> {
  const key = typeof data.app === 'string' ? data.app.trim() : '';
  if (!key)
    return messageCard(
      'This form is missing its app: it may come from an older version of Baton. Type **new** to start again.',
      undefined,
      'Attention',
    );
  const app = await deps.baton.apps.find(key);
  if (!app) return messageCard(`The app "${key}" no longer exists.`, undefined, 'Attention');
  const filed = (id: string, stage: string) => {
    const url = requestUrl(deps, id);
    const card = messageCard(
      `✅ Request ${id} filed in ${app.name}`,
      `Stage: ${stage}. Type "show ${id}" to follow it.`,
      'Good',
    );
    if (url) card.actions = [{ type: 'Action.OpenUrl', title: 'View request', url }];
    return card;
  };
  // Teams retries an invoke it got no answer for in time, and a double click sends two: the
  // card's key (per person) files at most one request, taken with the request in one COMMIT
  // (requests.fileOnce), so a crash leaves both or neither. A refused form takes nothing.
  const claim = submitKey(activity, 'request');
  try {
    const input = await toRecordInput(deps, activity, app, submittedValues(app, data));
    // The card showed the fields' defaults: one the person cleared stays blank.
    const options = { formShowedDefaults: true };
    if (!claim) {
      const request = await deps.baton.requests.file(actor, app.key, input, options);
      return filed(request._id, request.stage);
    }
    const deadline = Date.now() + 3000;
    for (;;) {
      const once = await deps.baton.requests.fileOnce(actor, app.key, input, claim, options);
      if (once) return filed(once.request._id, once.request.stage);
      // The same card's first submission is being filed right now: its request comes in a moment.
      if (Date.now() > deadline)
        return messageCard(
          'This form is already being submitted.',
          'Its result shows in a moment.',
          'Attention',
        );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const errors = Object.keys(err.fields).length > 0 ? err.fields : { _: err.message };
    const people: Record<string, string> = {};
    for (const field of app.fields) {
      const v = data[inputId(field.key)];
      if (field.type !== 'user' || typeof v !== 'string' || v === '' || v.includes('@')) continue;
      const known = await deps.baton.users.lookup(`teams:${v}`).catch(() => null);
      if (known) people[v] = known.name;
    }
    return renderRequestForm(app, { values: submittedValues(app, data), errors, people });
  }
}

// ---------------------------------------------------------------------------------------
// Admin forms

/** `maxLength`: what the core takes there (keys, names, id prefixes), so Teams stops typing at it. */
function text(
  id: string,
  label: string,
  placeholder: string,
  required: boolean,
  multiline = false,
  maxLength?: number,
): CardJsonObject {
  return {
    type: 'Input.Text',
    id,
    label,
    placeholder,
    isRequired: required,
    isMultiline: multiline,
    ...(maxLength !== undefined ? { maxLength } : {}),
    errorMessage: `${label} is required`,
  };
}

/** `admin apps create` without arguments: key, name, stages, id prefix. */
export function renderCreateAppForm(
  state: { values?: Record<string, unknown>; errors?: Record<string, string> } = {},
): AdaptiveCardJson {
  const body: CardJsonObject[] = [
    { type: 'TextBlock', text: 'New app', size: 'Large', weight: 'Bolder' },
    text('key', 'Key', 'Lower-case letters, digits and dashes, e.g. time-off', true, false, MAX_KEY_LENGTH),
    text('name', 'Name', 'What people see, e.g. Time off', true, false, MAX_NAME_LENGTH),
    text('stages', 'Stages', 'One per line; the first is where new requests start', true, true),
    text(
      'id_prefix',
      'Request id prefix',
      'Upper-case letters, e.g. PTO',
      false,
      false,
      MAX_ID_PREFIX_LENGTH,
    ),
  ];
  keepValues(body, state.values);
  if (state.errors)
    addErrors(
      body,
      mapErrors(state.errors, { key: 'Key', name: 'Name', stages: 'Stages', id_prefix: 'Request id prefix' }),
    );
  return {
    type: 'AdaptiveCard',
    version: '1.5',
    body,
    actions: [
      { type: 'Action.Execute', title: 'Create', verb: VERB.createApp, data: { form: 'create_app' } },
    ],
  };
}

/** A field type as the form shows it: `long text` for long_text. */
const typeTitle = (type: string) => type.replace(/_/g, ' ');

/** `admin apps add field <app>`: a field's key, label, type and options. */
export function renderAddFieldForm(
  app: AppDefinition,
  state: { values?: Record<string, unknown>; errors?: Record<string, string> } = {},
): AdaptiveCardJson {
  const body: CardJsonObject[] = [
    { type: 'TextBlock', text: `New field for ${app.name}`, size: 'Large', weight: 'Bolder', wrap: true },
    text(
      'key',
      'Key',
      'Lower-case letters, digits and underscores, e.g. start_date',
      true,
      false,
      MAX_KEY_LENGTH,
    ),
    text('label', 'Label', 'What the form shows, e.g. First day', true),
    {
      type: 'Input.ChoiceSet',
      id: 'type',
      label: 'Type',
      isRequired: true,
      style: 'compact',
      value: 'text',
      choices: FIELD_TYPES.map((t) => ({ title: typeTitle(t), value: t })),
    },
    {
      type: 'Input.Toggle',
      id: 'required',
      title: 'People must fill it in',
      valueOn: 'true',
      valueOff: 'false',
      value: 'false',
    },
    {
      type: 'Input.Toggle',
      id: 'off_form',
      title: 'Not on the request form (a recipe fills it in)',
      valueOn: 'true',
      valueOff: 'false',
      value: 'false',
    },
    text('help', 'Help', 'A hint shown under the field', false),
    text('options', 'Options', 'Select fields only: one option per line', false, true),
    { type: 'Input.Number', id: 'min', label: 'Minimum (numbers only)' },
    { type: 'Input.Number', id: 'max', label: 'Maximum (numbers only)' },
    text('default', 'Default', 'The initial value (for a multi select: one per line)', false, true),
  ];
  keepValues(body, state.values);
  if (state.errors)
    addErrors(
      body,
      mapErrors(
        state.errors,
        {
          key: 'Key',
          label: 'Label',
          type: 'Type',
          help: 'Help',
          options: 'Options',
          min: 'Minimum',
          max: 'Maximum',
          default: 'Default',
        },
        Object.fromEntries(FIELD_TYPES.map((t) => [t, typeTitle(t)])),
      ),
    );
  return {
    type: 'AdaptiveCard',
    version: '1.5',
    body,
    actions: [
      {
        type: 'Action.Execute',
        title: 'Add field',
        verb: VERB.addField,
        data: { app: app.key, form: 'add_field' },
      },
    ],
  };
}

function keepValues(body: CardJsonObject[], values: Record<string, unknown> | undefined): void {
  if (!values) return;
  for (const element of body) {
    const v = typeof element.id === 'string' ? values[element.id] : undefined;
    if (typeof v === 'string' && fitsInput(element, v))
      element.value = element.type === 'Input.Number' && v !== '' ? Number(v) : v;
  }
}

/**
 * Error keys (`fields.0.key`, `key`) to the input ids of a form (`labels`: id → label); the rest
 * on top. Each message is put as a person reads it under that input (`formMessage`).
 */
function mapErrors(
  errors: Record<string, string>,
  labels: Record<string, string>,
  titles: Record<string, string> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, raw] of Object.entries(errors)) {
    const id =
      key
        .split('.')
        .reverse()
        .find((p) => Object.hasOwn(labels, p)) ?? '_';
    const message = id === '_' ? raw : formMessage(raw, id, labels, titles);
    out[id] = out[id] ? `${out[id]}; ${message}` : message;
  }
  return out;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A core message about one input, as a person reads it under the input labelled
 * `labels[id]`. The core's words are written for app files ("id_prefix is upper-case letters…",
 * "expected one of: text, long_text…", "name must not be empty"): the form's labels stand for
 * the keys, and `titles` for values the form shows otherwise (a field type's "long text").
 */
export function formMessage(
  message: string,
  id: string,
  labels: Record<string, string>,
  titles: Record<string, string> = {},
): string {
  const label = labels[id] ?? id;
  const m = message.trim().replace(/^Invalid input: /, '');
  const title = (v: string) => titles[v] ?? v;
  const rules: [RegExp, (g: string[]) => string][] = [
    [/^(?:required|(?:\S+ )?must not be empty)$/, () => `${label} is required`],
    [/^expected (number|string|boolean), received .*$/, (g) => `${label} must be a ${g[1]}`],
    [
      /^expected (one of|a list of): (.*)$/,
      (g) => `${label} must be ${g[1]}: ${g[2]!.split(', ').map(title).join(', ')}`,
    ],
    [/^expected (.*)$/, (g) => `${label} must be ${g[1]}`],
    [/^(must .*)$/, (g) => `${label} ${g[1]}`],
    [
      new RegExp(`^(?:${escapeRegExp(id)}|[a-z]+ keys) (?:is|are) (?!only )(.*)$`),
      (g) => `${label}: ${g[1]}`,
    ],
  ];
  const rule = rules.find(([re]) => re.test(m));
  const out = rule
    ? rule[1](m.match(rule[0])!)
    : m
        .replace(/\b(min|max)(?= \(| is only)/g, (k) => (k === 'min' ? 'minimum' : 'maximum'))
        .replace(/\b[a-z]+_[a-z_]+\b/g, (k) => title(k));
  return out.charAt(0).toUpperCase() + out.slice(1);
}

const lines = (s: unknown): string[] =>
  String(s ?? '')
    .split('\n')
    .map((x) => x.trim())
    .filter((x) => x !== '');

/** `admin.apps.create`: creates the app through the core (admins only there). */
export async function submitCreateApp(
  deps: TeamsDeps,
  actor: User,
  data: Record<string, unknown>,
  activity: Partial<Activity> = {},
): Promise<AdaptiveCardJson> {
  const str = (k: string) => (typeof data[k] === 'string' ? (data[k] as string).trim() : '');
  const created = (app: AppDefinition) =>
    messageCard(
      `App ${app.name} (${app.key}) created`,
      `Stages: ${app.stages.join(' → ')}. Add fields with "admin apps add field ${app.key}".`,
      'Good',
    );
  return oncePerCard(
    deps,
    activity,
    'create_app',
    async () => {
      try {
        const app = await deps.baton.apps.create(actor, {
          key: str('key'),
          name: str('name'),
          stages: lines(data.stages),
          ...(str('id_prefix') ? { id_prefix: str('id_prefix') } : {}),
          fields: [],
        });
        return { card: created(app), done: app.key };
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        return {
          card: renderCreateAppForm({
            values: data,
            errors: Object.keys(err.fields).length ? err.fields : { _: err.message },
          }),
        };
      }
    },
    async (key) => created(await deps.baton.apps.get(key)),
  );
}

/** `admin.apps.add_field`: adds the field through the core (admins only there). */
export async function submitAddField(
  deps: TeamsDeps,
  actor: User,
  data: Record<string, unknown>,
  activity: Partial<Activity> = {},
): Promise<AdaptiveCardJson> {
  const appKey = typeof data.app === 'string' ? data.app : '';
  const app = await deps.baton.apps.get(appKey);
  const str = (k: string) =>
    typeof data[k] === 'string' && (data[k] as string).trim() !== '' ? (data[k] as string).trim() : undefined;
  const type = str('type') ?? 'text';
  const field: Record<string, unknown> = {
    key: str('key') ?? '',
    label: str('label') ?? '',
    type,
    required: data.required === 'true',
  };
  // Ticked: the field is left off the request forms (on_form: false), for a recipe to fill in.
  if (data.off_form === 'true') field.on_form = false;
  if (str('help')) field.help = str('help');
  const options = lines(data.options);
  if (options.length > 0) field.options = options;
  for (const bound of ['min', 'max'] as const)
    if (str(bound) !== undefined) field[bound] = Number(str(bound));
  const d = str('default');
  if (d !== undefined) {
    if (type === 'number') field.default = Number(d);
    else if (type === 'boolean') field.default = /^(true|yes|1)$/i.test(d);
    else if (type === 'multi_select') field.default = lines(d);
    else field.default = d;
  }
  const added = (def: AppDefinition, key: string) =>
    messageCard(
      `Field ${key} added to ${def.name}`,
      `${def.fields.length} field${def.fields.length === 1 ? '' : 's'} now.`,
      'Good',
    );
  return oncePerCard(
    deps,
    activity,
    `add_field:${app.key}`,
    async () => {
      try {
        const def = await deps.baton.apps.addField(actor, app.key, field);
        return { card: added(def, String(field.key)), done: String(field.key) };
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        return {
          card: renderAddFieldForm(app, {
            values: data,
            errors: Object.keys(err.fields).length ? err.fields : { _: err.message },
          }),
        };
      }
    },
    async (key) => added(await deps.baton.apps.get(app.key), key),
  );
}
