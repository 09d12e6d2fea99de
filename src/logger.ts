import { format } from 'node:util';
import { type Logger, pino } from 'pino';

export type { Logger };

/** Paths pino blanks out wherever they appear, so a token never reaches a log line. */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'botToken',
  '*.botToken',
  'appToken',
  '*.appToken',
  'signingSecret',
  '*.signingSecret',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'config.SLACK_BOT_TOKEN',
  'config.SLACK_APP_TOKEN',
  'config.SLACK_SIGNING_SECRET',
  'config.MICROSOFT_APP_PASSWORD',
  'config.MONGODB_URL',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { app: 'baton' } },
    destination,
  );
}

/**
 * Sends what libraries print with `console.*` to the JSON log, one line each (level `warn` for
 * console.error and console.warn, `info` for log and info, `debug` for debug): botbuilder prints a
 * stack for every Teams activity whose token it refuses, which anyone reaching /api/messages can
 * repeat at will, and a multi-line stack on stderr is split into lines by log collectors. Baton's
 * own code logs through the logger; its refusals say so there.
 */
export function routeConsoleToLog(logger: Logger): void {
  const log = logger.child({ component: 'console' });
  const to =
    (level: 'warn' | 'info' | 'debug') =>
    (...args: unknown[]): void => {
      const text = format(...args);
      const cut = text.indexOf('\n');
      const first = (cut === -1 ? text : text.slice(0, cut)).slice(0, 300);
      const rest = cut === -1 ? '' : text.slice(cut + 1, cut + 1 + 2000);
      log[level](rest ? { detail: rest } : {}, first);
    };
  console.error = to('warn');
  console.warn = to('warn');
  console.log = to('info');
  console.info = to('info');
  console.debug = to('debug');
}
