import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../src/config.js';
import type { Baton } from '../../src/core/baton.js';
import type { User } from '../../src/core/types.js';
import { createLogger } from '../../src/logger.js';
import { type Runtime, startRuntime } from '../../src/runtime.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export function tempDir(prefix = 'baton-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** A recipes directory made of the given files (name → YAML) and/or copies of existing files. */
export function recipesDir(files: Record<string, string>, copies: string[] = []): string {
  const dir = tempDir('baton-recipes-');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  for (const file of copies)
    cpSync(path.resolve(ROOT, file), path.join(dir, path.basename(file)), { recursive: true });
  return dir;
}

export interface TestRuntime extends Runtime {
  dataDir: string;
  users: Record<string, User>;
}

/** Starts the real runtime (embedded store, scheduler, core) on a temp DATA_DIR. */
export async function startTestRuntime(
  options: { dataDir?: string; recipesDir?: string; admins?: string[]; env?: Record<string, string> } = {},
): Promise<TestRuntime> {
  const dataDir = options.dataDir ?? tempDir();
  const config = parseConfig({
    DATA_DIR: dataDir,
    RECIPES_DIR: options.recipesDir ?? tempDir('baton-empty-'),
    BATON_ADMINS: (options.admins ?? ['admin@example.com']).join(','),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    SCHEDULER_POLL_MS: '100',
    ...options.env,
  });
  const runtime = await startRuntime(config, createLogger(config.LOG_LEVEL));
  return { ...runtime, dataDir, users: {} };
}

/** People used across tests: a requester, two managers, HR members, an admin. */
export async function seedPeople(baton: Baton): Promise<Record<string, User>> {
  const person = (id: string, name: string) =>
    baton.users.resolve({ provider: 'web', id, name, email: `${id}@example.com` });
  const people = {
    admin: await person('admin', 'Ada Admin'),
    alice: await person('alice', 'Alice Requester'),
    bob: await person('bob', 'Bob Manager'),
    carol: await person('carol', 'Carol Manager'),
    hank: await person('hank', 'Hank HR'),
    hedy: await person('hedy', 'Hedy HR'),
    mallory: await person('mallory', 'Mallory Outsider'),
  };
  await baton.groups.create(people.admin, 'hr', 'Human resources');
  await baton.groups.addMember(people.admin, 'hr', people.hank._id);
  await baton.groups.addMember(people.admin, 'hr', people.hedy._id);
  return people;
}

/** Polls `check` until it returns a truthy value (no fixed sleeps; generous deadline for busy machines). */
export async function eventually<T>(
  check: () => Promise<T | null | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
