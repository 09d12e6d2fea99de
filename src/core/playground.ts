import type { Baton } from './baton.js';
import { ConflictError } from './errors.js';
import type { Role, User } from './types.js';

/**
 * The portal's playground: demo people and groups so every shipped template runs end to end
 * without Slack or Teams. Seeded through the core services, idempotently (every start).
 * Demo users are Baton users with a `web` identity `demo-<slug>`.
 */

export interface DemoPerson {
  slug: string;
  name: string;
  /** What the picker says about them. */
  title: string;
  role: Role;
  groups: string[];
  /** Slug of their manager (pre-fills "Approver" fields). */
  manager?: string;
}

export const DEMO_PEOPLE: DemoPerson[] = [
  {
    slug: 'riley',
    name: 'Riley Requester',
    title: 'Employee: files time off, expenses, access',
    role: 'user',
    groups: [],
    manager: 'morgan',
  },
  {
    slug: 'morgan',
    name: 'Morgan Manager',
    title: "Manager: approves Riley's requests",
    role: 'user',
    groups: [],
    manager: 'max',
  },
  {
    slug: 'max',
    name: 'Max Manager',
    title: 'Manager: approves Morgan and the teams',
    role: 'user',
    groups: [],
  },
  {
    slug: 'hana',
    name: 'Hana HR',
    title: 'HR: time off over 5 days',
    role: 'user',
    groups: ['hr'],
    manager: 'max',
  },
  {
    slug: 'ivan',
    name: 'Ivan IT',
    title: 'IT: access requests',
    role: 'user',
    groups: ['it'],
    manager: 'max',
  },
  {
    slug: 'fiona',
    name: 'Fiona Finance',
    title: 'Finance: expenses from 1,000',
    role: 'user',
    groups: ['finance'],
    manager: 'max',
  },
  {
    slug: 'dana',
    name: 'Dana Director',
    title: 'Finance director: expenses from 10,000',
    role: 'user',
    groups: ['finance-directors'],
    manager: 'max',
  },
  {
    slug: 'ada',
    name: 'Ada Admin',
    title: 'Admin: apps, recipes, groups, people',
    role: 'admin',
    groups: [],
  },
];

export const DEMO_GROUPS: { name: string; description: string }[] = [
  { name: 'hr', description: 'Human resources' },
  { name: 'it', description: 'IT' },
  { name: 'finance', description: 'Finance' },
  { name: 'finance-directors', description: 'Finance directors' },
];

export const DEMO_EMAIL_DOMAIN = 'playground.baton.invalid';

export function demoIdentity(slug: string): string {
  return `demo-${slug}`;
}

/** The slug of a demo person's user, if it is one. */
export function demoSlug(user: User): string | undefined {
  const id = user.identities.find((i) => i.provider === 'web' && i.id.startsWith('demo-'))?.id;
  const slug = id?.slice('demo-'.length);
  return DEMO_PEOPLE.some((p) => p.slug === slug) ? slug : undefined;
}

/** Creates (or finds) the demo people and groups; returns the users by slug. */
export async function seedPlayground(baton: Baton): Promise<Record<string, User>> {
  const { db } = baton.ctx;
  const users: Record<string, User> = {};
  for (const p of DEMO_PEOPLE) {
    users[p.slug] = await baton.users.resolve({
      provider: 'web',
      id: demoIdentity(p.slug),
      name: p.name,
      email: `${p.slug}@${DEMO_EMAIL_DOMAIN}`,
    });
  }
  // Roles and managers: the playground's own bootstrap, like BATON_ADMINS for real deployments.
  const now = baton.ctx.now();
  for (const p of DEMO_PEOPLE) {
    const user = users[p.slug]!;
    const manager = p.manager ? users[p.manager]?._id : undefined;
    const set: Record<string, unknown> = {};
    if (user.role !== p.role && (p.role === 'admin' || user.role === 'user')) set.role = p.role;
    if (manager && user.manager !== manager) set.manager = manager;
    if (user.playground !== true) set.playground = true;
    if (Object.keys(set).length > 0) {
      await db.users.updateOne({ _id: user._id }, { $set: { ...set, updated_at: now } });
      Object.assign(user, set);
    }
  }
  const admin = users.ada!;
  for (const g of DEMO_GROUPS) {
    try {
      await baton.groups.create(admin, g.name, g.description);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
  for (const p of DEMO_PEOPLE) {
    for (const g of p.groups) {
      const group = await baton.groups.get(g);
      if (!group.members.includes(users[p.slug]!._id))
        await baton.groups.addMember(admin, g, users[p.slug]!._id);
    }
  }
  return users;
}

/** The demo users as stored (for the picker), in DEMO_PEOPLE order. */
export async function demoUsers(baton: Baton): Promise<{ person: DemoPerson; user: User }[]> {
  const out: { person: DemoPerson; user: User }[] = [];
  for (const person of DEMO_PEOPLE) {
    const user = await baton.users.lookup(`web:${demoIdentity(person.slug)}`);
    if (user) out.push({ person, user });
  }
  return out;
}
