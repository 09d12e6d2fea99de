import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ConflictError, ValidationError } from '../../../src/core/errors.js';
import { TEMPLATES_DIR } from '../../../src/core/recipes.js';
import type { Problem, RecipeDoc, User } from '../../../src/core/types.js';
import { isAdmin, requireAdmin } from '../../../src/core/users.js';
import { parseDefinitionFile } from '../../../src/recipes/loader.js';
import { isConditionalStep, type Step } from '../../../src/recipes/schema.js';
import { fileForPeople, pathInside, shortFile, triggerText } from '../../commands/recipes.js';
import type { SafeHtml, WebKit } from '../kit.js';
import { wantsJson } from '../shell.js';
import {
  ACTION_WORDS,
  actionButton,
  adminPage,
  bodyOf,
  changed,
  field,
  paramOf,
  plural,
  route,
  stateBadge,
  when,
} from './ui.js';

/** A problem for people: its file as the Source line names it (the path inside RECIPES_DIR), line, message. */
export function problemText(kit: WebKit, p: Problem): string {
  return `${fileForPeople(kit.baton, p.file)}:${p.line}: ${p.message}`;
}

function problemList(kit: WebKit, r: RecipeDoc, link: boolean): SafeHtml {
  if (r.problems.length === 0) return kit.html``;
  const items = r.problems.map((p) => {
    const text = problemText(kit, p);
    const cls = p.severity === 'error' ? 'problem' : 'muted';
    return kit.html`<li class="${cls}">${p.severity === 'warning' ? 'warning: ' : ''}${
      link ? kit.html`<a href="#L${p.line}">${text}</a>` : text
    }</li>`;
  });
  return kit.html`<ul class="problems">${items}</ul>`;
}

/**
 * A recipe's steps as nested lists: each step by its id (if it has one) and what it does, and
 * under each condition the steps of its then and else branches (a recipe's work is often all
 * after an approval's condition).
 */
function stepList(kit: WebKit, steps: Step[]): SafeHtml {
  return kit.html`<ol class="steps">${steps.map((s) => {
    const id = s.id ? kit.html`<code>${s.id}</code> ` : '';
    if (!isConditionalStep(s)) return kit.html`<li>${id}${ACTION_WORDS[s.action] ?? s.action}</li>`;
    const branch = (name: string, list: Step[] | undefined) =>
      list?.length ? kit.html`<li>${name}: ${stepList(kit, list)}</li>` : '';
    return kit.html`<li>${id}If <code>${s.if}</code><ul class="branches">${branch('then', s.then)}${branch('else', s.else)}</ul></li>`;
  })}</ol>`;
}

/** Start or Stop, as a plain form: the recipe's state decides which. */
function stateAction(
  kit: WebKit,
  req: FastifyRequest,
  r: RecipeDoc,
  from: 'list' | 'detail' = 'list',
): SafeHtml {
  const base = `/admin/recipes/${encodeURIComponent(r.name)}`;
  const hidden: Record<string, string> = from === 'detail' ? { back: 'detail' } : {};
  if (r.state === 'running')
    return actionButton(kit, req, `${base}/stop`, 'Stop', { describedBy: `recipe-${r.name}`, hidden });
  if (r.state === 'stopped')
    return actionButton(kit, req, `${base}/start`, 'Start', {
      style: 'primary',
      describedBy: `recipe-${r.name}`,
      hidden,
    });
  return kit.html`<span class="muted">fix to start</span>`;
}

/** What starts a recipe, in words: "When a Gear request is filed" (the app by its name). */
async function trigger(kit: WebKit, r: RecipeDoc): Promise<string> {
  return (await triggerText(kit.baton, r)) ?? '—';
}

/** Where a recipe comes from, in words, with its file: "From the recipes folder (gear.yaml)". */
function source(kit: WebKit, r: RecipeDoc): SafeHtml {
  if (r.source === 'store') return kit.html`Written in Baton (Admin → Recipes)`;
  const inFolder = (dir: string | undefined) => pathInside(dir, r.file);
  if (r.source === 'pack') {
    const rel = inFolder(TEMPLATES_DIR);
    const pack = rel?.split('/')[0];
    return kit.html`From the template pack${pack ? ` ${pack}` : ''}${r.file ? kit.html` (<code>${rel ?? shortFile(r.file)}</code>)` : ''}`;
  }
  const file = r.file ? (inFolder(kit.baton.recipes.folder) ?? shortFile(r.file)) : undefined;
  return kit.html`From the recipes folder${file ? kit.html` (<code>${file}</code>)` : ''}`;
}

const NOTICES: Record<string, string> = {
  saved: 'Recipe saved.',
  renamed: 'Saved as a new recipe.',
  started: 'Recipe started.',
  stopped: 'Recipe stopped: new requests no longer start it; running jobs go on.',
};

async function listPage(
  kit: WebKit,
  req: FastifyRequest,
  reply: FastifyReply,
  user: User,
  extra?: { notice?: SafeHtml; error?: string; status?: number },
): Promise<FastifyReply> {
  const recipes = await kit.baton.recipes.list(user);
  const q = req.query as Record<string, unknown>;
  const done = field(q, 'done');
  const rows = await Promise.all(
    recipes.map(
      async (
        r,
      ) => kit.html`<tr data-recipe="${r.name}"><td id="recipe-${r.name}"><a href="/admin/recipes/${encodeURIComponent(r.name)}">${r.name}</a></td>
<td>${stateBadge(kit, r.state)}</td><td class="wrap">${await trigger(kit, r)}</td><td class="wrap">${source(kit, r)}</td>
<td>${problemList(kit, r, false)}</td><td>${stateAction(kit, req, r)}</td></tr>`,
    ),
  );
  const packs = kit.baton.recipes.listPacks();
  const installed = field(q, 'installed');
  const notice =
    extra?.notice ??
    (NOTICES[done]
      ? kit.html`<p class="notice" role="status">${NOTICES[done]}</p>`
      : packs.includes(installed)
        ? kit.html`<p class="notice" role="status">Template pack ${installed} installed.</p>`
        : '');
  const body = kit.html`<div class="page-head"><h1>Recipes</h1>${
    isAdmin(user)
      ? kit.html`<div class="actions"><a class="button" href="/admin/recipes/new">New recipe</a></div>`
      : ''
  }</div>
${notice}${extra?.error ? kit.html`<div class="form-error" role="alert">${extra.error}</div>` : ''}
${
  recipes.length === 0
    ? kit.html`<p class="empty">No recipes installed.</p>`
    : kit.html`<div class="table-wrap"><table class="list"><caption class="muted">${plural(recipes.length, 'recipe')}</caption>
<thead><tr><th scope="col">Recipe</th><th scope="col">State</th><th scope="col">Trigger</th><th scope="col">Source</th><th scope="col">Problems</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>${rows}</tbody></table></div>`
}
${
  isAdmin(user)
    ? kit.html`<section class="card" aria-labelledby="packs-h"><h2 id="packs-h">Install a template pack</h2>
<p class="muted">A pack is an app and its recipes, shipped with Baton. Installing one again replaces its app and recipes with the shipped version (a recipe you stopped stays stopped).</p>
${
  packs.length === 0
    ? kit.html`<p class="empty">No template packs are available.</p>`
    : kit.html`<form method="post" action="/admin/recipes/install" class="row-form">${kit.csrfField(req)}
<label for="pack">Pack <select id="pack" name="pack">${packs.map((p) => kit.html`<option value="${p}">${p}</option>`)}</select></label>
<button type="submit" class="button primary">Install</button></form>`
}</section>`
    : ''
}`;
  return adminPage(kit, req, reply, user, {
    title: 'Recipes',
    section: 'recipes',
    body,
    status: extra?.status ?? 200,
  });
}

/** The recipe's source with line numbers; lines with problems are marked and can be linked to (#L9). */
function sourceView(kit: WebKit, r: RecipeDoc): SafeHtml {
  if (!r.yaml) return kit.html`<p class="muted">The source of this recipe is not stored.</p>`;
  const bad = new Set(r.problems.map((p) => p.line));
  const lines = r.yaml.replace(/\n$/, '').split('\n');
  const out = lines.map(
    (l, i) =>
      kit.html`<span class="line${bad.has(i + 1) ? ' bad' : ''}" id="L${i + 1}"><span class="ln" aria-hidden="true">${i + 1}</span>${l}</span>`,
  );
  return kit.html`<pre class="source" tabindex="0" aria-label="Source of ${r.name}"><code>${out}</code></pre>`;
}

async function detailPage(
  kit: WebKit,
  req: FastifyRequest,
  reply: FastifyReply,
  user: User,
  name: string,
): Promise<FastifyReply> {
  const r = await kit.baton.recipes.get(user, name);
  const jobs = await kit.baton.recipes.listJobs(user, { recipe: r.name, limit: 10 });
  const steps = r.definition?.steps ?? [];
  const q = req.query as Record<string, unknown>;
  const done = field(q, 'done');
  const from = field(q, 'from');
  const notice =
    done === 'renamed' && from
      ? `Saved as a new recipe; ${from} was stopped (it stays installed: start it again from Recipes, or keep it stopped).`
      : NOTICES[done];
  const body = kit.html`<div class="page-head"><h1 id="recipe-${r.name}">${r.name}</h1>
<p>State: ${stateBadge(kit, r.state)} ${stateAction(kit, req, r, 'detail')}</p></div>
${notice ? kit.html`<p class="notice" role="status">${notice}</p>` : ''}
${r.definition?.description ? kit.html`<p>${r.definition.description}</p>` : ''}
<dl><dt>Trigger</dt><dd>${await trigger(kit, r)}</dd><dt>Source</dt><dd>${source(kit, r)}</dd>
<dt>Updated</dt><dd>${when(kit, r.updated_at)}</dd>
${steps.length ? kit.html`<dt>Steps</dt><dd>${stepList(kit, steps)}</dd>` : ''}</dl>
${
  r.problems.length
    ? kit.html`<section aria-labelledby="problems-h"><h2 id="problems-h">Problems</h2>${problemList(kit, r, Boolean(r.yaml))}</section>`
    : ''
}
<section aria-labelledby="source-h"><h2 id="source-h">Source</h2>${sourceView(kit, r)}${
    isAdmin(user) && r.yaml
      ? kit.html`<p><a class="button" href="/admin/recipes/${encodeURIComponent(r.name)}/edit">Edit source</a></p>`
      : ''
  }</section>
<section aria-labelledby="jobs-h"><h2 id="jobs-h">Recent jobs</h2>${
    jobs.length === 0
      ? kit.html`<p class="empty">No jobs yet.</p>`
      : kit.html`<ul>${jobs.map((j) => kit.html`<li><a href="/admin/jobs/${j._id}">${j._id}</a> — ${stateBadge(kit, j.status)} — ${j.request_id} — ${when(kit, j.updated_at)}</li>`)}</ul>
<p><a href="/admin/jobs?recipe=${encodeURIComponent(r.name)}">All jobs of ${r.name}</a></p>`
  }</section>
<p><a href="/admin/recipes">All recipes</a></p>`;
  return adminPage(kit, req, reply, user, { title: r.name, section: 'recipes', body });
}

const NEW_RECIPE = `kind: recipe
name: my-recipe
description: What it does, in a sentence.
trigger: { type: new_request, app: APP-KEY }
steps:
  - id: approval
    action: assign_task
    to: "{{ record.approver }}"
    title: "Please review {{ request.id }}"
    outcomes: [Approve, Reject]
  - action: change_stage
    stage: "{{ steps.approval.outcome = 'Approve' ? 'Approved' : 'Rejected' }}"
`;

/** Whether a YAML text defines an app (`kind: app`) rather than a recipe. */
function isAppText(text: string): boolean {
  return /^kind:\s*app\s*$/m.test(text);
}

/** The YAML editor (admins): a recipe or an app definition; problems listed with their lines. */
export function editorPage(
  kit: WebKit,
  req: FastifyRequest,
  reply: FastifyReply,
  user: User,
  options: {
    text: string;
    name?: string;
    source?: string;
    problems?: Problem[];
    error?: string;
    /** What is being edited (`recipe:<name>` or `app:<key>`): a refused save shows it again. */
    editing?: string;
    /** The name was changed: nothing is saved until the admin says what becomes of the old recipe. */
    rename?: { from: string; to: string; app: string };
    status?: number;
  },
): FastifyReply {
  const rename = options.rename;
  const problems = (options.problems ?? []).filter((p) => p.severity === 'error');
  const app = isAppText(options.text);
  const title = options.name ? `Edit ${options.name}` : app ? 'Edit app' : 'New recipe';
  const body = kit.html`<div class="page-head"><h1>${title}</h1></div>
<p class="muted">YAML, as in the files under <code>recipes/</code> (a recipe, or an app with <code>kind: app</code>). It is checked before it is saved; nothing is saved while it has problems.${
    options.source === 'file' || options.source === 'pack'
      ? ` This ${app ? 'app' : 'recipe'} comes from a file: the file wins again at the next start, so change the file too.`
      : ''
  }</p>
${
  problems.length > 0 || options.error
    ? kit.html`<div class="form-error" role="alert" id="yaml-errors"><strong>${
        problems.length > 0 ? `${plural(problems.length, 'problem')}; nothing was saved.` : options.error
      }</strong>${
        problems.length > 0
          ? kit.html`<ul>${problems.map((p) => kit.html`<li>line ${p.line}, column ${p.column}: ${p.message}</li>`)}</ul>`
          : ''
      }</div>`
    : ''
}
${
  rename
    ? kit.html`<div class="form-error" role="alert" id="yaml-errors"><strong>You changed the name from ${rename.from} to ${rename.to}. Nothing was saved yet.</strong>
<p>A recipe is known by its name: saving makes a new recipe ${rename.to}, and ${rename.from} stays installed. While both run, both start on the same requests of ${rename.app}. Choose below, or put <code>name: ${rename.from}</code> back to keep editing ${rename.from}.</p></div>`
    : ''
}
<form method="post" action="/admin/recipes/save" class="stack">${kit.csrfField(req)}${
    options.editing ? kit.html`<input type="hidden" name="editing" value="${options.editing}">` : ''
  }
<label for="yaml">Definition (YAML)
<textarea id="yaml" name="yaml" rows="22" spellcheck="false" autocapitalize="off"${
    problems.length > 0 || options.error || rename
      ? kit.raw(' aria-invalid="true" aria-describedby="yaml-errors"')
      : ''
  }>${options.text}</textarea></label>
<div>${
    rename
      ? kit.html`<button type="submit" name="rename" value="stop" class="button primary">Save as ${rename.to} and stop ${rename.from}</button>
<button type="submit" name="rename" value="keep" class="button">Save as ${rename.to}, keep ${rename.from} running</button>`
      : kit.html`<button type="submit" class="button primary">Save</button>`
  } <a href="${app ? '/admin/apps' : '/admin/recipes'}">Cancel</a></div>
</form>`;
  return adminPage(kit, req, reply, user, {
    title,
    section: app ? 'apps' : 'recipes',
    body,
    status: options.status ?? (problems.length > 0 || options.error || rename ? 400 : 200),
  });
}

/**
 * Whether saving `text` from the editor opened on `editing` would touch another recipe or app
 * than that one: a name or key already taken (saving would replace it) and an app's key changed
 * (requests stay with the old key) are refused; a recipe's name changed is asked about first
 * (`rename` says what becomes of the old recipe: `stop` or `keep`).
 */
async function otherThanEdited(
  kit: WebKit,
  user: User,
  text: string,
  editing: string,
  rename: string,
): Promise<
  { refuse: string } | { ask: { from: string; to: string; app: string } } | { stop?: string } | null
> {
  const { definition } = parseDefinitionFile(text, 'portal.yaml');
  if (!definition) return null; // the save lists its problems
  const target = definition.kind === 'app' ? `app:${definition.key}` : `recipe:${definition.name}`;
  if (target === editing) return null;
  const [kind, old] = [editing.slice(0, editing.indexOf(':')), editing.slice(editing.indexOf(':') + 1)];
  if (definition.kind === 'app') {
    if (kind === 'app')
      return {
        refuse: `An app's key cannot be changed: saving would make a second app ${definition.key} beside ${old}, and the requests of ${old} would stay with ${old}. Put back key: ${old}; to rename the app as people see it, change name: instead.`,
      };
    if (await kit.baton.apps.find(definition.key))
      return {
        refuse: `An app with the key ${definition.key} already exists: saving would replace it. Give this app another key, or edit ${definition.key} from its page (Apps → ${definition.key} → Edit as YAML).`,
      };
    return null;
  }
  const taken = await kit.baton.recipes.get(user, definition.name).then(
    () => true,
    () => false,
  );
  if (taken)
    return {
      refuse: `A recipe named ${definition.name} already exists: saving would replace it. Give this recipe another name, or edit ${definition.name} from its page (Recipes → ${definition.name} → Edit source).`,
    };
  if (kind !== 'recipe') return null;
  if (rename === 'keep') return {};
  if (rename === 'stop') return { stop: old };
  const app = (await kit.baton.apps.find(definition.trigger.app))?.name ?? definition.trigger.app;
  return { ask: { from: old, to: definition.name, app } };
}

/** The heading and source note of the recipe or app an editor was opened on (gone: none). */
async function editingNow(
  kit: WebKit,
  user: User,
  editing: string,
): Promise<{ editing?: string; name?: string; source?: string }> {
  const [kind, name] = [editing.slice(0, editing.indexOf(':')), editing.slice(editing.indexOf(':') + 1)];
  try {
    if (kind === 'recipe') {
      const r = await kit.baton.recipes.get(user, name);
      return { editing, name: r.name, source: r.source };
    }
    if (kind === 'app') {
      const def = await kit.baton.apps.get(name);
      const doc = (await kit.baton.apps.list()).find((a) => a._id === name);
      return { editing, name: def.name, ...(doc ? { source: doc.source } : {}) };
    }
  } catch {
    // Deleted meanwhile: the editor shows the text without a heading of its own.
  }
  return {};
}

export function registerRecipes(app: FastifyInstance, kit: WebKit): void {
  app.get(
    '/admin/recipes',
    route(kit, async (req, reply, user) => listPage(kit, req, reply, user)),
  );

  app.get(
    '/admin/recipes/new',
    route(kit, async (req, reply, user) => {
      requireAdmin(user, 'create recipes');
      return editorPage(kit, req, reply, user, { text: NEW_RECIPE });
    }),
  );

  app.get(
    '/admin/recipes/:name/edit',
    route(kit, async (req, reply, user) => {
      requireAdmin(user, 'change recipes');
      const r = await kit.baton.recipes.get(user, paramOf(req, 'name'));
      return editorPage(kit, req, reply, user, {
        text: r.yaml ?? '',
        name: r.name,
        source: r.source,
        problems: r.problems,
        editing: `recipe:${r.name}`,
      });
    }),
  );

  app.post(
    '/admin/recipes/save',
    route(kit, async (req, reply, user) => {
      requireAdmin(user, 'create recipes');
      const body = bodyOf(req);
      const text = field(body, 'yaml').replace(/\r\n/g, '\n');
      const editing = field(body, 'editing');
      const other = await otherThanEdited(kit, user, text, editing, field(body, 'rename'));
      if (other && ('refuse' in other || 'ask' in other)) {
        const message =
          'refuse' in other
            ? other.refuse
            : `You changed the name from ${other.ask.from} to ${other.ask.to}: saving makes a new recipe and leaves ${other.ask.from} installed. Send rename: stop (stop ${other.ask.from}) or rename: keep (keep it running).`;
        if (wantsJson(req)) return kit.fail(req, reply, user, new ConflictError(message));
        return editorPage(kit, req, reply, user, {
          text,
          ...(await editingNow(kit, user, editing)),
          ...('refuse' in other ? { error: other.refuse } : { rename: other.ask }),
          status: 409,
        });
      }
      try {
        const saved = await kit.baton.recipes.saveYaml(user, `${text}\n`, 'portal.yaml');
        const stop = other && 'stop' in other ? other.stop : undefined;
        if (stop && saved.kind === 'recipe') {
          const old = await kit.baton.recipes.get(user, stop).catch(() => null);
          if (old?.state === 'running') await kit.baton.recipes.stop(user, stop);
          return changed(
            req,
            reply,
            `/admin/recipes/${encodeURIComponent(saved.name)}?done=renamed&from=${encodeURIComponent(stop)}`,
          );
        }
        return changed(
          req,
          reply,
          saved.kind === 'app'
            ? `/admin/apps/${encodeURIComponent(saved.name)}`
            : `/admin/recipes/${encodeURIComponent(saved.name)}?done=saved`,
        );
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        // The core refused it: list the problems with their lines (the same parser the core ran,
        // with the same apps: a recipe naming a stage or field its app lacks has its line too).
        const apps = (await kit.baton.apps.list()).flatMap((d) => (d.definition ? [d.definition] : []));
        const recipes = (await kit.baton.recipes.list(user)).flatMap((d) =>
          d.definition ? [d.definition] : [],
        );
        const { problems } = parseDefinitionFile(text, 'portal.yaml', { apps, recipes });
        const errors = problems.filter((p) => p.severity === 'error');
        if (wantsJson(req))
          return reply.status(err.status).send({
            error: err.code,
            message: err.message,
            fields: err.fields,
            problems: errors.map((p) => ({ line: p.line, column: p.column, message: p.message })),
          });
        return editorPage(kit, req, reply, user, {
          text,
          ...(await editingNow(kit, user, editing)),
          ...(errors.length > 0 ? { problems: errors } : { error: err.message }),
        });
      }
    }),
  );

  app.get(
    '/admin/recipes/:name',
    route(kit, async (req, reply, user) => detailPage(kit, req, reply, user, paramOf(req, 'name'))),
  );

  for (const op of ['start', 'stop'] as const) {
    app.post(
      `/admin/recipes/:name/${op}`,
      route(kit, async (req, reply, user) => {
        const name = paramOf(req, 'name');
        await kit.baton.recipes[op](user, name);
        const back = field(bodyOf(req), 'back') === 'detail' ? `/${encodeURIComponent(name)}` : '';
        return changed(req, reply, `/admin/recipes${back}?done=${op === 'start' ? 'started' : 'stopped'}`);
      }),
    );
  }

  app.post(
    '/admin/recipes/install',
    route(kit, async (req, reply, user) => {
      const pack = field(bodyOf(req), 'pack');
      const report = await kit.baton.recipes.installPack(user, pack);
      const errors = report.problems.filter((p) => p.severity === 'error');
      // Installed either way: a JSON client gets its problems with the answer.
      if (wantsJson(req))
        return reply.send({
          ok: true,
          url: `/admin/recipes?installed=${encodeURIComponent(pack)}`,
          problems: errors.map((p) => ({ file: shortFile(p.file), line: p.line, message: p.message })),
        });
      if (errors.length === 0)
        return reply.redirect(`/admin/recipes?installed=${encodeURIComponent(pack)}`, 303);
      return listPage(kit, req, reply, user, {
        error: `Pack ${pack} installed with ${plural(errors.length, 'problem')}: ${errors.map((p) => problemText(kit, p)).join('; ')}`,
      });
    }),
  );
}
