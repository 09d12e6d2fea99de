/**
 * A team setting Baton up from Slack: an admin configures it with `/baton admin …`, and
 * someone who is not an admin tries the same commands (signed slash commands over HTTP,
 * the Web API and response_urls on a local fake).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import type { SlackTestApp } from '../helpers/slack.js';
import { slackCommand, startSlackAcceptance } from './acceptance-harness.js';
import type { FakeSlackApi } from './tasks-harness.js';

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

let t: SlackTestApp | undefined;
let fake: FakeSlackApi | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
  await fake?.stop();
  fake = undefined;
});

const ask = async (text: string, who = 'admin') => (await slackCommand(t!, fake!, text, who)).text;

describe('/baton admin … from someone who may not use it', () => {
  it('is refused before any argument is asked for: they are not sent to look for names first', async () => {
    ({ t, fake } = await startSlackAcceptance(FILES));
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
    // An admin is still asked for what is missing.
    expect(await ask('admin groups create')).toContain('Which group name? For example');
    expect(await ask('admin apps add stage helpdesk')).toContain('Which stage? For example');
  });
});

describe('/baton admin apps add …: the app named as people see it', () => {
  it('takes the app’s name in quotes (it has spaces), as well as its key', async () => {
    ({ t, fake } = await startSlackAcceptance(FILES));
    expect(await ask('admin apps add stage "Help desk" Waiting')).toContain(
      '*Help desk* stages: Open → Resolved → Closed → Waiting',
    );
    expect(await ask('admin apps add stage “Help desk” “On hold”')).toContain('Waiting → On hold');
    expect(await ask('admin apps add stage helpdesk Escalated')).toContain('On hold → Escalated');
    expect((await t!.rt.baton.apps.get('helpdesk')).stages.slice(-3)).toEqual([
      'Waiting',
      'On hold',
      'Escalated',
    ]);
    const opened = fake!.of('views.open').length;
    await t!.command('admin apps add field "Help desk"', 'admin', { response_url: `${fake!.url}response` });
    await t!.idle();
    const view = fake!.of('views.open')[opened]?.view as { private_metadata?: string } | undefined;
    expect(view?.private_metadata).toContain('helpdesk');
    // A name nobody has is answered with the apps there are, not with half of what was typed.
    expect(await ask('admin apps add stage "Front desk" Waiting')).toContain(
      'No app named "Front desk". Apps: helpdesk.',
    );
  });
});

describe('/baton admin groups delete', () => {
  it('deletes a group nothing uses at once; one with members or recipes only once confirmed, after saying what it breaks', async () => {
    ({ t, fake } = await startSlackAcceptance(FILES));
    // A group made by mistake, empty and used by no recipe.
    await ask('admin groups create suport');
    expect(await ask('admin groups delete suport')).toContain('Group *suport* deleted.');
    expect(await t!.rt.baton.groups.find('suport')).toBeNull();

    await ask('admin groups create support');
    await ask('admin groups add support <@U0BOB|bob>');
    const asked = await ask('admin groups delete support');
    expect(asked).toContain('Its member: Bob Manager.');
    expect(asked).toContain(
      'Recipes that use it: helpdesk-triage. They will fail at those steps until a group named support exists again.',
    );
    expect(asked).toContain('To delete it, type `/baton admin groups delete support confirm`.');
    expect(await t!.rt.baton.groups.find('support')).not.toBeNull();
    expect(await ask('admin groups delete support confirm')).toContain('Group *support* deleted.');
    expect(await t!.rt.baton.groups.find('support')).toBeNull();

    // Bad arguments and other people.
    expect(await ask('admin groups delete')).toContain('Which group? For example');
    expect(await ask('admin groups delete nope')).toContain('No group named nope.');
    await ask('admin groups create hr');
    expect(await ask('admin groups delete hr', 'alice')).toContain('Only admins can delete groups.');
    expect(await ask('admin groups delete hr confirm', 'alice')).toContain('Only admins can delete groups.');
    expect(await t!.rt.baton.groups.find('hr')).not.toBeNull();
  });

  it('refuses a group with open tasks, saying what to do', async () => {
    ({ t, fake } = await startSlackAcceptance(FILES));
    await ask('admin groups create support');
    await ask('admin groups add support <@U0BOB|bob>');
    const alice = await t!.batonUser('alice');
    await t!.rt.baton.requests.file(alice, 'helpdesk', { summary: 'Printer on fire' });
    await t!.idle();
    await eventually(async () =>
      (await t!.rt.baton.tasks.listOpenForGroup('support')).length > 0 ? 1 : undefined,
    );
    const refused = await ask('admin groups delete support confirm');
    expect(refused).toContain('Group support still has open tasks (1, on HD-1)');
    expect(await t!.rt.baton.groups.find('support')).not.toBeNull();
  });
});

describe('/baton admin requests move', () => {
  it('moves a request to another stage by hand (admins), recorded in its history, with actionable answers to mistakes', async () => {
    ({ t, fake } = await startSlackAcceptance(FILES));
    await ask('admin recipes stop helpdesk-triage');
    const alice = await t!.batonUser('alice');
    const filed = await t!.rt.baton.requests.file(alice, 'helpdesk', { summary: 'VPN down' });
    expect(await ask(`admin requests move ${filed._id} resolved`)).toContain(
      `${filed._id} moved from *Open* to *Resolved*.`,
    );
    const moved = await t!.rt.baton.requests.get(alice, filed._id);
    expect(moved.stage).toBe('Resolved');
    expect(moved.history.at(-1)?.text).toBe('Stage changed from Open to Resolved');
    expect(await ask(`admin requests move ${filed._id} Resolved`)).toContain(
      `${filed._id} is already in *Resolved*.`,
    );
    expect(await ask(`admin requests move ${filed._id} Done`)).toContain(
      'Help desk has no stage "Done". Stages: Open, Resolved, Closed.',
    );
    expect(await ask(`admin requests move ${filed._id}`)).toContain(
      `Which stage? For example: /baton admin requests move ${filed._id} Closed`,
    );
    expect(await ask('admin requests move')).toContain(
      'Which request? For example: /baton admin requests move HD-42',
    );
    expect(await ask('admin requests move HD-99 Closed')).toContain('No request HD-99.');
    expect(await ask(`admin requests move ${filed._id} Closed`, 'alice')).toContain(
      'Only admins can change the stage of a request by hand.',
    );
    expect((await t!.rt.baton.requests.get(alice, filed._id)).stage).toBe('Resolved');
  });
});

describe('/baton help', () => {
  it('gives the example request id of this Baton’s apps, as Teams does (not PTO-42 when there is no time-off app)', async () => {
    ({ t, fake } = await startSlackAcceptance(FILES));
    const help = await slackCommand<{ text?: { text: string } }>(t!, fake!, 'help', 'alice');
    const text = (help.blocks ?? []).map((b) => b.text?.text ?? '').join('\n');
    expect(text).toContain('one request: fields, stage and history (e.g. show HD-42)');
    expect(text).not.toContain('PTO-42');
  });
});

describe('/baton admin roles grant', () => {
  it('takes the role before the person too (admin roles grant operator @carol), as people say it', async () => {
    ({ t, fake } = await startSlackAcceptance(FILES));
    expect(await ask('admin roles grant operator <@U0CAROL|carol>')).toContain(
      'Carol Manager is now an operator.',
    );
    expect((await t!.batonUser('carol')).role).toBe('operator');
    expect(await ask('admin roles grant <@U0CAROL|carol> admin')).toContain('Carol Manager is now an admin.');
  });
});

describe('/baton admin …: keys and names over their length limit', () => {
  it('are refused with the limit, not created (a 70-character key made an app whose pages never opened)', async () => {
    ({ t, fake } = await startSlackAcceptance(FILES));
    expect(await ask(`admin apps create a${'b'.repeat(100)}`)).toContain(
      'app keys are at most 100 characters',
    );
    expect(await ask(`admin apps create kb Very ${'long '.repeat(1000)}name`)).toContain(
      'app names are at most 5000 characters',
    );
    expect((await t!.rt.baton.apps.list()).map((a) => a._id)).toEqual(['helpdesk']);
    expect(await ask(`admin apps add stage helpdesk ${'S'.repeat(5001)}`)).toContain(
      'Stage names are at most 5000 characters (this one has 5001).',
    );
    // The characters were right: the message said to use lowercase letters.
    expect(await ask(`admin groups create g${'k'.repeat(70)}`)).toContain(
      'Group names are at most 63 characters (this one has 71).',
    );
  });
});

describe('/baton admin …: names as typed', () => {
  it('says a group name was lowercased, and keeps an app name as typed', async () => {
    ({ t, fake } = await startSlackAcceptance(FILES));
    expect(await ask('admin groups create support')).toContain('Group *support* created.');
    expect(await ask('admin groups create Support')).toContain(
      'Group support already exists (group names are lower case: Support is support).',
    );
    expect(await ask('admin groups create Finance')).toContain(
      'Group *finance* created (group names are lower case: Finance is finance).',
    );
    expect(await ask('admin apps create KB2')).toContain('App *KB2* (`kb2`) created');
    expect((await t!.rt.baton.apps.get('kb2')).name).toBe('KB2');
  });
});

describe('/baton admin apps add stage: a stage there already, in another case', () => {
  it('is refused: "on hold" beside "On hold" made two stages people cannot tell apart', async () => {
    ({ t, fake } = await startSlackAcceptance(FILES));
    expect(await ask('admin apps add stage helpdesk "On hold"')).toContain(
      'Open → Resolved → Closed → On hold',
    );
    expect(await ask('admin apps add stage helpdesk on hold')).toContain(
      'Help desk already has a stage "On hold" (stage names are told apart regardless of case and spacing).',
    );
    expect(await ask('admin apps add stage helpdesk open')).toContain('Help desk already has a stage "Open"');
    expect((await t!.rt.baton.apps.get('helpdesk')).stages).toEqual([
      'Open',
      'Resolved',
      'Closed',
      'On hold',
    ]);
  });
});

describe('/baton admin recipes start|stop: the name in another case', () => {
  it('finds the recipe (recipe names are lower case), as group names are found', async () => {
    ({ t, fake } = await startSlackAcceptance(FILES));
    expect(await ask('admin recipes stop Helpdesk-Triage')).not.toContain('No recipe named');
    const admin = await t!.batonUser('admin');
    expect((await t!.rt.baton.recipes.get(admin, 'helpdesk-triage')).state).toBe('stopped');
    expect(await ask('admin recipes start HELPDESK-TRIAGE')).toContain(
      'Recipe *helpdesk-triage* is running.',
    );
  });
});
