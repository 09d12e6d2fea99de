import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { SLACK_RESPONSE_URL, type SlackTestApp, startSlackTestApp } from '../helpers/slack.js';

/**
 * An admin in Slack installs a template pack whose recipes assign tasks to groups that do not
 * exist yet: the answer and `/baton admin recipes list` say so before the first request fails on it.
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

/** Sends `/baton <text>` from the admin and returns the text of the reply (through response_url). */
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

describe('Slack: recipes naming groups that do not exist', () => {
  it('installing the expense pack warns about its finance groups, and the recipe list shows it until they exist', async () => {
    t = await startSlackTestApp();
    const installed = await say('admin recipes install expense');
    expect(installed).toContain('Installed *expense*');
    expect(installed).toContain(':warning: expense-approval: no group named "finance"');
    expect(installed).toContain('admin groups create finance');

    const listed = await say('admin recipes list');
    expect(listed).toContain('*expense-approval* — running');
    expect(listed).toContain(':warning: expense/approval.yaml:');
    expect(listed).toContain('no group named "finance"');
    expect(listed).toContain('no group named "finance-directors"');

    await say('admin groups create finance');
    await say('admin groups create finance-directors');
    const after = await say('admin recipes list');
    expect(after).toContain('*expense-approval* — running');
    expect(after).not.toContain('no group named');
  });
});
