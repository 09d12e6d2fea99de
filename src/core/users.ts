import { isDuplicateKeyError } from '../store/port.js';
import { assertSafeId, UnsafeInputError } from '../store/safe.js';
import type { CoreContext } from './context.js';
import { ForbiddenError, NotFoundError, ValidationError } from './errors.js';
import { newId } from './ids.js';
import type { Provider, Role, User } from './types.js';

/** What a surface knows about a person when it first sees them. */
export interface PlatformProfile {
  provider: Provider;
  /** The platform's own id (Slack `U123`, Teams AAD object id / `29:...`, a web login). */
  id: string;
  name?: string | undefined;
  email?: string | undefined;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normalizeEmail(email: string | undefined): string | undefined {
  if (email === undefined) return undefined;
  const e = email.trim().toLowerCase();
  return EMAIL.test(e) ? e : undefined;
}

export function isAdmin(user: User): boolean {
  return user.role === 'admin';
}

/** Operators and admins may see recipes and jobs, start/stop recipes and rerun jobs. */
export function isOperator(user: User): boolean {
  return user.role === 'admin' || user.role === 'operator';
}

export function requireAdmin(actor: User, what: string): void {
  if (!isAdmin(actor)) throw new ForbiddenError(`Only admins can ${what}.`);
}

export function requireOperator(actor: User, what: string): void {
  if (!isOperator(actor)) throw new ForbiddenError(`Only admins and operators can ${what}.`);
}

/**
 * Finds a person by email in a platform's directory (e.g. Slack's users.lookupByEmail), for
 * someone Baton has not met yet; null when the platform does not know the address.
 */
export type PeopleDirectory = (email: string) => Promise<PlatformProfile | null>;

export class UserService {
  /** Display names by user id, for history lines and messages (never used for authorization). */
  private readonly names = new Map<string, { name: string; at: number }>();
  /** Platforms' directories, asked about an email no Baton user has (see `addDirectory`). */
  private readonly directories = new Set<PeopleDirectory>();

  constructor(private readonly ctx: CoreContext) {}

  /** A user's display name (cached for a few seconds), or the id itself when unknown. */
  async displayName(id: string): Promise<string> {
    const hit = this.names.get(id);
    if (hit && Date.now() - hit.at < 10_000) return hit.name;
    const user = await this.ctx.db.users.findOne({ _id: id });
    const name = user?.name ?? id;
    if (user) {
      if (this.names.size > 10_000) this.names.clear();
      this.names.set(id, { name, at: Date.now() });
    }
    return name;
  }

  /**
   * The Baton user behind a platform identity, created on first sight with the name and
   * email the platform gives; an identity whose email matches an existing user is linked
   * to that user (one person across Slack, Teams and the web).
   */
  async resolve(profile: PlatformProfile): Promise<User> {
    assertSafeId(profile.id, 'platform user id');
    const key = `${profile.provider}:${profile.id}`;
    const { db } = this.ctx;
    const link = await db.identities.findOne({ _id: key });
    if (link) {
      const user = await db.users.findOne({ _id: link.user_id });
      if (user) return this.refresh(user, profile);
    }
    const email = normalizeEmail(profile.email);
    let user = email ? await db.users.findOne({ email }) : null;
    if (!user) user = await this.create(profile, email);
    else if (!user.identities.some((i) => i.provider === profile.provider && i.id === profile.id)) {
      await db.users.updateOne(
        { _id: user._id },
        {
          $push: { identities: { provider: profile.provider, id: profile.id } },
          $set: { updated_at: this.ctx.now() },
        },
      );
      user.identities.push({ provider: profile.provider, id: profile.id });
    }
    try {
      await db.identities.insertOne({ _id: key, user_id: user._id });
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      // Someone else linked it at the same moment: theirs wins.
      const winner = await db.identities.findOne({ _id: key });
      const other = winner ? await db.users.findOne({ _id: winner.user_id }) : null;
      if (other) return other;
    }
    return this.applyBootstrapRole(user, profile);
  }

  private async create(profile: PlatformProfile, email: string | undefined): Promise<User> {
    const now = this.ctx.now();
    const user: User = {
      _id: newId('u'),
      name: profile.name?.trim() || email || profile.id,
      role: 'user',
      identities: [{ provider: profile.provider, id: profile.id }],
      created_at: now,
      updated_at: now,
    };
    if (email) user.email = email;
    try {
      await this.ctx.db.users.insertOne(user);
      return user;
    } catch (err) {
      if (!isDuplicateKeyError(err) || !email) throw err;
      const existing = await this.ctx.db.users.findOne({ email });
      if (!existing) throw err;
      return existing;
    }
  }

  private async refresh(user: User, profile: PlatformProfile): Promise<User> {
    const set: Record<string, unknown> = {};
    const name = profile.name?.trim();
    if (name && name !== user.name) set.name = name;
    const email = normalizeEmail(profile.email);
    if (email && !user.email) {
      // The platform could not tell the email when this user was created (a failed lookup), and
      // someone else has it: one person, met first elsewhere. They become that user.
      const owner = await this.ctx.db.users.findOne({ email });
      if (owner && owner._id !== user._id && !owner.merged_into)
        return this.refresh(await this.merge(user, owner), { ...profile, email: undefined });
      set.email = email;
    }
    if (Object.keys(set).length > 0) {
      set.updated_at = this.ctx.now();
      try {
        await this.ctx.db.users.updateOne({ _id: user._id }, { $set: set });
        Object.assign(user, set);
        this.names.delete(user._id);
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err; // email already belongs to another user: keep ours
      }
    }
    return this.applyBootstrapRole(user, profile);
  }

  /**
   * Folds `from` (a user created without an email) into `into` (the user with the email the
   * platform gave later), as if the identity had been linked by email at first sight: `from`'s
   * identities, its conversation references, the stronger of the two roles, and what was
   * recorded under it (requests filed, history, tasks assigned, answered or delivered, group
   * memberships, notifications) move to `into`. `from` stays as a pointer (`merged_into`), so
   * an id kept elsewhere (a job's steps, a person field) still finds the person.
   */
  private async merge(from: User, into: User): Promise<User> {
    const { db, store } = this.ctx;
    const now = this.ctx.now();
    const rank: Record<Role, number> = { user: 0, operator: 1, admin: 2 };
    const identities = [...into.identities];
    for (const i of from.identities) {
      await db.identities.updateOne({ _id: `${i.provider}:${i.id}` }, { $set: { user_id: into._id } });
      if (!identities.some((j) => j.provider === i.provider && j.id === i.id)) identities.push(i);
    }
    const role = rank[from.role] > rank[into.role] ? from.role : into.role;
    await db.users.updateOne({ _id: into._id }, { $set: { identities, role, updated_at: now } });
    await db.users.updateOne(
      { _id: from._id },
      // No role left either: admin notices go to the user it was merged into.
      { $set: { identities: [], role: 'user', merged_into: into._id, updated_at: now } },
    );
    await db.requests.updateMany({ requester: from._id }, { $set: { requester: into._id } });
    await db.history.updateMany({ by: from._id }, { $set: { by: into._id } });
    await db.notifications.updateMany({ to: from._id }, { $set: { to: into._id } });
    const swap = (id: string | undefined) => (id === from._id ? into._id : id);
    const tasks = await db.tasks
      .find({
        $or: [
          { assignee_key: `user:${from._id}` },
          { completed_by: from._id },
          { 'responses.by': from._id },
          { 'deliveries.user': from._id },
          { 'listed_copies.user': from._id },
        ],
      })
      .toArray();
    for (const task of tasks) {
      const set: Record<string, unknown> = {
        responses: task.responses.map((r) => ({ ...r, by: swap(r.by) })),
        ...(task.deliveries
          ? { deliveries: task.deliveries.map((d) => ({ ...d, user: swap(d.user) })) }
          : {}),
        ...(task.listed_copies
          ? { listed_copies: task.listed_copies.map((d) => ({ ...d, user: swap(d.user) })) }
          : {}),
        ...(task.completed_by ? { completed_by: swap(task.completed_by) } : {}),
      };
      if (task.assignee.type === 'user' && task.assignee.id === from._id) {
        set.assignee = { type: 'user', id: into._id };
        set.assignee_key = `user:${into._id}`;
      }
      await db.tasks.updateOne({ _id: task._id }, { $set: set });
    }
    for (const group of await db.groups.find({ members: from._id }).toArray()) {
      const members = [...new Set(group.members.map((m) => swap(m) ?? m))];
      await db.groups.updateOne({ _id: group._id }, { $set: { members, updated_at: now } });
    }
    const refs = store.collection<{
      _id: string;
      surface: string;
      user: string;
      ref: Record<string, string>;
    }>('conversation_refs');
    for (const doc of await refs.find({ user: from._id }).toArray()) {
      const set: Record<string, unknown> = { surface: doc.surface, user: into._id, updated_at: now };
      for (const [k, v] of Object.entries(doc.ref ?? {})) set[`ref.${k}`] = v;
      await refs.updateOne({ _id: `${doc.surface}:${into._id}` }, { $set: set }, { upsert: true });
      await refs.deleteOne({ _id: doc._id });
    }
    this.names.delete(from._id);
    this.names.delete(into._id);
    this.ctx.logger.info(
      { from: from._id, into: into._id },
      'linked a user created without an email to the user with it',
    );
    return { ...into, identities, role, updated_at: now };
  }

  private async applyBootstrapRole(user: User, profile?: PlatformProfile): Promise<User> {
    if (user.role === 'admin' || !this.isBootstrapAdmin(user, profile)) return user;
    await this.ctx.db.users.updateOne(
      { _id: user._id },
      { $set: { role: 'admin', updated_at: this.ctx.now() } },
    );
    user.role = 'admin';
    this.ctx.logger.info({ user: user._id }, 'granted admin from BATON_ADMINS');
    return user;
  }

  private isBootstrapAdmin(user: User, profile?: PlatformProfile): boolean {
    const list = this.ctx.bootstrapAdmins;
    if (list.length === 0) return false;
    const keys = new Set<string>();
    if (user.email) keys.add(user.email);
    for (const i of user.identities) {
      keys.add(i.id.toLowerCase());
      keys.add(`${i.provider}:${i.id}`.toLowerCase());
    }
    if (profile) keys.add(profile.id.toLowerCase());
    return list.some((entry) => keys.has(entry.toLowerCase()));
  }

  /** Applies BATON_ADMINS to users that already exist (at start). */
  async applyBootstrapAdmins(): Promise<void> {
    for (const entry of this.ctx.bootstrapAdmins) {
      const email = normalizeEmail(entry);
      let user = email ? await this.ctx.db.users.findOne({ email }) : null;
      if (!user) {
        const raw = entry.includes(':') ? entry : undefined;
        const keys = raw ? [raw] : (['slack', 'teams', 'web'] as const).map((p) => `${p}:${entry}`);
        for (const key of keys) {
          const link = await this.ctx.db.identities.findOne({ _id: key });
          if (link) {
            user = await this.ctx.db.users.findOne({ _id: link.user_id });
            if (user) break;
          }
        }
      }
      if (user && user.role !== 'admin') await this.applyBootstrapRole(user);
    }
  }

  async get(id: string): Promise<User> {
    const user = await this.find(id);
    if (!user) throw new NotFoundError(`No user with id ${id}.`);
    return user;
  }

  async find(id: string): Promise<User | null> {
    assertSafeId(id, 'user id');
    return this.current(await this.ctx.db.users.findOne({ _id: id }));
  }

  /** The user itself, or the one it was merged into (see `merge`). */
  private async current(user: User | null): Promise<User | null> {
    if (typeof user?.merged_into !== 'string') return user;
    return (await this.ctx.db.users.findOne({ _id: user.merged_into })) ?? user;
  }

  /** A user by Baton id, email, or `provider:id`; null when unknown. */
  async lookup(ref: string): Promise<User | null> {
    const value = ref.trim();
    if (value === '') return null;
    // Nothing Baton stores is named so (over 200 characters, control characters, a leading `$`):
    // someone typed it, and it is nobody known (not an error on Baton's side).
    try {
      assertSafeId(value, 'user');
    } catch (err) {
      if (err instanceof UnsafeInputError) return null;
      throw err;
    }
    const email = normalizeEmail(value);
    if (email) return (await this.ctx.db.users.findOne({ email })) ?? this.fromDirectories(email);
    const byId = await this.current(await this.ctx.db.users.findOne({ _id: value }));
    if (byId) return byId;
    if (value.includes(':')) {
      const link = await this.ctx.db.identities.findOne({ _id: value });
      if (link) return this.ctx.db.users.findOne({ _id: link.user_id });
    }
    return null;
  }

  /**
   * Lets a surface find people by email in its platform's directory, so a recipe can assign
   * `to: boss@example.com` (or an admin name them by email) before they have used Baton: the
   * person is then created with that platform identity. Returns the call that removes it.
   */
  addDirectory(directory: PeopleDirectory): () => void {
    this.directories.add(directory);
    return () => {
      this.directories.delete(directory);
    };
  }

  private async fromDirectories(email: string): Promise<User | null> {
    for (const directory of this.directories) {
      let profile: PlatformProfile | null;
      try {
        profile = await directory(email);
      } catch (err) {
        this.ctx.logger.warn({ err, email }, 'a people directory failed; trying the next one');
        continue;
      }
      if (profile) return this.resolve({ ...profile, email: profile.email ?? email });
    }
    return null;
  }

  /**
   * People whose name is `name` (any case), or, when nobody's is, whose name contains it:
   * at most `limit` (default 2, enough to tell one match from several), by name.
   */
  async findByName(name: string, limit = 2): Promise<User[]> {
    const text = name.trim().replace(/\s+/g, ' ').slice(0, 200);
    if (text === '') return [];
    const re = text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const exact = await this.ctx.db.users
      .find(
        { name: { $regex: `^${re}$`, $options: 'i' }, merged_into: { $exists: false } },
        { sort: { name: 1 }, limit },
      )
      .toArray();
    if (exact.length > 0) return exact;
    return this.ctx.db.users
      .find(
        { name: { $regex: re, $options: 'i' }, merged_into: { $exists: false } },
        { sort: { name: 1 }, limit },
      )
      .toArray();
  }

  async list(options: { limit?: number } = {}): Promise<User[]> {
    return this.ctx.db.users
      .find({ merged_into: { $exists: false } }, { sort: { name: 1 }, limit: options.limit ?? 500 })
      .toArray();
  }

  /** Grants a role (admins only). */
  async setRole(actor: User, userId: string, role: Role): Promise<User> {
    requireAdmin(actor, 'grant or revoke roles');
    if (!['admin', 'operator', 'user'].includes(role)) {
      throw new ValidationError(`Unknown role ${role}: use admin, operator or user.`);
    }
    const user = await this.get(userId);
    if (user._id === actor._id && role !== 'admin') {
      const admins = await this.ctx.db.users.countDocuments({ role: 'admin' });
      if (admins <= 1)
        throw new ValidationError('You are the last admin: grant admin to someone else first.');
    }
    if (role !== 'admin' && this.isBootstrapAdmin(user)) {
      // They would be made admin again the next time they use Baton.
      throw new ValidationError(
        `${user.name} is an admin through BATON_ADMINS (the server's configuration): take them out of BATON_ADMINS and restart Baton to change their role.`,
      );
    }
    await this.ctx.db.users.updateOne({ _id: user._id }, { $set: { role, updated_at: this.ctx.now() } });
    this.ctx.logger.info({ actor: actor._id, user: user._id, role }, 'role changed');
    return { ...user, role };
  }
}
