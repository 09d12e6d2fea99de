import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { activityFrom, cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

/** Admin commands by message to the bot: the same answers as Slack's `/baton admin …`. */
describe('Teams: admin commands answer as on Slack', () => {
  let t: TeamsTestApp;

  beforeEach(async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir({}, ['recipes/time-off']) });
  });
  afterEach(async () => {
    await t.close();
  });

  /** What the bot answers `who` (the last message in their personal chat). */
  const ask = async (who: string, text: string) => {
    await t.say(who, text);
    await t.idle();
    const post = t.connector.posts(t.people[who]!.conversationId).at(-1);
    return post ? cardText(post.body) : '';
  };

  it('the first words of longer commands (admin, admin groups) list the commands under them, for those who may use them', async () => {
    await ask('admin', 'help');
    const groups = await ask('admin', 'admin groups');
    expect(groups).toContain('**admin groups** commands');
    expect(groups).toContain('**admin groups create \\<name\\> [description]**: create a group');
    expect(groups).not.toContain("don't know");
    expect(await ask('admin', 'admin jobs help')).toContain('**admin jobs rerun \\<id\\>**');

    // A user is told these are not for them, and never pointed at an admin command.
    expect(await ask('alice', 'admin')).toContain('**admin …** commands are for admins and operators.');
    expect(await ask('alice', 'admin roles')).toContain('**admin roles …** commands are for admins.');
    const typo = await ask('alice', 'admin grups list');
    expect(typo).not.toContain('Did you mean');
    expect(typo).toContain('Type **help** to see what you can do.');
    expect(await ask('admin', 'admin grups list')).toContain('Did you mean **admin groups list**?');
  });

  it('names in quotes are stored without them, as on Slack', async () => {
    await ask('admin', 'help');
    expect(await ask('admin', 'admin groups create “hr” "Human resources"')).toContain(
      'Group **hr** created.',
    );
    expect((await t.rt.baton.groups.get('hr')).description).toBe('Human resources');
    await ask('admin', 'admin apps add stage time-off "On hold"');
    expect((await t.rt.baton.apps.get('time-off')).stages.at(-1)).toBe('On hold');
  });

  it('text as Teams sends it (HTML paragraphs and entities, a zero-width space) is read as typed', async () => {
    await ask('admin', 'help');
    // Quotes and apostrophes arrive as entities in the message's HTML.
    await ask('admin', '<p>admin apps add stage time-off &quot;Won&#39;t do&quot;</p>');
    expect((await t.rt.baton.apps.get('time-off')).stages.at(-1)).toBe("Won't do");
    await ask('admin', 'admin groups create ops &quot;R&amp;D &amp;lt;core&amp;gt;&quot;');
    expect((await t.rt.baton.groups.get('ops')).description).toBe('R&D &lt;core&gt;');
    expect(await ask('alice', '&#160;help\u200b')).toContain('**What you can ask Baton**');
    expect(await ask('alice', 'new&#xA0;time-off')).toContain('New request: Time off');
  });
});

describe('Teams: admin groups add and remove', () => {
  let t: TeamsTestApp;

  beforeEach(async () => {
    t = await startTeamsTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  it('people listed with commas or "and" (mentions and emails) are each added, as on Slack', async () => {
    for (const who of ['admin', 'bob', 'carol', 'hedy']) await t.say(who, 'help');
    await t.say('admin', 'admin groups create hr');
    await t.send(
      activityFrom('message-personal', t.people.admin!, t.connector.url, {
        text: 'admin groups add hr <at>Bob Manager</at>, <at>Carol Manager</at> and hedy@example.com',
        entities: (['bob', 'carol'] as const).map((who) => ({
          type: 'mention',
          text: `<at>${t.people[who]!.name}</at>`,
          mentioned: { id: t.people[who]!.id, name: t.people[who]!.name },
        })),
      }),
    );
    await t.idle();
    const reply = cardText(t.connector.posts(t.people.admin!.conversationId).at(-1)!.body);
    expect(reply).toContain('Added Bob Manager, Carol Manager, Hedy HR to **hr** (3 members).');
    await t.say('admin', 'admin groups remove hr bob@example.com, carol@example.com');
    await t.idle();
    expect(cardText(t.connector.posts(t.people.admin!.conversationId).at(-1)!.body)).toContain(
      'Removed Bob Manager, Carol Manager from **hr** (1 member).',
    );
    const hedy = await t.batonUser('hedy');
    expect((await t.rt.baton.groups.get('hr')).members).toEqual([hedy._id]);
  });
});

describe('Teams: admin roles', () => {
  let t: TeamsTestApp;

  beforeEach(async () => {
    t = await startTeamsTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  it('granting a role someone has, or revoking from someone with none, says so, as on Slack', async () => {
    const ask = async (who: string, text: string) => {
      await t.say(who, text);
      await t.idle();
      return cardText(t.connector.posts(t.people[who]!.conversationId).at(-1)!.body);
    };
    await ask('carol', 'help');
    expect(await ask('admin', 'admin roles grant carol@example.com operator')).toContain(
      'Carol Manager is now an operator.',
    );
    expect(await ask('admin', 'admin roles grant carol@example.com Operator')).toContain(
      'Carol Manager was already an operator.',
    );
    expect(await ask('admin', 'admin roles revoke carol@example.com')).toContain(
      'Carol Manager is now a user (no admin or operator role).',
    );
    const before = await t.batonUser('carol');
    expect(await ask('admin', 'admin roles revoke carol@example.com')).toContain(
      'Carol Manager has no admin or operator role: nothing to take away.',
    );
    const after = await t.batonUser('carol');
    expect(after.role).toBe('user');
    expect(after.updated_at).toEqual(before.updated_at);
  });
});

describe('Teams: admin recipes', () => {
  let t: TeamsTestApp;

  afterEach(async () => {
    await t.close();
  });

  it('start and stop say when nothing changed and which jobs carry on; install says what its problems are, as on Slack', async () => {
    t = await startTeamsTestApp({
      recipesDir: recipesDir({
        'leave.yaml': 'kind: app\nkey: leave\nname: Leave\nid_prefix: PTO\nstages: [New]\n',
        'hold.yaml': `kind: recipe
name: hold
trigger: { type: new_request, app: leave }
steps:
  - action: wait
    for: 1d
`,
      }),
    });
    const ask = async (who: string, text: string) => {
      await t.say(who, text);
      await t.idle();
      return cardText(t.connector.posts(t.people[who]!.conversationId).at(-1)!.body);
    };
    await ask('alice', 'help');
    await ask('admin', 'help');
    const admin = await t.batonUser('admin');
    await t.rt.baton.requests.file(await t.batonUser('alice'), 'leave', {});
    await eventually(
      async () => (await t.rt.baton.recipes.listJobs(admin, { status: 'waiting' })).length === 1,
    );

    expect(await ask('admin', 'admin recipes start hold')).toContain('Recipe **hold** was already running.');
    expect(await ask('alice', 'admin recipes stop hold')).toContain(
      'Only admins and operators can stop recipes.',
    );
    expect((await t.rt.baton.recipes.get(admin, 'hold')).state).toBe('running');
    expect(await ask('admin', 'admin recipes stop hold')).toContain(
      'Recipe **hold** is stopped: new events no longer start it. 1 job already under way carries on (see **admin jobs list waiting**).',
    );
    expect(await ask('admin', 'admin recipes stop hold')).toContain('Recipe **hold** was already stopped.');
    expect(await ask('admin', 'admin recipes start hold')).toContain('Recipe **hold** is running.');

    // The pack's app numbers its requests PTO-…, like the app already there: the reply says so.
    const installed = await ask('admin', 'admin recipes install time-off');
    expect(installed).toContain('Installed **time-off**: apps none;');
    expect(installed).toContain('1 problem:\n  - time-off/app.yaml:1: The request ids PTO-1, PTO-2…');
  });
});

describe('Teams: admin groups remove, the last member of a group with an open task', () => {
  let t: TeamsTestApp;

  afterEach(async () => {
    await t.close();
  });

  it('is removed, and the admin is told that nobody is left to act on the task and what to do, as on Slack', async () => {
    t = await startTeamsTestApp({
      recipesDir: recipesDir({
        'ask.yaml': 'kind: app\nkey: ask\nname: Ask\nstages: [New]\n',
        'review.yaml': `kind: recipe
name: review
trigger: { type: new_request, app: ask }
steps:
  - action: assign_task
    to: group:hr
    title: Review
`,
      }),
    });
    for (const who of ['admin', 'alice', 'hedy']) await t.say(who, 'help');
    await t.idle();
    await t.say('admin', 'admin groups create hr');
    await t.say('admin', 'admin groups add hr hedy@example.com');
    await t.idle();
    const filed = await t.rt.baton.requests.file(await t.batonUser('alice'), 'ask', {});
    await eventually(async () => (await t.rt.baton.tasks.listOpenForGroup('hr')).length === 1);
    await t.say('admin', 'admin groups remove hr hedy@example.com');
    await t.idle();
    expect(cardText(t.connector.posts(t.people.admin!.conversationId).at(-1)!.body)).toContain(
      `Removed Hedy HR from **hr** (0 members). ⚠️ Nobody is left to act on its open task (${filed._id}): add someone with **admin groups add hr @person**, or reassign it on the request's page in the portal.`,
    );
  });
});
