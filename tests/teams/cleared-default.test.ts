import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { cardOf, executeActions, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

const APP = {
  'desk.yaml': `
kind: app
key: desk
name: Desk
id_prefix: DESK
stages: [Asked, Done]
fields:
  - { key: model, label: Model, type: text, required: true }
  - { key: site, label: Site, type: text, default: Head office }
  - { key: floor, label: Floor, type: number, default: 2 }
  - { key: note, label: Note, type: long_text, required: true, default: As usual }
`,
};

type Input = Record<string, unknown> & { id: string; type: string };

/** What the Adaptive Cards renderer submits: every text input's value, "" for one left empty. */
function submitted(card: Record<string, unknown>, changes: Record<string, string>): Record<string, string> {
  const data: Record<string, string> = {};
  for (const input of card.body as Input[]) {
    if (!input.type?.startsWith('Input.')) continue;
    data[input.id] = changes[input.id] ?? (input.value === undefined ? '' : String(input.value));
  }
  return data;
}

/**
 * The form card starts with the fields' defaults; a person who clears one means "none": Teams
 * sends "" for it, which used to read as "not filled in" and give the default back.
 */
describe('Teams: fields with a default on the request form', () => {
  let t: TeamsTestApp;
  beforeEach(async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(APP) });
    await t.install('alice');
  });
  afterEach(async () => {
    await t.close();
  });

  async function openForm(): Promise<Record<string, unknown>> {
    await t.say('alice', 'new desk');
    await t.idle();
    return cardOf(t.connector.posts(t.people.alice!.conversationId).at(-1)!.body);
  }

  it('a default cleared on the card stays cleared, a required one is asked for; one left alone is kept', async () => {
    const form = await openForm();
    const inputs = form.body as Input[];
    expect(inputs.find((e) => e.id === 'site')?.value).toBe('Head office');
    const submit = executeActions(form)[0]!;

    const refused = await t.execute(
      'alice',
      submit.verb,
      { ...submit.data, ...submitted(form, { model: 'Standing', site: '', floor: '', note: '' }) },
      'form-card-1',
    );
    expect(refused.statusCode).toBe(200);
    expect(JSON.stringify(refused.json())).toContain('Note is required');
    expect(await t.rt.baton.requests.load('DESK-1')).toBeNull();

    const filed = await t.execute(
      'alice',
      submit.verb,
      {
        ...submit.data,
        ...submitted(form, { model: 'Standing', site: '', floor: '', note: 'Quiet corner' }),
      },
      'form-card-1',
    );
    expect(JSON.stringify(filed.json())).toContain('Request DESK-1 filed');
    expect((await t.rt.baton.requests.load('DESK-1'))!.record).toEqual({
      model: 'Standing',
      note: 'Quiet corner',
    });

    const form2 = await openForm();
    await t.execute(
      'alice',
      submit.verb,
      { ...submit.data, ...submitted(form2, { model: 'Sitting' }) },
      'form-card-2',
    );
    expect((await t.rt.baton.requests.load('DESK-2'))!.record).toEqual({
      model: 'Sitting',
      site: 'Head office',
      floor: 2,
      note: 'As usual',
    });
  });
});
