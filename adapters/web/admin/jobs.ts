import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError } from '../../../src/core/errors.js';
import { displayValue, selectedLabels } from '../../../src/core/records.js';
import type { JobDoc, JobStatus, StepResult, TaskDoc, User } from '../../../src/core/types.js';
import { requireOperator } from '../../../src/core/users.js';
import type { AppDefinition } from '../../../src/recipes/schema.js';
import { conditionText } from '../../commands/jobs.js';
import type { SafeHtml, WebKit } from '../kit.js';
import {
  ACTION_WORDS,
  actionButton,
  adminPage,
  changed,
  duration,
  field,
  paramOf,
  plural,
  route,
  stateBadge,
  stateText,
  when,
} from './ui.js';

export const JOB_STATUSES: JobStatus[] = ['running', 'waiting', 'completed', 'failed', 'stopped'];

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** A job id that may wrap after its underscores (`j_GEAR-2_<wbr>CwPN…`) in a narrow column; copied, it reads whole. */
function breakable(kit: WebKit, id: string): SafeHtml {
  const parts = id.split('_');
  return kit.html`${parts.map((p, i) => (i < parts.length - 1 ? kit.html`${p}_<wbr>` : p))}`;
}

function requestLink(kit: WebKit, id: string): SafeHtml {
  return kit.html`<a href="/requests/${encodeURIComponent(id)}">${id}</a>`;
}

/** What a waiting job waits for, in words: the task by its title and assignee, a wait's end as a time. */
async function waitingText(kit: WebKit, job: JobDoc): Promise<SafeHtml | string> {
  if (!job.waiting) return '';
  if (job.waiting.kind === 'timer') return kit.html`waiting until ${when(kit, job.waiting.until)}`;
  const task = await kit.baton.tasks.load(job.waiting.task_id);
  if (!task) return 'waiting for a task';
  return kit.html`waiting for the task “${task.title}”, assigned to ${await kit.baton.tasks.describeAssignee(task.assignee)}`;
}

function actionText(action: string): string {
  return ACTION_WORDS[action] ?? action;
}

/**
 * The step a job is at, for people: what it does in words, with the step's id (a step without
 * one has a label made of its action and position, `update_record#3`: shown after the words, as
 * reruns match it), and, for a waiting job, what it waits for.
 */
async function currentStepText(kit: WebKit, job: JobDoc): Promise<SafeHtml | string> {
  const label = job.current_step;
  if (!label) return '—';
  const action = job.log.findLast((l) => l.step === label)?.action ?? label.split('#')[0];
  const words = action ? ACTION_WORDS[action] : undefined;
  const step = !words
    ? kit.html`<code>${label}</code>`
    : label.includes('#')
      ? kit.html`${words} <span class="muted">(${label})</span>`
      : kit.html`${words} <code>${label}</code>`;
  return job.waiting ? kit.html`${step} <span class="muted">— ${await waitingText(kit, job)}</span>` : step;
}

async function listPage(
  kit: WebKit,
  req: FastifyRequest,
  reply: FastifyReply,
  user: User,
): Promise<FastifyReply> {
  // Who asks comes first: a plain user hears "not allowed", not what is wrong with the filter.
  requireOperator(user, 'see jobs');
  const q = (req.query ?? {}) as Record<string, unknown>;
  const status = field(q, 'status');
  const recipe = field(q, 'recipe');
  if (status && !JOB_STATUSES.includes(status as JobStatus)) {
    throw new ValidationError(`Unknown status ${status}: use ${JOB_STATUSES.join(', ')}.`);
  }
  const limitRaw = Number.parseInt(field(q, 'limit') || '50', 10);
  const limit = Number.isNaN(limitRaw) ? 50 : Math.min(Math.max(limitRaw, 1), 500);
  const [jobs, recipes] = await Promise.all([
    kit.baton.recipes.listJobs(user, {
      limit,
      ...(status ? { status: status as JobStatus } : {}),
      ...(recipe ? { recipe } : {}),
    }),
    kit.baton.recipes.list(user),
  ]);
  const statusOptions = [
    kit.html`<option value="">Any status</option>`,
    ...JOB_STATUSES.map(
      (s) =>
        kit.html`<option value="${s}"${s === status ? kit.raw(' selected') : ''}>${stateText(s)}</option>`,
    ),
  ];
  const recipeOptions = [
    kit.html`<option value="">Any recipe</option>`,
    ...recipes.map(
      (r) =>
        kit.html`<option value="${r.name}"${r.name === recipe ? kit.raw(' selected') : ''}>${r.name}</option>`,
    ),
  ];
  const rows = await Promise.all(
    jobs.map(
      async (
        j,
      ) => kit.html`<tr data-job="${j._id}"><td id="job-${j._id}" data-label="Job"><a href="/admin/jobs/${j._id}">${breakable(kit, j._id)}</a></td><td class="recipe" data-label="Recipe">${j.recipe}</td>
<td data-label="Request">${requestLink(kit, j.request_id)}</td><td data-label="Status">${stateBadge(kit, j.status)}</td><td class="wrap step" data-label="Current step">${j.status === 'completed' || j.status === 'stopped' ? '—' : await currentStepText(kit, j)}</td>
<td class="wrap error" data-label="Error">${j.error ? kit.html`<span class="problem" title="${j.error.message}">${truncate(j.error.message, 160)}</span>` : j.stop_reason ? kit.html`<span class="muted" title="${j.stop_reason}">Stopped: ${truncate(j.stop_reason, 160)}</span>` : ''}</td><td data-label="Updated">${when(kit, j.updated_at)}</td>
<td class="rerun">${j.status === 'failed' ? actionButton(kit, req, `/admin/jobs/${j._id}/rerun`, 'Rerun', { describedBy: `job-${j._id}` }) : ''}</td></tr>`,
    ),
  );
  const body = kit.html`<div class="page-head"><h1>Jobs</h1></div>
<form method="get" action="/admin/jobs" class="filters" role="search" aria-label="Filter jobs">
<label for="job-status">Status <select id="job-status" name="status">${statusOptions}</select></label>
<label for="job-recipe">Recipe <select id="job-recipe" name="recipe">${recipeOptions}</select></label>
<button type="submit" class="button">Filter</button>${status || recipe ? kit.html` <a href="/admin/jobs">Clear</a>` : ''}
</form>
${
  jobs.length === 0
    ? kit.html`<p class="empty">No ${status ? `${status} ` : ''}jobs${recipe ? ` of ${recipe}` : ''}.</p>`
    : kit.html`<div class="table-wrap"><table class="list jobs"><caption class="muted">${plural(jobs.length, 'job')}, latest change first${jobs.length === limit ? ` (the latest ${limit})` : ''}</caption>
<thead><tr><th scope="col">Job</th><th scope="col">Recipe</th><th scope="col">Request</th><th scope="col">Status</th><th scope="col">Current step</th><th scope="col">Error</th><th scope="col">Updated</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>${rows}</tbody></table></div>${
        jobs.length === limit && limit < 500
          ? kit.html`<p><a href="/admin/jobs?${new URLSearchParams({
              ...(status ? { status } : {}),
              ...(recipe ? { recipe } : {}),
              limit: String(Math.min(limit * 4, 500)),
            }).toString()}">Show more</a></p>`
          : ''
      }`
}`;
  return adminPage(kit, req, reply, user, { title: 'Jobs', section: 'jobs', body });
}

/** Which version of its recipe a job runs, in words (the version's id is a content hash). */
function versionText(
  kit: WebKit,
  v: { first_run?: Date | undefined; installed: boolean; recipe_installed: boolean },
): SafeHtml {
  const since = v.first_run ? kit.html`, first run ${when(kit, v.first_run)}` : '';
  if (v.installed) return kit.html`the version installed now${since}`;
  if (!v.recipe_installed) return kit.html`a version no longer installed${since}`;
  return kit.html`an earlier version${since}; the recipe has been changed since`;
}

/** A field's value as people read it: a person's name, a choice's label, Yes or No. */
async function fieldText(
  kit: WebKit,
  field: AppDefinition['fields'][number] | undefined,
  value: unknown,
): Promise<string> {
  if (value === undefined || value === null || value === '') return displayValue(undefined);
  if (field?.type === 'user' && typeof value === 'string') return kit.baton.users.displayName(value);
  if (field?.type === 'select' || field?.type === 'multi_select')
    return selectedLabels(field.options ?? [], value);
  return displayValue(value);
}

/**
 * A step's result value for people: the fields an `update_record` set by label, the people a
 * `notify` reached by name, a stage as itself (was JSON: {"title":"…"}, ["u_…"]).
 */
async function valueText(
  kit: WebKit,
  app: AppDefinition | null,
  action: string | undefined,
  v: unknown,
): Promise<SafeHtml | string> {
  if (v === undefined || v === null) return '';
  if (action === 'notify' && Array.isArray(v)) {
    const names = await Promise.all(v.map((id) => kit.baton.users.displayName(String(id))));
    return truncate(names.join(', '), 300);
  }
  if (typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)) {
    const parts = await Promise.all(
      Object.entries(v as Record<string, unknown>).map(async ([key, value]) => {
        const field = app?.fields.find((f) => f.key === key);
        return kit.html`<li>${field?.label ?? key}: ${truncate(await fieldText(kit, field, value), 300)}</li>`;
      }),
    );
    return kit.html`<ul class="values">${parts}</ul>`;
  }
  return truncate(displayValue(v), 300);
}

/** A task step's outcome, with the comment and the inputs (by their labels) given with it. */
function outcomeText(kit: WebKit, r: StepResult, task: TaskDoc | null): SafeHtml {
  const inputs = Object.entries(r.inputs ?? {})
    .filter(([, value]) => value !== '')
    .map(([id, value]) => {
      const label = task?.inputs.find((i) => i.id === id)?.label ?? id;
      return kit.html`<br><span class="muted">${label}: ${value}</span>`;
    });
  return kit.html`${r.outcome ?? ''}${r.comment ? kit.html`<br><span class="muted">${r.comment}</span>` : ''}${inputs}`;
}

async function detailPage(
  kit: WebKit,
  req: FastifyRequest,
  reply: FastifyReply,
  user: User,
  id: string,
): Promise<FastifyReply> {
  const job = await kit.baton.recipes.getJob(user, id);
  const names = new Map<string, string>();
  for (const r of Object.values(job.steps)) {
    if (r.completed_by && !names.has(r.completed_by))
      names.set(r.completed_by, await kit.baton.users.displayName(r.completed_by));
  }
  const app = await kit.baton.apps.find(job.app);
  // Which action each step is (a step's result does not say; its log entries do).
  const actions = new Map(job.log.map((l) => [l.step, l.action]));
  const steps = await Promise.all(
    Object.entries(job.steps).map(async ([stepId, r]) => {
      const task = r.task_id ? await kit.baton.tasks.load(r.task_id) : null;
      // A task closed without resuming its job (withdrawn by a cancel) is no longer open.
      const status = r.status === 'open' && task && task.status !== 'open' ? task.status : r.status;
      return kit.html`<tr><td><code>${stepId}</code></td><td>${stateBadge(kit, status)}</td><td>${outcomeText(kit, r, task)}</td><td>${r.completed_by ? (names.get(r.completed_by) ?? r.completed_by) : ''}</td><td>${when(kit, r.completed_at ? new Date(r.completed_at) : undefined)}</td><td class="wrap">${await valueText(kit, app, actions.get(stepId), r.value)}</td></tr>`;
    }),
  );
  // Steps numbered in the order the job reached them (a step's position in the compiled recipe,
  // 0, 1, 8…, means nothing to a reader); a step logged twice (waited, then completed) keeps its number.
  const numbers = new Map<number, number>();
  for (const l of job.log) if (!numbers.has(l.pc)) numbers.set(l.pc, numbers.size + 1);
  const log = job.log.map(
    (
      l,
    ) => kit.html`<tr${l.status === 'failed' ? kit.raw(' class="problem"') : ''}><td>${String(numbers.get(l.pc))}</td><td>${l.step}</td><td>${actionText(l.action)}</td><td>${conditionText(l) ?? stateBadge(kit, l.status)}</td>
<td>${when(kit, l.started_at)}</td><td>${duration(l.finished_at.getTime() - l.started_at.getTime())}</td><td>${l.error ?? ''}</td></tr>`,
  );
  const notice = field((req.query ?? {}) as Record<string, unknown>, 'rerun');
  const body = kit.html`<div class="page-head"><h1 id="job-${job._id}">Job ${job._id}</h1>
<p>${stateBadge(kit, job.status)} ${job.status === 'failed' ? actionButton(kit, req, `/admin/jobs/${job._id}/rerun`, 'Rerun', { style: 'primary' }) : ''}</p></div>
${notice ? kit.html`<p class="notice" role="status">Rerun: the job is now ${job.status}.</p>` : ''}
${
  job.error
    ? kit.html`<div class="form-error" role="alert"><strong>Failed at ${job.error.step}</strong> (${when(kit, job.error.at)}): ${job.error.message}</div>`
    : ''
}
${
  // A stop step ends its job as completed, with its reason; a stopped job was stopped from outside (its request cancelled).
  job.stop_reason
    ? kit.html`<p class="notice" role="status">${job.status === 'stopped' ? 'Stopped' : 'Stopped by a stop step'}: ${job.stop_reason}</p>`
    : ''
}
<dl>
<dt>Recipe</dt><dd><a href="/admin/recipes/${encodeURIComponent(job.recipe)}">${job.recipe}</a> <span class="muted">— ${versionText(kit, await kit.baton.recipes.jobVersion(user, job))}</span></dd>
<dt>Request</dt><dd>${requestLink(kit, job.request_id)} <span class="muted">(${app?.name ?? job.app})</span></dd>
${
  // A finished job has no current step (the last one it ran is in the step log).
  job.status === 'completed' || job.status === 'stopped'
    ? ''
    : kit.html`<dt>Current step</dt><dd>${await currentStepText(kit, job)}</dd>`
}
<dt>Started</dt><dd>${when(kit, job.started_at)}</dd>
<dt>Updated</dt><dd>${when(kit, job.updated_at)}</dd>
${job.finished_at ? kit.html`<dt>Finished</dt><dd>${when(kit, job.finished_at)} <span class="muted">(${duration(job.finished_at.getTime() - job.started_at.getTime())})</span></dd>` : ''}
<dt>Reruns</dt><dd>${job.reruns}</dd>
</dl>
<section aria-labelledby="results-h"><h2 id="results-h">Step results</h2>${
    steps.length === 0
      ? kit.html`<p class="empty">${
          job.status === 'completed' || job.status === 'stopped'
            ? 'None of its steps keeps a result (a step keeps one when it has an id).'
            : 'No step has a result yet.'
        }</p>`
      : kit.html`<div class="table-wrap"><table class="list"><thead><tr><th scope="col">Step</th><th scope="col">Status</th><th scope="col">Outcome</th><th scope="col">By</th><th scope="col">At</th><th scope="col">Value</th></tr></thead><tbody>${steps}</tbody></table></div>`
  }</section>
<section aria-labelledby="log-h"><h2 id="log-h">Step log</h2>${
    log.length === 0
      ? kit.html`<p class="empty">Nothing ran yet.</p>`
      : kit.html`<div class="table-wrap"><table class="list"><thead><tr><th scope="col">#</th><th scope="col">Step</th><th scope="col">Action</th><th scope="col">Status</th><th scope="col">Started</th><th scope="col">Took</th><th scope="col">Error</th></tr></thead><tbody>${log}</tbody></table></div>`
  }</section>
<p><a href="/admin/jobs?recipe=${encodeURIComponent(job.recipe)}">Jobs of ${job.recipe}</a> · <a href="/admin/jobs">All jobs</a></p>`;
  return adminPage(kit, req, reply, user, { title: `Job ${job._id}`, section: 'jobs', body });
}

export function registerJobs(app: FastifyInstance, kit: WebKit): void {
  app.get(
    '/admin/jobs',
    route(kit, async (req, reply, user) => listPage(kit, req, reply, user)),
  );
  app.get(
    '/admin/jobs/:id',
    route(kit, async (req, reply, user) => detailPage(kit, req, reply, user, paramOf(req, 'id'))),
  );
  app.post(
    '/admin/jobs/:id/rerun',
    route(kit, async (req, reply, user) => {
      const job = await kit.baton.engine.rerun(user, paramOf(req, 'id'));
      return changed(req, reply, `/admin/jobs/${encodeURIComponent(job._id)}?rerun=1`);
    }),
  );
}
