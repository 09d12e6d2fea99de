import { App, type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import { type RetryOptions, WebClient, type WebClientOptions } from '@slack/web-api';
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../src/config.js';
import type { Baton } from '../../src/core/baton.js';
import type { Logger } from '../../src/logger.js';
import { registerCommands } from './commands.js';
import type { SlackDeps } from './deps.js';
import { registerHome } from './home.js';
import { createHttpFetch } from './http-fetch.js';
import { registerModals } from './modals.js';
import { SlackHttpReceiver } from './receiver.js';
import { registerTaskHandlers, startTaskDelivery } from './tasks.js';
import { createSlackUserDirectory, slackPeopleDirectory } from './users.js';

export interface SlackPluginOptions {
  baton: Baton;
  config: Config;
  logger: Logger;
  /** The bot's ids; when both are absent they come from `auth.test` at start. */
  botId?: string;
  botUserId?: string;
  /** Clock for the signature's timestamp check, in ms (tests). */
  now?: () => number;
  /** When Slack is answered if no listener acked yet (default 2500 ms). */
  ackTimeoutMs?: number;
  /** Called with the surface once it is built (tests and embedders: extra listeners, the Bolt app). */
  onSurface?: (surface: SlackSurface) => void;
}

/** Whether the Slack surface can run with this configuration, and how. */
export function slackMode(
  config: Config,
): { on: true; mode: 'http' | 'socket' } | { on: false; missing: string[] } {
  const missing: string[] = [];
  if (!config.SLACK_BOT_TOKEN) missing.push('SLACK_BOT_TOKEN');
  if (!config.SLACK_SIGNING_SECRET && !config.SLACK_APP_TOKEN)
    missing.push('SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)');
  if (missing.length > 0) return { on: false, missing };
  return { on: true, mode: config.SLACK_APP_TOKEN ? 'socket' : 'http' };
}

/** The error the WebClient throws (wrapped in WebAPIRequestError) after waiting out a 429. */
const RATE_LIMITED = /A rate limit was exceeded \(url: /;

/**
 * Retries a Web API call only after a 429, once the `Retry-After` delay has passed (the
 * WebClient waits it out before the retry): never after a network error or a 5xx, where
 * the first call may have gone through and a retry could post the same message twice.
 */
export const SLACK_RETRY_POLICY = {
  retries: 5,
  factor: 1,
  minTimeout: 0,
  maxTimeout: 0,
  // p-retry: throwing here ends the retries with that error.
  onFailedAttempt(err: Error): void {
    if (!RATE_LIMITED.test(err.message)) throw err;
  },
} as RetryOptions;

/** WebClient options shared by every Slack call: base URL from SLACK_API_URL, 429-only retries. */
/** One connection pool for every Web API client of the process (see http-fetch.ts). */
const slackFetch = createHttpFetch();

export function slackClientOptions(config: Config, logger: BoltLogger): WebClientOptions {
  const options: WebClientOptions = {
    logger,
    fetch: slackFetch,
    retryConfig: SLACK_RETRY_POLICY,
    rejectRateLimitedCalls: false,
  };
  if (config.SLACK_API_URL) {
    options.slackApiUrl = config.SLACK_API_URL.endsWith('/')
      ? config.SLACK_API_URL
      : `${config.SLACK_API_URL}/`;
  }
  return options;
}

function format(parts: unknown[]): string {
  return parts
    .map((p) => {
      if (typeof p === 'string') return p;
      if (p instanceof Error) return p.message;
      try {
        return JSON.stringify(p);
      } catch {
        return String(p);
      }
    })
    .join(' ');
}

/** Bolt's and the WebClient's logger, writing to pino (whose redaction applies). */
export function toBoltLogger(log: Logger): BoltLogger {
  let level = LogLevel.INFO;
  return {
    debug: (...m: unknown[]) => log.debug(format(m)),
    info: (...m: unknown[]) => log.info(format(m)),
    warn: (...m: unknown[]) => log.warn(format(m)),
    error: (...m: unknown[]) => {
      const err = m.find((x) => x instanceof Error);
      log.error(err ? { err } : {}, format(m));
    },
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

/** A held click older than this is carried out by whichever server finds it (MongoDB, several servers). */
const HELD_CLICK_STALE_MS = 2 * 60_000;
const HELD_CLICK_SWEEP_MS = 5 * 60_000;

export interface SlackSurface {
  bolt: App;
  deps: SlackDeps;
  /** The HTTP receiver (absent in Socket Mode). */
  receiver: SlackHttpReceiver | undefined;
  mode: 'http' | 'socket';
  /** Starts Socket Mode (no-op over HTTP). */
  start(): Promise<void>;
  /** Stops background work and waits for events being processed. */
  stop(): Promise<void>;
}

/** The held-actions surface of form submissions answered by the receiver's safety timeout. */
const LATE_REQUESTS = 'slack-late';

/** Builds the Bolt app (HTTP receiver or Socket Mode), the shared dependencies, and registers every handler. */
export async function createSlackSurface(options: SlackPluginOptions): Promise<SlackSurface> {
  const { baton, config } = options;
  const status = slackMode(config);
  if (!status.on) throw new Error(`The Slack surface needs ${status.missing.join(' and ')}.`);
  const logger = options.logger.child({ component: 'slack' });
  const boltLogger = toBoltLogger(logger);
  const clientOptions = slackClientOptions(config, boltLogger);
  const token = config.SLACK_BOT_TOKEN!;

  let botId = options.botId;
  let botUserId = options.botUserId;
  if (botId === undefined || botUserId === undefined) {
    let auth: { bot_id?: string; user_id?: string };
    try {
      auth = await new WebClient(token, clientOptions).auth.test();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      // `code`: main prints it as one line (what to check), not a stack trace.
      throw Object.assign(
        new Error(`Slack auth.test failed (check SLACK_BOT_TOKEN and SLACK_API_URL): ${reason}`, {
          cause: err,
        }),
        { code: 'BATON_SLACK_AUTH_FAILED' },
      );
    }
    botId ??= auth.bot_id;
    botUserId ??= auth.user_id;
    if (!botUserId) throw new Error('auth.test did not return the bot user id: check SLACK_BOT_TOKEN.');
  }

  const receiver =
    status.mode === 'http'
      ? new SlackHttpReceiver({
          signingSecret: config.SLACK_SIGNING_SECRET!,
          logger,
          ...(options.now ? { now: options.now } : {}),
          ...(options.ackTimeoutMs !== undefined ? { ackTimeoutMs: options.ackTimeoutMs } : {}),
          holdLate: async (body) => {
            const id = await baton.deliveries.holdAction(LATE_REQUESTS, { body: JSON.stringify(body) });
            return () => baton.deliveries.releaseAction(id);
          },
        })
      : undefined;
  const bolt = new App({
    token,
    botId,
    botUserId,
    logger: boltLogger,
    clientOptions,
    // Bolt's conversation store (context.conversation) is not used: its default looks every
    // event's conversation up in memory and, finding nothing, builds an Error with a stack
    // (~3 % of a Slack approval round trip's CPU in the bench).
    convoStore: false,
    ...(receiver ? { receiver } : { socketMode: true, appToken: config.SLACK_APP_TOKEN! }),
  });
  bolt.error(async (err) => {
    logger.error({ err }, 'a Slack handler failed');
  });
  // Events API retries: the first delivery of an event id is processed; a retry of an event
  // already claimed is skipped (Bolt has acked it already); a retry whose first delivery
  // never arrived claims it and is processed.
  bolt.use(async ({ body, next, context }) => {
    const b = body as { type?: string; event_id?: unknown };
    if (b.type === 'event_callback' && typeof b.event_id === 'string') {
      const first = await baton.deliveries.claimOnce(`slack:event:${b.event_id}`);
      if (!first) {
        logger.info(
          { event_id: b.event_id, retry: context.retryNum },
          'skipped a Slack event already processed',
        );
        return;
      }
    }
    await next();
  });

  const deps: SlackDeps = {
    baton,
    config,
    client: bolt.client,
    logger,
    users: createSlackUserDirectory({ baton, client: bolt.client, logger }),
    botUserId,
    publicUrl: config.BATON_PUBLIC_URL,
  };
  registerCommands(bolt, deps);
  registerModals(bolt, deps);
  const home = registerHome(bolt, deps);
  const taskHandlers = registerTaskHandlers(bolt, deps, { home });
  const stopDelivery = startTaskDelivery(deps);
  // People named by email (a recipe's `to:`, an admin command) can be found in Slack.
  const removeDirectory = baton.users.addDirectory(slackPeopleDirectory(bolt.client, logger));

  let started = false;
  let recovering: NodeJS.Timeout | undefined;
  const recover = (staleMs: number) =>
    taskHandlers
      .recoverHeldClicks(staleMs)
      .catch((err: unknown) => logger.error({ err }, 'slack: carrying out held clicks failed'))
      .then(() => replayLate(staleMs))
      .catch((err: unknown) => logger.error({ err }, 'slack: carrying out held submissions failed'));
  // Form submissions Slack was answered for (the safety timeout) by a process that died before
  // carrying them out: carried out now (filing is once per form, so one done already is not redone).
  const replayLate = async (staleMs: number) => {
    if (!receiver) return;
    for (const a of await baton.deliveries.claimHeldActions(LATE_REQUESTS, staleMs)) {
      try {
        const body = JSON.parse(String(a.payload.body)) as Record<string, unknown>;
        logger.info({ type: body.type }, 'slack: carrying out a submission answered before a restart');
        await receiver.replay(body);
      } catch (err) {
        logger.error({ err }, 'slack: a submission answered before a restart failed');
      }
      await baton.deliveries.releaseAction(a._id);
    }
  };
  return {
    bolt,
    deps,
    receiver,
    mode: status.mode,
    async start() {
      if (status.mode === 'socket' && !started) {
        started = true;
        await bolt.start();
        logger.info('Slack surface on (Socket Mode)');
      }
      if (recovering === undefined) {
        // On the embedded store this is the only process: every held click is an orphan.
        void recover(baton.ctx.store.kind === 'embedded' ? 0 : HELD_CLICK_STALE_MS);
        recovering = setInterval(() => void recover(HELD_CLICK_STALE_MS), HELD_CLICK_SWEEP_MS);
        recovering.unref();
      }
    },
    async stop() {
      clearInterval(recovering);
      stopDelivery();
      removeDirectory();
      if (started) await bolt.stop();
      await receiver?.drain();
    },
  };
}

/**
 * The Slack surface as a Fastify plugin: `POST /slack/events` for slash commands,
 * interactivity and Events API events (or Socket Mode when SLACK_APP_TOKEN is set). The
 * raw-string body parser Slack's signature check needs is registered inside this plugin's
 * own scope, so every other route keeps Fastify's parsed JSON.
 */
export const slackPlugin: FastifyPluginAsync<SlackPluginOptions> = async (fastify, options) => {
  const surface = await createSlackSurface(options);
  options.onSurface?.(surface);
  const receiver = surface.receiver;
  if (receiver) {
    fastify.removeContentTypeParser(['application/json', 'application/x-www-form-urlencoded']);
    fastify.addContentTypeParser(
      ['application/json', 'application/x-www-form-urlencoded'],
      { parseAs: 'string' },
      (_req, body, done) => done(null, body),
    );
    fastify.post('/slack/events', async (req, reply) => {
      const res = await receiver.handle({
        rawBody: typeof req.body === 'string' ? req.body : '',
        headers: req.headers,
      });
      reply.code(res.status);
      if (res.contentType) reply.type(res.contentType);
      return reply.send(res.body);
    });
    options.logger.info({ component: 'slack' }, 'Slack surface on: POST /slack/events');
  }
  fastify.addHook('onReady', async () => {
    await surface.start();
  });
  fastify.addHook('onClose', async () => {
    await surface.stop();
  });
};
