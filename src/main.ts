import { slackMode } from '../adapters/slack/plugin.js';
import { teamsMode } from '../adapters/teams/plugin.js';
import { ConfigError, checkDataDir, loadConfig } from './config.js';
import { createLogger, routeConsoleToLog } from './logger.js';
import { startRuntime } from './runtime.js';
import { buildApp } from './server/app.js';
import { VERSION } from './version.js';

/** `npm start`: validate config, open the store, serve, and shut down gracefully on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
    checkDataDir(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`baton: configuration error: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.LOG_LEVEL);
  // What libraries print (botbuilder: a stack per refused Teams token) is JSON log lines too.
  routeConsoleToLog(logger);
  // A crash is one JSON line in the log like everything else (level fatal, with the stack), not
  // a bare stack on stderr that log collectors split into lines. The process still exits: the
  // next start recovers from what is on disk.
  const crash = (kind: string) => (err: unknown) => {
    logger.fatal({ err }, `${kind}; exiting`);
    process.exit(1);
  };
  process.on('uncaughtException', crash('uncaught exception'));
  process.on('unhandledRejection', crash('unhandled promise rejection'));
  const runtime = await startRuntime(config, logger, { deferStart: true });
  const app = await buildApp({ baton: runtime.baton, config, logger });
  // The surfaces listen to the core's events from here: timers that fell due while Baton was
  // down (tasks expiring) fire now, and every copy of those tasks is updated.
  await app.ready();
  await runtime.start();
  let shuttingDown = false;
  let redeliverTimer: NodeJS.Timeout | undefined;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down: no new requests, finishing in-flight work');
    const timer = setTimeout(() => {
      logger.error('shutdown took longer than 20 s; exiting');
      process.exit(1);
    }, 20_000);
    timer.unref();
    try {
      clearInterval(redeliverTimer);
      await app.close();
      await runtime.close();
      logger.info('stopped');
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  try {
    await app.listen({ port: config.PORT, host: config.HOST });
  } catch (err) {
    // A port taken or an address that is not this machine's: one line naming the variable,
    // after closing what started (the store's lock, the scheduler) so a retry finds it free.
    const problem = listenProblem(err, config.PORT, config.HOST);
    if (!problem) throw err;
    await app.close().catch(() => {});
    await runtime.close().catch(() => {});
    process.stderr.write(`baton: configuration error: ${problem}\n`);
    process.exit(1);
  }
  // Surfaces are listening now: hand them what a restart left undelivered, and again every
  // few minutes for posts that failed or were cut off mid-way (surfaces skip what they have).
  // The sweeps look at what was created in the last day (served by the indexes); once a day,
  // at everything (a post that kept failing for longer is otherwise handed out at the next start).
  await runtime.baton.redeliver();
  let sweeps = 0;
  redeliverTimer = setInterval(() => {
    const full = ++sweeps % 288 === 0;
    runtime.baton
      .redeliver({ olderThanMs: 2 * 60_000, ...(full ? {} : { withinMs: 24 * 3600_000 }) })
      .catch((err: unknown) => logger.error({ err }, 'redelivery failed'));
  }, 5 * 60_000);
  redeliverTimer.unref();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const host = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  const slack = slackMode(config);
  const teams = teamsMode(config);
  logger.info(
    {
      version: VERSION,
      store: runtime.store.kind,
      url: `http://${host}:${port}`,
      slack: slack.on ? slack.mode : 'off',
      teams: teams.on ? teams.auth : 'off',
      web: 'on',
    },
    `Baton ${VERSION} is up at http://${host}:${port}`,
  );
  // The one line a newcomer needs, plain on stderr beside the JSON log.
  process.stderr.write(`\nBaton is up: open http://${host}:${port}\n\n`);
}

/** What an operator should change when the server cannot listen, or undefined for anything else. */
function listenProblem(err: unknown, port: number, host: string): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return `PORT ${port} is already in use on ${host}: stop the program listening there, or set another PORT`;
    case 'EACCES':
      return `PORT ${port} needs privileges this process does not have on ${host}: set PORT above 1023`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return `HOST must be an address of this machine (got ${JSON.stringify(host)}; 127.0.0.1 or 0.0.0.0 for all interfaces)`;
    default:
      return undefined;
  }
}

main().catch((err) => {
  // A known refusal is one line; anything else keeps its stack.
  const code = (err as { code?: unknown } | null)?.code;
  const known = typeof code === 'string' && code.startsWith('BATON_');
  process.stderr.write(
    `baton: failed to start: ${known ? (err as Error).message : err instanceof Error ? err.stack : String(err)}\n`,
  );
  process.exit(1);
});
