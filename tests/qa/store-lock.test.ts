import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killHard, startBaton } from '../helpers/process.js';
import { ROOT, tempDir } from '../helpers/runtime.js';

/** A second `npm start` on the DATA_DIR; resolves with how it ended (stopped at once if it started). */
function secondStart(dataDir: string): Promise<{ status: number | null; stderr: string; started: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main.ts')], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', DATA_DIR: dataDir, RECIPES_DIR: tempDir(), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let started = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!started && stderr.includes('Baton is up')) {
        started = true;
        child.kill('SIGTERM');
      }
    });
    child.on('exit', (status) => resolve({ status, stderr, started }));
  });
}

/** A pid no process has now (as a pid from another container's namespace looks from here). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

/**
 * The embedded store's one-process lock as containers meet it: a Baton in another PID namespace
 * (a rolling update, a second replica on the same volume) has a pid this one cannot see, and a
 * Baton killed with -9 may leave a pid that some other program has by the next start.
 */
describe('one Baton per DATA_DIR, whatever the pids say', () => {
  const kids: import('node:child_process').ChildProcess[] = [];
  afterAll(async () => {
    for (const k of kids) await killHard(k);
  });

  it('refuses a second Baton while the first runs, even when the pid in the lock file means nothing here', async () => {
    const dataDir = tempDir('races4-lock-');
    const first = await startBaton(dataDir, tempDir());
    kids.push(first.child);
    const lock = join(dataDir, 'baton.db.lock');
    expect(readFileSync(lock, 'utf8')).toMatch(new RegExp(`^${first.child.pid}\\b`));
    // Seen from another PID namespace, the holder's pid is one this process has no such process for.
    writeFileSync(lock, `${await deadPid()} other-container\n`);
    const second = await secondStart(dataDir);
    expect(second.started).toBe(false);
    expect(second.status).toBe(1);
    expect(second.stderr.trim().split('\n')).toHaveLength(1);
    expect(second.stderr).toMatch(/is in use by another Baton process \(pid \d+ on other-container\)/);
    // The first one is untouched and still serving.
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
  }, 120_000);

  it('starts after a kill -9 even when the pid left in the lock file now belongs to another program', async () => {
    const dataDir = tempDir('races4-lock-');
    const first = await startBaton(dataDir, tempDir());
    await killHard(first.child);
    // This test runner is alive: the pid was reused.
    writeFileSync(join(dataDir, 'baton.db.lock'), `${process.pid}\n`);
    const again = await startBaton(dataDir, tempDir());
    kids.push(again.child);
    expect((await fetch(`${again.url}/healthz`)).status).toBe(200);
    expect(readFileSync(join(dataDir, 'baton.db.lock'), 'utf8')).toMatch(
      new RegExp(`^${again.child.pid}\\b`),
    );
  }, 120_000);
});
