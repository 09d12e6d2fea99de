import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/runtime.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `docker stop`, Kubernetes and most supervisors send SIGTERM to the main process only: with
 * `npm start` as the command, that is npm. Baton, two processes below it, must hear it.
 */
describe('SIGTERM to npm start', () => {
  it('reaches Baton: it shuts down gracefully, and nothing is left running', async () => {
    const dataDir = tempDir('races4-npm-');
    const npm = spawn('npm', ['start'], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', DATA_DIR: dataDir, RECIPES_DIR: tempDir(), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so the test can find (and clean up) only what it started
    });
    let out = '';
    npm.stdout.on('data', (d: Buffer) => (out += d.toString()));
    npm.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => npm.on('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => {
          if (out.includes('Baton is up')) {
            clearInterval(timer);
            resolve();
          }
        }, 50);
        npm.on('exit', () => {
          clearInterval(timer);
          reject(new Error(`npm start exited early: ${out}`));
        });
      });
      // Baton's own pid, from the store's lock file.
      const baton = Number.parseInt(readFileSync(join(dataDir, 'baton.db.lock'), 'utf8'), 10);
      expect(baton).toBeGreaterThan(0);
      npm.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('"msg":"stopped"');
      const deadline = Date.now() + 30_000;
      while (alive(baton) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(alive(baton)).toBe(false);
    } finally {
      try {
        process.kill(-npm.pid!, 'SIGKILL');
      } catch {
        // All gone.
      }
    }
  }, 120_000);
});
