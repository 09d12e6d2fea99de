import { afterEach, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { activityFrom, cardOf, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

const APP = {
  'kit.yaml': `
kind: app
key: kit
name: Kit
stages: [Submitted]
fields:
  - { key: title, label: Title, type: text, required: true }
  - { key: qty, label: Quantity, type: number, min: 1, max: 5 }
  - { key: manager, label: Manager, type: user, required: true }
  - { key: contact, label: Contact, type: email }
  - { key: site, label: Site, type: select, required: true, default: Paris, options: [Paris, Oslo] }
`,
};

describe('Teams: a form with several mistakes', () => {
  let t: TeamsTestApp;
  afterEach(async () => {
    await t.close();
  });

  it('comes back with every message next to its input, a person Baton cannot find included', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(APP) });
    await t.install('alice');
    const res = await t.send(
      activityFrom('invoke-action', t.people.alice!, t.connector.url, {
        replyToId: 'form-card-1',
        value: {
          action: {
            type: 'Action.Execute',
            title: 'Submit',
            verb: 'request.submit',
            // A people-picker value nobody (Baton, the connector) knows, and three other mistakes.
            data: {
              app: 'kit',
              title: '',
              qty: '9',
              manager: '0badbeef-0000-4000-8000-000000000999',
              contact: 'nope',
              // The default the form showed, cleared: it is required.
              site: '',
            },
          },
          trigger: 'manual',
        },
      }),
    );
    expect(res.statusCode).toBe(200);
    const body = (cardOf(res.json()).body ?? []) as Record<string, unknown>[];
    const messageAfter = (id: string) => {
      const at = body.findIndex((e) => e.id === id);
      const next = body[at + 1];
      return next?.color === 'Attention' ? next.text : undefined;
    };
    expect(messageAfter('title')).toBe('Title is required');
    expect(messageAfter('qty')).toBe('Quantity must be at most 5');
    expect(messageAfter('contact')).toBe('Contact must be an email address');
    expect(messageAfter('manager')).toMatch(/^Manager: Baton does not know this person yet/);
    expect(messageAfter('site')).toBe('Site is required');
    // The values typed are kept.
    expect(body.find((e) => e.id === 'contact')?.value).toBe('nope');
    expect(await t.rt.baton.requests.load('KIT-1')).toBeNull();
  });
});

describe('Teams: a multi-select whose options have commas', () => {
  let t: TeamsTestApp;
  afterEach(async () => {
    await t.close();
  });

  it('files the options picked (Teams joins them with commas), not pieces of them', async () => {
    t = await startTeamsTestApp({
      recipesDir: recipesDir({
        'team.yaml': `
kind: app
key: team
name: Team
stages: [Submitted]
fields:
  - key: regions
    label: Regions
    type: multi_select
    required: true
    options: ["Sales, EMEA", "Sales, EMEA and APAC", { value: "x,y", label: Both }, Support]
`,
      }),
    });
    await t.install('alice');
    const submit = (regions: string, card: string) =>
      t.send(
        activityFrom('invoke-action', t.people.alice!, t.connector.url, {
          replyToId: card,
          value: {
            action: {
              type: 'Action.Execute',
              title: 'Submit',
              verb: 'request.submit',
              data: { app: 'team', regions },
            },
            trigger: 'manual',
          },
        }),
      );
    const res = await submit('Sales, EMEA,Support,Sales, EMEA and APAC,x,y', 'form-card-1');
    expect(JSON.stringify(cardOf(res.json()))).toContain('Request TEAM-1 filed');
    expect((await t.rt.baton.requests.load('TEAM-1'))?.record.regions).toEqual([
      'Sales, EMEA',
      'Support',
      'Sales, EMEA and APAC',
      'x,y',
    ]);
    // A value that is no option is still refused, with the form back.
    const bad = await submit('Sales,Support', 'form-card-2');
    expect(JSON.stringify(cardOf(bad.json()))).toContain('Regions must only contain');
  });
});

describe('Teams: number fields bounded on one side', () => {
  let t: TeamsTestApp;
  afterEach(async () => {
    await t.close();
  });

  it('the message Teams shows for a number out of bounds names the bound, without infinity', async () => {
    t = await startTeamsTestApp({
      recipesDir: recipesDir({
        'bounds.yaml': `
kind: app
key: bounds
name: Bounds
stages: [Submitted]
fields:
  - { key: low, label: Seats, type: number, min: 1 }
  - { key: high, label: Budget, type: number, max: 500 }
  - { key: both, label: Days, type: number, min: 0.5, max: 30 }
`,
      }),
    });
    await t.install('alice');
    await t.say('alice', 'new bounds');
    await t.idle();
    const form = cardOf(t.connector.posts(t.people.alice!.conversationId).at(-1)!.body);
    const input = (id: string) => (form.body as Record<string, unknown>[]).find((e) => e.id === id);
    expect(input('low')).toMatchObject({ min: 1, errorMessage: 'Seats must be at least 1' });
    expect(input('high')).toMatchObject({ max: 500, errorMessage: 'Budget must be at most 500' });
    expect(input('both')).toMatchObject({ errorMessage: 'Days must be between 0.5 and 30' });
  });
});
