import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConflictError, isBatonError, ValidationError } from '../../../src/core/errors.js';
import type { User } from '../../../src/core/types.js';
import { UnsafeInputError } from '../../../src/store/safe.js';
import type { SafeHtml, WebKit } from '../kit.js';
import { wantsJson } from '../shell.js';

/** A handler of an admin page: the signed-in user is resolved; thrown errors become error pages. */
export type AdminHandler = (req: FastifyRequest, reply: FastifyReply, user: User) => Promise<unknown>;

export function route(kit: WebKit, fn: AdminHandler) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const user = await kit.requireUser(req, reply);
    if (!user) return reply;
    try {
      return await fn(req, reply, user);
    } catch (err) {
      // Input the store refuses (an empty or `$`-prefixed id, …) is the sender's mistake: 400, not 500.
      return kit.fail(
        req,
        reply,
        user,
        err instanceof UnsafeInputError ? new ValidationError(err.message) : err,
      );
    }
  };
}

/** Form fields as parsed by the shell (a repeated key arrives as an array: the first one counts). */
export type FormBody = Record<string, unknown>;

export function bodyOf(req: FastifyRequest): FormBody {
  const body = req.body;
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as FormBody) : {};
}

/** A form or query value as a trimmed string ('' when absent). */
export function field(body: FormBody, key: string): string {
  const v = body[key];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? first.trim() : '';
}

export function paramOf(req: FastifyRequest, key: string): string {
  const p = req.params as Record<string, unknown> | undefined;
  const v = p?.[key];
  return typeof v === 'string' ? v : '';
}

/** Errors a form shows next to its inputs: `form` is the message above the form. */
export interface FormErrors {
  form?: string;
  fields: Record<string, string>;
}

/**
 * A core refusal of a form's input (validation, conflict) as inline errors, or null for
 * anything else (forbidden, not found, internal: those are error pages). `prefix` strips a
 * path such as `fields.3.` so that errors land on the form's own inputs.
 */
export function formErrorsOf(err: unknown, prefix?: RegExp): FormErrors | null {
  if (err instanceof ValidationError) {
    const fields: Record<string, string> = {};
    for (const [path, message] of Object.entries(err.fields)) {
      const key = (prefix ? path.replace(prefix, '') : path).split('.')[0]!;
      fields[key] ??= message;
    }
    return { form: err.message, fields };
  }
  if (err instanceof ConflictError) return { form: err.message, fields: {} };
  if (err instanceof UnsafeInputError) return { form: err.message, fields: {} };
  return null;
}

/**
 * A refused form to a client that asked for JSON (as the request routes answer): the core's code
 * and status, the message, and the errors by the form's own input names. Null for a browser,
 * which gets the form again with the errors beside its inputs.
 */
export function jsonRefusal(
  req: FastifyRequest,
  reply: FastifyReply,
  err: unknown,
  errors: FormErrors,
  extra: Record<string, unknown> = {},
): FastifyReply | null {
  if (!wantsJson(req)) return null;
  const [status, code] = isBatonError(err) ? [err.status, err.code] : [400, 'baton.validation_failed'];
  return reply
    .status(status)
    .send({ error: code, message: errors.form ?? '', fields: errors.fields, ...extra });
}

/** Where a change went: a redirect for a browser, `{ ok, url }` for a client that asked for JSON. */
export function changed(req: FastifyRequest, reply: FastifyReply, url: string, status = 200): FastifyReply {
  if (wantsJson(req)) return reply.status(status).send({ ok: true, url });
  return reply.redirect(url, 303);
}

/** The ids of an input and its error message, for aria-describedby. */
export function errorFor(kit: WebKit, errors: FormErrors | undefined, name: string, id: string): SafeHtml {
  const message = errors?.fields[name];
  return message ? kit.html`<p class="field-error" id="${id}-error">${message}</p>` : kit.html``;
}

export function describedBy(kit: WebKit, errors: FormErrors | undefined, name: string, id: string): SafeHtml {
  return errors?.fields[name] ? kit.html` aria-invalid="true" aria-describedby="${id}-error"` : kit.html``;
}

/**
 * The message above a refused form. Given the form's inputs (name → id and label), errors that
 * belong to inputs are listed by the input's label, each linked to it, as the request form's
 * summary does, instead of the core's one-line summary (which names paths such as `fields.3.min`).
 */
export function formError(
  kit: WebKit,
  errors: FormErrors | undefined,
  inputs?: Record<string, { id: string; label: string }>,
): SafeHtml {
  const entries = Object.entries(errors?.fields ?? {});
  if (inputs && entries.length > 0) {
    const items = entries.map(([name, message]) => {
      const input = inputs[name];
      return input
        ? kit.html`<li><a href="#${input.id}">${input.label}: ${message}</a></li>`
        : kit.html`<li>${message}</li>`;
    });
    return kit.html`<div class="form-error" role="alert"><strong>Please fix ${entries.length === 1 ? 'this' : 'these'}:</strong><ul>${items}</ul></div>`;
  }
  return errors?.form ? kit.html`<div class="form-error" role="alert">${errors.form}</div>` : kit.html``;
}

/** A one-button POST form (start, stop, rerun, remove). */
export function actionButton(
  kit: WebKit,
  req: FastifyRequest,
  action: string,
  label: string,
  options: { style?: 'primary' | 'danger'; hidden?: Record<string, string>; describedBy?: string } = {},
): SafeHtml {
  const hidden = Object.entries(options.hidden ?? {}).map(
    ([k, v]) => kit.html`<input type="hidden" name="${k}" value="${v}">`,
  );
  const cls = options.style ? `button ${options.style}` : 'button';
  return kit.html`<form method="post" action="${action}" class="inline">${kit.csrfField(req)}${hidden}<button type="submit" class="${cls}"${
    options.describedBy ? kit.html` aria-describedby="${options.describedBy}"` : ''
  }>${label}</button></form>`;
}

const SECTIONS = [
  { key: 'overview', label: 'Overview', href: '/admin' },
  { key: 'apps', label: 'Apps', href: '/admin/apps' },
  { key: 'recipes', label: 'Recipes', href: '/admin/recipes' },
  { key: 'jobs', label: 'Jobs', href: '/admin/jobs' },
  { key: 'groups', label: 'Groups', href: '/admin/groups' },
  { key: 'roles', label: 'Roles', href: '/admin/roles' },
] as const;

export type Section = (typeof SECTIONS)[number]['key'];

/** Styles of the admin and dashboard pages beyond the shell's stylesheet (small; inline styles are allowed by the portal's CSP). */
export const ADMIN_CSS = `
.visually-hidden{position:absolute!important;width:1px;height:1px;margin:-1px;padding:0;border:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.admin .table-wrap{position:relative}
.admin-nav{display:flex;flex-wrap:wrap;gap:.25rem;margin:0 0 1rem;padding:0;list-style:none}
.admin-nav a{display:inline-block;padding:.3rem .65rem;border-radius:6px;text-decoration:none}
.admin-nav a[aria-current="page"]{background:#e5eaff;font-weight:600}
.state{display:inline-block;padding:0 .5rem;border-radius:999px;font-size:.85em;border:1px solid currentColor;white-space:nowrap}
.state-running,.state-completed{color:var(--good,#2b8a3e)}.state-stopped,.state-waiting{color:var(--warn,#b35c00)}
.state-invalid,.state-failed{color:var(--bad,#c92a2a)}.state-skipped,.state-cancelled,.state-expired{color:var(--muted,#5c6475)}
.problem,.form-error{color:var(--bad,#c92a2a)}
.form-error{border:2px solid var(--bad,#c92a2a);border-radius:8px;padding:.5rem .75rem;margin:.5rem 0;background:#fff5f5}
.notice{border:1px solid var(--good,#2b8a3e);border-radius:8px;padding:.5rem .75rem;margin:.5rem 0;background:#ebfbee}
.admin section.card{margin:1.25rem 0}
.admin form.stack{display:grid;gap:.8rem;max-width:36rem}
.admin form.stack small{display:block;font-weight:400}
.admin form.stack fieldset{display:grid;gap:.5rem;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr))}
.admin form.stack fieldset legend{grid-column:1/-1}
.admin table.list td.wrap,.admin table.list td ul.problems,.admin table.list td .problem{white-space:normal;min-width:16rem}
.admin table.jobs td{white-space:normal}.admin table.jobs td:first-child,.admin table.jobs td.recipe{min-width:7rem}
.admin table.jobs td.wrap{min-width:10rem}.admin table.jobs td.error{min-width:13rem}.admin table.jobs td.rerun{white-space:nowrap}
.admin table.jobs td.error .problem{min-width:0}
.admin ul.problems{margin:0;padding-left:1rem}
.admin ul.values{margin:0;padding:0;list-style:none}
.admin table.list caption{text-align:left;padding:.4rem .7rem;color:var(--muted,#5c6475)}
.admin dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}
.admin dt{font-weight:600}.admin dd{margin:0}
.admin pre.source{overflow-x:auto;padding:.5rem 0;background:var(--card,#fff);border:1px solid var(--line,#dde1e8);border-radius:8px;line-height:1.4;font-size:.9rem}
.admin pre.source span.line{display:block;padding:0 .75rem}
.admin pre.source span.bad{background:#ffe3e3}
.admin pre.source span.line:target{outline:2px solid var(--bad,#c92a2a)}
.admin pre.source span.ln{display:inline-block;min-width:3ch;margin-right:1ch;color:var(--muted,#5c6475);text-align:right;user-select:none}
.admin .cards{display:grid;gap:1rem;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr))}
.admin .cards h2{margin-top:0}.admin .cards section.card{margin:0}
.admin .stat{font-size:1.8rem;font-weight:700;margin:.2rem 0}
.admin ul.members li{margin:.3rem 0}
.admin form.row-form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}
.admin form.row-form label{margin:0;min-width:0;max-width:100%}
.admin form.row-form select{width:auto;max-width:100%}
.admin td form.row-form{flex-wrap:nowrap}
/* Jobs: below the width eight columns need, each job is a block of labelled lines. */
@media (max-width:1040px){.admin table.jobs,.admin table.jobs tbody,.admin table.jobs tr,.admin table.jobs td{display:block}
.admin table.jobs thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
.admin table.jobs tr{padding:.35rem 0;border-bottom:1px solid var(--line,#dde1e8)}
.admin table.jobs caption{display:block}
.admin table.jobs td{position:relative;border:0;padding:.2rem .6rem .2rem 7.8rem;white-space:normal;min-width:0;overflow-wrap:anywhere}
.admin table.jobs td::before{content:attr(data-label);position:absolute;left:.6rem;width:6.8rem;white-space:nowrap;font-size:.9em;font-weight:600;color:var(--muted,#5c6475)}
.admin table.jobs td:empty{display:none}
.admin table.jobs td.rerun{padding-left:.6rem}}
@media (max-width:760px){.admin dl{grid-template-columns:1fr}.admin table.list td ul.problems,.admin table.list td .problem{min-width:12rem}}
`;

/** The admin pages' frame: section navigation and the page's own styles. */
export function adminBody(kit: WebKit, active: Section, content: SafeHtml): SafeHtml {
  const nav = SECTIONS.map(
    (s) =>
      kit.html`<li><a href="${s.href}"${s.key === active ? kit.raw(' aria-current="page"') : ''}>${s.label}</a></li>`,
  );
  return kit.html`<style>${kit.raw(ADMIN_CSS)}</style><div class="admin"><nav aria-label="Admin"><ul class="admin-nav">${nav}</ul></nav>${content}</div>`;
}

export function adminPage(
  kit: WebKit,
  req: FastifyRequest,
  reply: FastifyReply,
  user: User,
  options: { title: string; section: Section; body: SafeHtml; status?: number },
): FastifyReply {
  return kit.page(req, reply, user, {
    title: options.title,
    active: 'admin',
    status: options.status ?? 200,
    body: adminBody(kit, options.section, options.body),
  });
}

/** A recipe step's action in words (the log's `assign_task` is a recipe file's key). */
export const ACTION_WORDS: Record<string, string> = {
  assign_task: 'Assign a task',
  change_stage: 'Change the stage',
  update_record: 'Update the request',
  notify: 'Notify',
  wait: 'Wait',
  stop: 'Stop',
  if: 'Condition',
};

/** A state as people read it: "Failed", not the stored "failed". */
export function stateText(state: string): string {
  return state.charAt(0).toUpperCase() + state.slice(1);
}

export function stateBadge(kit: WebKit, state: string): SafeHtml {
  return kit.html`<span class="state state-${state}">${stateText(state)}</span>`;
}

/** A date for people (UTC, minutes) in a <time> element. */
export function when(kit: WebKit, d: Date | undefined | null): SafeHtml {
  if (!d) return kit.html`<span class="muted">—</span>`;
  const iso = d.toISOString();
  return kit.html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}

/** A duration for people: 850 ms, 12 s, 4 min, 3 h 5 min, 2 d 4 h. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.round(ms / 60_000);
  if (m < 60) return `${m} min`;
  const h = Math.floor(ms / 3_600_000);
  if (h < 48) {
    const rest = Math.round((ms - h * 3_600_000) / 60_000);
    return rest ? `${h} h ${rest} min` : `${h} h`;
  }
  const d = Math.floor(ms / 86_400_000);
  const rest = Math.round((ms - d * 86_400_000) / 3_600_000);
  return rest ? `${d} d ${rest} h` : `${d} d`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
