import type { StepLogEntry } from '../../src/core/types.js';

/**
 * What a condition in a job's step log did, for people: "Condition false: took the else branch"
 * (its stored status, `skipped`, read as if nothing was decided). Null for other steps. Entries
 * logged before the branch was kept say only what the condition gave.
 */
export function conditionText(l: Pick<StepLogEntry, 'action' | 'status' | 'branch'>): string | null {
  if (l.action !== 'if' || (l.status !== 'completed' && l.status !== 'skipped')) return null;
  if (l.branch === 'else') return 'Condition false: took the else branch';
  if (l.branch === 'none') return 'Condition false: no else branch, went on';
  return l.status === 'completed'
    ? 'Condition true: took the then branch'
    : 'Condition false: its steps not run';
}
