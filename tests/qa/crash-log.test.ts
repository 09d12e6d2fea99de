import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/runtime.js';

/** What a log collector gets when Baton crashes on a bug: one JSON line, level fatal, with the stack. */
describe('a crash in the log', () => {
  it('is a fatal JSON line with the error, and the process exits 1', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--import', './tests/fixtures/process/crash-later.mjs', 'src/main.ts'],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          PORT: '0',
          DATA_DIR: tempDir('races4-crash-'),
          RECIPES_DIR: tempDir(),
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(status).toBe(1);
    // Nothing but the start-up banner on stderr: no bare stack trace.
    expect(stderr.trim()).toMatch(/^Baton is up: open http:\/\/\S+$/);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const fatal = lines.find((l) => l.level === 60);
    expect(fatal).toMatchObject({ msg: 'unhandled promise rejection; exiting' });
    expect((fatal!.err as { message: string; stack: string }).message).toBe('a bug in a background task');
    expect((fatal!.err as { stack: string }).stack).toContain('crash-later.mjs');
  }, 90_000);
});
