import { afterEach, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import {
  cardOf,
  executeActions,
  startTeamsTestApp,
  type TeamsTestApp,
  visibleActionCount,
} from '../helpers/teams.js';

const app = (key: string, name: string) => `
kind: app
key: ${key}
name: ${name}
stages: [Open, Closed]
fields:
  - { key: note, label: Note, type: text }
`;

const FILES: Record<string, string> = {
  ...Object.fromEntries(
    ['Laptop', 'Phone', 'Badge', 'Parking', 'Travel', 'Training', 'Software', 'Desk'].map((n) => [
      `${n.toLowerCase()}.yaml`,
      app(n.toLowerCase(), n),
    ]),
  ),
  'triage.yaml': `
kind: recipe
name: laptop-triage
trigger: { type: new_request, app: laptop }
steps:
  - id: triage
    action: assign_task
    to: bob@example.com
    title: "Triage {{ request.id }}"
    outcomes: [Buy, Lend, Repair, Replace, Refurbish, Wait, Refuse]
`,
};

/** Teams (web, desktop) shows 6 of a card's actions and drops the rest without a word. */
describe('Teams: cards with more buttons than Teams shows in a row', () => {
  let t: TeamsTestApp;
  afterEach(async () => {
    await t.close();
  });

  it('the app picker and a task with seven outcomes show every button', async () => {
    t = await startTeamsTestApp({
      recipesDir: recipesDir(FILES),
      env: { BATON_PUBLIC_URL: 'https://baton.example.com' },
    });
    await t.install('alice');
    await t.install('bob');
    await t.say('alice', 'new');
    await t.idle();
    const picker = cardOf(t.connector.posts(t.people.alice!.conversationId).at(-1)!.body);
    expect(executeActions(picker)).toHaveLength(8);
    expect(visibleActionCount(picker)).toBe(8);
    const desk = executeActions(picker).find((a) => a.title === 'Desk')!;
    const form = await t.execute('alice', desk.verb, desk.data);
    expect(JSON.stringify(form.json())).toContain('New request: Desk');

    await t.rt.baton.requests.file(await t.batonUser('alice'), 'laptop', { note: 'broken screen' });
    const post = await eventually(async () => {
      await t.idle();
      return t.connector
        .posts(t.people.bob!.conversationId)
        .find((p) => JSON.stringify(p.body).includes('Triage LAPTOP-1'));
    });
    const card = cardOf(post.body);
    const buttons = executeActions(card).map((a) => a.title);
    expect(buttons).toEqual(['Buy', 'Lend', 'Repair', 'Replace', 'Refurbish', 'Wait', 'Refuse']);
    // The seven outcomes and "View request".
    expect(visibleActionCount(card)).toBe(8);
    // The last outcome works like the first.
    const refuse = executeActions(card).at(-1)!;
    const done = await t.execute('bob', refuse.verb, refuse.data);
    expect(JSON.stringify(done.json())).toContain('Refuse');
    expect((await t.rt.baton.tasks.listForRequest('LAPTOP-1'))[0]?.outcome).toBe('Refuse');
  });
});
