import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ConflictError, ValidationError } from '../../../src/core/errors.js';
import type { Role, User } from '../../../src/core/types.js';
import { isAdmin, requireAdmin, requireOperator } from '../../../src/core/users.js';
import type { WebKit } from '../kit.js';
import { wantsJson } from '../shell.js';
import {
  actionButton,
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
} from './ui.js';

const ROLES: { role: Role; label: string; what: string }[] = [
  { role: 'admin', label: 'admin', what: 'everything: apps, recipes, groups, roles' },
  {
    role: 'operator',
    label: 'operator',
    what: 'sees recipes and jobs, starts and stops recipes, reruns jobs',
  },
  { role: 'user', label: 'user', what: 'files requests and acts on their tasks' },
];

function personLabel(u: User): string {
  return u.email ? `${u.name} (${u.email})` : u.name;
}

async function groupsPage(
  kit: WebKit,
  req: FastifyRequest,
  reply: FastifyReply,
  user: User,
  form?: { values: FormBody; errors: FormErrors },
): Promise<FastifyReply> {
  requireOperator(user, 'use the admin pages');
  const groups = await kit.baton.groups.list();
  const rows = await Promise.all(
    groups.map(async (g) => {
      const names = await Promise.all(g.members.slice(0, 8).map((m) => kit.baton.users.displayName(m)));
      const more = g.members.length > names.length ? ` and ${g.members.length - names.length} more` : '';
      return kit.html`<tr><td><a href="/admin/groups/${g.name}">${g.name}</a></td><td>${g.description ?? ''}</td>
<td>${plural(g.members.length, 'member')}${names.length ? kit.html`<br><span class="muted">${names.join(', ')}${more}</span>` : ''}</td></tr>`;
    }),
  );
  const v = form?.values ?? {};
  const errors = form?.errors;
  const deleted = field((req.query ?? {}) as Record<string, unknown>, 'deleted') !== '';
  const body = kit.html`<div class="page-head"><h1>Groups</h1></div>
${deleted ? kit.html`<p class="notice" role="status">Group deleted.</p>` : ''}
<p class="muted">A task assigned to <code>group:&lt;name&gt;</code> can be acted on by any member.</p>
${
  groups.length === 0
    ? kit.html`<p class="empty">No groups yet.</p>`
    : kit.html`<div class="table-wrap"><table class="list"><thead><tr><th scope="col">Group</th><th scope="col">Description</th><th scope="col">Members</th></tr></thead><tbody>${rows}</tbody></table></div>`
}
${
  isAdmin(user)
    ? kit.html`<section class="card" aria-labelledby="create-group-h"><h2 id="create-group-h">Create a group</h2>
${formError(kit, errors)}
<form method="post" action="/admin/groups" class="stack">${kit.csrfField(req)}
<label for="group-name">Name <span aria-hidden="true">*</span>
<input id="group-name" name="name" required pattern="[a-z][a-z0-9\\-]*" maxlength="63" value="${field(v, 'name')}"${describedBy(kit, errors, 'name', 'group-name')}>
<small class="muted">Lower-case letters, digits and dashes, e.g. finance.</small>${errorFor(kit, errors, 'name', 'group-name')}</label>
<label for="group-description">Description <input id="group-description" name="description" value="${field(v, 'description')}"></label>
<div><button type="submit" class="button primary">Create group</button></div></form></section>`
    : kit.html`<p class="muted">Only admins can change groups.</p>`
}`;
  return adminPage(kit, req, reply, user, {
    title: 'Groups',
    section: 'groups',
    body,
    status: form ? 400 : 200,
  });
}

async function groupPage(
  kit: WebKit,
  req: FastifyRequest,
  reply: FastifyReply,
  user: User,
  name: string,
  error?: string,
): Promise<FastifyReply> {
  requireOperator(user, 'use the admin pages');
  const group = await kit.baton.groups.get(name);
  const admin = isAdmin(user);
  const members = await Promise.all(group.members.map((id) => kit.baton.users.find(id)));
  const memberIds = new Set(group.members);
  const items = group.members.map((id, i) => {
    const m = members[i];
    const label = m ? personLabel(m) : id;
    return kit.html`<li><span id="member-${id}">${label}</span> ${
      admin
        ? actionButton(kit, req, `/admin/groups/${group.name}/remove`, 'Remove', {
            hidden: { user: id },
            describedBy: `member-${id}`,
          })
        : ''
    }</li>`;
  });
  const candidates = admin ? (await kit.baton.users.list()).filter((u) => !memberIds.has(u._id)) : [];
  const q = (req.query ?? {}) as Record<string, unknown>;
  const done = field(q, 'done');
  const body = kit.html`<div class="page-head"><h1>Group ${group.name}</h1>${
    group.description ? kit.html`<p class="muted">${group.description}</p>` : ''
  }</div>
${done === 'added' ? kit.html`<p class="notice" role="status">Member added.</p>` : ''}${
  done === 'removed' ? kit.html`<p class="notice" role="status">Member removed.</p>` : ''
}${done === 'created' ? kit.html`<p class="notice" role="status">Group created.</p>` : ''}
${error ? kit.html`<div class="form-error" role="alert">${error}</div>` : ''}
<section aria-labelledby="members-h"><h2 id="members-h">Members (${group.members.length})</h2>
${group.members.length === 0 ? kit.html`<p class="empty">No members yet.</p>` : kit.html`<ul class="members">${items}</ul>`}</section>
${
  admin
    ? kit.html`<section class="card" aria-labelledby="add-member-h"><h2 id="add-member-h">Add a member</h2>${
        candidates.length === 0
          ? kit.html`<p class="empty">Everyone Baton knows is already a member.</p>`
          : kit.html`<form method="post" action="/admin/groups/${group.name}/add" class="row-form">${kit.csrfField(req)}
<label for="member-user">Person <select id="member-user" name="user">${candidates.map(
              (u) => kit.html`<option value="${u._id}">${personLabel(u)}</option>`,
            )}</select></label>
<button type="submit" class="button primary">Add</button></form>`
      }</section>`
    : ''
}
${
  admin
    ? kit.html`<section class="card" aria-labelledby="delete-group-h"><h2 id="delete-group-h">Delete this group</h2>
<p class="muted">A group with open tasks cannot be deleted: reassign them first (on each request's page) or wait until they are decided. Recipes that assign tasks to <code>group:${group.name}</code> will fail until it exists again.</p>
<p><a class="button danger" href="/admin/groups/${group.name}/delete">Delete ${group.name}…</a></p></section>`
    : ''
}
<p><a href="/admin/groups">All groups</a></p>`;
  return adminPage(kit, req, reply, user, {
    title: `Group ${group.name}`,
    section: 'groups',
    body,
    status: error ? 400 : 200,
  });
}

/** The step before deleting a group: what it would break, and a button that deletes (no JavaScript needed). */
async function confirmDeletePage(
  kit: WebKit,
  req: FastifyRequest,
  reply: FastifyReply,
  user: User,
  name: string,
): Promise<FastifyReply> {
  requireAdmin(user, 'delete groups');
  const group = await kit.baton.groups.get(name);
  const [members, recipes] = await Promise.all([
    Promise.all(group.members.map((id) => kit.baton.users.displayName(id))),
    kit.baton.recipes.usingGroup(user, group.name),
  ]);
  const recipeLinks = recipes.map(
    (r, i) => kit.html`${i > 0 ? ', ' : ''}<a href="/admin/recipes/${encodeURIComponent(r)}">${r}</a>`,
  );
  const body = kit.html`<div class="page-head"><h1>Delete the group ${group.name}?</h1></div>
<section class="card">
<p>${members.length === 0 ? 'It has no members.' : `Its ${plural(members.length, 'member')}: ${members.join(', ')}.`}</p>
<p>${
    recipes.length === 0
      ? 'No recipe uses it.'
      : kit.html`<strong>Recipes that use it: ${recipeLinks}.</strong> They will fail at those steps until a group named ${group.name} exists again.`
  }</p>
<form method="post" action="/admin/groups/${group.name}/delete" class="row-form">${kit.csrfField(req)}<input type="hidden" name="confirm" value="yes">
<button type="submit" class="button danger">Delete ${group.name}</button> <a href="/admin/groups/${group.name}">Keep it</a></form>
</section>`;
  return adminPage(kit, req, reply, user, { title: `Delete group ${group.name}?`, section: 'groups', body });
}

async function rolesPage(
  kit: WebKit,
  req: FastifyRequest,
  reply: FastifyReply,
  user: User,
  error?: string,
): Promise<FastifyReply> {
  requireOperator(user, 'use the admin pages');
  const admin = isAdmin(user);
  const q = (req.query ?? {}) as Record<string, unknown>;
  const search = field(q, 'q').toLowerCase();
  const roleFilter = ROLES.some((r) => r.role === field(q, 'role')) ? field(q, 'role') : '';
  const all = await kit.baton.users.list();
  // An exact email or id also finds people past the first 500 names.
  const exact = search ? await kit.baton.users.lookup(search).catch(() => null) : null;
  const users = all.filter(
    (u) =>
      (!roleFilter || u.role === roleFilter) &&
      (!search || u.name.toLowerCase().includes(search) || (u.email ?? '').includes(search)),
  );
  if (exact && !users.some((u) => u._id === exact._id) && (!roleFilter || exact.role === roleFilter))
    users.unshift(exact);
  const done = field(q, 'changed');
  const changed = done ? await kit.baton.users.find(done).catch(() => null) : null;
  const rows = users.map(
    (u) =>
      kit.html`<tr data-user="${u._id}"><td id="user-${u._id}">${u.name}</td><td>${u.email ?? ''}</td><td>${u.role}</td><td>${
        admin
          ? kit.html`<form method="post" action="/admin/roles" class="row-form">${kit.csrfField(req)}<input type="hidden" name="user" value="${u._id}">
<label class="visually-hidden" for="role-${u._id}">Role of ${u.name}</label>
<select id="role-${u._id}" name="role">${ROLES.map(
              (r) =>
                kit.html`<option value="${r.role}"${r.role === u.role ? kit.raw(' selected') : ''}>${r.label}</option>`,
            )}</select> <button type="submit" class="button" aria-describedby="user-${u._id}">Save</button></form>`
          : ''
      }</td></tr>`,
  );
  const body = kit.html`<div class="page-head"><h1>Roles</h1></div>
${changed ? kit.html`<p class="notice" role="status">${changed.name} is now ${changed.role === 'user' ? 'a user' : `an ${changed.role}`}.</p>` : ''}
${error ? kit.html`<div class="form-error" role="alert">${error}</div>` : ''}
<ul class="muted">${ROLES.map((r) => kit.html`<li><strong>${r.label}</strong>: ${r.what}</li>`)}</ul>
<form method="get" action="/admin/roles" class="filters" role="search" aria-label="Find people">
<label for="people-q">Name or email <input id="people-q" name="q" type="search" value="${field(q, 'q')}"></label>
<label for="people-role">Role <select id="people-role" name="role"><option value="">Any role</option>${ROLES.map(
    (r) =>
      kit.html`<option value="${r.role}"${r.role === roleFilter ? kit.raw(' selected') : ''}>${r.label}</option>`,
  )}</select></label>
<button type="submit" class="button">Find</button>${search || roleFilter ? kit.html` <a href="/admin/roles">Clear</a>` : ''}</form>
<div class="table-wrap"><table class="list"><caption class="muted">${plural(users.length, 'person', 'people')}${
    all.length >= 500 ? ' (among the first 500 by name; an exact email finds anyone)' : ''
  }</caption><thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">${admin ? 'Change' : ''}</th></tr></thead>
<tbody>${rows}</tbody></table></div>
${admin ? '' : kit.html`<p class="muted">Only admins can grant or revoke roles.</p>`}`;
  return adminPage(kit, req, reply, user, {
    title: 'Roles',
    section: 'roles',
    body,
    status: error ? 400 : 200,
  });
}

/**
 * The person a group-member form names: the picker's Baton id, or (typed or posted by hand) an
 * email, platform id or name of someone Baton knows. Anything else is a clear form error.
 */
async function memberFor(kit: WebKit, ref: string): Promise<string> {
  const value = ref.trim();
  if (value === '') return value; // the core's own "must not be empty"
  const found = await kit.baton.users.lookup(value).catch(() => null);
  if (found) return found._id;
  const lower = value.toLowerCase();
  const named = (await kit.baton.users.list({ limit: 5000 })).filter((u) => u.name.toLowerCase() === lower);
  if (named.length === 1) return named[0]!._id;
  const message =
    named.length > 1
      ? `${named.length} people are named "${value}": give the email of the one you mean.`
      : `No person "${value}" is known to Baton: pick someone from the list, or give the email or name of someone who has used Baton.`;
  throw new ValidationError(message, { user: message });
}

export function registerPeople(app: FastifyInstance, kit: WebKit): void {
  app.get(
    '/admin/groups',
    route(kit, async (req, reply, user) => groupsPage(kit, req, reply, user)),
  );
  app.post(
    '/admin/groups',
    route(kit, async (req, reply, user) => {
      const body = bodyOf(req);
      try {
        const g = await kit.baton.groups.create(
          user,
          field(body, 'name'),
          field(body, 'description') || undefined,
        );
        return changed(req, reply, `/admin/groups/${g.name}?done=created`, 201);
      } catch (err) {
        const errors = formErrorsOf(err);
        if (!errors) throw err;
        return (
          jsonRefusal(req, reply, err, errors) ?? groupsPage(kit, req, reply, user, { values: body, errors })
        );
      }
    }),
  );
  app.get(
    '/admin/groups/:name',
    route(kit, async (req, reply, user) => groupPage(kit, req, reply, user, paramOf(req, 'name'))),
  );
  for (const op of ['add', 'remove'] as const) {
    app.post(
      `/admin/groups/:name/${op}`,
      route(kit, async (req, reply, user) => {
        // Before the person is looked up: whether someone is known to Baton is not a plain user's business.
        requireAdmin(user, 'change group members');
        const name = paramOf(req, 'name');
        try {
          const member = await memberFor(kit, field(bodyOf(req), 'user'));
          if (op === 'add') await kit.baton.groups.addMember(user, name, member);
          else await kit.baton.groups.removeMember(user, name, member);
        } catch (err) {
          const errors = formErrorsOf(err);
          if (!errors) throw err;
          return jsonRefusal(req, reply, err, errors) ?? groupPage(kit, req, reply, user, name, errors.form);
        }
        return changed(req, reply, `/admin/groups/${name}?done=${op === 'add' ? 'added' : 'removed'}`);
      }),
    );
  }
  app.get(
    '/admin/groups/:name/delete',
    route(kit, async (req, reply, user) => confirmDeletePage(kit, req, reply, user, paramOf(req, 'name'))),
  );
  app.post(
    '/admin/groups/:name/delete',
    route(kit, async (req, reply, user) => {
      const name = paramOf(req, 'name');
      // Not confirmed yet (a one-click post): ask first (a JSON client: what it breaks, and how to confirm).
      if (field(bodyOf(req), 'confirm') !== 'yes') {
        if (!wantsJson(req)) return confirmDeletePage(kit, req, reply, user, name);
        requireAdmin(user, 'delete groups');
        const group = await kit.baton.groups.get(name);
        const recipes = await kit.baton.recipes.usingGroup(user, group.name);
        throw new ConflictError(
          `Deleting the group ${group.name} needs confirm: "yes". It has ${plural(group.members.length, 'member')}; ${
            recipes.length ? `recipes that use it: ${recipes.join(', ')}` : 'no recipe uses it'
          }.`,
        );
      }
      try {
        await kit.baton.groups.delete(user, name);
      } catch (err) {
        // Still in use: said on the group's page, beside its members and what to do.
        const errors = formErrorsOf(err);
        if (!errors) throw err;
        return jsonRefusal(req, reply, err, errors) ?? groupPage(kit, req, reply, user, name, errors.form);
      }
      return changed(req, reply, '/admin/groups?deleted=1');
    }),
  );
  app.get(
    '/admin/roles',
    route(kit, async (req, reply, user) => rolesPage(kit, req, reply, user)),
  );
  app.post(
    '/admin/roles',
    route(kit, async (req, reply, user) => {
      const body = bodyOf(req);
      const target = field(body, 'user');
      try {
        await kit.baton.users.setRole(user, target, field(body, 'role') as Role);
      } catch (err) {
        const errors = formErrorsOf(err);
        if (!errors) throw err;
        return jsonRefusal(req, reply, err, errors) ?? rolesPage(kit, req, reply, user, errors.form);
      }
      return changed(req, reply, `/admin/roles?changed=${encodeURIComponent(target)}`);
    }),
  );
}
