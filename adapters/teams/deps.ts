import type { Config } from '../../src/config.js';
import type { Baton } from '../../src/core/baton.js';
import type { Logger } from '../../src/logger.js';
import type { CardLibrary } from '../cards/cards.js';
import type { WorkQueue } from '../slack/queue.js';
import type { TeamsConnector } from './connector.js';
import type { TeamsUserDirectory } from './users.js';

/** What every part of the Teams surface gets. */
export interface TeamsDeps {
  baton: Baton;
  config: Config;
  logger: Logger;
  connector: TeamsConnector;
  users: TeamsUserDirectory;
  /** The card templates of `cards/` (null if they could not be loaded: a built-in layout is used). */
  cards: CardLibrary | null;
  /** Paces outbound work: `serial(key)` per task/notification, `call` bounds calls in flight. */
  queue: WorkQueue;
  /** Public URL of Baton, for links to requests (may be undefined). */
  publicUrl: string | undefined;
  /** Keeps track of work started after an activity was answered (tests wait for it; shutdown drains it). */
  track(work: Promise<unknown>): void;
}

export const ADAPTIVE_CARD = 'application/vnd.microsoft.card.adaptive';
