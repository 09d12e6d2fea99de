import { isDuplicateKeyError } from '../store/port.js';
import type { CoreContext } from './context.js';
import { ConflictError, NotFoundError, ValidationError } from './errors.js';
import type { Group, User } from './types.js';
import { requireAdmin, type UserService } from './users.js';

const GROUP_NAME = /^[a-z][a-z0-9-]{0,62}$/;

export function assertGroupName(name: string): void {
  if (typeof name === 'string' && name.length > 63) {
    // The characters may be right: say what is wrong.
    const message = `Group names are at most 63 characters (this one has ${name.length}).`;
    throw new ValidationError(message, { name: message });
  }
  if (!GROUP_NAME.test(name)) {
    throw new ValidationError(
      `"${name}" is not a valid group name: use lowercase letters, digits and dashes, starting with a letter.`,
      { name: 'Use lowercase letters, digits and dashes, starting with a letter.' },
    );
  }
}

export class GroupService {
  constructor(
    private readonly ctx: CoreContext,
    private readonly users: UserService,
  ) {}

  async create(actor: User, name: string, description?: string): Promise<Group> {
    requireAdmin(actor, 'create groups');
    assertGroupName(name);
    const now = this.ctx.now();
    const group: Group = { _id: name, name, members: [], created_at: now, updated_at: now };
    if (description) group.description = description;
    try {
      await this.ctx.db.groups.insertOne(group);
    } catch (err) {
      if (isDuplicateKeyError(err)) throw new ConflictError(`Group ${name} already exists.`);
      throw err;
    }
    return group;
  }

  async get(name: string): Promise<Group> {
    assertGroupName(name);
    const group = await this.ctx.db.groups.findOne({ _id: name });
    if (!group) throw new NotFoundError(`No group named ${name}. ${await this.known()}`);
    return group;
  }

  async find(name: string): Promise<Group | null> {
    if (!GROUP_NAME.test(name)) return null;
    return this.ctx.db.groups.findOne({ _id: name });
  }

  /** The groups there are, for a message about one that is not (at most 20 named). */
  private async known(): Promise<string> {
    const names = (await this.ctx.db.groups.find({}, { sort: { _id: 1 }, limit: 21 }).toArray()).map(
      (g) => g.name,
    );
    if (names.length === 0) return 'There are no groups yet: create it first.';
    return `Groups: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''}.`;
  }

  async list(): Promise<Group[]> {
    return this.ctx.db.groups.find({}, { sort: { name: 1 } }).toArray();
  }

  async isMember(name: string, userId: string): Promise<boolean> {
    if (!GROUP_NAME.test(name)) return false;
    return (await this.ctx.db.groups.countDocuments({ _id: name, members: userId })) > 0;
  }

  async addMember(actor: User, name: string, userId: string): Promise<Group> {
    requireAdmin(actor, 'change group members');
    const group = await this.get(name);
    const user = await this.users.get(userId);
    await this.ctx.db.groups.updateOne(
      { _id: group._id },
      { $addToSet: { members: user._id }, $set: { updated_at: this.ctx.now() } },
    );
    if (!group.members.includes(user._id)) {
      // The newcomer gets a copy of the group's open tasks; until the surfaces have posted
      // them, redelivery hands those tasks out again (a crash in between loses none).
      await this.ctx.db.tasks.updateMany(
        { assignee_key: `group:${group.name}`, status: 'open' },
        { $unset: { copies_complete: '' } },
      );
      this.ctx.events.emit('group.changed', { name: group.name, added: user._id });
    }
    return this.get(name);
  }

  async removeMember(actor: User, name: string, userId: string): Promise<Group> {
    requireAdmin(actor, 'change group members');
    const group = await this.get(name);
    if (!group.members.includes(userId)) throw new NotFoundError(`That user is not a member of ${name}.`);
    await this.ctx.db.groups.updateOne(
      { _id: group._id },
      { $pull: { members: userId }, $set: { updated_at: this.ctx.now() } },
    );
    this.ctx.events.emit('group.changed', { name: group.name, removed: userId });
    return this.get(name);
  }

  async delete(actor: User, name: string): Promise<void> {
    requireAdmin(actor, 'delete groups');
    // Its open tasks would be left to nobody: out of every inbox, decided by no one but an admin.
    if (typeof name === 'string' && GROUP_NAME.test(name)) {
      const open = await this.ctx.db.tasks
        .find({ assignee_key: `group:${name}`, status: 'open' }, { limit: 6 })
        .toArray();
      if (open.length > 0) {
        const requests = [...new Set(open.slice(0, 5).map((t) => t.request_id))].join(', ');
        throw new ConflictError(
          `Group ${name} still has open tasks (${open.length > 5 ? 'more than 5' : open.length}, on ${requests}${open.length > 5 ? '…' : ''}): reassign them or wait until they are decided, then delete the group.`,
        );
      }
    }
    const { deletedCount } = await this.ctx.db.groups.deleteOne({ _id: name });
    if (deletedCount === 0) throw new NotFoundError(`No group named ${name}.`);
  }
}
