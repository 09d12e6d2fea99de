import type { Activity } from 'botbuilder';
import type { Baton } from '../../src/core/baton.js';
import type { User } from '../../src/core/types.js';
import type { Logger } from '../../src/logger.js';
import { ConnectorError, type TeamsAccount, type TeamsConnector } from './connector.js';

/** How Baton reaches one person on Teams (stored per Baton user by the core's ConversationService). */
export interface TeamsReach {
  serviceUrl: string;
  tenantId: string;
  /** The person's Teams id (`29:…`), per bot. */
  userId: string;
  /** The bot's id in that tenant (`28:<app id>`). */
  botId: string;
  /** The 1:1 conversation with the bot, once known. */
  conversationId?: string;
  aadObjectId?: string;
}

/** Translates Teams accounts to Baton users, and remembers where each person can be reached. */
export interface TeamsUserDirectory {
  /** The Baton user who sent an activity; saves their conversation reference. */
  fromActivity(activity: Partial<Activity>): Promise<User>;
  /** The Baton user behind a Teams id (`29:…` or an AAD object id) seen in a conversation (mentions, people pickers). */
  fromAccount(
    activity: Partial<Activity>,
    account: { id: string; name?: string; aadObjectId?: string },
  ): Promise<User>;
  /**
   * Like fromAccount, but null instead of creating a user the connector could not describe
   * (no email: creating one would split a person known elsewhere into two Baton users).
   */
  knownOrDescribed(
    activity: Partial<Activity>,
    account: { id: string; aadObjectId?: string },
  ): Promise<User | null>;
  /** Where a Baton user can be reached on Teams, or null. */
  reach(user: User | string): Promise<TeamsReach | null>;
  /** Records the 1:1 conversation created for a user. */
  saveConversation(userId: string, conversationId: string): Promise<void>;
  /** Forgets the 1:1 conversation of the sender of an activity (they uninstalled the bot). */
  forgetConversation(activity: Partial<Activity>): Promise<void>;
  /** The Teams identity of a Baton user, if any. */
  teamsIdentity(user: User | string): Promise<string | null>;
}

export interface TeamsUserDirectoryOptions {
  baton: Baton;
  connector: TeamsConnector;
  logger: Logger;
  ttlMs?: number;
  now?: () => number;
}

const SURFACE = 'teams';

/** The identity id Baton keeps for a Teams account: the AAD object id (stable across bots), else the Teams id. */
export function teamsIdentityId(account: { id: string; aadObjectId?: string | undefined }): string {
  return account.aadObjectId || account.id;
}

/**
 * A one-to-one chat with the bot: Teams says `personal`; the Bot Framework Emulator gives no
 * conversation type and no group flag.
 */
export function isPersonal(activity: Partial<Activity>): boolean {
  const c = activity.conversation;
  if (!c) return false;
  return c.conversationType === 'personal' || (c.conversationType === undefined && !c.isGroup);
}

function tenantOf(activity: Partial<Activity>): string {
  const cd = activity.channelData as { tenant?: { id?: string } } | undefined;
  return cd?.tenant?.id ?? activity.conversation?.tenantId ?? '';
}

/**
 * The conversation whose members an activity's people are looked up in, as botbuilder's
 * `TeamsInfo.getMember` does: in a channel, the team (a channel message's conversation id,
 * `19:…@thread.tacv2;messageid=…`, is no roster: the connector answers 404 ThreadNotFound);
 * elsewhere the chat itself.
 */
function rosterOf(activity: Partial<Activity>): string | undefined {
  const team = (activity.channelData as { team?: { id?: unknown } } | undefined)?.team?.id;
  if (typeof team === 'string' && team !== '') return team;
  return activity.conversation?.id?.split(';messageid=')[0] || undefined;
}

/**
 * Teams accounts → Baton users. The email comes from the connector (`GET
 * /v3/conversations/{id}/members/{userId}`, Teams' getMember), so a person who also uses
 * Slack or the portal is one Baton user (linked by email in the core). Profiles are cached
 * for a few minutes; when the connector cannot answer, the user already linked is used.
 */
export function createTeamsUserDirectory(options: TeamsUserDirectoryOptions): TeamsUserDirectory {
  const { baton, connector, logger } = options;
  const ttl = options.ttlMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { member: TeamsAccount | null; at: number }>();

  async function memberOf(activity: Partial<Activity>, userId: string): Promise<TeamsAccount | null> {
    const roster = rosterOf(activity);
    const key = `${roster}|${userId}`;
    const hit = cache.get(key);
    if (hit && now() - hit.at < ttl) return hit.member;
    if (!activity.serviceUrl || !roster) return null;
    let member: TeamsAccount | null = null;
    try {
      member = await connector.member(activity.serviceUrl, roster, userId);
    } catch (err) {
      logger.debug({ error: (err as Error).message }, 'teams: member lookup failed; using the id alone');
      // A definite "no" (e.g. 404: not a member here, or the Emulator) is remembered like an answer.
      const status = err instanceof ConnectorError ? err.status : 0;
      if (status >= 400 && status < 500 && status !== 429) {
        if (cache.size > 10_000) cache.clear();
        cache.set(key, { member: null, at: now() });
      }
      return null;
    }
    if (cache.size > 10_000) cache.clear();
    cache.set(key, { member, at: now() });
    return member;
  }

  async function resolve(
    activity: Partial<Activity>,
    account: { id: string; name?: string; aadObjectId?: string },
  ): Promise<User> {
    const member = await memberOf(activity, account.id);
    const aad = member?.aadObjectId ?? account.aadObjectId;
    const identity = teamsIdentityId({ id: member?.id ?? account.id, aadObjectId: aad });
    if (!member) {
      const known = await baton.users.lookup(`${SURFACE}:${identity}`);
      if (known) return known;
    }
    const email = member?.email ?? member?.userPrincipalName;
    const user = await baton.users.resolve({
      provider: SURFACE,
      id: identity,
      name: member?.name ?? account.name,
      email: email?.includes('@') ? email : undefined,
    });
    const userId = member?.id ?? account.id;
    if (activity.serviceUrl && userId.startsWith('29:')) {
      await baton.conversations.save(SURFACE, user._id, {
        serviceUrl: activity.serviceUrl,
        tenantId: tenantOf(activity),
        userId,
        botId: activity.recipient?.id ?? '',
        aadObjectId: aad ?? '',
      });
    }
    return user;
  }

  return {
    async fromActivity(activity) {
      const from = activity.from;
      if (!from?.id) throw new Error('activity without a sender');
      const user = await resolve(activity, {
        id: from.id,
        ...(from.name ? { name: from.name } : {}),
        ...(from.aadObjectId ? { aadObjectId: from.aadObjectId } : {}),
      });
      // A personal chat is the conversation to DM this person in.
      if (isPersonal(activity) && activity.serviceUrl && activity.conversation) {
        await baton.conversations.save(SURFACE, user._id, {
          serviceUrl: activity.serviceUrl,
          tenantId: tenantOf(activity),
          userId: from.id,
          botId: activity.recipient?.id ?? '',
          conversationId: activity.conversation.id,
          ...(from.aadObjectId ? { aadObjectId: from.aadObjectId } : {}),
        });
      }
      return user;
    },
    fromAccount: resolve,
    async knownOrDescribed(activity, account) {
      const known = await baton.users.lookup(`${SURFACE}:${teamsIdentityId(account)}`);
      if (known) return known;
      const member = await memberOf(activity, account.id);
      if (!member?.email && !member?.userPrincipalName) return null;
      return resolve(activity, account);
    },
    async reach(user) {
      const id = typeof user === 'string' ? user : user._id;
      const ref = await baton.conversations.get(SURFACE, id);
      if (!ref?.serviceUrl || !ref.userId) return null;
      return {
        serviceUrl: ref.serviceUrl,
        tenantId: ref.tenantId ?? '',
        userId: ref.userId,
        botId: ref.botId ?? '',
        ...(ref.conversationId ? { conversationId: ref.conversationId } : {}),
        ...(ref.aadObjectId ? { aadObjectId: ref.aadObjectId } : {}),
      };
    },
    async saveConversation(userId, conversationId) {
      await baton.conversations.save(SURFACE, userId, { conversationId });
    },
    async forgetConversation(activity) {
      const from = activity.from;
      if (!from?.id) return;
      const user = await baton.users.lookup(`${SURFACE}:${teamsIdentityId(from)}`);
      if (user) await baton.conversations.forget(SURFACE, user._id, ['conversationId']);
    },
    async teamsIdentity(user) {
      const u = typeof user === 'string' ? await baton.users.find(user) : user;
      return u?.identities.find((i) => i.provider === SURFACE)?.id ?? null;
    },
  };
}
