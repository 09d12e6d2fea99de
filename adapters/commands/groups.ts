/**
 * `admin groups delete`: the same choice on Slack and Teams, each surface formatting it. A
 * group nothing depends on (no members, no recipe naming it) is deleted at once; otherwise the
 * first answer says what deleting it would break (as the portal's confirm step does) and the
 * command is typed again with `confirm`.
 */
import type { Baton } from '../../src/core/baton.js';
import { ConflictError } from '../../src/core/errors.js';
import type { User } from '../../src/core/types.js';
import { requireAdmin } from '../../src/core/users.js';

export type GroupDeletion =
  | { deleted: true; name: string }
  | { deleted: false; name: string; members: string[]; recipes: string[] };

export async function deleteGroup(
  baton: Baton,
  actor: User,
  name: string,
  confirmed: boolean,
): Promise<GroupDeletion> {
  requireAdmin(actor, 'delete groups');
  const group = await baton.groups.get(name);
  if (!confirmed) {
    const [members, recipes] = await Promise.all([
      Promise.all(group.members.map((id) => baton.users.displayName(id))),
      baton.recipes.usingGroup(actor, group.name),
    ]);
    if (members.length > 0 || recipes.length > 0)
      return { deleted: false, name: group.name, members, recipes };
  }
  await baton.groups.delete(actor, group.name);
  return { deleted: true, name: group.name };
}

/** What deleting the group would break, in plain sentences (the surfaces add the command to type). */
export function deletionNotes(d: Extract<GroupDeletion, { deleted: false }>): string[] {
  const notes: string[] = [];
  if (d.members.length > 0) {
    const shown = d.members.slice(0, 20).join(', ') + (d.members.length > 20 ? ', …' : '');
    notes.push(`${d.members.length === 1 ? 'Its member' : `Its ${d.members.length} members`}: ${shown}.`);
  }
  if (d.recipes.length > 0)
    notes.push(
      `Recipes that use it: ${d.recipes.join(', ')}. They will fail at those steps until a group named ${d.name} exists again.`,
    );
  return notes;
}

/**
 * `admin groups create <name>`: group names are lower case, so the name typed is lowercased;
 * when that changed it, both answers say so ("Support is support"), or "already exists" would
 * read as a group nobody sees in the list.
 */
export async function createGroup(
  baton: Baton,
  actor: User,
  typed: string,
  description?: string,
): Promise<{ name: string; lowered?: string }> {
  const name = typed.toLowerCase();
  const lowered = name === typed ? undefined : `group names are lower case: ${typed} is ${name}`;
  try {
    const g = await baton.groups.create(actor, name, description);
    return lowered ? { name: g.name, lowered } : { name: g.name };
  } catch (err) {
    if (lowered && err instanceof ConflictError)
      throw new ConflictError(`${err.message.replace(/\.$/, '')} (${lowered}).`);
    throw err;
  }
}
