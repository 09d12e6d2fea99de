import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/runtime.js';

/** `npm start` with `env`; resolves with its exit code and what it wrote. */
function start(
  env: Record<string, string>,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main.ts')], {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', RECIPES_DIR: tempDir(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Started after all (the test's premise broke): stop it rather than hang.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Start-up refusals an operator meets: one line saying what to change, no stack trace. */
describe('npm start refuses with one line', () => {
  const servers: Server[] = [];
  afterAll(async () => {
    for (const s of servers) await new Promise((r) => s.close(r));
  });
  const listen = async (handler: Parameters<typeof createServer>[1] = (_q, r) => r.end()) => {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  };

  it('when PORT is taken, names PORT, and leaves DATA_DIR free for the next start', async () => {
    const port = await listen();
    const dataDir = tempDir('races4-port-');
    const run = await start({ PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      `baton: configuration error: PORT ${port} is already in use on 127.0.0.1: stop the program listening there, or set another PORT`,
    ]);
    expect(existsSync(join(dataDir, 'baton.db.lock'))).toBe(false);
  }, 90_000);

  it('when HOST is not an address of this machine, names HOST', async () => {
    const run = await start({ PORT: '0', HOST: '999.1.1.1', DATA_DIR: tempDir('races4-host-') });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      'baton: configuration error: HOST must be an address of this machine (got "999.1.1.1"; 127.0.0.1 or 0.0.0.0 for all interfaces)',
    ]);
  }, 90_000);

  it('when Slack refuses the bot token, says what to check', async () => {
    const port = await listen((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: false, error: 'invalid_auth' }));
    });
    const run = await start({
      PORT: '0',
      DATA_DIR: tempDir('races4-slack-'),
      SLACK_BOT_TOKEN: 'xoxb-revoked',
      SLACK_SIGNING_SECRET: 'a-signing-secret',
      SLACK_API_URL: `http://127.0.0.1:${port}/api/`,
    });
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^baton: failed to start: Slack auth\.test failed \(check SLACK_BOT_TOKEN and SLACK_API_URL\): .*invalid_auth/,
    );
  }, 90_000);
});
