import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandText } from '../../adapters/teams/commands.js';
import { eventually, recipesDir } from '../helpers/runtime.js';
import {
  activityFrom,
  cardOf,
  cardText,
  executeActions,
  startTeamsTestApp,
  type TeamsTestApp,
  teamsFixture,
} from '../helpers/teams.js';

describe('Teams: commands by message', () => {
  let t: TeamsTestApp;

  beforeEach(async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir({}, ['recipes/time-off']) });
  });
  afterEach(async () => {
    await t.close();
  });

  /** The text of the last message the bot posted into `who`'s personal chat. */
  const lastReply = async (who: string) => {
    await t.idle();
    const post = t.connector.posts(t.people[who]!.conversationId).at(-1);
    return post ? cardText(post.body) : '';
  };

  it('strips the bot mention and turns other mentions into tokens', () => {
    const a = teamsFixture('message-channel-mention');
    expect(commandText(a).text).toBe('help');
    a.text = '<at>Baton</at> admin roles grant <at>Alice Requester</at> operator';
    (a.entities as unknown[]).push({
      type: 'mention',
      text: '<at>Alice Requester</at>',
      mentioned: { id: '29:1aliceTeamsId2', name: 'Alice Requester' },
    });
    const parsed = commandText(a);
    expect(parsed.text).toBe('admin roles grant @mention0 operator');
    expect(parsed.mentions[0]?.account.id).toBe('29:1aliceTeamsId2');
  });

  it('a mention Teams splits per word (<at>Alice</at> <at>Requester</at>, one entity each) names one person', async () => {
    await t.say('admin', 'help');
    await t.say('alice', 'help');
    await t.say('hedy', 'help');
    await t.idle();
    const split = (text: string, people: { id: string; words: string[] }[]) =>
      activityFrom('message-personal', t.people.admin!, t.connector.url, {
        text,
        entities: people.flatMap((p) =>
          p.words.map((w) => ({ type: 'mention', text: `<at>${w}</at>`, mentioned: { id: p.id, name: w } })),
        ),
      });
    const alice = { id: t.people.alice!.id, words: ['Alice', 'Requester'] };
    const hedy = { id: t.people.hedy!.id, words: ['Hedy', 'HR'] };
    await t.send(split('admin roles grant <at>Alice</at> <at>Requester</at> operator', [alice]));
    expect(await lastReply('admin')).toContain('Alice Requester is now an operator');
    expect((await t.batonUser('alice')).role).toBe('operator');
    await t.say('admin', 'admin groups create hr');
    await t.send(
      split('admin groups add hr <at>Alice</at> <at>Requester</at> <at>Hedy</at> <at>HR</at>', [alice, hedy]),
    );
    expect(await lastReply('admin')).toContain('Added Alice Requester, Hedy HR to **hr** (2 members).');
    // Two people with the same first name: each part goes to its own person.
    const ann = { id: t.people.hank!.id, words: ['Alice', 'Hank'] };
    const parsed = commandText(
      split('admin groups remove hr <at>Alice</at> <at>Hank</at> <at>Alice</at> <at>Requester</at>', [
        ann,
        alice,
      ]),
    );
    expect(parsed.text).toBe('admin groups remove hr @mention0 @mention1');
    expect(parsed.mentions.map((m) => [m.account.id, m.account.name])).toEqual([
      [t.people.hank!.id, 'Alice Hank'],
      [t.people.alice!.id, 'Alice Requester'],
    ]);
  });

  it('help lists the verbs (admin ones only for admins); a typo gets a suggestion', async () => {
    await t.say('alice', 'help');
    const help = await lastReply('alice');
    expect(help).toContain('**new [app]**');
    expect(help).not.toContain('admin roles grant');
    await t.say('admin', 'help');
    expect(await lastReply('admin')).toContain('admin roles grant');
    await t.say('alice', 'reqests');
    expect(await lastReply('alice')).toContain('Did you mean **requests**?');
  });

  it('a huge unknown command (one 40 KB word) is answered with a shortened echo that Teams accepts', async () => {
    const word = 'x'.repeat(40_000);
    await t.say('alice', word);
    await t.idle();
    const post = t.connector.posts(t.people.alice!.conversationId).at(-1)!;
    expect(t.connector.calls.filter((c) => c.path === post.path).length).toBe(1); // not refused, not retried
    const text = cardText(post.body);
    expect(text).toContain('I don\'t know "xxxx');
    expect(text).toContain('…');
    expect(text).toContain('Type **help** to see what you can do.');
    expect(text.length).toBeLessThan(500);
  });

  it('an error quoting a huge word typed (show, cancel, new) is shortened so Teams accepts it', async () => {
    const word = 'x'.repeat(40_000);
    for (const command of [`show ${word}`, `cancel ${word}`, `new ${word}`]) {
      await t.say('alice', command);
      await t.idle();
      const post = t.connector.posts(t.people.alice!.conversationId).at(-1)!;
      const text = cardText(post.body);
      expect(text).toContain('⚠️');
      expect(text).toContain('…');
      expect(text.length).toBeLessThan(500);
    }
  });

  it('a person named by a string too long to be anyone (a 300-character email) is unknown, not "something went wrong"', async () => {
    await t.say('admin', 'help');
    await t.say('admin', `admin roles grant ${'y'.repeat(300)}@example.com operator`);
    const reply = await lastReply('admin');
    expect(reply).toContain("I don't know who yyyy");
    expect(reply).not.toContain('Something went wrong');
  });

  it('command placeholders such as <ID> are escaped in markdown replies, so Teams does not drop them as HTML tags', async () => {
    // A raw `<ID>` in markdown is an HTML tag to Teams: "show <ID>" would read "show ".
    const rawTag = /(^|[^\\])<[A-Za-z][\w-]*>/;
    const replies: string[] = [];
    for (const [who, text] of [
      ['admin', 'help'],
      ['admin', 'admin jobs shw'],
      ['admin', 'admin groups list'],
      ['alice', 'help'],
      ['alice', 'shw PTO-1'],
    ] as const) {
      await t.say(who, text);
      replies.push(await lastReply(who));
    }
    await t.rt.baton.requests.file(await t.batonUser('alice'), 'time-off', {
      type: 'Vacation',
      start: '2026-12-01',
      days: 1,
      approver: (await t.batonUser('admin'))._id,
    });
    await t.say('alice', 'requests');
    replies.push(await lastReply('alice'));
    expect(replies.join('\n')).toContain('**show \\<ID\\>**');
    expect(replies[1]).toContain('Did you mean **admin jobs show \\<id\\>**?');
    expect(replies[2]).toContain('**admin groups create \\<name\\>**');
    expect(replies[5]).toContain('Type **show PTO-1** for one.');
    for (const r of replies) expect(r).not.toMatch(rawTag);
    // "list" is another name for "requests".
    await t.say('alice', 'list');
    expect(await lastReply('alice')).toBe(replies[5]);
  });

  it('in a channel, the bot answers in the thread of the message that mentioned it', async () => {
    const res = await t.send(activityFrom('message-channel-mention', t.people.alice!, t.connector.url));
    expect(res.statusCode).toBe(200);
    await t.idle();
    const reply = t.connector.posts().at(-1)!;
    const a = teamsFixture('message-channel-mention');
    const replyTo = String(reply.body.replyToId);
    expect(replyTo).toMatch(/^1732440011078-/); // the id of the message that mentioned the bot
    expect(reply.path).toBe(
      `/v3/conversations/${encodeURIComponent((a.conversation as { id: string }).id)}/activities/${encodeURIComponent(replyTo)}`,
    );
    expect(cardText(reply.body)).toContain('What you can ask Baton');
  });

  it('a message Teams delivers twice is answered once', async () => {
    const a = activityFrom('message-personal', t.people.alice!, t.connector.url, { text: 'help' });
    await t.send(a);
    await t.send(a);
    await t.idle();
    expect(t.connector.posts(t.people.alice!.conversationId)).toHaveLength(1);
  });

  it('requests, show and tasks: the same answers and authorization as Slack', async () => {
    await t.say('alice', 'requests');
    expect(await lastReply('alice')).toContain('You have no requests yet');
    await t.say('bob', 'help'); // Bob becomes known to Baton through Teams
    await t.idle();
    const bob = await t.batonUser('bob');
    const alice = await t.batonUser('alice');
    await t.rt.baton.requests.file(alice, 'time-off', {
      type: 'Vacation',
      start: '2026-12-01',
      days: 2,
      approver: bob._id,
    });
    await t.say('alice', 'requests');
    expect(await lastReply('alice')).toMatch(/\*\*PTO-1\*\* Time off, Submitted/);
    await t.say('alice', 'show pto-1');
    const shown = await lastReply('alice');
    expect(shown).toContain('PTO-1');
    expect(shown).toContain('Open tasks');
    expect(shown).toContain('waiting on Bob Manager');
    // Mallory may not see Alice's request.
    await t.say('mallory', 'show PTO-1');
    expect(await lastReply('mallory')).toMatch(/⚠️/);
    expect(await lastReply('mallory')).not.toContain('Family');
    // Bob's open tasks come as their cards, with the buttons.
    await t.say('bob', 'tasks');
    await t.idle();
    const cards = t.connector
      .posts(t.people.bob!.conversationId)
      .filter((p) => Array.isArray(p.body.attachments) && cardText(p.body).includes('PTO-1'));
    expect(cards.length).toBeGreaterThanOrEqual(1);
    expect(executeActions(cardOf(cards.at(-1)!.body)).map((a) => a.title)).toEqual(['Approve', 'Reject']);
  });

  it('cancel: the requester cancels; the approver’s card loses its buttons; someone else is refused', async () => {
    await t.say('alice', 'help');
    await t.say('bob', 'help');
    await t.idle();
    const bob = await t.batonUser('bob');
    const alice = await t.batonUser('alice');
    const request = await t.rt.baton.requests.file(alice, 'time-off', {
      type: 'Vacation',
      start: '2026-12-01',
      days: 2,
      approver: bob._id,
    });
    await eventually(async () =>
      t.connector.posts(t.people.bob!.conversationId).some((p) => cardText(p.body).includes(request._id)),
    );
    await t.say('bob', `cancel ${request._id}`);
    expect(await lastReply('bob')).toContain(
      `Only Alice Requester, who filed ${request._id}, or an admin can cancel it.`,
    );
    await t.say('alice', `cancel ${request._id} “Plans changed”`);
    expect(await lastReply('alice')).toContain(
      `✅ ${request._id} is cancelled (stage **Cancelled**); its open task was withdrawn.`,
    );
    const r = await t.rt.baton.requests.get(alice, request._id);
    expect(r.stage).toBe('Cancelled');
    expect(r.history.find((h) => h.type === 'request_cancelled')!.text).toBe(
      `Alice Requester cancelled ${request._id}: Plans changed`,
    );
    // Bob's task card is replaced by one without buttons; the pack's recipe tells him.
    await eventually(async () => {
      const updated = t.connector
        .updates()
        .filter((u) => u.path.includes(encodeURIComponent(t.people.bob!.conversationId)))
        .at(-1);
      return updated !== undefined && executeActions(cardOf(updated.body)).length === 0;
    });
    await eventually(async () =>
      t.connector
        .posts(t.people.bob!.conversationId)
        .some((p) => cardText(p.body).includes(`Alice Requester cancelled time off ${request._id}`)),
    );
  });

  it('cancel: a person @mentioned in the reason is named in the history, not as a placeholder', async () => {
    await t.say('alice', 'help');
    await t.say('bob', 'help');
    await t.idle();
    const alice = await t.batonUser('alice');
    const request = await t.rt.baton.requests.file(alice, 'time-off', {
      type: 'Vacation',
      start: '2026-12-01',
      days: 2,
      approver: (await t.batonUser('bob'))._id,
    });
    const fixture = teamsFixture<{ entities: unknown[] }>('message-channel-mention');
    await t.send(
      activityFrom('message-channel-mention', t.people.alice!, t.connector.url, {
        text: `<at>Baton</at> cancel ${request._id} as <at>Bob Manager</at> suggested`,
        entities: [
          ...fixture.entities,
          {
            type: 'mention',
            text: '<at>Bob Manager</at>',
            mentioned: { id: t.people.bob!.id, name: 'Bob Manager' },
          },
        ],
      }),
    );
    await t.idle();
    const r = await t.rt.baton.requests.get(alice, request._id);
    expect(r.stage).toBe('Cancelled');
    expect(r.history.find((h) => h.type === 'request_cancelled')!.text).toBe(
      `Alice Requester cancelled ${request._id}: as Bob Manager suggested`,
    );
  });

  it('admin commands: refused for a user; an admin grants a role by @mention and builds an app with the card forms', async () => {
    await t.say('admin', 'help'); // Ada becomes known to Baton
    await t.say('alice', 'admin roles grant admin@example.com admin');
    expect(await lastReply('alice')).toMatch(/Only admins/);
    expect((await t.batonUser('alice')).role).toBe('user');

    // BATON_ADMINS names admin@example.com: the email from the connector makes Ada an admin.
    const mention = activityFrom('message-personal', t.people.admin!, t.connector.url, {
      text: 'admin roles grant <at>Alice Requester</at> operator',
      entities: [
        {
          type: 'mention',
          text: '<at>Alice Requester</at>',
          mentioned: { id: t.people.alice!.id, name: 'Alice Requester' },
        },
      ],
    });
    await t.send(mention);
    expect(await lastReply('admin')).toContain('Alice Requester is now an operator');
    expect((await t.batonUser('alice')).role).toBe('operator');

    await t.say('admin', 'admin apps create');
    await t.idle();
    const form = cardOf(t.connector.posts(t.people.admin!.conversationId).at(-1)!.body);
    const create = executeActions(form)[0]!;
    const bad = await t.execute('admin', create.verb, {
      ...create.data,
      key: 'Bad Key',
      name: 'X',
      stages: 'Open',
    });
    const badCard = (bad.json() as { value: Record<string, unknown> }).value;
    expect(cardText(badCard)).toMatch(/key/i);
    expect(executeActions(badCard)[0]?.verb).toBe(create.verb);
    const good = await t.execute('admin', create.verb, {
      ...create.data,
      key: 'badge',
      name: 'Badge',
      stages: 'Asked\nGiven',
      id_prefix: 'BDG',
    });
    expect(cardText((good.json() as { value: unknown }).value)).toContain('App Badge (badge) created');
    // A non-admin pressing the same button is refused by the core.
    const refused = await t.execute('alice', create.verb, {
      ...create.data,
      key: 'other',
      name: 'O',
      stages: 'A',
    });
    expect(cardText((refused.json() as { value: unknown }).value)).toMatch(/Only admins/);

    await t.say('admin', 'admin apps add field badge');
    await t.idle();
    const fieldForm = cardOf(t.connector.posts(t.people.admin!.conversationId).at(-1)!.body);
    const add = executeActions(fieldForm)[0]!;
    const added = await t.execute('admin', add.verb, {
      ...add.data,
      key: 'size',
      label: 'Size',
      type: 'select',
      required: 'true',
      options: 'S\nM\nL',
    });
    expect(cardText((added.json() as { value: unknown }).value)).toContain('Field size added to Badge');
    const badge = await t.rt.baton.apps.get('badge');
    expect(badge.fields[0]).toMatchObject({
      key: 'size',
      type: 'select',
      required: true,
      options: ['S', 'M', 'L'],
    });
  });

  it('admin listings are refused to people without the role, as on Slack', async () => {
    await t.say('admin', 'admin groups create hr');
    await t.say('admin', 'admin groups add hr hedy@example.com');
    await t.idle();
    for (const [text, refusal] of [
      ['admin groups list', 'Only admins can list groups'],
      ['admin apps list', 'Only admins and operators can list apps'],
      ['admin recipes install', 'Only admins can install template packs'],
      ['admin roles grant nobody@example.com operator', 'Only admins can grant'],
    ] as const) {
      await t.say('alice', text);
      const reply = await lastReply('alice');
      expect(reply, text).toContain(refusal);
      expect(reply, text).not.toMatch(/Hedy|time-off|Template packs|don't know who/);
    }
  });

  it('admin groups add: one unknown person changes nothing; people already in the group are named as such', async () => {
    await t.say('alice', 'help');
    await t.say('admin', 'admin groups create hr');
    await t.say('admin', 'admin groups add hr alice@example.com nobody@example.com');
    expect(await lastReply('admin')).toContain("I don't know who nobody@example.com is");
    expect((await t.rt.baton.groups.get('hr')).members).toEqual([]);
    await t.say('admin', 'admin groups add hr alice@example.com');
    expect(await lastReply('admin')).toContain('Added Alice Requester to **hr** (1 member).');
    await t.say('admin', 'admin groups add hr alice@example.com');
    expect(await lastReply('admin')).toContain('Alice Requester was already in **hr** (1 member).');
    await t.say('admin', 'admin groups remove hr alice@example.com');
    await t.say('admin', 'admin groups remove hr alice@example.com');
    expect(await lastReply('admin')).toContain('Alice Requester was not in **hr** (0 members).');
  });

  it('new without an app lists the apps; a button opens the form', async () => {
    await t.say('alice', 'new');
    await t.idle();
    const picker = cardOf(t.connector.posts(t.people.alice!.conversationId).at(-1)!.body);
    const button = executeActions(picker).find((a) => a.title === 'Time off')!;
    const res = await t.execute('alice', button.verb, button.data);
    const form = (res.json() as { value: Record<string, unknown> }).value;
    expect(cardText(form)).toContain('New request: Time off');
    expect(executeActions(form)[0]).toMatchObject({ verb: 'request.submit' });
    await t.say('alice', 'new nope');
    expect(await lastReply('alice')).toMatch(/nope/);
    // The app's name as the picker shows it, in any case and spacing, opens its form too.
    await t.say('alice', 'new  Time OFF');
    await t.idle();
    expect(cardText(cardOf(t.connector.posts(t.people.alice!.conversationId).at(-1)!.body))).toContain(
      'New request: Time off',
    );
  });
});

describe('Teams: admin jobs for a job a stop step ended', () => {
  let t: TeamsTestApp;
  afterEach(async () => {
    await t.close();
  });

  it('list and show say why it stopped', async () => {
    t = await startTeamsTestApp({
      recipesDir: recipesDir({
        'gear.yaml': `
kind: app
key: gear
name: Gear
stages: [New]
fields:
  - { key: os, label: OS, type: text }
`,
        'gear-recipe.yaml': `
kind: recipe
name: gear-guard
trigger: { type: new_request, app: gear }
steps:
  - if: "record.os = 'Linux'"
    then:
      - action: stop
        reason: Linux laptops are set up by the hire
  - action: notify
    to: "{{ request.requester }}"
    text: Started.
`,
      }),
    });
    await t.say('admin', 'help');
    await t.idle();
    await t.rt.baton.requests.file(await t.batonUser('admin'), 'gear', { os: 'Linux' });
    const lastReply = async () => {
      await t.idle();
      return cardText(t.connector.posts(t.people.admin!.conversationId).at(-1)!.body);
    };
    const job = await eventually(async () => {
      const [j] = await t.rt.baton.recipes.listJobs(await t.batonUser('admin'), { limit: 1 });
      return j?.status === 'completed' ? j : null;
    });
    await t.say('admin', 'admin jobs list');
    expect(await lastReply()).toContain('stopped: _Linux laptops are set up by the hire_');
    await t.say('admin', `admin jobs show ${job._id}`);
    expect(await lastReply()).toContain('Stopped by a stop step: Linux laptops are set up by the hire');
  });
});
