/**
 * Acceptance checks of the Slack surface found in a QA pass: each drives the real server
 * (`POST /slack/events`, signed bodies in the shapes Slack sends) against a local fake of the
 * Web API that records what Slack would have received (slash command replies go to a
 * response_url on the same fake).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { renderRequestModal } from '../../adapters/slack/modals.js';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { defaultSlackPeople, type SlackTestApp, slackFixture, startSlackTestApp } from '../helpers/slack.js';
import { FakeSlackApi } from './tasks-harness.js';

let t: SlackTestApp | undefined;
let fake: FakeSlackApi | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
  await fake?.stop();
  fake = undefined;
});

/** The server with the Slack surface on, its Web API (and response_urls) on a local fake. */
async function start(files: Record<string, string> = {}): Promise<{ t: SlackTestApp; fake: FakeSlackApi }> {
  fake = new FakeSlackApi();
  await fake.start();
  const people = defaultSlackPeople();
  for (const p of Object.values(people))
    fake.people.set(p.id, { id: p.id, name: p.realName, email: p.email! });
  t = await startSlackTestApp({
    apiUrl: fake.url,
    mockUsersInfo: false,
    people,
    recipesDir: recipesDir(files),
  });
  return { t, fake };
}

/** Sends `/baton <text>` from a person and returns the ephemeral reply posted to its response_url. */
async function command(text: string, from: string): Promise<{ text: string; blocks?: unknown[] }> {
  const before = fake!.of('response').length;
  const res = await t!.command(text, from, { response_url: `${fake!.url}response` });
  expect(res.statusCode).toBe(200);
  return eventually(
    async () => fake!.of('response')[before] as { text: string; blocks?: unknown[] } | undefined,
  );
}

describe('admin commands naming a person Slack does not know', () => {
  it('groups add/remove and roles grant refuse an unknown id with an ephemeral error and change nothing', async () => {
    await start();
    const { baton } = t!.rt;
    expect((await command('admin groups create hr', 'admin')).text).toContain('Group *hr* created');

    // users.info answers { ok: false, error: 'user_not_found' } for U0NOBODY.
    const usersBefore = await baton.ctx.db.users.countDocuments({});
    const refused = await command('admin groups add hr <@U0BOB|bob> <@U0NOBODY|ghost>', 'admin');
    expect(refused.text).toMatch(/^:warning: Slack doesn't know a person with the id U0NOBODY/);
    expect((await baton.groups.get('hr')).members).toEqual([]);
    expect(await baton.users.lookup('slack:U0NOBODY')).toBeNull();

    const grant = await command('admin roles grant <@U0NOBODY> admin', 'admin');
    expect(grant.text).toMatch(/^:warning: Slack doesn't know a person with the id U0NOBODY/);
    expect(await baton.users.lookup('slack:U0NOBODY')).toBeNull();
    // Bob was looked up (he exists) but nobody was added, and no user was made from the unknown id.
    expect(await baton.ctx.db.users.countDocuments({ name: 'U0NOBODY' })).toBe(0);
    expect(await baton.ctx.db.users.countDocuments({})).toBeLessThanOrEqual(usersBefore + 1);

    // A real member is added; adding them again says so instead of "Added".
    expect((await command('admin groups add hr <@U0BOB|bob>', 'admin')).text).toBe(
      'Added Bob Manager to *hr* (1 member).',
    );
    expect((await command('admin groups add hr <@U0BOB|bob>', 'admin')).text).toBe(
      'Bob Manager was already in *hr* (1 member).',
    );
    const remove = await command('admin groups remove hr <@U0NOBODY>', 'admin');
    expect(remove.text).toMatch(/^:warning: Slack doesn't know/);
    expect((await baton.groups.get('hr')).members).toHaveLength(1);
  });

  it('a non-admin naming people is refused before anyone is looked up', async () => {
    await start();
    await command('admin groups create hr', 'admin');
    const reply = await command('admin groups add hr <@U0NOBODY>', 'alice');
    expect(reply.text).toBe(':warning: Only admins can change group members.');
    expect(fake!.of('users.info').some((a) => a.user === 'U0NOBODY')).toBe(false);
  });
});

const SIZES_APP = {
  'sizes.yaml': `
kind: app
key: sizes
name: Sizes
stages: [Submitted]
fields:
  - key: size
    label: Size
    type: select
    required: true
    options: [{ value: s, label: Small }, { value: m, label: Medium }]
  - key: tags
    label: Tags
    type: multi_select
    options: [{ value: red, label: Red team }, { value: blue, label: Blue team }]
`,
};

/** A view_submission of `app`'s request form (as Slack echoes it back) with these state values. */
async function requestSubmission(app: string, from: string, values: Record<string, unknown>) {
  const payload = slackFixture<Record<string, unknown> & { view: Record<string, unknown> }>(
    'view-submission-request',
  );
  payload.user = { id: t!.people[from]!.id, username: from, name: from, team_id: 'T0TEST' };
  payload.view.private_metadata = app;
  payload.view.blocks = renderRequestModal(await t!.rt.baton.apps.get(app)).blocks;
  payload.view.state = {
    values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { value: v }])),
  };
  return payload;
}

describe('validation messages of select fields', () => {
  it('name the options by their labels, as the form shows them, not by their stored values', async () => {
    await start(SIZES_APP);
    // A form opened before an admin changed the options: the values sent are not options any more.
    const res = await t!.interact(
      await requestSubmission('sizes', 'alice', {
        size: {
          type: 'static_select',
          selected_option: { text: { type: 'plain_text', text: 'XL' }, value: 'xl' },
        },
        tags: {
          type: 'multi_static_select',
          selected_options: [{ text: { type: 'plain_text', text: 'Purple' }, value: 'purple' }],
        },
      }),
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      response_action: 'errors',
      errors: {
        size: 'Size must be one of Small, Medium',
        tags: 'Tags must only contain Red team, Blue team',
      },
    });
  });
});
