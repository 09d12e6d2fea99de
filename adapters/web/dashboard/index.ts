import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DashboardStats } from '../../../src/core/stats.js';
import type { User } from '../../../src/core/types.js';
import { ADMIN_CSS, duration, plural, route, when } from '../admin/ui.js';
import type { SafeHtml, WebKit, WebPages } from '../kit.js';
import { barChart, CHART_CSS, columnChart, countTicks, PALETTE, responsive, timeTicks } from './charts.js';

/** Windows offered, in days. */
export const WINDOWS = [7, 14, 30, 90] as const;

const DASHBOARD_CSS = `
.dashboard .summary{display:grid;gap:.75rem;grid-template-columns:repeat(auto-fill,minmax(10rem,1fr));margin:1rem 0}
.dashboard .summary div{border:1px solid #ccc;border-radius:.5rem;padding:.5rem .75rem}
.dashboard .summary strong{display:block;font-size:1.5rem}
.dashboard section.chart-block{margin:1.5rem 0}
.dashboard details{margin:.5rem 0}
.dashboard .windows a[aria-current="page"]{font-weight:700}
.dashboard .windows{display:flex;gap:.75rem;flex-wrap:wrap;list-style:none;padding:0}
`;

function dayLabel(iso: string): string {
  const [, m, d] = iso.split('-');
  return `${Number(m)}/${Number(d)}`;
}

function requestsSection(kit: WebKit, s: DashboardStats): SafeHtml {
  const names = new Map(s.apps.map((a) => [a.key, a.name]));
  const withData = s.requests_per_day.filter((r) => r.total > 0);
  const total = s.requests_per_day.reduce((n, r) => n + r.total, 0);
  const chart = responsive(columnChart, {
    id: 'requests-per-day',
    title: `Requests filed per day, by app, last ${s.days} days`,
    desc: `${plural(total, 'request')} in all: ${
      withData.map((r) => `${names.get(r.app) ?? r.app} ${r.total}`).join(', ') || 'none'
    }.`,
    categories: s.day_labels.map(dayLabel),
    series: withData.map((r) => ({ name: names.get(r.app) ?? r.app, values: r.counts })),
    ticks: countTicks,
  });
  const rows = s.day_labels.map(
    (d, i) =>
      kit.html`<tr><th scope="row">${d}</th>${withData.map((r) => kit.html`<td>${r.counts[i] ?? 0}</td>`)}<td>${withData.reduce(
        (n, r) => n + (r.counts[i] ?? 0),
        0,
      )}</td></tr>`,
  );
  return kit.html`<section class="chart-block" aria-labelledby="requests-h"><h2 id="requests-h">Requests per app per day</h2>
${
  total === 0
    ? kit.html`<p class="empty">No requests were filed in the last ${s.days} days.</p>`
    : kit.html`${kit.raw(chart)}
<details><summary>Requests per day as a table</summary><div class="table-wrap"><table class="list" data-table="requests-per-day"><thead><tr><th scope="col">Day (UTC)</th>${withData.map(
        (r) => kit.html`<th scope="col">${names.get(r.app) ?? r.app}</th>`,
      )}<th scope="col">All</th></tr></thead><tbody>${rows}</tbody></table></div></details>`
}</section>`;
}

function decisionsSection(kit: WebKit, s: DashboardStats): SafeHtml {
  const names = new Map(s.apps.map((a) => [a.key, a.name]));
  const decided = s.decision_times.filter((d) => d.decided > 0);
  const chart = responsive(barChart, {
    id: 'decision-times',
    title: `Time to decision per app (median and 90th percentile), last ${s.days} days`,
    desc: decided
      .map(
        (d) =>
          `${names.get(d.app) ?? d.app}: median ${duration(d.median_ms)}, 90th percentile ${duration(d.p90_ms)} over ${plural(d.decided, 'request')}`,
      )
      .join('; '),
    categories: decided.map((d) => names.get(d.app) ?? d.app),
    series: [
      { name: 'median', values: decided.map((d) => d.median_ms ?? 0), color: PALETTE[0] },
      { name: '90th percentile', values: decided.map((d) => d.p90_ms ?? 0), color: PALETTE[1] },
    ],
    format: (n) => duration(n),
    ticks: timeTicks,
  });
  const rows = s.decision_times.map(
    (d) =>
      kit.html`<tr data-app="${d.app}"><th scope="row">${names.get(d.app) ?? d.app}</th><td>${d.decided}</td><td>${duration(d.median_ms)}</td><td>${duration(d.p90_ms)}</td></tr>`,
  );
  return kit.html`<section class="chart-block" aria-labelledby="decisions-h"><h2 id="decisions-h">Time to decision</h2>
<p class="muted">From the moment a request is filed to the first task on it that a person completed (pressed an outcome such as Approve or Reject; expired and cancelled tasks do not count), for requests whose first decision fell in the last ${s.days} days. Median: half the requests were decided faster; 90th percentile: nine in ten were.</p>
${decided.length === 0 ? kit.html`<p class="empty">No request was decided in the last ${s.days} days.</p>` : kit.raw(chart)}
<details><summary>Time to decision as a table</summary><div class="table-wrap"><table class="list" data-table="decision-times"><thead><tr><th scope="col">App</th><th scope="col">Decided</th><th scope="col">Median</th><th scope="col">90th percentile</th></tr></thead><tbody>${rows}</tbody></table></div></details>
</section>`;
}

function openTasksSection(kit: WebKit, s: DashboardStats): SafeHtml {
  const total = s.open_tasks.reduce((n, b) => n + b.count, 0);
  const chart = responsive(barChart, {
    id: 'open-tasks',
    title: 'Open tasks by how long they have been open',
    desc: s.open_tasks.map((b) => `${b.label}: ${b.count}`).join('; '),
    categories: s.open_tasks.map((b) => b.label),
    series: [{ name: 'open tasks', values: s.open_tasks.map((b) => b.count), color: PALETTE[2] }],
    ticks: countTicks,
  });
  return kit.html`<section class="chart-block" aria-labelledby="open-h"><h2 id="open-h">Open tasks by age</h2>
${s.scope === 'mine' ? kit.html`<p class="muted">Tasks waiting for you or for a group you belong to.</p>` : ''}
${total === 0 ? kit.html`<p class="empty">No open tasks.</p>` : kit.raw(chart)}
<details><summary>Open tasks by age as a table</summary><div class="table-wrap"><table class="list" data-table="open-tasks"><thead><tr><th scope="col">Open for</th><th scope="col">Tasks</th></tr></thead><tbody>${s.open_tasks.map(
    (b) => kit.html`<tr data-bucket="${b.key}"><th scope="row">${b.label}</th><td>${b.count}</td></tr>`,
  )}</tbody></table></div></details></section>`;
}

function failingSection(kit: WebKit, s: DashboardStats): SafeHtml {
  const f = s.failing_jobs;
  if (!f) return kit.html``;
  const chart = responsive(barChart, {
    id: 'failing-jobs',
    title: 'Failed jobs by recipe',
    desc: f.by_recipe.map((r) => `${r.recipe}: ${r.count}`).join('; '),
    categories: f.by_recipe.map((r) => r.recipe),
    series: [{ name: 'failed jobs', values: f.by_recipe.map((r) => r.count), color: PALETTE[5] }],
    ticks: countTicks,
  });
  const recent = f.recent.map(
    (j) =>
      kit.html`<tr data-job="${j._id}"><td><a href="/admin/jobs/${j._id}">${j._id}</a></td><td>${j.recipe}</td><td><a href="/requests/${encodeURIComponent(j.request_id)}">${j.request_id}</a></td><td>${j.error?.step ?? j.current_step ?? ''}</td><td class="problem">${j.error?.message ?? ''}</td><td>${when(kit, j.error?.at ?? j.updated_at)}</td></tr>`,
  );
  return kit.html`<section class="chart-block" aria-labelledby="failing-h"><h2 id="failing-h">Failing jobs</h2>
${
  f.total === 0
    ? kit.html`<p class="empty">No failed jobs.</p>`
    : kit.html`<p><a href="/admin/jobs?status=failed">${plural(f.total, 'failed job')}</a> waiting for someone to fix and rerun them${
        f.partial ? ' (the chart counts the latest of them)' : ''
      }.</p>
${kit.raw(chart)}
<h3>Latest failures</h3><div class="table-wrap"><table class="list" data-table="failing-jobs"><thead><tr><th scope="col">Job</th><th scope="col">Recipe</th><th scope="col">Request</th><th scope="col">Step</th><th scope="col">Error</th><th scope="col">Failed</th></tr></thead><tbody>${recent}</tbody></table></div>`
}</section>`;
}

async function dashboardPage(
  kit: WebKit,
  req: FastifyRequest,
  reply: FastifyReply,
  user: User,
): Promise<FastifyReply> {
  const q = (req.query ?? {}) as Record<string, unknown>;
  const asked = Number(typeof q.days === 'string' ? q.days : 14);
  const days = (WINDOWS as readonly number[]).includes(asked) ? asked : 14;
  const s = await kit.baton.stats.dashboard(user, { days });
  const requests = s.requests_per_day.reduce((n, r) => n + r.total, 0);
  const decided = s.decision_times.reduce((n, d) => n + d.decided, 0);
  const open = s.open_tasks.reduce((n, b) => n + b.count, 0);
  const windows = WINDOWS.map(
    (d) =>
      kit.html`<li><a href="/dashboard?days=${d}"${d === s.days ? kit.raw(' aria-current="page"') : ''}>${d} days</a></li>`,
  );
  const body = kit.html`<style>${kit.raw(ADMIN_CSS + DASHBOARD_CSS + CHART_CSS)}</style><div class="admin dashboard">
<div class="page-head"><h1>Dashboard</h1>
<p class="muted">${
    s.scope === 'all'
      ? 'Every app’s requests, every open task and the failing jobs.'
      : 'Your own requests and the tasks waiting for you (admins and operators see every app).'
  } Days are UTC days; figures as of ${when(kit, s.generated_at)}.</p></div>
<nav aria-label="Window"><ul class="windows">${windows}</ul></nav>
<div class="summary">
<div><strong data-stat="requests">${requests}</strong> ${requests === 1 ? 'request' : 'requests'} filed</div>
<div><strong data-stat="decided">${decided}</strong> decided</div>
<div><strong data-stat="open">${open}</strong> open ${open === 1 ? 'task' : 'tasks'}</div>
${s.failing_jobs ? kit.html`<div><strong data-stat="failed">${s.failing_jobs.total}</strong> failed ${s.failing_jobs.total === 1 ? 'job' : 'jobs'}</div>` : ''}
</div>
${requestsSection(kit, s)}
${decisionsSection(kit, s)}
${openTasksSection(kit, s)}
${failingSection(kit, s)}
</div>`;
  return kit.page(req, reply, user, { title: 'Dashboard', active: 'dashboard', body });
}

/**
 * The dashboard: requests per app per day, time to decision (median, p90) per app, open
 * tasks by age and failing jobs, as inline SVG charts with the same numbers in tables.
 * Admins and operators see every app; anyone else sees their own requests and tasks
 * (the core decides: `baton.stats.dashboard`).
 */
export const dashboardPages: WebPages = (app: FastifyInstance, kit: WebKit) => {
  app.get(
    '/dashboard',
    route(kit, async (req, reply, user) => dashboardPage(kit, req, reply, user)),
  );
};
