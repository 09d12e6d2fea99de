/**
 * What the Slack acceptance tests share: the real server with the Slack surface on, its Web
 * API (and response_urls) on a local fake, and `/baton` commands answered on a response_url.
 */
import { expect } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { defaultSlackPeople, type SlackTestApp, startSlackTestApp } from '../helpers/slack.js';
import { FakeSlackApi } from './tasks-harness.js';

/**
 * Starts the server on apps and recipes of the test's own (`files`: name → YAML; `copies`:
 * files of the repository) and the fake Web API.
 */
export async function startSlackAcceptance(
  files: Record<string, string> = {},
  options: { copies?: string[]; ackTimeoutMs?: number } = {},
): Promise<{ t: SlackTestApp; fake: FakeSlackApi }> {
  const fake = new FakeSlackApi();
  await fake.start();
  const people = defaultSlackPeople();
  for (const p of Object.values(people))
    fake.people.set(p.id, { id: p.id, name: p.realName, email: p.email! });
  const t = await startSlackTestApp({
    apiUrl: fake.url,
    mockUsersInfo: false,
    people,
    recipesDir: recipesDir(files, options.copies),
    ...(options.ackTimeoutMs !== undefined ? { ackTimeoutMs: options.ackTimeoutMs } : {}),
  });
  return { t, fake };
}

/** Sends `/baton <text>` from a person and returns the ephemeral reply posted to its response_url. */
export async function slackCommand<B = unknown>(
  t: SlackTestApp,
  fake: FakeSlackApi,
  text: string,
  from: string,
): Promise<{ text: string; blocks?: B[] }> {
  const before = fake.of('response').length;
  const res = await t.command(text, from, { response_url: `${fake.url}response` });
  expect(res.statusCode).toBe(200);
  return eventually(async () => fake.of('response')[before] as { text: string; blocks?: B[] } | undefined);
}
