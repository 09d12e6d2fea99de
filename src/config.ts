import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';

/**
 * Configuration from the environment (and `.env` when present), validated at start.
 * A wrong value stops start-up with one line naming the variable and what is wrong.
 */

const optionalString = z
  .string()
  .transform((s) => s.trim())
  .pipe(z.string())
  .optional()
  .transform((s) => (s === '' ? undefined : s));

const boolString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .optional()
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** A blank value (`PORT=` in a .env file) means the variable is not set: its default applies. */
const blankAsUnset = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

export const ConfigSchema = z
  .object({
    PORT: z.preprocess(
      blankAsUnset,
      z.coerce
        .number({ message: 'must be a number' })
        .int('must be a whole number')
        .min(0, 'must be between 0 and 65535')
        .max(65535, 'must be between 0 and 65535')
        .default(3000),
    ),
    HOST: z.string().min(1, 'must not be empty').default('127.0.0.1'),
    DATA_DIR: z.string().min(1, 'must not be empty').default('./data'),
    MONGODB_URL: optionalString.refine((v) => v === undefined || /^mongodb(\+srv)?:\/\//.test(v), {
      message: 'must start with mongodb:// or mongodb+srv://',
    }),
    RECIPES_DIR: z.string().min(1, 'must not be empty').default('./recipes'),
    BATON_ADMINS: z
      .string()
      .default('')
      .transform((s) =>
        s
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x !== ''),
      )
      .superRefine((entries, ctx) => {
        // An entry that can match nobody would leave the server without its admin, silently.
        const problem = entries.map(adminEntryProblem).find((p) => p !== undefined);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        message: 'must be one of fatal, error, warn, info, debug, trace, silent',
      })
      .default('info'),
    /** The public URL people reach Baton at (links in messages, manifests). */
    BATON_PUBLIC_URL: optionalString.refine((v) => v === undefined || /^https?:\/\//.test(v), {
      message: 'must be an http(s) URL',
    }),
    /** When set, GET /metrics asks for it (Authorization: Bearer <token>); unset, /metrics is open like /healthz. */
    METRICS_TOKEN: optionalString,
    /** Scheduler poll interval in ms; due timers are also picked up as they are scheduled. */
    SCHEDULER_POLL_MS: z.preprocess(
      blankAsUnset,
      z.coerce
        .number({ message: 'must be a number of milliseconds' })
        .int('must be a whole number of milliseconds')
        .min(50, 'must be between 50 and 60000 (milliseconds)')
        .max(60_000, 'must be between 50 and 60000 (milliseconds)')
        .default(500),
    ),
    SLACK_SIGNING_SECRET: optionalString,
    SLACK_BOT_TOKEN: optionalString.refine((v) => v === undefined || v.startsWith('xoxb-'), {
      message: 'must be a bot token starting with xoxb-',
    }),
    SLACK_APP_TOKEN: optionalString.refine((v) => v === undefined || v.startsWith('xapp-'), {
      message: 'must be an app-level token starting with xapp-',
    }),
    SLACK_API_URL: optionalString.refine((v) => v === undefined || /^https?:\/\//.test(v), {
      message: 'must be an http(s) URL',
    }),
    MICROSOFT_APP_ID: optionalString,
    MICROSOFT_APP_PASSWORD: optionalString,
    MICROSOFT_APP_TENANT_ID: optionalString,
    MICROSOFT_APP_TYPE: z
      .enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI'], {
        message: 'must be MultiTenant, SingleTenant or UserAssignedMSI',
      })
      .optional(),
    TEAMS_ALLOW_ANONYMOUS: boolString,
    /** Certificate credentials instead of MICROSOFT_APP_PASSWORD: the thumbprint and the PEM private key's file. */
    MICROSOFT_APP_CERTIFICATE_THUMBPRINT: optionalString.refine(
      (v) => v === undefined || /^[0-9A-Fa-f]{40}$/.test(v),
      {
        message: 'must be a certificate thumbprint (40 hex digits)',
      },
    ),
    MICROSOFT_APP_CERTIFICATE_KEY_FILE: optionalString.refine((v) => v === undefined || existsSync(v), {
      message: 'must name a readable PEM file',
    }),
    /** Where the Bot Framework's signing keys are described (default: Microsoft's); for tests and sovereign clouds. */
    TEAMS_OPENID_METADATA_URL: optionalString.refine((v) => v === undefined || /^https?:\/\//.test(v), {
      message: 'must be an http(s) URL',
    }),
    /** Signs portal session cookies; generated and kept in DATA_DIR when unset. */
    BATON_SESSION_SECRET: optionalString.refine((v) => v === undefined || v.length >= 32, {
      message: 'must be at least 32 characters (e.g. `openssl rand -hex 32`)',
    }),
    /**
     * The portal's playground ("continue as" demo users). Unset: on when no sign-in provider is
     * configured and HOST is a loopback address. `true` forces it on (logged loudly), `false` off.
     */
    BATON_PLAYGROUND: z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
      .optional()
      .transform((v) => (v === undefined ? undefined : v === 'true' || v === '1' || v === 'yes')),
    /** Sign in with Slack (OpenID Connect): the Slack app's client id and secret. */
    SLACK_CLIENT_ID: optionalString,
    SLACK_CLIENT_SECRET: optionalString,
    /** Slack's OpenID issuer (tests, proxies). */
    SLACK_OIDC_ISSUER: optionalString
      .refine((v) => v === undefined || /^https?:\/\//.test(v), { message: 'must be an http(s) URL' })
      .transform((v) => v ?? 'https://slack.com'),
    /** Sign in with Microsoft (Entra ID, OpenID Connect): an app registration's client id, secret and tenant. */
    MICROSOFT_OIDC_CLIENT_ID: optionalString,
    MICROSOFT_OIDC_CLIENT_SECRET: optionalString,
    MICROSOFT_OIDC_TENANT_ID: optionalString,
    /** The Entra ID issuer; default https://login.microsoftonline.com/<tenant>/v2.0 (tests, national clouds). */
    MICROSOFT_OIDC_ISSUER: optionalString.refine((v) => v === undefined || /^https?:\/\//.test(v), {
      message: 'must be an http(s) URL',
    }),
  })
  .superRefine((c, ctx) => {
    // A sign-in provider set up halfway would be silently off (and the playground left on).
    const missing = (variable: string, problem: string) =>
      ctx.addIssue({ code: 'custom', path: [variable], message: problem });
    if (c.SLACK_CLIENT_ID && !c.SLACK_CLIENT_SECRET)
      missing('SLACK_CLIENT_SECRET', 'must be set with SLACK_CLIENT_ID (Sign in with Slack needs both)');
    if (c.SLACK_CLIENT_SECRET && !c.SLACK_CLIENT_ID)
      missing('SLACK_CLIENT_ID', 'must be set with SLACK_CLIENT_SECRET (Sign in with Slack needs both)');
    if (c.MICROSOFT_OIDC_CLIENT_ID || c.MICROSOFT_OIDC_CLIENT_SECRET || c.MICROSOFT_OIDC_TENANT_ID) {
      const needs =
        'must be set for Sign in with Microsoft (MICROSOFT_OIDC_CLIENT_ID, MICROSOFT_OIDC_CLIENT_SECRET and MICROSOFT_OIDC_TENANT_ID)';
      if (!c.MICROSOFT_OIDC_CLIENT_ID) missing('MICROSOFT_OIDC_CLIENT_ID', needs);
      else if (!c.MICROSOFT_OIDC_CLIENT_SECRET) missing('MICROSOFT_OIDC_CLIENT_SECRET', needs);
      else if (!c.MICROSOFT_OIDC_TENANT_ID && !c.MICROSOFT_OIDC_ISSUER)
        missing('MICROSOFT_OIDC_TENANT_ID', needs);
    }
  });

export type Config = z.infer<typeof ConfigSchema>;

/**
 * Why one BATON_ADMINS entry can match nobody (an @handle, a pasted mention, a misspelt
 * platform), or undefined when it is an email, a platform id or `<platform>:<id>`.
 */
function adminEntryProblem(entry: string): string | undefined {
  const shown = JSON.stringify(entry);
  if (entry.includes('@') && !entry.startsWith('@') && !entry.startsWith('<'))
    return /^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$/.test(entry)
      ? undefined
      : `must list valid emails (${shown} is not one)`;
  if (/^@|^<@/.test(entry))
    return `must list member ids or emails, not @handles or mentions (${shown}; in Slack: profile → ⋮ → Copy member ID)`;
  const colon = entry.indexOf(':');
  if (colon !== -1 && !['slack', 'teams', 'web'].includes(entry.slice(0, colon).toLowerCase()))
    return `must name the platform as slack:, teams: or web: (${shown})`;
  if (!/^[A-Za-z0-9:._-]+$/.test(entry))
    return `must list member ids or emails, separated by commas (${shown} is neither)`;
  return undefined;
}

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, problem: string) {
    super(`${variable} ${problem}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/** Validates an environment; throws ConfigError naming the first wrong variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = ConfigSchema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const variable = String(issue.path[0] ?? 'environment');
  const value = env[variable];
  const shown = value === undefined ? '' : ` (got ${JSON.stringify(redact(variable, value))})`;
  throw new ConfigError(variable, `${issue.message}${shown}`);
}

/**
 * Makes sure the embedded store can keep its files in `DATA_DIR` (created if missing), so a
 * wrong directory stops start-up with one line naming the variable rather than a stack trace.
 */
export function checkDataDir(config: Config): void {
  if (config.MONGODB_URL) return;
  const dir = config.DATA_DIR;
  const reasons: Record<string, string> = {
    EEXIST: 'a file is in the way',
    ENOTDIR: 'a file is in the way',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'the file system is read-only',
    ENOENT: 'a directory cannot be created there',
  };
  try {
    makeDirectory(path.resolve(dir));
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    const code = String((err as { code?: unknown }).code ?? '');
    throw new ConfigError(
      'DATA_DIR',
      `must be a directory Baton can write to (got ${JSON.stringify(dir)}: ${reasons[code] ?? (err as Error).message})`,
    );
  }
}

/**
 * `mkdir -p`, one level at a time. (Node's recursive mkdirSync never returns when a parent
 * exists but refuses new entries with ENOENT, as /proc does: DATA_DIR=/proc/x hung start-up.)
 */
function makeDirectory(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'EEXIST' && statSync(dir).isDirectory()) return;
    const parent = path.dirname(dir);
    if (code !== 'ENOENT' || parent === dir || existsSync(parent)) throw err;
    makeDirectory(parent);
    mkdirSync(dir);
  }
}

/** Reads `.env` (if present, without overriding the real environment) and validates. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, envFile = '.env'): Config {
  loadEnvFile(envFile, env);
  return parseConfig(env);
}

/**
 * Sets the variables of `file` (if present) that `env` does not have. A byte order mark, as
 * Windows editors save UTF-8 with, is dropped: Node's own loader glued it to the first name,
 * so the first variable was silently ignored.
 */
export function loadEnvFile(file = '.env', env: NodeJS.ProcessEnv = process.env): void {
  if (!existsSync(file)) return;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('.env', `must be a readable file (${(err as Error).message})`);
  }
  for (const [name, value] of Object.entries(parseEnv(text.replace(/^\uFEFF/, ''))))
    if (env[name] === undefined) env[name] = value;
}

const SECRET = /SECRET|TOKEN|PASSWORD|MONGODB_URL/;
function redact(name: string, value: string): string {
  return SECRET.test(name) ? `${value.slice(0, 5)}…` : value;
}
