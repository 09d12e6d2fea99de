import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { SLACK_RESPONSE_URL, type SlackTestApp, startSlackTestApp } from '../helpers/slack.js';

/**
 * A command missing its argument answers with an example: one taken from what this Baton has
 * (its apps' id prefixes, recipes, groups), not a made-up PTO-42 that means nothing to a team
 * without a time-off app; and only what the person's role lets them see.
 */

const PURCHASES = {
  'purchase.yaml': `
kind: app
key: purchase
name: Purchase orders
id_prefix: PO
stages: [Submitted, Approved, Cancelled]
fields:
  - { key: item, label: Item, type: text, required: true }
`,
  'purchase-recipe.yaml': `
kind: recipe
name: po-approval
trigger: { type: new_request, app: purchase }
steps:
  - action: change_stage
    stage: Approved
`,
};

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

/** Sends `/baton <text>` from `who` and returns the text of the reply (through response_url). */
async function say(text: string, who = 'admin'): Promise<string> {
  const bodies: { text?: string }[] = [];
  const scope = nock(SLACK_RESPONSE_URL.origin)
    .post(SLACK_RESPONSE_URL.path, (b: { text?: string }) => {
      bodies.push(b);
      return true;
    })
    .reply(200, 'ok');
  await t!.command(text, who);
  await eventually(async () => scope.isDone());
  return String(bodies[0]!.text);
}

describe('/baton usage hints', () => {
  it('use the id prefix of an app that exists, and names of recipes and groups there are', async () => {
    t = await startSlackTestApp({ recipesDir: recipesDir(PURCHASES) });
    expect(await say('cancel', 'alice')).toContain(
      'Which request? For example: /baton cancel PO-42 [reason]',
    );
    expect(await say('show', 'alice')).toContain('Which request? For example: /baton show PO-42');
    expect(await say('admin recipes stop')).toContain('For example: /baton admin recipes stop po-approval');
    expect(await say('admin apps add field')).toContain('For example: /baton admin apps add field purchase');
    await say('admin groups create buyers');
    expect(await say('admin groups add')).toContain('For example: /baton admin groups add buyers @alice');
    // A user learns no recipe or group from a hint.
    const user = await say('admin recipes stop', 'alice');
    expect(user).not.toContain('po-approval');
    expect(await say('admin groups add', 'alice')).not.toContain('buyers');
  });

  it('fall back to PTO-42 only when no app is installed', async () => {
    t = await startSlackTestApp();
    expect(await say('cancel', 'alice')).toContain('For example: /baton cancel PTO-42 [reason]');
  });
});
