import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { stringify } from 'yaml';
import { ValidationError } from '../../../src/core/errors.js';
import { selectedLabels } from '../../../src/core/records.js';
import type { AppDoc, User } from '../../../src/core/types.js';
import { isAdmin, requireAdmin, requireOperator } from '../../../src/core/users.js';
import {
  type AppDefinition,
  FIELD_TYPES,
  type FieldType,
  MAX_ID_PREFIX_LENGTH,
  MAX_KEY_LENGTH,
  MAX_NAME_LENGTH,
  optionValue,
} from '../../../src/recipes/schema.js';
import type { SafeHtml, WebKit } from '../kit.js';
import { editorPage as yamlEditor } from './recipes.js';
import {
  adminPage,
  bodyOf,
  changed,
  describedBy,
  errorFor,
  type FormBody,
  type FormErrors,
  field,
  formError,
  formErrorsOf,
  jsonRefusal,
  paramOf,
  plural,
  route,
  when,
} from './ui.js';

const TYPE_LABELS: Record<FieldType, string> = {
  text: 'Text (one line)',
  long_text: 'Long text',
  number: 'Number',
  date: 'Date',
  select: 'Choice (one)',
  multi_select: 'Choices (several)',
  user: 'Person',
  boolean: 'Yes / no',
  email: 'Email',
  url: 'Web address (URL)',
};

/** Lines of a textarea, trimmed, empty ones dropped. */
function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** The create-app form's input as the core's app definition (stages one per line). */
export function appInput(body: FormBody): Record<string, unknown> {
  const input: Record<string, unknown> = {
    key: field(body, 'key'),
    name: field(body, 'name'),
    stages: lines(field(body, 'stages')),
    fields: [],
  };
  const description = field(body, 'description');
  if (description) input.description = description;
  const prefix = field(body, 'id_prefix');
  if (prefix) input.id_prefix = prefix;
  return input;
}

/**
 * The add-field form's input as a field definition. Numbers, options and the default are
 * converted by type here (a form only sends text); what cannot be converted is a field error.
 */
export function fieldInput(body: FormBody): Record<string, unknown> {
  const errors: Record<string, string> = {};
  const type = field(body, 'type');
  const f: Record<string, unknown> = {
    key: field(body, 'key'),
    label: field(body, 'label'),
    type,
    required: field(body, 'required') !== '',
  };
  // Ticked: the field is left off the request forms (on_form: false), for a recipe to fill in.
  if (field(body, 'on_form') === 'false') f.on_form = false;
  const help = field(body, 'help');
  if (help) f.help = help;
  const isSelect = type === 'select' || type === 'multi_select';
  for (const bound of ['min', 'max'] as const) {
    const raw = field(body, bound);
    if (raw === '') continue;
    const n = Number(raw);
    if (!Number.isFinite(n)) errors[bound] = `${bound} must be a number`;
    else if (type !== 'number') errors[bound] = `${bound} only applies to number fields`;
    else f[bound] = n;
  }
  const options = lines(field(body, 'options')).map((l) => {
    const i = l.indexOf('|');
    if (i === -1) return l;
    const value = l.slice(0, i).trim();
    const label = l.slice(i + 1).trim();
    return label === '' ? value : { value, label };
  });
  if (options.length > 0) {
    if (isSelect) f.options = options;
    else errors.options = 'options only apply to choice fields';
  }
  const def = field(body, 'default');
  if (def !== '') {
    if (type === 'number') {
      const n = Number(def);
      if (Number.isFinite(n)) f.default = n;
      else errors.default = 'the default of a number field must be a number';
    } else if (type === 'boolean') {
      const v = def.toLowerCase();
      if (['true', 'yes', '1'].includes(v)) f.default = true;
      else if (['false', 'no', '0'].includes(v)) f.default = false;
      else errors.default = 'the default of a yes/no field is yes or no';
    } else if (type === 'multi_select') {
      f.default = def
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    } else f.default = def;
  }
  if (Object.keys(errors).length > 0) {
    throw new ValidationError(
      `The field is not valid: ${Object.entries(errors)
        .map(([k, m]) => `${k}: ${m}`)
        .join('; ')}`,
      errors,
    );
  }
  return f;
}

function textInput(
  kit: WebKit,
  values: FormBody,
  errors: FormErrors | undefined,
  name: string,
  label: string,
  options: {
    id: string;
    required?: boolean;
    hint?: string;
    pattern?: string;
    type?: string;
    maxlength?: number;
  },
): SafeHtml {
  const id = options.id;
  return kit.html`<label for="${id}">${label}${options.required ? kit.html` <span aria-hidden="true">*</span>` : ''}
<input id="${id}" name="${name}" type="${options.type ?? 'text'}" value="${field(values, name)}"${
    options.required ? kit.raw(' required') : ''
  }${options.pattern ? kit.html` pattern="${options.pattern}"` : ''}${
    options.maxlength ? kit.html` maxlength="${String(options.maxlength)}"` : ''
  }${describedBy(kit, errors, name, id)}>
${options.hint ? kit.html`<small class="muted">${options.hint}</small>` : ''}${errorFor(kit, errors, name, id)}</label>`;
}

function textArea(
  kit: WebKit,
  values: FormBody,
  errors: FormErrors | undefined,
  name: string,
  label: string,
  options: { id: string; hint?: string; rows?: number; required?: boolean },
): SafeHtml {
  const id = options.id;
  return kit.html`<label for="${id}">${label}${options.required ? kit.html` <span aria-hidden="true">*</span>` : ''}
<textarea id="${id}" name="${name}" rows="${options.rows ?? 3}"${options.required ? kit.raw(' required') : ''}${describedBy(
    kit,
    errors,
    name,
    id,
  )}>${field(values, name)}</textarea>
${options.hint ? kit.html`<small class="muted">${options.hint}</small>` : ''}${errorFor(kit, errors, name, id)}</label>`;
}

function createAppForm(kit: WebKit, req: FastifyRequest, values: FormBody, errors?: FormErrors): SafeHtml {
  const v = Object.keys(values).length > 0 ? values : { stages: 'Submitted\nApproved\nRejected' };
  return kit.html`<section class="card" aria-labelledby="create-app-h"><h2 id="create-app-h">Create an app</h2>
${formError(kit, errors, {
  key: { id: 'app-key', label: 'Key' },
  name: { id: 'app-name', label: 'Name' },
  description: { id: 'app-description', label: 'Description' },
  id_prefix: { id: 'app-prefix', label: 'Request id prefix' },
  stages: { id: 'app-stages', label: 'Stages' },
})}
<form method="post" action="/admin/apps" class="stack">${kit.csrfField(req)}
${textInput(kit, v, errors, 'key', 'Key', { id: 'app-key', required: true, pattern: '[a-z][a-z0-9\\-]*', maxlength: MAX_KEY_LENGTH, hint: 'Lower-case letters, digits and dashes, starting with a letter, e.g. time-off. It cannot be changed later.' })}
${textInput(kit, v, errors, 'name', 'Name', { id: 'app-name', required: true, maxlength: MAX_NAME_LENGTH })}
${textArea(kit, v, errors, 'description', 'Description', { id: 'app-description', rows: 2 })}
${textInput(kit, v, errors, 'id_prefix', 'Request id prefix', { id: 'app-prefix', maxlength: MAX_ID_PREFIX_LENGTH, hint: 'Upper-case letters and digits, e.g. PTO for PTO-42. Default: the key in upper case.' })}
${textArea(kit, v, errors, 'stages', 'Stages', { id: 'app-stages', rows: 4, required: true, hint: 'One per line, in order; the first is where new requests start.' })}
<div><button type="submit" class="button primary">Create app</button></div>
</form></section>`;
}

function listPage(
  kit: WebKit,
  req: FastifyRequest,
  reply: FastifyReply,
  user: User,
  apps: AppDoc[],
  form?: { values: FormBody; errors: FormErrors },
): FastifyReply {
  const rows = apps.map((a) => {
    const d = a.definition;
    return kit.html`<tr><td><a href="/admin/apps/${a._id}">${d.name}</a><br><code>${a._id}</code></td>
<td>${d.stages.join(' → ')}</td><td>${plural(d.fields.length, 'field')}</td><td>${a.source}</td><td>${when(kit, a.updated_at)}</td></tr>`;
  });
  const body = kit.html`<div class="page-head"><h1>Apps</h1></div>
${
  apps.length === 0
    ? kit.html`<p class="empty">No apps yet.${isAdmin(user) ? ' Create one below, or install a template pack from Recipes.' : ''}</p>`
    : kit.html`<div class="table-wrap"><table class="list"><caption class="muted">${plural(apps.length, 'app')}</caption>
<thead><tr><th scope="col">App</th><th scope="col">Stages</th><th scope="col">Fields</th><th scope="col">Source</th><th scope="col">Updated</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
}
${isAdmin(user) ? createAppForm(kit, req, form?.values ?? {}, form?.errors) : kit.html`<p class="muted">Only admins can create or change apps.</p>`}`;
  return adminPage(kit, req, reply, user, {
    title: 'Apps',
    section: 'apps',
    body,
    status: form ? 400 : 200,
  });
}

function addFieldForm(
  kit: WebKit,
  req: FastifyRequest,
  app: AppDefinition,
  values: FormBody,
  errors?: FormErrors,
): SafeHtml {
  const type = field(values, 'type') || 'text';
  const types = FIELD_TYPES.map(
    (t) => kit.html`<option value="${t}"${t === type ? kit.raw(' selected') : ''}>${TYPE_LABELS[t]}</option>`,
  );
  const required = field(values, 'required') !== '';
  const offForm = field(values, 'on_form') === 'false';
  return kit.html`<section class="card" aria-labelledby="add-field-h"><h2 id="add-field-h">Add a field</h2>
${formError(kit, errors, {
  key: { id: 'field-key', label: 'Key' },
  label: { id: 'field-label', label: 'Label' },
  type: { id: 'field-type', label: 'Type' },
  required: { id: 'field-required', label: 'Required' },
  help: { id: 'field-help', label: 'Help text' },
  default: { id: 'field-default', label: 'Default' },
  min: { id: 'field-min', label: 'Minimum' },
  max: { id: 'field-max', label: 'Maximum' },
  options: { id: 'field-options', label: 'Options' },
})}
<form method="post" action="/admin/apps/${app.key}/fields" class="stack">${kit.csrfField(req)}
${textInput(kit, values, errors, 'key', 'Key', { id: 'field-key', required: true, pattern: '[a-z][a-z0-9_]*', maxlength: MAX_KEY_LENGTH, hint: 'Lower-case letters, digits and underscores, e.g. start_date.' })}
${textInput(kit, values, errors, 'label', 'Label', { id: 'field-label', required: true })}
<label for="field-type">Type
<select id="field-type" name="type"${describedBy(kit, errors, 'type', 'field-type')}>${types}</select>${errorFor(kit, errors, 'type', 'field-type')}</label>
<label class="check" for="field-required"><input id="field-required" type="checkbox" name="required" value="on"${required ? kit.raw(' checked') : ''}> Required</label>
<label class="check" for="field-on-form"><input id="field-on-form" type="checkbox" name="on_form" value="false"${offForm ? kit.raw(' checked') : ''}> Not on the request form (a recipe fills it in)</label>
${textInput(kit, values, errors, 'help', 'Help text', { id: 'field-help', hint: 'Shown under the input on the form.' })}
${textInput(kit, values, errors, 'default', 'Default', { id: 'field-default', hint: 'Optional. Yes/no: yes or no; several choices: separated by commas; a date: YYYY-MM-DD.' })}
<fieldset><legend>Number fields</legend>
${textInput(kit, values, errors, 'min', 'Minimum', { id: 'field-min', type: 'text' })}
${textInput(kit, values, errors, 'max', 'Maximum', { id: 'field-max', type: 'text' })}</fieldset>
${textArea(kit, values, errors, 'options', 'Options (choice fields)', { id: 'field-options', rows: 4, hint: 'One per line; write value | Label to show a different label.' })}
<div><button type="submit" class="button primary">Add field</button></div>
</form></section>`;
}

function addStageForm(
  kit: WebKit,
  req: FastifyRequest,
  app: AppDefinition,
  values: FormBody,
  errors?: FormErrors,
): SafeHtml {
  const position = field(values, 'position');
  const positions = [
    kit.html`<option value="">At the end</option>`,
    ...app.stages.map(
      (s, i) =>
        kit.html`<option value="${i}"${position === String(i) ? kit.raw(' selected') : ''}>Before ${s}</option>`,
    ),
  ];
  return kit.html`<section class="card" aria-labelledby="add-stage-h"><h2 id="add-stage-h">Add a stage</h2>
${formError(kit, errors, { stage: { id: 'stage-name', label: 'Stage name' } })}
<form method="post" action="/admin/apps/${app.key}/stages" class="stack">${kit.csrfField(req)}
${textInput(kit, values, errors, 'stage', 'Stage name', { id: 'stage-name', required: true, maxlength: MAX_NAME_LENGTH })}
<label for="stage-position">Position <select id="stage-position" name="position">${positions}</select></label>
<div><button type="submit" class="button primary">Add stage</button></div>
</form></section>`;
}

function describeField(f: AppDefinition['fields'][number]): string {
  const parts: string[] = [];
  if (f.on_form === false) parts.push('not on the request form (set by recipes)');
  if (f.type === 'number') {
    if (f.min !== undefined) parts.push(`min ${f.min}`);
    if (f.max !== undefined) parts.push(`max ${f.max}`);
  }
  // Choices by the labels people pick on the form, with the value a recipe compares when it differs.
  if (f.options)
    parts.push(
      `options: ${f.options.map((o) => (typeof o === 'string' || o.label === o.value ? optionValue(o) : `${o.label} (${o.value})`)).join(', ')}`,
    );
  if (f.default !== undefined)
    parts.push(
      `default: ${f.options ? selectedLabels(f.options, f.default) : typeof f.default === 'boolean' ? (f.default ? 'Yes' : 'No') : JSON.stringify(f.default)}`,
    );
  return parts.join('; ');
}

async function editorPage(
  kit: WebKit,
  req: FastifyRequest,
  reply: FastifyReply,
  user: User,
  key: string,
  form?: { which: 'field' | 'stage'; values: FormBody; errors: FormErrors },
): Promise<FastifyReply> {
  const app = await kit.baton.apps.get(key);
  const notice = field(req.query as FormBody, 'added');
  const fields = app.fields.map(
    (
      f,
    ) => kit.html`<tr><td><code>${f.key}</code></td><td>${f.label}</td><td>${TYPE_LABELS[f.type] ?? f.type}</td>
<td>${f.required ? 'yes' : 'no'}</td><td>${describeField(f)}${f.help ? kit.html`<br><span class="muted">${f.help}</span>` : ''}</td></tr>`,
  );
  const body = kit.html`<div class="page-head"><h1>${app.name}</h1><p class="muted"><code>${app.key}</code>${
    app.description ? kit.html` — ${app.description}` : ''
  }</p></div>
${notice === 'field' ? kit.html`<p class="notice" role="status">Field added.</p>` : ''}${
  notice === 'stage' ? kit.html`<p class="notice" role="status">Stage added.</p>` : ''
}
<section aria-labelledby="stages-h"><h2 id="stages-h">Stages</h2><ol>${app.stages.map((s) => kit.html`<li>${s}</li>`)}</ol></section>
<section aria-labelledby="fields-h"><h2 id="fields-h">Fields</h2>
${
  app.fields.length === 0
    ? kit.html`<p class="empty">No fields yet.</p>`
    : kit.html`<div class="table-wrap"><table class="list"><thead><tr><th scope="col">Key</th><th scope="col">Label</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Details</th></tr></thead><tbody>${fields}</tbody></table></div>`
}</section>
${
  isAdmin(user)
    ? kit.html`${addFieldForm(kit, req, app, form?.which === 'field' ? form.values : {}, form?.which === 'field' ? form.errors : undefined)}
${addStageForm(kit, req, app, form?.which === 'stage' ? form.values : {}, form?.which === 'stage' ? form.errors : undefined)}`
    : kit.html`<p class="muted">Only admins can change apps.</p>`
}
<p>${isAdmin(user) ? kit.html`<a href="/admin/apps/${app.key}/edit">Edit as YAML</a> (rename, reorder or remove stages and fields) · ` : ''}<a href="/admin/apps">All apps</a></p>`;
  return adminPage(kit, req, reply, user, {
    title: app.name,
    section: 'apps',
    body,
    status: form ? 400 : 200,
  });
}

export function registerApps(app: FastifyInstance, kit: WebKit): void {
  app.get(
    '/admin/apps',
    route(kit, async (req, reply, user) => {
      requireOperator(user, 'use the admin pages');
      return listPage(kit, req, reply, user, await kit.baton.apps.list());
    }),
  );

  app.post(
    '/admin/apps',
    route(kit, async (req, reply, user) => {
      const body = bodyOf(req);
      try {
        const def = await kit.baton.apps.create(user, appInput(body));
        return changed(req, reply, `/admin/apps/${encodeURIComponent(def.key)}`, 201);
      } catch (err) {
        const errors = formErrorsOf(err);
        if (!errors) throw err;
        return (
          jsonRefusal(req, reply, err, errors) ??
          listPage(kit, req, reply, user, await kit.baton.apps.list(), { values: body, errors })
        );
      }
    }),
  );

  app.get(
    '/admin/apps/:key',
    route(kit, async (req, reply, user) => {
      requireOperator(user, 'use the admin pages');
      return editorPage(kit, req, reply, user, paramOf(req, 'key'));
    }),
  );

  app.get(
    '/admin/apps/:key/edit',
    route(kit, async (req, reply, user) => {
      requireAdmin(user, 'change apps');
      const key = paramOf(req, 'key');
      const def = await kit.baton.apps.get(key);
      const doc = (await kit.baton.apps.list()).find((a) => a._id === key);
      return yamlEditor(kit, req, reply, user, {
        text: stringify(def, { lineWidth: 0 }),
        name: def.name,
        ...(doc ? { source: doc.source } : {}),
        editing: `app:${key}`,
      });
    }),
  );

  app.post(
    '/admin/apps/:key/fields',
    route(kit, async (req, reply, user) => {
      // Before the form is read: its own checks would answer a plain user with the app's page.
      requireAdmin(user, 'change apps');
      const key = paramOf(req, 'key');
      const body = bodyOf(req);
      try {
        await kit.baton.apps.addField(user, key, fieldInput(body));
        return changed(req, reply, `/admin/apps/${encodeURIComponent(key)}?added=field`);
      } catch (err) {
        const errors = formErrorsOf(err, /^fields\.\d+\./);
        if (!errors) throw err;
        return (
          jsonRefusal(req, reply, err, errors) ??
          editorPage(kit, req, reply, user, key, { which: 'field', values: body, errors })
        );
      }
    }),
  );

  app.post(
    '/admin/apps/:key/stages',
    route(kit, async (req, reply, user) => {
      const key = paramOf(req, 'key');
      const body = bodyOf(req);
      const raw = field(body, 'position');
      const position = raw === '' ? undefined : Number.parseInt(raw, 10);
      try {
        await kit.baton.apps.addStage(
          user,
          key,
          field(body, 'stage'),
          position === undefined || Number.isNaN(position) ? undefined : position,
        );
        return changed(req, reply, `/admin/apps/${encodeURIComponent(key)}?added=stage`);
      } catch (err) {
        const errors = formErrorsOf(err, /^stages\.\d+/);
        if (!errors) throw err;
        if (errors.fields[''] !== undefined || errors.fields.stages !== undefined) {
          errors.fields.stage = errors.fields[''] ?? errors.fields.stages!;
        }
        return (
          jsonRefusal(req, reply, err, errors) ??
          editorPage(kit, req, reply, user, key, { which: 'stage', values: body, errors })
        );
      }
    }),
  );
}
