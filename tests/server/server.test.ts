import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/server/app.js';
import { ROOT, recipesDir, seedPeople, startTestRuntime, tempDir } from '../helpers/runtime.js';

describe('configuration', () => {
  it('has defaults for a fresh machine', () => {
    const c = parseConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.HOST).toBe('127.0.0.1');
    expect(c.DATA_DIR).toBe('./data');
    expect(c.RECIPES_DIR).toBe('./recipes');
    expect(c.MONGODB_URL).toBeUndefined();
    expect(c.BATON_ADMINS).toEqual([]);
  });

  it.each([
    [{ PORT: 'eighty' }, /^PORT must be a number/],
    [{ PORT: '70000' }, /^PORT must be between 0 and 65535/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL /],
    [{ MONGODB_URL: 'postgres://x' }, /^MONGODB_URL must start with mongodb:\/\//],
    [
      { SLACK_BOT_TOKEN: 'xoxp-123456' },
      /^SLACK_BOT_TOKEN must be a bot token starting with xoxb- \(got "xoxp-…"\)$/,
    ],
  ])('names the wrong variable: %j', (env, message) => {
    let err: unknown;
    try {
      parseConfig(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
  });

  it('a wrong value stops start-up with one line naming the variable', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, PORT: 'abc', DATA_DIR: tempDir() },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('baton: configuration error: PORT must be a number (got "abc")');
  });
});

describe('logs', () => {
  it('never contain tokens or secrets', () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const log = createLogger('info', sink);
    log.info({ token: 'xoxb-secret-1', config: { SLACK_BOT_TOKEN: 'xoxb-secret-2', PORT: 3000 } }, 'hello');
    log.info({ req: { headers: { authorization: 'Bearer abc.def' } } }, 'req');
    expect(out).not.toContain('secret');
    expect(out).not.toContain('abc.def');
    expect(out).toContain('[redacted]');
  });
});

describe('HTTP server', () => {
  it('GET /healthz reports store, version, uptime, open tasks and jobs', async () => {
    const rt = await startTestRuntime({ recipesDir: recipesDir({}, ['recipes/time-off']) });
    const app = await buildApp({ baton: rt.baton, config: parseConfig({}), logger: createLogger('silent') });
    try {
      const p = await seedPeople(rt.baton);
      await rt.baton.requests.file(p.alice!, 'time-off', {
        start: '2026-12-01',
        days: 2,
        approver: p.bob!._id,
      });
      const res = await app.inject({ method: 'GET', url: '/healthz' });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({
        status: 'ok',
        store: 'embedded',
        open_tasks: 1,
        jobs: { running: 0, waiting: 1 },
      });
      expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(typeof body.uptime_s).toBe('number');
      const missing = await app.inject({ method: 'GET', url: '/nope' });
      expect(missing.statusCode).toBe(404);
      expect(missing.json()).toEqual({ error: 'baton.not_found', message: 'No route GET /nope' });
    } finally {
      await app.close();
      await rt.close();
    }
  });

  it('npm start serves /healthz and shuts down gracefully on SIGTERM', async () => {
    const dataDir = tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: '0',
        DATA_DIR: dataDir,
        RECIPES_DIR: path.join(ROOT, 'recipes'),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = out.match(/is up at (http:\/\/[^"\s]+)/);
        if (m) resolve(m[1]!);
      });
      child.on('exit', () => reject(new Error(`exited early: ${out}${err}`)));
    });
    const health = (await (await fetch(`${url}/healthz`)).json()) as Record<string, unknown>;
    expect(health.store).toBe('embedded');
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(out).toContain('"msg":"stopped"');
    expect(out).toContain('"recipes":["access-request-approval:running"');
    // One JSON object per line with each key once (log pipelines reject or drop repeated keys).
    const lines = out.split('\n').filter((l) => l.startsWith('{'));
    expect(lines.some((l) => l.includes('"msg":"scheduler started"'))).toBe(true);
    const repeated = lines.filter((l) =>
      Object.keys(JSON.parse(l)).some((k) => l.split(`"${k}":`).length > 2),
    );
    expect(repeated).toEqual([]);
  });
});
