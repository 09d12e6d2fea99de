import type { WebClient } from '@slack/web-api';
import type { Baton } from '../../src/core/baton.js';
import { ValidationError } from '../../src/core/errors.js';
import type { User } from '../../src/core/types.js';
import type { PeopleDirectory, PlatformProfile } from '../../src/core/users.js';
import type { Logger } from '../../src/logger.js';
import type { SlackUserDirectory } from './deps.js';

export interface SlackUserDirectoryOptions {
  baton: Baton;
  client: WebClient;
  logger: Logger;
  /** How long a Slack id → Baton user answer is reused (default 5 minutes). */
  ttlMs?: number;
  now?: () => number;
}

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,20}$/;

/** True for what Slack uses as a user id (`U…`, or `W…` on Enterprise Grid). */
export function isSlackUserId(value: string): boolean {
  return SLACK_USER_ID.test(value);
}

/**
 * Slack user ids → Baton users, through `users.info` (name, and email when the app has
 * `users:read.email`: the email links a Slack identity to an existing Baton user). The
 * Slack profile is cached for a few minutes and concurrent lookups of one id share a call;
 * the Baton user itself is always read fresh (a role granted or revoked counts at once).
 * If `users.info` fails, the user already linked to the id is used, and an unknown one is
 * created from the id alone (name and email fill in on a later lookup).
 */
export function createSlackUserDirectory(options: SlackUserDirectoryOptions): SlackUserDirectory {
  const { baton, client, logger } = options;
  const ttl = options.ttlMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;
  type Profile = {
    name?: string | undefined;
    email?: string | undefined;
    ok: boolean;
    /** Slack answered `user_not_found`: no such person in the workspace. */
    notFound?: boolean;
    /** An app's bot user (Baton itself, Slackbot, a workflow bot): nobody who can act on a task. */
    bot?: boolean;
    /** A deactivated account. */
    deleted?: boolean;
  };
  const cache = new Map<string, { profile: Profile; at: number }>();
  const pending = new Map<string, Promise<Profile>>();
  /** Emails Slack has no (usable) member for, remembered like profiles, so a Teams-only person costs one lookup per TTL. */
  const notOnSlack = new Map<string, number>();
  const pendingEmails = new Map<string, Promise<string | null>>();

  /**
   * The Slack id of someone Baton knows by email but never met on Slack (they used Teams or the
   * portal first), found with users.lookupByEmail and linked to their Baton user, so their tasks
   * and notices reach them on Slack too and the next time needs no lookup.
   */
  function linkByEmail(user: User, email: string): Promise<string | null> {
    const missed = notOnSlack.get(email);
    if (missed !== undefined && now() - missed < ttl) return Promise.resolve(null);
    const running = pendingEmails.get(email);
    if (running) return running;
    const p = (async () => {
      const found = await lookupByEmail(client, logger, email);
      if (found === undefined) return null; // a passing failure: ask again next time
      if (found === null) {
        if (notOnSlack.size > 10_000) notOnSlack.clear();
        notOnSlack.set(email, now());
        return null;
      }
      // The name stays Baton's: a lookup made for someone else's task renames nobody.
      const linked = await baton.users.resolve({ provider: 'slack', id: found.id, email });
      if (linked._id !== user._id) {
        // That Slack account already belongs to another Baton user with another email.
        logger.warn(
          { user: user._id, slack_user: found.id, other: linked._id },
          'slack: the Slack member with this email is linked to another Baton user',
        );
        return null;
      }
      logger.info({ user: user._id, slack_user: found.id }, 'slack: found a Baton user on Slack by email');
      return found.id;
    })().finally(() => pendingEmails.delete(email));
    pendingEmails.set(email, p);
    return p;
  }

  async function fetchProfile(slackId: string): Promise<Profile> {
    try {
      const info = await client.users.info({ user: slackId });
      const u = info.user;
      const name =
        u?.real_name?.trim() || u?.profile?.real_name?.trim() || u?.profile?.display_name?.trim() || u?.name;
      return {
        name: name || undefined,
        email: u?.profile?.email || undefined,
        ok: true,
        bot: u?.is_bot === true || slackId === 'USLACKBOT',
        deleted: u?.deleted === true,
      };
    } catch (err) {
      const code = (err as { data?: { error?: unknown } }).data?.error;
      logger.warn({ err, slack_user: slackId }, 'users.info failed; using the Slack id alone');
      return { ok: false, notFound: code === 'user_not_found' };
    }
  }

  function profileOf(slackId: string): Promise<Profile> {
    const hit = cache.get(slackId);
    if (hit && now() - hit.at < ttl) return Promise.resolve(hit.profile);
    const running = pending.get(slackId);
    if (running) return running;
    const p = fetchProfile(slackId)
      .then((profile) => {
        if (profile.ok) {
          if (cache.size > 10_000) cache.clear();
          cache.set(slackId, { profile, at: now() });
        }
        return profile;
      })
      .finally(() => pending.delete(slackId));
    pending.set(slackId, p);
    return p;
  }

  return {
    async toBaton(slackUserId: string, opts: { mustExist?: boolean; person?: boolean } = {}): Promise<User> {
      const profile = await profileOf(slackUserId);
      if (opts.person) {
        // Slack's people pickers offer apps too: a task for one would wait on nobody.
        const who = profile.name ?? slackUserId;
        if (profile.bot) throw new ValidationError(`${who} is an app, not a person: pick a person.`);
        if (profile.deleted)
          throw new ValidationError(`${who}'s Slack account is deactivated: pick someone else.`);
      }
      if (!profile.ok) {
        const known = await baton.users.lookup(`slack:${slackUserId}`);
        if (known) return known;
        if (opts.mustExist && profile.notFound) {
          throw new ValidationError(
            `Slack doesn't know a person with the id ${slackUserId}: mention someone in this workspace (type @ and pick them).`,
          );
        }
        if (opts.mustExist) {
          throw new ValidationError(
            `I couldn't look up ${slackUserId} in Slack just now; please try again in a moment.`,
          );
        }
      }
      return baton.users.resolve({
        provider: 'slack',
        id: slackUserId,
        name: profile.name,
        email: profile.email,
      });
    },
    async toSlack(user: User | string): Promise<string | null> {
      const u = typeof user === 'string' ? await baton.users.find(user) : user;
      if (!u) return null;
      const known = u.identities.find((i) => i.provider === 'slack')?.id;
      if (known) return known;
      return u.email && !u.merged_into ? linkByEmail(u, u.email) : null;
    },
  };
}

/**
 * Slack's directory for the core (`baton.users.addDirectory`): a person named by email whom
 * Baton has not met yet, found with users.lookupByEmail (the `users:read.email` scope).
 * Bots, deleted accounts and unknown addresses are nobody.
 */
export function slackPeopleDirectory(client: WebClient, logger: Logger): PeopleDirectory {
  return async (email) => (await lookupByEmail(client, logger, email)) ?? null;
}

/** Slack's answers to users.lookupByEmail that say "not now" rather than "nobody". */
const PASSING_ERRORS = new Set([
  'ratelimited',
  'fatal_error',
  'internal_error',
  'service_unavailable',
  'request_timeout',
]);

/**
 * The Slack member with this email (users.lookupByEmail): null when there is none who can act
 * (unknown address, a bot, a deactivated account, or no `users:read.email` scope), undefined
 * when Slack could not answer just now.
 */
async function lookupByEmail(
  client: WebClient,
  logger: Logger,
  email: string,
): Promise<PlatformProfile | null | undefined> {
  try {
    const res = await client.users.lookupByEmail({ email });
    const u = res.user;
    if (!u?.id || u.deleted || u.is_bot) return null;
    const name =
      u.real_name?.trim() || u.profile?.real_name?.trim() || u.profile?.display_name?.trim() || u.name;
    return { provider: 'slack', id: u.id, name: name || undefined, email: u.profile?.email ?? email };
  } catch (err) {
    const code = (err as { data?: { error?: unknown } }).data?.error;
    if (code !== 'users_not_found') logger.warn({ err, email }, 'slack: users.lookupByEmail failed');
    if (typeof code !== 'string' || PASSING_ERRORS.has(code)) return undefined;
    return null;
  }
}
