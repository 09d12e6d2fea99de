/**
 * What the surfaces say about a recipe, in people's words: what starts it ("When a Gear request
 * is filed", the app by its name) and where its file is (the path inside RECIPES_DIR or the
 * template packs' folder). The portal's Admin → Recipes and Slack's and Teams' `admin recipes
 * list` say the same.
 */
import path from 'node:path';
import type { Baton } from '../../src/core/baton.js';
import { TEMPLATES_DIR } from '../../src/core/recipes.js';
import type { RecipeDoc } from '../../src/core/types.js';

/** What starts a recipe, in words: "When a Gear request is filed" (the app by its name). */
export async function triggerText(baton: Baton, r: RecipeDoc): Promise<string | undefined> {
  // An invalid recipe has no definition: what the store kept of its trigger, if anything.
  const t =
    r.definition?.trigger ?? (r.trigger_app ? { type: r.trigger_type, app: r.trigger_app } : undefined);
  if (!t) return undefined;
  const app = (await baton.apps.find(t.app).catch(() => null))?.name ?? t.app;
  const request = `a ${app} request`;
  if (t.type === 'new_request') return `When ${request} is filed`;
  if (t.type === 'stage_changed') {
    const { from, to } = t as { from?: string; to?: string };
    if (from && to) return `When ${request} moves from stage ${from} to ${to}`;
    if (to) return `When ${request} moves to stage ${to}`;
    if (from) return `When ${request} leaves stage ${from}`;
    return `When ${request} moves to another stage`;
  }
  if (t.type === 'task_completed') {
    const { task: name, outcome } = t as { task?: string; outcome?: string };
    const task = name ? `the task ${name} of ${request}` : `a task on ${request}`;
    return outcome ? `When someone answers ${outcome} on ${task}` : `When someone decides ${task}`;
  }
  return `${t.type} on ${app}`;
}

/** `file`'s path inside `dir` (with `/`), or undefined when it is not inside. */
export function pathInside(dir: string | undefined, file: string | undefined): string | undefined {
  const rel = file && dir ? path.relative(dir, file) : '';
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : undefined;
}

/** The last two path segments of a file (`time-off/approval.yaml`): for a file Baton cannot place. */
export function shortFile(file: string): string {
  return file.split(/[\\/]/).slice(-2).join('/');
}

/**
 * A recipe or app file for people: its path inside RECIPES_DIR (`gear/approval.yaml`), or inside
 * the template packs' folder (`time-off/approval.yaml`), else its last two path segments.
 */
export function fileForPeople(baton: Baton, file: string): string {
  return pathInside(baton.recipes.folder, file) ?? pathInside(TEMPLATES_DIR, file) ?? shortFile(file);
}

/** A sentence's first letter in lower case, to go on after a comma ("running, when a …"). */
export function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
