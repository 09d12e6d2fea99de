import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { ValidationError } from '../../src/core/errors.js';
import { displayValue } from '../../src/core/records.js';
import { RequestTable, type TableQuery } from '../../src/core/request-table.js';
import type { RequestDoc, User } from '../../src/core/types.js';
import { isOperator } from '../../src/core/users.js';
import type { AppDefinition } from '../../src/recipes/schema.js';
import { personByName } from './forms.js';
import { html } from './html.js';
import type { WebDeps } from './plugin.js';
import { fieldValue, stageBadge, time } from './render.js';
import { wantsJson } from './shell.js';

type Field = AppDefinition['fields'][number];
type Query = Record<string, string | string[] | undefined>;

const PAGE_SIZE = 50;
/** How many people a person filter lists as a select (as the request form does); more: an email box. */
const PEOPLE_SELECT_MAX = 300;
/** The most rows one export holds (a bigger table: filter it, or export in parts). */
const EXPORT_MAX = 250_000;

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The table's own query parameters (a field with one of these keys is filtered as `f.<key>` only). */
const RESERVED = new Set(['stage', 'q', 'sort', 'dir', 'after']);

/**
 * The table query from the page's query string (`f.<field>` are field filters; a field's bare
 * key, as in `?priority=high`, filters too rather than being ignored).
 */
function toQuery(q: Query, def: AppDefinition): TableQuery {
  const filters: Record<string, string> = {};
  for (const f of def.fields) {
    const value = one(q[f.key]);
    if (!RESERVED.has(f.key) && value) filters[f.key] = value;
  }
  for (const [k, v] of Object.entries(q)) {
    const value = one(v);
    if (k.startsWith('f.') && value) filters[k.slice(2)] = value;
  }
  const dir = one(q.dir);
  return {
    stage: one(q.stage) || undefined,
    q: one(q.q) || undefined,
    sort: one(q.sort) || undefined,
    dir: dir === 'asc' || dir === 'desc' ? dir : undefined,
    after: one(q.after) || undefined,
    filters,
  };
}

/** The query string of the current view, with some keys changed. */
function link(base: string, q: Query, changes: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...q, ...changes })) {
    const value = one(v as string | string[] | undefined);
    if (value) params.set(k, value);
  }
  const s = params.toString();
  return s ? `${base}?${s}` : base;
}

async function cell(deps: WebDeps, field: Field, value: unknown): Promise<string> {
  if (value === undefined || value === null || value === '') return '';
  if (field.type === 'user' && typeof value === 'string') return deps.baton.users.displayName(value);
  if (field.type === 'select' || field.type === 'multi_select') {
    const labels = new Map(
      (field.options ?? []).map((o) => (typeof o === 'string' ? [o, o] : [o.value, o.label])),
    );
    return (Array.isArray(value) ? value : [value]).map((v) => labels.get(String(v)) ?? String(v)).join(', ');
  }
  return displayValue(value);
}

/**
 * CSV-safe cell: quoted, and a leading = + - @ neutralised so spreadsheets do not run it as a
 * formula. A plain negative number ("-12.5") is not a formula and stays a number.
 */
function csvCell(s: string): string {
  const safe = /^[=+\-@\t\r]/.test(s) && !/^-\d+(\.\d+)?$/.test(s) ? `'${s}` : s;
  return `"${safe.replace(/"/g, '""')}"`;
}

export function registerTable(deps: WebDeps): void {
  const { app, baton, kit } = deps;
  const table = new RequestTable(baton);
  void table.ensureIndexes().catch((err: unknown) => deps.logger.error({ err }, 'web: table indexes'));

  /** A person filter typed as a name (more people than a list shows): the one person so named. */
  const byName = async (def: AppDefinition, query: TableQuery): Promise<TableQuery> => {
    const filters = { ...(query.filters ?? {}) };
    for (const f of def.fields) {
      const v = filters[f.key];
      if (f.type !== 'user' || !v) continue;
      const person = await personByName(baton, f.label, v);
      if (person && 'id' in person) filters[f.key] = person.id;
    }
    return { ...query, filters };
  };

  const loadApp = async (req: FastifyRequest<{ Params: { key: string } }>) => baton.apps.get(req.params.key);

  app.get<{ Params: { key: string }; Querystring: Query }>('/apps/:key', async (req, reply) => {
    const user = await kit.requireUser(req, reply);
    if (!user) return reply;
    try {
      const def = await loadApp(req);
      const q = req.query;
      const query = toQuery(q, def);
      // A filter the table cannot use (a hand-edited address: ?f.qty=abc) is shown at that filter,
      // its value kept, and left out of the rows shown; the other filters still apply.
      const invalid: Record<string, string> = {};
      let page: Awaited<ReturnType<typeof table.query>>;
      for (;;) {
        const filters = Object.fromEntries(
          Object.entries(query.filters ?? {}).filter(([k]) => !(k in invalid)),
        );
        try {
          page = await table.query(user, def.key, {
            ...(await byName(def, { ...query, filters })),
            limit: PAGE_SIZE,
          });
          break;
        } catch (err) {
          if (!(err instanceof ValidationError) || wantsJson(req)) throw err;
          const key = Object.keys(err.fields).find((k) => k in filters);
          if (key === undefined) throw err;
          invalid[key] = err.fields[key]!;
        }
      }
      const problem = (key: string) =>
        invalid[key] === undefined ? '' : html` aria-invalid="true" aria-describedby="filter-${key}-error"`;
      const problemText = (key: string) =>
        invalid[key] === undefined
          ? ''
          : html`<span class="field-error" id="filter-${key}-error">${invalid[key]}</span>`;
      const labelOf = (key: string) => def.fields.find((f) => f.key === key)?.label ?? key;
      const base = `/apps/${def.key}`;
      const columns: { key: string; label: string }[] = [
        { key: 'id', label: 'Request' },
        { key: 'stage', label: 'Stage' },
        ...def.fields.filter((f) => f.type !== 'long_text').map((f) => ({ key: f.key, label: f.label })),
        { key: 'requester', label: 'Requester' },
        { key: 'created', label: 'Filed' },
      ];
      // People columns hold user ids: sorting them would group, not order by name.
      const unsortable = new Set([
        'requester',
        ...def.fields.filter((f) => f.type === 'user').map((f) => f.key),
      ]);
      const header = columns.map((c) => {
        if (unsortable.has(c.key)) return html`<th scope="col">${c.label}</th>`;
        const active = page.sort === c.key;
        const nextDir = active && page.dir === 'asc' ? 'desc' : 'asc';
        return html`<th scope="col"${active ? html` aria-sort="${page.dir === 'asc' ? 'ascending' : 'descending'}"` : ''}><a href="${link(base, q, { sort: c.key, dir: nextDir, after: undefined })}">${c.label}${active ? (page.dir === 'asc' ? ' ▲' : ' ▼') : ''}</a></th>`;
      });
      const rows = await Promise.all(
        page.rows.map(async (r: RequestDoc) => {
          const cells = await Promise.all(
            def.fields
              .filter((f) => f.type !== 'long_text')
              .map(async (f) => html`<td>${fieldValue(f.type, await cell(deps, f, r.record[f.key]))}</td>`),
          );
          return html`<tr><td><a href="/requests/${r._id}">${r._id}</a></td><td>${stageBadge(r.stage)}</td>${cells}<td>${await baton.users.displayName(r.requester)}</td><td>${time(r.created_at)}</td></tr>`;
        }),
      );
      const filterable = def.fields.filter((f) => f.type !== 'long_text');
      // The table shows people by name, so a person filter offers them by name, not an id box.
      const people = filterable.some((f) => f.type === 'user')
        ? await baton.users.list({ limit: PEOPLE_SELECT_MAX + 1 })
        : [];
      // Requests left in a stage the app no longer has can still be found.
      const former = await table.formerStages(def);
      const exportHref = link(`${base}/export.csv`, q, { after: undefined });
      return kit.page(req, reply, user, {
        title: def.name,
        active: 'apps',
        status: Object.keys(invalid).length > 0 ? 400 : 200,
        body: html`<div class="page-head"><h1>${def.name}</h1>
  <div class="actions"><a class="button primary" href="${base}/new">New request</a><a class="button" href="${exportHref}" download>Export CSV</a></div></div>
<form method="get" action="${base}" class="filters card" role="search">
  <label>Search <input type="search" name="q" value="${query.q ?? ''}" placeholder="Id or words"></label>
  <label>Stage <select name="stage"><option value="">Any</option>${def.stages.map((s) => html`<option${s === query.stage ? html` selected` : ''}>${s}</option>`)}${former.map((s) => html`<option value="${s}"${s === query.stage ? html` selected` : ''}>${s} (no longer a stage)</option>`)}</select></label>
  ${filterable.map((f) => {
    const v = query.filters?.[f.key] ?? '';
    if (f.type === 'select' || f.type === 'multi_select') {
      const options = (f.options ?? []).map((o) => (typeof o === 'string' ? { value: o, label: o } : o));
      // A value the field no longer offers (older requests may hold it) is shown as the filter in use.
      const former = v !== '' && !options.some((o) => o.value === v);
      return html`<label>${f.label} <select name="f.${f.key}"${problem(f.key)}><option value="">Any</option>${options.map(
        ({ value, label }) =>
          html`<option value="${value}"${value === v ? html` selected` : ''}>${label}</option>`,
      )}${former ? html`<option value="${v}" selected>${v} (no longer an option)</option>` : ''}</select>${problemText(f.key)}</label>`;
    }
    if (f.type === 'user' && people.length <= PEOPLE_SELECT_MAX)
      return html`<label>${f.label} <select name="f.${f.key}"${problem(f.key)}><option value="">Any</option>${people.map(
        (p) =>
          html`<option value="${p._id}"${p._id === v || (p.email && p.email === v) ? html` selected` : ''}>${p.name}${p.email ? ` (${p.email})` : ''}</option>`,
      )}</select>${problemText(f.key)}</label>`;
    if (f.type === 'boolean')
      return html`<label>${f.label} <select name="f.${f.key}"${problem(f.key)}><option value="">Any</option><option value="true"${v === 'true' ? html` selected` : ''}>Yes</option><option value="false"${v === 'false' ? html` selected` : ''}>No</option></select>${problemText(f.key)}</label>`;
    // A value the browser's date or number input could not show (the error says what was typed) is shown as text.
    const type =
      invalid[f.key] !== undefined
        ? 'text'
        : f.type === 'date'
          ? 'date'
          : f.type === 'number'
            ? 'number'
            : 'text';
    return html`<label>${f.label} <input name="f.${f.key}" value="${v}" type="${type}"${f.type === 'number' ? html` step="any"` : ''}${f.type === 'user' ? html` placeholder="Name or email"` : ''}${problem(f.key)}>${problemText(f.key)}</label>`;
  })}
  ${page.sort !== 'created' ? html`<input type="hidden" name="sort" value="${page.sort}">` : ''}
  ${query.dir ? html`<input type="hidden" name="dir" value="${query.dir}">` : ''}
  <div class="actions"><button type="submit">Apply</button><a class="button" href="${base}">Clear</a></div>
</form>
${Object.entries(invalid).map(([k, m]) => html`<p class="error-text" role="alert">The ${labelOf(k)} filter is not applied: ${m.endsWith('.') ? m : `${m}.`}</p>`)}
<p class="muted" data-testid="total">${page.total} ${page.total === 1 ? 'request' : 'requests'}${
          isOperator(user) ? '' : ' — yours, and those with a task for you or your groups'
        }</p>
<div class="table-wrap"><table class="list">
<thead><tr>${header}</tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="${columns.length}" class="empty">No requests match.</td></tr>`}</tbody>
</table></div>
<nav class="pager" aria-label="Pages">
  ${query.after ? html`<a class="button" href="${link(base, q, { after: undefined })}">First page</a>` : ''}
  ${page.next ? html`<a class="button" rel="next" href="${link(base, q, { after: page.next })}">Next page</a>` : ''}
</nav>`,
      });
    } catch (err) {
      return kit.fail(req, reply, user, err);
    }
  });

  app.get<{ Params: { key: string }; Querystring: Query }>('/apps/:key/export.csv', async (req, reply) => {
    const user = await kit.requireUser(req, reply);
    if (!user) return reply;
    let def: AppDefinition;
    let query: TableQuery;
    try {
      def = await loadApp(req);
      query = await byName(def, toQuery(req.query, def));
      // Validate the query before the download starts (a bad filter is a 400, not a broken file).
      await table.query(user, def.key, { ...query, after: undefined, limit: 1 });
    } catch (err) {
      return kit.fail(req, reply, user, err);
    }
    const fields = def.fields;
    async function* lines(viewer: User): AsyncGenerator<string> {
      // A UTF-8 byte order mark first: without it Excel reads the file as the system's code page
      // and shows "ünï 日本" garbled (other tools skip it).
      yield `\uFEFF${['id', 'stage', ...fields.map((f) => f.label), 'requester', 'created_at', 'updated_at'].map(csvCell).join(',')}\r\n`;
      let after: string | undefined;
      let sent = 0;
      do {
        const page = await table.query(viewer, def.key, { ...query, after, limit: 1000 });
        let chunk = '';
        for (const r of page.rows) {
          const values = await Promise.all(fields.map((f) => cell(deps, f, r.record[f.key])));
          chunk += `${[
            r._id,
            r.stage,
            ...values,
            await baton.users.displayName(r.requester),
            r.created_at.toISOString(),
            r.updated_at.toISOString(),
          ]
            .map(csvCell)
            .join(',')}\r\n`;
        }
        yield chunk;
        sent += page.rows.length;
        after = page.next ?? undefined;
      } while (after && sent < EXPORT_MAX);
    }
    const stamp = new Date().toISOString().slice(0, 10);
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${def.key}-${stamp}.csv"`)
      .header('cache-control', 'no-store')
      .send(Readable.from(lines(user)));
  });
}
