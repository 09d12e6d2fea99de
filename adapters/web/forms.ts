import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConflictError, ValidationError } from '../../src/core/errors.js';
import { MAX_LONG_TEXT_LENGTH, MAX_TEXT_LENGTH, type User } from '../../src/core/types.js';
import { type AppDefinition, formFields } from '../../src/recipes/schema.js';
import { html } from './html.js';
import type { SafeHtml } from './kit.js';
import type { WebDeps } from './plugin.js';
import { inSentence } from './render.js';
import { wantsJson } from './shell.js';

type Field = AppDefinition['fields'][number];

/** How many people a user field lists as a select; more become a searchable text input. */
const USER_SELECT_MAX = 300;

function optionList(field: Field): { value: string; label: string }[] {
  return (field.options ?? []).map((o) => (typeof o === 'string' ? { value: o, label: o } : o));
}

function asList(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String).filter((x) => x !== '');
  if (typeof v === 'string' && v !== '') return [v];
  return [];
}

/** One field of the generated form, with its value and its error inline. */
function fieldControl(field: Field, value: unknown, error: string | undefined, people: User[]): SafeHtml {
  const id = `f-${field.key}`;
  const describedBy = [field.help ? `${id}-help` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  const aria = html`${describedBy ? html` aria-describedby="${describedBy}"` : ''}${error ? html` aria-invalid="true"` : ''}${field.required ? html` required aria-required="true"` : ''}`;
  const str =
    value === undefined || value === null ? '' : Array.isArray(value) ? value.join(', ') : String(value);
  let control: SafeHtml;
  switch (field.type) {
    case 'long_text':
      control = html`<textarea id="${id}" name="${field.key}" rows="4" maxlength="${MAX_LONG_TEXT_LENGTH}"${aria}>${str}</textarea>`;
      break;
    case 'number':
      control = html`<input id="${id}" name="${field.key}" type="number" step="any" inputmode="decimal"${
        field.min !== undefined ? html` min="${field.min}"` : ''
      }${field.max !== undefined ? html` max="${field.max}"` : ''} value="${str}"${aria}>`;
      break;
    case 'date':
      control = html`<input id="${id}" name="${field.key}" type="date" value="${str}"${aria}>`;
      break;
    case 'email':
      control = html`<input id="${id}" name="${field.key}" type="email" autocomplete="email" value="${str}"${aria}>`;
      break;
    case 'url':
      control = html`<input id="${id}" name="${field.key}" type="url" inputmode="url" placeholder="https://" value="${str}"${aria}>`;
      break;
    case 'select':
      control = html`<select id="${id}" name="${field.key}"${aria}>
  <option value=""${str === '' ? html` selected` : ''}>${field.required ? 'Choose…' : '—'}</option>
  ${optionList(field).map((o) => html`<option value="${o.value}"${o.value === str ? html` selected` : ''}>${o.label}</option>`)}
</select>`;
      break;
    case 'multi_select': {
      const chosen = new Set(asList(value));
      return html`<fieldset class="field${error ? ' has-error' : ''}"${describedBy ? html` aria-describedby="${describedBy}"` : ''}>
  <legend>${field.label}${field.required ? html` <span class="req" aria-hidden="true">*</span>` : ''}</legend>
  <input type="hidden" name="${field.key}" value="">
  <div class="checks">${optionList(field).map(
    // The first box carries the field's id: the error summary's link (#f-<key>) goes to it.
    (o, i) =>
      html`<label class="check"><input${i === 0 ? html` id="${id}"` : ''} type="checkbox" name="${field.key}" value="${o.value}"${chosen.has(o.value) ? html` checked` : ''}> ${o.label}</label>`,
  )}</div>
  ${field.help ? html`<p class="help" id="${id}-help">${field.help}</p>` : ''}
  ${error ? html`<p class="field-error" id="${id}-error">${error}</p>` : ''}
</fieldset>`;
    }
    case 'boolean':
      // A browser sends nothing for an unticked box, which would read as "not filled in" and
      // give the field its default again (a default of true could never be unticked). The
      // hidden "false" before the box is sent either way; a ticked box's "true" comes after
      // it and wins (fieldValues takes the last value). Never `required`: a box answers yes or
      // no, and the core takes either.
      return html`<div class="field${error ? ' has-error' : ''}">
  <input type="hidden" name="${field.key}" value="false">
  <label class="check"><input id="${id}" type="checkbox" name="${field.key}" value="true"${
    value === true || value === 'true' || value === 'on' ? html` checked` : ''
  }${describedBy ? html` aria-describedby="${describedBy}"` : ''}${error ? html` aria-invalid="true"` : ''}> ${field.label}</label>
  ${field.help ? html`<p class="help" id="${id}-help">${field.help}</p>` : ''}
  ${error ? html`<p class="field-error" id="${id}-error">${error}</p>` : ''}
</div>`;
    case 'user':
      if (people.length <= USER_SELECT_MAX) {
        control = html`<select id="${id}" name="${field.key}"${aria}>
  <option value=""${str === '' ? html` selected` : ''}>${field.required ? 'Choose a person…' : '—'}</option>
  ${people.map(
    (p) =>
      html`<option value="${p._id}"${p._id === str || (p.email && p.email === str) ? html` selected` : ''}>${p.name}${p.email ? ` (${p.email})` : ''}</option>`,
  )}
</select>`;
      } else {
        control = html`<input id="${id}" name="${field.key}" list="${id}-people" autocomplete="off" placeholder="Name or email" value="${str}"${aria}>
<datalist id="${id}-people">${people.slice(0, USER_SELECT_MAX).map((p) => html`<option value="${p.email ?? p._id}">${p.name}</option>`)}</datalist>`;
      }
      break;
    default:
      control = html`<input id="${id}" name="${field.key}" type="text" maxlength="${MAX_TEXT_LENGTH}" value="${str}"${aria}>`;
  }
  return html`<div class="field${error ? ' has-error' : ''}">
  <label for="${id}">${field.label}${field.required ? html` <span class="req" aria-hidden="true">*</span>` : ''}</label>
  ${control}
  ${field.help ? html`<p class="help" id="${id}-help">${field.help}</p>` : ''}
  ${error ? html`<p class="field-error" id="${id}-error">${error}</p>` : ''}
</div>`;
}

/** Default values for a new form: the app's defaults, and the requester's manager as approver. */
function initialValues(app: AppDefinition, user: User): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const f of app.fields) {
    if (f.default !== undefined) values[f.key] = f.default;
    else if (f.type === 'user' && /^(approver|manager)$/.test(f.key) && typeof user.manager === 'string')
      values[f.key] = user.manager;
  }
  return values;
}

/**
 * The app's field values from a posted form (other keys, such as the CSRF token, are left out).
 * A field off the form (`on_form: false`) posted all the same is passed on: the core refuses it,
 * naming the field, rather than dropping what a script meant to set.
 */
function fieldValues(app: AppDefinition, body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of app.fields) {
    const v = body[f.key];
    if (v === undefined) continue;
    if (f.type === 'multi_select') out[f.key] = asList(v);
    else out[f.key] = Array.isArray(v) ? v[v.length - 1] : v;
  }
  return out;
}

/**
 * A person typed by name where a user is asked for (a directory too large for a list): the id
 * of the one person so named, or a message when nobody or several are. Ids, emails and
 * `provider:id` pass through as typed (the core resolves those).
 */
export async function personByName(
  baton: WebDeps['baton'],
  label: string,
  typed: string,
): Promise<{ id: string } | { error: string } | null> {
  const text = typed.trim();
  if (text === '' || text.startsWith('group:')) return null;
  if (await baton.users.lookup(text).catch(() => null)) return null;
  const found = await baton.users.findByName(text);
  if (found.length === 1) return { id: found[0]!._id };
  if (found.length > 1)
    return { error: `${label}: several people match "${text}"; type more of the name, or their email` };
  return null;
}

/** How many recent form submissions are remembered (per process) to spot a second post of one form. */
const SUBMISSIONS_KEPT = 10_000;

/**
 * Each rendering of a request form carries a one-time `_submission` token. Posting the same
 * form twice (a double click, Back and Submit again, a retried post) files one request: the
 * second post is sent to the request the first one filed. The token is taken in the store with
 * the request (`requests.fileOnce`), so a post repeated after a restart or a crash, or reaching
 * another instance, files nothing more; posts of one process are also lined up here, newest
 * last, so a repeat waits for the first rather than finding it half filed.
 * Back to a submitted form loads it afresh (a new token) with the typed values restored, so
 * app.js puts back the token that was submitted from this address (sessionStorage).
 */
class Submissions {
  private readonly filed = new Map<string, Promise<string | null>>();

  /** Runs `file` once per token; a repeat waits for the first and gets its request id. */
  async once(
    key: string,
    file: () => Promise<{ id: string; repeat: boolean }>,
  ): Promise<{ id: string; repeat: boolean }> {
    const earlier = this.filed.get(key);
    if (earlier) {
      const id = await earlier;
      if (id) return { id, repeat: true };
    }
    let settle!: (id: string | null) => void;
    this.filed.set(
      key,
      new Promise((resolve) => {
        settle = resolve;
      }),
    );
    if (this.filed.size > SUBMISSIONS_KEPT) this.filed.delete(this.filed.keys().next().value as string);
    try {
      const filed = await file();
      settle(filed.id);
      return filed;
    } catch (err) {
      // Nothing was filed (e.g. a validation error): the corrected form may use the token again.
      this.filed.delete(key);
      settle(null);
      throw err;
    }
  }
}

function submissionToken(body: Record<string, unknown>): string {
  const v = body._submission;
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' && /^[A-Za-z0-9_-]{16,64}$/.test(s) ? s : '';
}

export function registerForms(deps: WebDeps): void {
  const { app, baton, kit } = deps;
  const submissions = new Submissions();

  const renderForm = async (
    req: FastifyRequest,
    reply: FastifyReply,
    user: User,
    def: AppDefinition,
    values: Record<string, unknown>,
    error?: ValidationError,
    submission = randomBytes(16).toString('base64url'),
  ) => {
    // Fields a recipe sets later (`on_form: false`) are not asked.
    const fields = formFields(def);
    const people = fields.some((f) => f.type === 'user')
      ? await baton.users.list({ limit: USER_SELECT_MAX + 1 })
      : [];
    // Too many people for a list: a text box, which shows a chosen person by email (or name).
    if (people.length > USER_SELECT_MAX) {
      values = { ...values };
      for (const f of def.fields) {
        const v = values[f.key];
        if (f.type !== 'user' || typeof v !== 'string' || v === '' || v.includes('@')) continue;
        const person = await baton.users.find(v).catch(() => null);
        if (person) values[f.key] = person.email ?? person.name;
      }
    }
    const errors = error?.fields ?? {};
    const stray = error ? Object.entries(errors).filter(([k]) => !fields.some((f) => f.key === k)) : [];
    return kit.page(req, reply, user, {
      title: `New ${inSentence(def.name)}`,
      active: 'apps',
      status: error ? 400 : 200,
      body: html`<div class="narrow">
<p class="crumbs"><a href="/apps/${def.key}">${def.name}</a></p>
<h1>New ${inSentence(def.name)}</h1>
${def.description ? html`<p class="muted">${def.description}</p>` : ''}
${
  error
    ? html`<div class="error-summary" role="alert" tabindex="-1" id="error-summary"><strong>Please fix ${Object.keys(errors).length === 1 ? 'this' : 'these'}:</strong><ul>${Object.entries(
        errors,
      ).map(([k, m]) =>
        fields.some((f) => f.key === k) ? html`<li><a href="#f-${k}">${m}</a></li>` : html`<li>${m}</li>`,
      )}</ul>${Object.keys(errors).length === 0 ? html`<p>${error.message}</p>` : ''}</div>`
    : ''
}
<form method="post" action="/apps/${def.key}/new" class="card form" novalidate data-submission>
  ${kit.csrfField(req)}<input type="hidden" name="_submission" value="${submission}">
  ${fields.map((f) => fieldControl(f, values[f.key], errors[f.key], people))}
  ${stray.length ? html`<p class="field-error">${stray.map(([, m]) => m).join('; ')}</p>` : ''}
  <div class="actions"><button type="submit" class="primary">Submit request</button><a class="button" href="/">Cancel</a></div>
</form></div>`,
    });
  };

  app.get<{ Params: { key: string } }>('/apps/:key/new', async (req, reply) => {
    const user = await kit.requireUser(req, reply);
    if (!user) return reply;
    try {
      const def = await baton.apps.get(req.params.key);
      return renderForm(req, reply, user, def, initialValues(def, user));
    } catch (err) {
      return kit.fail(req, reply, user, err);
    }
  });

  app.post<{ Params: { key: string } }>('/apps/:key/new', async (req, reply) => {
    const user = await kit.requireUser(req, reply);
    if (!user) return reply;
    let def: AppDefinition;
    try {
      def = await baton.apps.get(req.params.key);
    } catch (err) {
      return kit.fail(req, reply, user, err);
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    const values = fieldValues(def, body);
    const typed = { ...values };
    const token = submissionToken(body);
    try {
      // A person typed by name (more people than a list shows) is filed as that person.
      const ambiguous: Record<string, string> = {};
      for (const f of def.fields) {
        const v = values[f.key];
        if (f.type !== 'user' || typeof v !== 'string') continue;
        const person = await personByName(baton, f.label, v);
        if (person && 'id' in person) values[f.key] = person.id;
        else if (person) ambiguous[f.key] = person.error;
      }
      if (Object.keys(ambiguous).length > 0)
        throw new ValidationError(`Please fix: ${Object.values(ambiguous).join('; ')}.`, ambiguous);
      // The form started with the fields' defaults: one the person cleared stays blank.
      const options = { formShowedDefaults: true };
      const fileOnce = async (key: string) => {
        // The same form's first post is being filed right now (another instance): wait for it.
        const deadline = Date.now() + 5000;
        for (;;) {
          const once = await baton.requests.fileOnce(user, def.key, values, key, options);
          if (once) return { id: once.request._id, repeat: once.repeat };
          if (Date.now() > deadline)
            throw new ConflictError(
              'This form is already being submitted: its request shows under your requests in a moment.',
            );
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      };
      const key = `${user._id}:${def.key}:${token}`;
      const { id, repeat } = token
        ? await submissions.once(key, () =>
            fileOnce(`web:form:${createHash('sha256').update(key).digest('base64url')}`),
          )
        : { id: (await baton.requests.file(user, def.key, values, options))._id, repeat: false };
      // A script or API client (JSON asked for) gets JSON, as for every error below.
      if (wantsJson(req))
        return reply.status(repeat ? 200 : 201).send({ ok: true, id, url: `/requests/${id}`, repeat });
      return reply.redirect(`/requests/${encodeURIComponent(id)}`, 303);
    } catch (err) {
      if (err instanceof ValidationError && !wantsJson(req))
        return renderForm(req, reply, user, def, typed, err, token || undefined);
      return kit.fail(req, reply, user, err);
    }
  });
}
