/**
 * A team setting Baton up from Teams: an admin configures it by message to the bot, and
 * someone who is not an admin tries the same commands (Bot Framework activities to
 * POST /api/messages, answers on a fake connector): the same answers as on Slack.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { activityFrom, cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

const FILES = {
  'helpdesk.yaml': `
kind: app
key: helpdesk
name: Help desk
id_prefix: HD
stages: [Open, Resolved, Closed]
fields:
  - { key: summary, label: Summary, type: text, required: true }
`,
  'triage.yaml': `
kind: recipe
name: helpdesk-triage
trigger: { type: new_request, app: helpdesk }
steps:
  - id: support
    action: assign_task
    to: group:support
    title: "Ticket: {{ record.summary }}"
    outcomes: [Resolve, Close]
`,
};

let t: TeamsTestApp | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** What the bot answers `who` (the last message in their personal chat). */
const ask = async (text: string, who = 'admin') => {
  await t!.say(who, text);
  await t!.idle();
  const post = t!.connector.posts(t!.people[who]!.conversationId).at(-1);
  return post ? cardText(post.body) : '';
};

describe('admin … from someone who may not use it, on Teams', () => {
  it('is refused before any argument is asked for, as on Slack', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    const refusals: [string, string][] = [
      ['admin groups create', 'Only admins can create groups.'],
      ['admin groups add', 'Only admins can change group members.'],
      ['admin groups remove support', 'Only admins can change group members.'],
      ['admin apps add stage', 'Only admins can change apps.'],
      ['admin apps add stage helpdesk', 'Only admins can change apps.'],
      ['admin apps add field', 'Only admins can change apps.'],
      ['admin recipes start', 'Only admins and operators can start recipes.'],
      ['admin recipes stop', 'Only admins and operators can stop recipes.'],
      ['admin jobs list finished', 'Only admins and operators can see jobs.'],
      ['admin jobs show', 'Only admins and operators can see jobs.'],
      ['admin jobs rerun', 'Only admins and operators can rerun jobs.'],
    ];
    for (const [command, refusal] of refusals) {
      const reply = await ask(command, 'alice');
      expect(reply, command).toContain(refusal);
      expect(reply, command).not.toContain('For example');
    }
    expect(await ask('admin groups create')).toContain('Which group name? For example');
    expect(await ask('admin apps add stage helpdesk')).toContain('Which stage? For example');
  });
});

describe('admin apps add …: the app named as people see it, on Teams', () => {
  it('takes the app’s name in quotes (it has spaces), as well as its key, as on Slack', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    expect(await ask('admin apps add stage "Help desk" Waiting')).toContain(
      '**Help desk** stages: Open → Resolved → Closed → Waiting',
    );
    // Teams sends the quotes of the message's HTML as entities.
    expect(await ask('admin apps add stage &quot;Help desk&quot; “On hold”')).toContain('Waiting → On hold');
    expect(await ask('admin apps add stage helpdesk Escalated')).toContain('On hold → Escalated');
    expect((await t.rt.baton.apps.get('helpdesk')).stages.slice(-3)).toEqual([
      'Waiting',
      'On hold',
      'Escalated',
    ]);
    expect(await ask('admin apps add field “Help desk”')).toContain('New field for Help desk');
    const unknown = await ask('admin apps add stage "Front desk" Waiting');
    expect(unknown).toContain('No app named "Front desk".');
    expect(unknown).toContain('Apps: helpdesk.');
  });
});

describe('admin groups delete, on Teams', () => {
  it('deletes an unused group at once, and one with members or recipes once confirmed, as on Slack', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    await ask('admin groups create suport');
    expect(await ask('admin groups delete suport')).toContain('Group **suport** deleted.');
    expect(await t.rt.baton.groups.find('suport')).toBeNull();

    await ask('admin groups create support');
    await ask('help', 'bob');
    expect(await ask('admin groups add support bob@example.com')).toContain('Added Bob Manager');
    const asked = await ask('admin groups delete support');
    expect(asked).toContain('Its member: Bob Manager.');
    expect(asked).toContain(
      'Recipes that use it: helpdesk-triage. They will fail at those steps until a group named support exists again.',
    );
    expect(asked).toContain('To delete it, type **admin groups delete support confirm**.');
    expect(await t.rt.baton.groups.find('support')).not.toBeNull();
    expect(await ask('admin groups delete support please')).toContain(
      "Type confirm after the group's name to delete it: admin groups delete support confirm",
    );
    expect(await ask('admin groups delete support confirm')).toContain('Group **support** deleted.');
    expect(await t.rt.baton.groups.find('support')).toBeNull();

    expect(await ask('admin groups delete')).toContain('Which group? For example');
    await ask('admin groups create hr');
    expect(await ask('admin groups delete hr confirm', 'alice')).toContain('Only admins can delete groups.');
    expect(await t.rt.baton.groups.find('hr')).not.toBeNull();
    expect(await ask('help')).toContain('**admin groups delete \\<name\\> [confirm]**');
  });
});

describe('admin requests move, on Teams', () => {
  it('moves a request to another stage by hand (admins), as on Slack', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    await ask('admin recipes stop helpdesk-triage');
    await ask('help', 'alice');
    const alice = await t.batonUser('alice');
    const filed = await t.rt.baton.requests.file(alice, 'helpdesk', { summary: 'VPN down' });
    expect(await ask(`admin requests move ${filed._id} "resolved"`)).toContain(
      `${filed._id} moved from **Open** to **Resolved**.`,
    );
    expect((await t.rt.baton.requests.get(alice, filed._id)).stage).toBe('Resolved');
    expect(await ask(`admin requests move ${filed._id} Resolved`)).toContain(
      `${filed._id} is already in **Resolved**.`,
    );
    expect(await ask(`admin requests move ${filed._id} Done`)).toContain(
      'Help desk has no stage "Done". Stages: Open, Resolved, Closed.',
    );
    expect(await ask(`admin requests move ${filed._id}`)).toContain(
      `Which stage? For example: admin requests move ${filed._id} Closed`,
    );
    expect(await ask(`admin requests move ${filed._id} Closed`, 'alice')).toContain(
      'Only admins can change the stage of a request by hand.',
    );
  });
});

describe('admin roles grant, on Teams', () => {
  it('takes the role before the person too, as on Slack', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    await ask('help', 'carol');
    expect(await ask('admin roles grant operator carol@example.com')).toContain(
      'Carol Manager is now an operator.',
    );
    expect((await t.batonUser('carol')).role).toBe('operator');
  });
});

describe('admin … answers that name a request, and names as typed, on Teams', () => {
  it('answers a move typed in a channel in the admin’s own chat; the channel hears only where it went', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    await ask('admin recipes stop helpdesk-triage');
    await ask('help', 'alice');
    const alice = await t.batonUser('alice');
    const filed = await t.rt.baton.requests.file(alice, 'helpdesk', { summary: 'VPN down' });
    const admin = t.people.admin!;
    const before = t.connector.posts(admin.conversationId).length;
    const inChannel = activityFrom('message-channel-mention', admin, t.connector.url, {
      text: `<at>Baton</at> admin requests move ${filed._id} Resolved`,
    });
    expect((await t.send(inChannel)).statusCode).toBe(200);
    await t.idle();
    expect((await t.rt.baton.requests.get(alice, filed._id)).stage).toBe('Resolved');
    const privately = cardText(
      t.connector
        .posts(admin.conversationId)
        .slice(before)
        .map((c) => c.body),
    );
    expect(privately).toContain(`${filed._id} moved from **Open** to **Resolved**.`);
    const channel = cardText(
      t.connector
        .posts()
        .filter((c) => c.path.includes('thread.tacv2'))
        .map((c) => c.body),
    );
    expect(channel).toContain('I sent you the answer in your chat with Baton');
    expect(channel).not.toContain(filed._id);
  });

  it('says a group name was lowercased, and keeps an app name as typed', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    expect(await ask('admin groups create support')).toContain('Group **support** created.');
    expect(await ask('admin groups create Support')).toContain(
      'Group support already exists (group names are lower case: Support is support).',
    );
    expect(await ask('admin groups create Finance')).toContain(
      'Group **finance** created (group names are lower case: Finance is finance).',
    );
    expect(await ask('admin apps create KB2')).toContain('App **KB2** (`kb2`) created');
    expect((await t.rt.baton.apps.get('kb2')).name).toBe('KB2');
  });
});
