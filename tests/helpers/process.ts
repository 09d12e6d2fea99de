import { type ChildProcess, spawn } from 'node:child_process';
import { ROOT } from './runtime.js';

/**
 * `npm start` (src/main.ts) as a child process on `dataDir` with `recipes`, the Teams surface
 * on and anonymous, on a free port, with `env` on top; resolves with its URL once it is up.
 */
export async function startBaton(
  dataDir: string,
  recipes: string,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      DATA_DIR: dataDir,
      RECIPES_DIR: recipes,
      LOG_LEVEL: 'info',
      TEAMS_ALLOW_ANONYMOUS: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.match(/is up at (http:\/\/[^"\s]+)/);
      if (m) resolve(m[1]!);
    });
    child.on('exit', () => reject(new Error(`exited early: ${out}`)));
  });
  return { child, url, output: () => out };
}

/** SIGKILLs `child` (if still running) and waits until it is gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}
