/**
 * The admin forms of Teams say how long keys, names and id prefixes may be before they are
 * sent (maxLength on Input.Text), as the core, the files and the portal cap them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { cardOf, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

let t: TeamsTestApp | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

type Input = { type?: string; id?: string; maxLength?: number };

/** The Input.Text elements of the form the admin is answered with, by id. */
async function formOf(text: string): Promise<Record<string, Input>> {
  await t!.say('admin', text);
  await t!.idle();
  const card = cardOf(t!.connector.posts(t!.people.admin!.conversationId).at(-1)!.body);
  const inputs: Record<string, Input> = {};
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Input;
      if (o.type === 'Input.Text' && o.id) inputs[o.id] = o;
      Object.values(v).forEach(walk);
    }
  };
  walk(card);
  return inputs;
}

const FILES = {
  'kb.yaml': 'kind: app\nkey: kb\nname: Knowledge base\nstages: [Draft, Published]\n',
};

describe('Teams admin forms: the longest key, name and id prefix', () => {
  it('the new-app form caps the key at 100, the name at 5000 and the id prefix at 32', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    const inputs = await formOf('admin apps create');
    expect(inputs.key?.maxLength).toBe(100);
    expect(inputs.name?.maxLength).toBe(5000);
    expect(inputs.id_prefix?.maxLength).toBe(32);
  });

  it('the add-field form caps the field key at 100', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    const inputs = await formOf('admin apps add field kb');
    expect(inputs.key?.maxLength).toBe(100);
  });
});
