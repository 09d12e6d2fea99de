import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, checkDataDir, parseConfig } from '../../src/config.js';
import { ROOT, tempDir } from '../helpers/runtime.js';

const problem = (env: Record<string, string>) => {
  try {
    parseConfig(env);
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
};

describe('configuration', () => {
  it('names the variable and says what a right value looks like', () => {
    expect(problem({ LOG_LEVEL: 'loud' })).toBe(
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
    );
    expect(problem({ SCHEDULER_POLL_MS: 'abc' })).toBe(
      'SCHEDULER_POLL_MS must be a number of milliseconds (got "abc")',
    );
    expect(problem({ SCHEDULER_POLL_MS: '10' })).toBe(
      'SCHEDULER_POLL_MS must be between 50 and 60000 (milliseconds) (got "10")',
    );
    expect(problem({ SCHEDULER_POLL_MS: '100.5' })).toBe(
      'SCHEDULER_POLL_MS must be a whole number of milliseconds (got "100.5")',
    );
    expect(problem({ MICROSOFT_APP_TYPE: 'Bogus' })).toBe(
      'MICROSOFT_APP_TYPE must be MultiTenant, SingleTenant or UserAssignedMSI (got "Bogus")',
    );
    expect(problem({ PORT: 'abc' })).toBe('PORT must be a number (got "abc")');
    expect(problem({ PORT: '65536' })).toBe('PORT must be between 0 and 65535 (got "65536")');
  });

  it('takes a blank PORT or SCHEDULER_POLL_MS (PORT= in .env) as unset, not as port 0', () => {
    const config = parseConfig({ PORT: '', SCHEDULER_POLL_MS: ' ' });
    expect(config.PORT).toBe(3000);
    expect(config.SCHEDULER_POLL_MS).toBe(500);
    expect(parseConfig({ PORT: '0' }).PORT).toBe(0);
  });

  it('stops npm start with one line naming the variable', () => {
    const run = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/main.ts')], {
      cwd: tempDir(),
      env: { ...process.env, LOG_LEVEL: 'verbose', DATA_DIR: tempDir() },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).not.toBe(0);
    const lines = `${run.stdout}${run.stderr}`.trim().split('\n');
    expect(lines).toEqual([
      'baton: configuration error: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")',
    ]);
  });

  it('refuses a sign-in provider set up halfway, naming the variable that is missing', () => {
    expect(problem({ SLACK_CLIENT_ID: 'abc' })).toBe(
      'SLACK_CLIENT_SECRET must be set with SLACK_CLIENT_ID (Sign in with Slack needs both)',
    );
    expect(problem({ MICROSOFT_OIDC_CLIENT_ID: 'abc', MICROSOFT_OIDC_CLIENT_SECRET: 'def' })).toBe(
      'MICROSOFT_OIDC_TENANT_ID must be set for Sign in with Microsoft (MICROSOFT_OIDC_CLIENT_ID, MICROSOFT_OIDC_CLIENT_SECRET and MICROSOFT_OIDC_TENANT_ID)',
    );
    expect(problem({ SLACK_CLIENT_ID: 'a', SLACK_CLIENT_SECRET: 'b' })).toBeNull();
  });

  it('stops npm start with one line when DATA_DIR cannot hold the store (a file in the way)', () => {
    const dir = tempDir();
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const run = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/main.ts')], {
      cwd: dir,
      env: { ...process.env, PORT: '0', DATA_DIR: file },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).not.toBe(0);
    expect(`${run.stdout}${run.stderr}`.trim().split('\n')).toEqual([
      `baton: configuration error: DATA_DIR must be a directory Baton can write to (got ${JSON.stringify(file)}: a file is in the way)`,
    ]);
  });

  it('stops npm start with one line when DATA_DIR is where no directory can be made (it hung)', () => {
    // /proc refuses new entries with ENOENT although it exists; Node's recursive mkdir looped forever on it.
    const dir = '/proc/baton-data';
    const run = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/main.ts')], {
      cwd: tempDir(),
      env: { ...process.env, PORT: '0', DATA_DIR: dir },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.error).toBeUndefined();
    expect(run.status).not.toBe(0);
    expect(`${run.stdout}${run.stderr}`.trim().split('\n')).toEqual([
      `baton: configuration error: DATA_DIR must be a directory Baton can write to (got "${dir}": a directory cannot be created there)`,
    ]);
  });

  it('creates a missing DATA_DIR and its missing parents', () => {
    const dir = join(tempDir(), 'a', 'b', 'c');
    expect(() => checkDataDir(parseConfig({ DATA_DIR: dir }))).not.toThrow();
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(() => checkDataDir(parseConfig({ DATA_DIR: dir }))).not.toThrow();
  });

  it('reads a .env saved with a byte order mark (Windows editors) without dropping its first variable', () => {
    const dir = tempDir();
    writeFileSync(join(dir, '.env'), '\uFEFFLOG_LEVEL=verbose\r\nPORT=0\r\n');
    const run = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/main.ts')], {
      cwd: dir,
      env: { ...process.env, LOG_LEVEL: undefined, DATA_DIR: tempDir() },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).not.toBe(0);
    expect(`${run.stdout}${run.stderr}`.trim().split('\n')).toEqual([
      'baton: configuration error: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")',
    ]);
  });

  it('says so in one line when .env cannot be read', () => {
    const dir = tempDir();
    mkdirSync(join(dir, '.env'));
    const run = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/main.ts')], {
      cwd: dir,
      env: { ...process.env, PORT: '0', DATA_DIR: tempDir() },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    const lines = `${run.stdout}${run.stderr}`.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^baton: configuration error: \.env must be a readable file \(EISDIR/);
  });

  it('refuses a BATON_ADMINS entry that can match nobody (an @handle, a mention, a misspelt platform)', () => {
    expect(
      problem({ BATON_ADMINS: 'U012ABCDEF, slack:U1, teams:00000000-0000-4000-8000-000000000001, a@b.co' }),
    ).toBeNull();
    expect(problem({ BATON_ADMINS: 'U1, slak:U2' })).toBe(
      'BATON_ADMINS must name the platform as slack:, teams: or web: ("slak:U2") (got "U1, slak:U2")',
    );
    expect(problem({ BATON_ADMINS: 'Ada Admin' })).toBe(
      'BATON_ADMINS must list member ids or emails, separated by commas ("Ada Admin" is neither) (got "Ada Admin")',
    );
    const run = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/main.ts')], {
      cwd: tempDir(),
      env: { ...process.env, PORT: '0', DATA_DIR: tempDir(), BATON_ADMINS: '@ada' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(`${run.stdout}${run.stderr}`.trim().split('\n')).toEqual([
      'baton: configuration error: BATON_ADMINS must list member ids or emails, not @handles or mentions ("@ada"; in Slack: profile → ⋮ → Copy member ID) (got "@ada")',
    ]);
  });
});
