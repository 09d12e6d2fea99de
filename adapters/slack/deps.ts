import type { WebClient } from '@slack/web-api';
import type { Config } from '../../src/config.js';
import type { Baton } from '../../src/core/baton.js';
import type { User } from '../../src/core/types.js';
import type { Logger } from '../../src/logger.js';

/** Translates Slack user ids to Baton users (creating them on first sight with name and email from users.info). */
export interface SlackUserDirectory {
  /**
   * The Baton user behind a Slack user id. With `person` (someone picked in a form, added to a
   * group), an app's bot user or a deactivated account is refused with a ValidationError. With
   * `mustExist` (a person named in an admin command), an id Slack does not know
   * (`user_not_found`) is refused instead of becoming a new Baton user named by the id.
   */
  toBaton(slackUserId: string, options?: { mustExist?: boolean; person?: boolean }): Promise<User>;
  /** The Slack user id of a Baton user, if they have a Slack identity. */
  toSlack(user: User | string): Promise<string | null>;
}

/** What every part of the Slack surface gets. */
export interface SlackDeps {
  baton: Baton;
  config: Config;
  /** Web API client (base URL from SLACK_API_URL; 429s retried after Retry-After; no other retries). */
  client: WebClient;
  logger: Logger;
  users: SlackUserDirectory;
  /** Bot user id (from auth.test or configuration). */
  botUserId: string;
  /** Public URL of Baton, for links to requests (may be undefined). */
  publicUrl: string | undefined;
}
