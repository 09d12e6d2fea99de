import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import {
  SLACK_RESPONSE_URL,
  SLACK_TEST_API_URL,
  type SlackTestApp,
  startSlackTestApp,
} from '../helpers/slack.js';

/** `/baton admin …` as an admin and as a user: what each answer says, and what changes. */

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

describe('/baton admin: a name that is not there', () => {
  it('is answered with the names there are (groups, recipes) or what to type (a stage)', async () => {
    t = await startSlackTestApp({
      recipesDir: recipesDir({}, [
        'tests/fixtures/slack/apps/leave.yaml',
        'tests/fixtures/slack/apps/leave-approval.yaml',
      ]),
    });
    expect(await say('admin groups add hr <@U0BOB|bob>')).toContain(
      'No group named hr. There are no groups yet: create it first.',
    );
    await say('admin groups create finance');
    await say('admin groups create hr');
    expect(await say('admin groups add h <@U0BOB|bob>')).toContain('No group named h. Groups: finance, hr.');
    expect(await say('admin groups remove h <@U0BOB|bob>')).toContain('Groups: finance, hr.');
    expect(await say('admin recipes start leave')).toContain(
      'No recipe named "leave". Recipes: leave-approval.',
    );
    expect(await say('admin recipes stop leave-approvl')).toContain('Recipes: leave-approval.');
    // Recipe names are found in any case, as group names are.
    expect(await say('admin recipes stop Leave-Approval')).toContain('Recipe *leave-approval* is stopped');
    expect(await say('admin apps add stage leave   ')).toContain(
      'Which stage? For example: /baton admin apps add stage leave Cancelled',
    );
    // A user learns nothing of them.
    const refused = await say('admin recipes start leave', 'alice');
    expect(refused).toContain('Only admins and operators can start recipes.');
    expect(refused).not.toContain('leave-approval');
    expect(await say('admin groups add h <@U0BOB|bob>', 'alice')).toBe(
      ':warning: Only admins can change group members.',
    );
  });
});

describe('/baton admin: names in quotes', () => {
  it('are stored without the quotes (straight or curly), as a person means them', async () => {
    t = await startSlackTestApp({ recipesDir: recipesDir({}, ['tests/fixtures/slack/apps/leave.yaml']) });
    expect(await say('admin groups create "finance" “Finance team”')).toContain('Group *finance* created.');
    expect((await t.rt.baton.groups.get('finance')).description).toBe('Finance team');
    expect(await say('admin apps create “trips” "Business trips"')).toContain(
      'App *Business trips* (`trips`) created',
    );
    await say('admin apps add stage "trips" "Waiting for IT"');
    expect((await t.rt.baton.apps.get('trips')).stages).toEqual([
      'Submitted',
      'Approved',
      'Rejected',
      'Waiting for IT',
    ]);
    expect(await say('admin apps add stage trips ""')).toContain('Which stage?');
    // Quotes inside a name are the name's own.
    await say('admin apps add stage trips The "big" one');
    expect((await t.rt.baton.apps.get('trips')).stages.at(-1)).toBe('The "big" one');
  });
});

describe('/baton admin groups remove: the last member of a group with open tasks', () => {
  it('is removed, and the admin is told that nobody is left to act on those tasks and what to do', async () => {
    t = await startSlackTestApp({
      recipesDir: recipesDir(
        {
          'hr-review.yaml': `kind: recipe
name: hr-review
trigger: { type: new_request, app: leave }
steps:
  - action: assign_task
    to: group:hr
    title: Review
`,
        },
        ['tests/fixtures/slack/apps/leave.yaml'],
      ),
    });
    nock(SLACK_TEST_API_URL.replace(/\/api\/$/, ''))
      .persist()
      .post(/^\/api\/(chat|conversations)\.[A-Za-z]+$/)
      .reply(200, { ok: true, channel: 'D0BOB', ts: '1700000000.000100' });
    await say('admin groups create hr');
    await say('admin groups add hr <@U0BOB|bob> <@U0CAROL|carol>');
    const alice = await t.batonUser('alice');
    const filed = await t.rt.baton.requests.file(alice, 'leave', {
      approver: alice._id,
      days: 1,
      start: '2026-12-01',
    });
    await eventually(async () => (await t!.rt.baton.tasks.listOpenForGroup('hr')).length === 1);

    expect(await say('admin groups remove hr <@U0CAROL|carol>')).toBe(
      'Removed Carol Manager from *hr* (1 member).',
    );
    const last = await say('admin groups remove hr <@U0BOB|bob>');
    expect(last).toBe(
      `Removed Bob Manager from *hr* (0 members). :warning: Nobody is left to act on its open task (${filed._id}): add someone with \`/baton admin groups add hr @person\`, or reassign it on the request's page in the portal.`,
    );
    expect((await t.rt.baton.groups.get('hr')).members).toEqual([]);
  });
});
