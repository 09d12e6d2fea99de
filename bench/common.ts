import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../src/config.js';
import type { User } from '../src/core/types.js';
import { createLogger } from '../src/logger.js';
import { type Runtime, startRuntime } from '../src/runtime.js';

export const LEAVE_APP = `
kind: app
key: leave
name: Leave
stages: [Submitted, Approved, Rejected, Expired]
fields:
  - { key: approver, label: Approver, type: user, required: true }
  - { key: days, label: Days, type: number, required: true, max: 30 }
`;

export const leaveRecipe = (expiresIn: string) => `
kind: recipe
name: leave-approval
trigger: { type: new_request, app: leave }
steps:
  - id: manager
    action: assign_task
    to: "{{ record.approver }}"
    title: "Leave: {{ record.days }} days for {{ requester.name }}"
    outcomes: [Approve, Reject]
    expires_in: ${expiresIn}
  - if: "steps.manager.outcome = 'Approve'"
    then:
      - action: change_stage
        stage: Approved
      - action: notify
        to: "{{ request.requester }}"
        text: "Your leave {{ request.id }} was approved"
    else:
      - action: change_stage
        stage: "{{ steps.manager.status = 'expired' ? 'Expired' : 'Rejected' }}"
`;

export interface BenchRuntime extends Runtime {
  requester: User;
  approver: User;
  cleanup(): Promise<void>;
}

/** A real runtime on a fresh embedded store with the leave app and recipe. */
export async function benchRuntime(expiresIn = '2d'): Promise<BenchRuntime> {
  const dir = mkdtempSync(path.join(tmpdir(), 'baton-bench-'));
  const recipes = path.join(dir, 'recipes');
  mkdirSync(recipes);
  writeFileSync(path.join(recipes, 'leave.yaml'), LEAVE_APP);
  writeFileSync(path.join(recipes, 'recipe.yaml'), leaveRecipe(expiresIn));
  const config = parseConfig({ DATA_DIR: path.join(dir, 'data'), RECIPES_DIR: recipes, LOG_LEVEL: 'warn' });
  const rt = await startRuntime(config, createLogger(config.LOG_LEVEL));
  const requester = await rt.baton.users.resolve({
    provider: 'web',
    id: 'req',
    name: 'Rita Requester',
    email: 'rita@example.com',
  });
  const approver = await rt.baton.users.resolve({
    provider: 'web',
    id: 'mgr',
    name: 'Max Manager',
    email: 'max@example.com',
  });
  return {
    ...rt,
    requester,
    approver,
    async cleanup() {
      await rt.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/**
 * Prints the result as the last line of stdout for bench/run.ts, then exits (Agenda may keep
 * a long timer alive after stop(), which would hold the process open for minutes).
 */
export function report(result: Record<string, unknown>): void {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`, () => process.exit(0));
}

/**
 * Runs `fn` under V8's CPU profiler when BENCH_PROFILE_DIR is set, writing
 * `<dir>/<name>.cpuprofile` (open it in Chrome DevTools or VS Code): only the measured
 * phase is profiled, not the start-up and warm-up around it. Without the variable, `fn` alone.
 */
export async function profiled<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const dir = process.env.BENCH_PROFILE_DIR;
  if (!dir) return fn();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 250 });
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}
