import type { FastifyInstance } from 'fastify';
import { isAdmin, requireOperator } from '../../../src/core/users.js';
import type { WebKit, WebPages } from '../kit.js';
import { registerApps } from './apps.js';
import { registerJobs } from './jobs.js';
import { registerPeople } from './people.js';
import { registerRecipes } from './recipes.js';
import { adminPage, plural, route } from './ui.js';

/**
 * The portal's admin pages: apps (fields and stages), recipes (state, problems, start/stop,
 * source, template packs), jobs (filter, detail, rerun), groups and roles. Admins and
 * operators may open them; what each may change is decided by the core (operators: start
 * and stop recipes, rerun jobs; admins: everything). Every change is a plain POST form
 * (CSRF-checked by the shell) that calls one core service with the signed-in user as actor.
 */
export const adminPages: WebPages = (app: FastifyInstance, kit: WebKit) => {
  app.get(
    '/admin',
    route(kit, async (req, reply, user) => {
      requireOperator(user, 'use the admin pages');
      const [recipes, apps, groups, failed, health] = await Promise.all([
        kit.baton.recipes.list(user),
        kit.baton.apps.list(),
        kit.baton.groups.list(),
        kit.baton.recipes.listJobs(user, { status: 'failed', limit: 5 }),
        kit.baton.health(),
      ]);
      const byState = (s: string) => recipes.filter((r) => r.state === s).length;
      const body = kit.html`<div class="page-head"><h1>Admin</h1>
<p class="muted">You are ${isAdmin(user) ? 'an admin: you can change everything here' : 'an operator: you can start and stop recipes and rerun jobs; the rest is read-only'}.</p></div>
<div class="cards">
<section class="card"><h2><a href="/admin/apps">Apps</a></h2><p class="stat">${apps.length}</p><p class="muted">${plural(
        apps.reduce((n, a) => n + a.definition.fields.length, 0),
        'field',
      )} in all</p></section>
<section class="card"><h2><a href="/admin/recipes">Recipes</a></h2><p class="stat">${recipes.length}</p><p class="muted">${byState('running')} running, ${byState('stopped')} stopped, ${byState('invalid')} invalid</p></section>
<section class="card"><h2><a href="/admin/jobs">Jobs</a></h2><p class="stat">${health.jobs.running + health.jobs.waiting}</p><p class="muted">in progress (${health.jobs.waiting} waiting); <a href="/admin/jobs?status=failed">${health.jobs.failed} failed</a></p></section>
<section class="card"><h2><a href="/admin/groups">Groups</a></h2><p class="stat">${groups.length}</p><p class="muted"><a href="/admin/roles">Roles</a> · <a href="/dashboard">Dashboard</a></p></section>
</div>
${
  failed.length > 0
    ? kit.html`<section aria-labelledby="failed-h"><h2 id="failed-h">Latest failed jobs</h2><ul>${failed.map(
        (j) =>
          kit.html`<li><a href="/admin/jobs/${j._id}">${j._id}</a> — ${j.recipe} on ${j.request_id}${j.error ? kit.html`: <span class="problem">${j.error.message}</span>` : ''}</li>`,
      )}</ul></section>`
    : ''
}`;
      return adminPage(kit, req, reply, user, { title: 'Admin', section: 'overview', body });
    }),
  );
  registerApps(app, kit);
  registerRecipes(app, kit);
  registerJobs(app, kit);
  registerPeople(app, kit);
};
