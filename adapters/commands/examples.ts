/**
 * Examples for the usage hints of the chat commands ("Which request? For example: show EXP-42"),
 * taken from what this Baton has (its apps' id prefixes, its recipes, groups and jobs) rather
 * than made up, with a made-up one only when there is nothing to take. Someone is only shown
 * the names their role lets them list: a user asking `admin recipes start` learns no recipe.
 */
import type { Baton } from '../../src/core/baton.js';
import type { JobDoc, User } from '../../src/core/types.js';
import { allowed, levelOf } from './grammar.js';

/** A request id: the prefix of the person's latest request, else of an installed app (PTO-42 when none). */
export async function exampleRequestId(baton: Baton, actor: User): Promise<string> {
  const [latest] = await baton.requests.listMine(actor, { limit: 1 }).catch(() => []);
  const mine = latest?._id.replace(/-\d+$/, '');
  if (mine) return `${mine}-42`;
  return baton.requests.exampleId();
}

/** An installed app's key (the app picker shows them to everyone), else `fallback`. */
export async function exampleAppKey(baton: Baton, fallback = 'leave'): Promise<string> {
  const apps = await baton.apps.list().catch(() => []);
  return apps.find((a) => a.definition)?._id ?? fallback;
}

/** A recipe's name, preferably one in `state` (operators and admins), else `fallback`. */
export async function exampleRecipe(
  baton: Baton,
  actor: User,
  state: 'running' | 'stopped',
  fallback = 'time-off-approval',
): Promise<string> {
  if (!allowed('operator', levelOf(actor))) return fallback;
  const recipes = (await baton.recipes.list(actor).catch(() => [])).filter((r) => r.state !== 'invalid');
  return (recipes.find((r) => r.state === state) ?? recipes[0])?.name ?? fallback;
}

/** The id of a recent job, preferably one with `status` (operators and admins), else `fallback`. */
export async function exampleJob(
  baton: Baton,
  actor: User,
  status?: JobDoc['status'],
  fallback = 'j_abc123',
): Promise<string> {
  if (!allowed('operator', levelOf(actor))) return fallback;
  const [wanted] = status ? await baton.recipes.listJobs(actor, { status, limit: 1 }).catch(() => []) : [];
  const [any] = wanted ? [wanted] : await baton.recipes.listJobs(actor, { limit: 1 }).catch(() => []);
  return any?._id ?? fallback;
}

/** A group's name (admins), else `fallback`. */
export async function exampleGroup(baton: Baton, actor: User, fallback = 'hr'): Promise<string> {
  if (!allowed('admin', levelOf(actor))) return fallback;
  const groups = await baton.groups.list().catch(() => []);
  return groups[0]?.name ?? fallback;
}
