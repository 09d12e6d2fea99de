/**
 * What the chat surfaces say about a recipe's problems (`admin recipes list`, `admin recipes
 * install`): the same choice on Slack and Teams, each surface escaping and formatting it.
 */
import type { Baton } from '../../src/core/baton.js';
import type { User } from '../../src/core/types.js';
import type { Problem } from '../../src/recipes/loader.js';
import { fileForPeople } from './recipes.js';

/**
 * A problem as one line, its file named as the portal names it (the path inside RECIPES_DIR or
 * the template packs' folder): `pack/file.yaml:12: message`.
 */
export function problemText(baton: Baton, p: Pick<Problem, 'file' | 'line' | 'message'>): string {
  return `${fileForPeople(baton, p.file)}:${p.line}: ${p.message}`;
}

/**
 * The problems to show under a recipe: its errors, then its warnings (such as a group it
 * assigns to that does not exist, so a job reaching that step fails), three at most.
 */
export function problemsToShow<P extends { severity: string }>(problems: P[]): P[] {
  return [
    ...problems.filter((p) => p.severity === 'error'),
    ...problems.filter((p) => p.severity !== 'error'),
  ].slice(0, 3);
}

/**
 * What to do before the first request of a pack just installed: for each group its recipes
 * assign to that does not exist yet, `recipe: no group named "…": …` (three at most).
 */
export async function missingGroupNotes(
  baton: Baton,
  actor: User,
  recipes: { name: string }[],
): Promise<string[]> {
  const notes: string[] = [];
  for (const r of recipes) {
    const doc = await baton.recipes.get(actor, r.name).catch(() => null);
    for (const p of doc?.problems ?? []) {
      const at = p.message.indexOf('no group named');
      if (p.severity === 'warning' && at !== -1) notes.push(`${r.name}: ${p.message.slice(at)}`);
    }
  }
  return notes.slice(0, 3);
}
