import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { cardOf, executeActions, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

const APP = {
  'laptop.yaml': `
kind: app
key: laptop
name: Laptop
id_prefix: LAPTOP
stages: [Asked, Done]
fields:
  - { key: model, label: Model, type: text, required: true }
  - { key: backup, label: Keep a backup, type: boolean, default: true }
  - { key: policy, label: I read the policy, type: boolean, required: true, default: true }
  - { key: urgent, label: Urgent, type: boolean }
`,
};

type Input = Record<string, unknown> & { id: string; type: string };

/**
 * What Teams (the Adaptive Cards renderer) sends for a card's inputs: each input's value, a
 * toggle as valueOn/valueOff, and, like the renderer, nothing for a required toggle that is off.
 */
function submitted(card: Record<string, unknown>, changes: Record<string, string>): Record<string, string> {
  const data: Record<string, string> = {};
  for (const input of card.body as Input[]) {
    if (!input.type?.startsWith('Input.')) continue;
    const value = changes[input.id] ?? (input.value === undefined ? undefined : String(input.value));
    if (value === undefined || value === '') continue;
    if (input.type === 'Input.Toggle' && input.isRequired === true && value !== input.valueOn) continue;
    data[input.id] = value;
  }
  return data;
}

/** A toggle that starts on (`default: true`) must be able to be turned off on the Teams form. */
describe('Teams: boolean fields on the request form', () => {
  let t: TeamsTestApp;
  beforeEach(async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(APP) });
    await t.install('alice');
  });
  afterEach(async () => {
    await t.close();
  });

  async function openForm(): Promise<Record<string, unknown>> {
    await t.say('alice', 'new laptop');
    await t.idle();
    return cardOf(t.connector.posts(t.people.alice!.conversationId).at(-1)!.body);
  }

  it('a toggle turned off records false, even on a required field; left on it records true', async () => {
    const form = await openForm();
    const toggles = (form.body as Input[]).filter((e) => e.type === 'Input.Toggle');
    expect(toggles.map((e) => [e.id, e.value])).toEqual([
      ['backup', 'true'],
      ['policy', 'true'],
      ['urgent', 'false'],
    ]);
    // Teams would refuse the card with a required toggle off: no toggle demands to be on.
    expect(toggles.every((e) => e.isRequired !== true)).toBe(true);
    const submit = executeActions(form)[0]!;

    const off = await t.execute(
      'alice',
      submit.verb,
      {
        ...submit.data,
        ...submitted(form, { model: 'X1', backup: 'false', policy: 'false' }),
      },
      'form-card-1',
    );
    expect(off.statusCode).toBe(200);
    expect(JSON.stringify(off.json())).toContain('Request LAPTOP-1 filed');
    expect((await t.rt.baton.requests.load('LAPTOP-1'))!.record).toEqual({
      model: 'X1',
      backup: false,
      policy: false,
      urgent: false,
    });

    // A second form (one card files one request).
    const form2 = await openForm();
    await t.execute(
      'alice',
      submit.verb,
      { ...submit.data, ...submitted(form2, { model: 'X2' }) },
      'form-card-2',
    );
    expect((await t.rt.baton.requests.load('LAPTOP-2'))!.record).toEqual({
      model: 'X2',
      backup: true,
      policy: true,
      urgent: false,
    });
  });

  it('a toggle left out of the submitted data was off (a card from before, with a required toggle)', async () => {
    const form = await openForm();
    const submit = executeActions(form)[0]!;
    // The renderer leaves out a required toggle that is off: it must not come back on.
    const data = submitted(form, { model: 'X3', backup: 'false' });
    delete data.policy;
    delete data.backup;
    await t.execute('alice', submit.verb, { ...submit.data, ...data });
    expect((await t.rt.baton.requests.load('LAPTOP-1'))!.record).toMatchObject({
      backup: false,
      policy: false,
    });
  });

  it('a refused form comes back with the toggle still off', async () => {
    const form = await openForm();
    const submit = executeActions(form)[0]!;
    const bad = await t.execute('alice', submit.verb, {
      ...submit.data,
      ...submitted(form, { model: '', backup: 'false' }),
    });
    const again = (bad.json() as { value: Record<string, unknown> }).value;
    const body = again.body as Input[];
    expect(body.find((e) => e.id === 'model')).toBeDefined();
    expect(body.find((e) => e.id === 'backup')).toMatchObject({ type: 'Input.Toggle', value: 'false' });
    expect(body.find((e) => e.id === 'policy')).toMatchObject({ type: 'Input.Toggle', value: 'true' });
    expect(await t.rt.baton.requests.load('LAPTOP-1')).toBeNull();
  });
});
