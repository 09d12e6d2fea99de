/**
 * `show <ID>` typed to the bot on a request with a long history: the card has room for the
 * latest entries only, and says so ("History (latest 10 of 14)", as Slack's `show` does) rather
 * than present them as the whole trail.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { cardOf, cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

const FILES = {
  'note.yaml': `
kind: app
key: note
name: Note
id_prefix: NOTE
stages: [Open, Closed]
fields:
  - { key: title, label: Title, type: text, required: true }
`,
};

let t: TeamsTestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('Teams: show with a long history', () => {
  it('says the history is the latest entries, out of how many', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    await t.say('alice', 'help');
    await t.idle();
    const alice = await t.batonUser('alice');
    const request = await t.rt.baton.requests.file(alice, 'note', { title: 'Long one' });
    for (let i = 1; i <= 13; i++) await t.rt.baton.requests.comment(alice, request._id, `comment ${i}`);
    const total = (await t.rt.baton.requests.get(alice, request._id)).history.length;
    expect(total).toBeGreaterThan(10);

    await t.say('alice', `show ${request._id}`);
    await t.idle();
    const text = cardText(t.connector.posts(t.people.alice!.conversationId).at(-1)?.body);
    expect(text).toContain(`History (latest 10 of ${total})`);
    expect(text).toContain('comment 13');
    expect(text).not.toContain('comment 1\n');

    // A short history is shown whole, under a plain heading.
    const short = await t.rt.baton.requests.file(alice, 'note', { title: 'Short one' });
    await t.say('alice', `show ${short._id}`);
    await t.idle();
    const shortText = cardText(t.connector.posts(t.people.alice!.conversationId).at(-1)?.body);
    expect(shortText).toContain('History\n');
    expect(shortText).not.toContain('latest');
  });

  // The history's times were UTC text ("2026-12-05 11:03 UTC: Task … assigned to …, expires
  // 2026-12-07 11:03 UTC"): they are the card's DATE() and TIME() now, in the reader's zone.
  it("shows the entries' times and a task's expiry in the reader's zone", async () => {
    t = await startTeamsTestApp({
      recipesDir: recipesDir({
        ...FILES,
        'note-check.yaml': `
kind: recipe
name: note-check
trigger: { type: new_request, app: note }
steps:
  - action: assign_task
    to: bob@example.com
    title: "Check {{ record.title }}"
    expires_in: 2d
`,
      }),
    });
    await t.say('alice', 'help');
    await t.say('bob', 'help');
    await t.idle();
    const alice = await t.batonUser('alice');
    const bob = await t.batonUser('bob');
    const request = await t.rt.baton.requests.file(alice, 'note', { title: 'Roof' });
    const [task] = await eventually(async () => {
      const tasks = await t!.rt.baton.tasks.listForRequest(request._id);
      return tasks.length === 1 ? tasks : undefined;
    });
    const local = (d: Date) => {
      const iso = `${d.toISOString().slice(0, 19)}Z`;
      return `{{DATE(${iso}, SHORT)}} at {{TIME(${iso})}}`;
    };
    const filed = (await t.rt.baton.requests.get(alice, request._id)).history[0]!;

    await t.say('alice', `show ${request._id}`);
    await t.idle();
    const card = cardOf(t.connector.posts(t.people.alice!.conversationId).at(-1)?.body);
    const blocks = card.body as { type: string; text?: string }[];
    const history = blocks.at(-1)!;
    expect(history.type).toBe('TextBlock');
    expect(history.text).toContain(`- ${local(filed.at)}: Alice Requester filed ${request._id}`);
    expect(history.text).toContain(
      `Task "Check Roof" assigned to ${bob.name}, expires ${local(task!.expires_at!)}`,
    );
    expect(history.text).not.toContain('UTC');
  });
});
