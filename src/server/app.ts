import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { type SlackPluginOptions, slackMode, slackPlugin } from '../../adapters/slack/plugin.js';
import { type TeamsPluginOptions, teamsMode, teamsPlugin } from '../../adapters/teams/plugin.js';
import { webPlugin } from '../../adapters/web/plugin.js';
import type { Config } from '../config.js';
import type { Baton } from '../core/baton.js';
import { isBatonError } from '../core/errors.js';
import type { Logger } from '../logger.js';
import { VERSION } from '../version.js';
import { registerMetrics } from './metrics.js';

export interface AppOptions {
  baton: Baton;
  config: Config;
  logger: Logger;
  /** Extra options for the Slack surface (tests: bot ids, clock, ack timeout). */
  slack?: Partial<Omit<SlackPluginOptions, 'baton' | 'config' | 'logger'>>;
  /** Extra options for the Teams surface (tests: outbound token, connector retry timing). */
  teams?: Partial<Omit<TeamsPluginOptions, 'baton' | 'config' | 'logger'>>;
}

declare module 'fastify' {
  interface FastifyInstance {
    baton: Baton;
    config: Config;
  }
}

/** A browser navigating or posting a form (not the portal's fetch() calls, not an API client). */
function browserNavigation(req: FastifyRequest): boolean {
  return (req.headers.accept ?? '').includes('text/html') && req.headers['x-requested-with'] !== 'fetch';
}

/** The page for errors outside the portal's own pages (no session is read here). */
function errorPage(title: string, message: string): string {
  const text = message.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · Baton</title><link rel="stylesheet" href="/assets/app.css"></head><body><main><section class="card narrow"><h1>${title}</h1><p class="error-text">${text}</p><p><a href="/">Back to your inbox</a></p></section></main></body></html>`;
}

/** The one Fastify server: health, the Slack and Teams surfaces, the web portal. */
export async function buildApp({
  baton,
  config,
  logger,
  slack,
  teams,
}: AppOptions): Promise<FastifyInstance> {
  // pino's Logger and Fastify's base logger differ only in generics.
  const app = Fastify({
    // Raised by the router before any route or error handler: a path segment longer than the
    // router takes (414, which Fastify answered in its own shape, echoing the whole address) or
    // one that cannot be decoded.
    frameworkErrors: (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      const status = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400;
      const message = status === 414 ? 'The address is too long.' : 'The address is not valid.';
      if (browserNavigation(req))
        return reply.status(status).type('text/html; charset=utf-8').send(errorPage('Problem', message));
      return reply.status(status).send({ error: 'baton.bad_request', message });
    },
    loggerInstance: logger.child({ component: 'http' }) as unknown as FastifyBaseLogger,
    // Per-request lines would drown the structured logs at hundreds of requests a second.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  app.decorate('baton', baton);
  app.decorate('config', config);
  // The last line of the durability barrier (see Baton's durableFacade): no reply leaves
  // before the writes made so far are committed, whatever the route read or wrote.
  app.addHook('onSend', async (_req, _reply, payload) => {
    await baton.durable();
    return payload;
  });

  app.setErrorHandler((err, req, reply) => {
    if (isBatonError(err)) return reply.status(err.status).send(err.toJSON());
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    const message =
      status >= 500
        ? 'Internal error'
        : status === 413
          ? 'What was sent is too large (a form takes at most 256 KB).'
          : (err as Error).message;
    // A browser's own navigation or form post (a body over the limit) gets a page, not raw JSON.
    if (browserNavigation(req))
      return reply
        .status(status)
        .type('text/html; charset=utf-8')
        .send(errorPage(status >= 500 ? 'Error' : 'Problem', message));
    return reply.status(status).send({
      error: status >= 500 ? 'baton.internal' : 'baton.bad_request',
      message,
    });
  });
  app.setNotFoundHandler((req, reply) => {
    const accept = req.headers.accept ?? '';
    if (req.method === 'GET' && accept.includes('text/html'))
      return reply
        .status(404)
        .type('text/html; charset=utf-8')
        .send(errorPage('Not found', 'There is no page at this address.'));
    return reply.status(404).send({ error: 'baton.not_found', message: `No route ${req.method} ${req.url}` });
  });

  registerMetrics(app, baton, config.METRICS_TOKEN);

  app.get('/healthz', async () => {
    const health = await baton.health();
    return { status: 'ok', version: VERSION, ...health };
  });

  const slackStatus = slackMode(config);
  if (slackStatus.on) await app.register(slackPlugin, { ...slack, baton, config, logger });
  else if (config.SLACK_BOT_TOKEN || config.SLACK_SIGNING_SECRET || config.SLACK_APP_TOKEN)
    logger.warn(
      { missing: slackStatus.missing },
      `Slack surface is off: set ${slackStatus.missing.join(' and ')}`,
    );
  else logger.info('Slack surface is off (no SLACK_BOT_TOKEN / SLACK_SIGNING_SECRET)');

  const teamsStatus = teamsMode(config);
  if (teamsStatus.on) {
    await app.register(teamsPlugin, { ...teams, baton, config, logger });
    if (teamsStatus.auth === 'anonymous')
      logger.warn(
        { component: 'teams' },
        'Teams surface on WITHOUT authentication: POST /api/messages accepts unsigned activities (TEAMS_ALLOW_ANONYMOUS=true; for the Bot Framework Emulator and tests only)',
      );
    else
      logger.info(
        { component: 'teams' },
        'Teams surface on: POST /api/messages (Bot Framework JWTs checked)',
      );
  } else if (teamsStatus.configured)
    logger.warn({ component: 'teams' }, `Teams surface is off: ${teamsStatus.reason}`);
  else logger.info('Teams surface is off (no MICROSOFT_APP_ID)');

  // The web portal at `/`: always on (its own scope parses forms and cookies).
  await app.register(webPlugin, { baton, config, logger });

  return app;
}
