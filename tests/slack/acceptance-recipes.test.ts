/**
 * Acceptance checks of the Slack surface with apps and recipes of the testers' own (not the
 * shipped templates): the real server, signed bodies in the shapes Slack sends, and a local fake
 * of the Web API that records what Slack would have received.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { defaultSlackPeople, type SlackTestApp, startSlackTestApp } from '../helpers/slack.js';
import { FakeSlackApi } from './tasks-harness.js';

let t: SlackTestApp | undefined;
let fake: FakeSlackApi | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
  await fake?.stop();
  fake = undefined;
});

async function start(files: Record<string, string> = {}): Promise<{ t: SlackTestApp; fake: FakeSlackApi }> {
  fake = new FakeSlackApi();
  await fake.start();
  const people = defaultSlackPeople();
  for (const p of Object.values(people))
    fake.people.set(p.id, { id: p.id, name: p.realName, email: p.email! });
  t = await startSlackTestApp({
    apiUrl: fake.url,
    mockUsersInfo: false,
    people,
    recipesDir: recipesDir(files),
  });
  return { t, fake };
}

type Block = {
  type: string;
  text?: { text: string };
  fields?: { text: string }[];
  elements?: { text?: string }[];
};

const SUMMARY_APP = {
  'kit.yaml': `
kind: app
key: kit
name: Kit order
id_prefix: KIT
stages: [New, Done]
fields:
  - { key: item, label: Item, type: text, required: true }
  - { key: who, label: Colleague, type: user }
`,
  'kit-recipe.yaml': `
kind: recipe
name: kit-summary
trigger: { type: new_request, app: kit }
steps:
  - action: notify
    to: "{{ record.who }}"
    text: "Here is what {{ requester.name }} ordered"
    card: request
`,
};

describe('a notify step with card: request', () => {
  it('shows the request (id, app, stage, fields) and the step text, not the card bindings as written', async () => {
    await start(SUMMARY_APP);
    const { baton } = t!.rt;
    const alice = await t!.batonUser('alice');
    const bob = await t!.batonUser('bob');
    await baton.requests.file(alice, 'kit', { item: 'Standing desk', who: bob._id });

    const post = await eventually(async () =>
      fake!.of('chat.postMessage').find((a) => a.channel === 'D0BOB'),
    );
    const blocks = post.blocks as Block[];
    const shown = JSON.stringify(blocks);
    expect(shown).not.toContain('${');
    expect(blocks[0]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: 'Here is what Alice Requester ordered' },
    });
    expect(blocks.find((b) => b.type === 'header')?.text?.text).toBe('KIT-1');
    expect(shown).toContain('Kit order');
    const facts = blocks.flatMap((b) => b.fields ?? []).map((f) => f.text);
    expect(facts).toEqual(
      expect.arrayContaining(['*Stage*\nNew', '*Requested by*\nAlice Requester', '*Item*\nStanding desk']),
    );
    expect(post.text).toBe('Here is what Alice Requester ordered');
  });
});
