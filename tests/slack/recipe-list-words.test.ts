import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KIT_FILES } from '../fixtures/kit-recipes.js';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { SLACK_RESPONSE_URL, type SlackTestApp, startSlackTestApp } from '../helpers/slack.js';

/**
 * `/baton admin recipes list` said what starts each recipe in the store's words
 * ("running — new_request on kit"); it now says it as the portal's Admin → Recipes does, with
 * the app by its name ("running — when a Laptop kit request is filed").
 */
let t: SlackTestApp | undefined;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterEach(async () => {
  await t?.close();
  t = undefined;
  nock.cleanAll();
});
afterAll(() => nock.enableNetConnect());

async function say(text: string): Promise<string> {
  const bodies: { text?: string }[] = [];
  const scope = nock(SLACK_RESPONSE_URL.origin)
    .post(SLACK_RESPONSE_URL.path, (b: { text?: string }) => {
      bodies.push(b);
      return true;
    })
    .reply(200, 'ok');
  await t!.command(text, 'admin');
  await eventually(async () => scope.isDone());
  return String(bodies[0]!.text);
}

describe('Slack: admin recipes list says what starts a recipe in words', () => {
  // Problems named the file by its last two path segments: "<the folder's own name>/kit-bad.yaml:8".
  it('names a problem file by its path inside RECIPES_DIR, as the portal does', async () => {
    const dir = recipesDir(KIT_FILES);
    t = await startSlackTestApp({ recipesDir: dir });
    const listed = await say('admin recipes list');
    expect(listed).not.toContain(dir.split('/').pop()!);
    expect(listed).toContain('↳ kit-bad.yaml:8: steps[1].action');
  });

  it('names the trigger as a sentence with the app by its name', async () => {
    t = await startSlackTestApp({ recipesDir: recipesDir(KIT_FILES) });
    const listed = await say('admin recipes list');
    expect(listed).not.toMatch(/new_request|stage_changed|task_completed/);
    expect(listed).toContain('*kit-approval* — running — when a Laptop kit request is filed');
    expect(listed).toContain(
      '*kit-ship* — running — when a Laptop kit request moves from stage Asked to Approved',
    );
    expect(listed).toMatch(
      /\*kit-thanks\* — \w+ — when someone answers Approve on the task boss of a Laptop kit request/,
    );
  });
});
