import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { cardOf, cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

const APP = `kind: app
key: gear
name: Gear
id_prefix: GEAR
stages: [Submitted, Done]
fields:
  - { key: item, label: Item, type: text, required: true }
`;
// A notify step naming the shipped request card, with a text of its own.
const RECIPE = `kind: recipe
name: gear-filed
trigger: { type: new_request, app: gear }
steps:
  - action: notify
    to: "{{ request.requester }}"
    card: request
    text: "We got your request for {{ record.item }}"
`;

describe('Teams: a notify step with a card from cards/', () => {
  let t: TeamsTestApp;

  beforeEach(async () => {
    t = await startTeamsTestApp({
      recipesDir: recipesDir({ 'gear/app.yaml': APP, 'gear/recipe.yaml': RECIPE }),
    });
    await t.install('alice');
  });
  afterEach(async () => {
    await t.close();
  });

  it('card: request shows the request (not raw template bindings) and the step text above it', async () => {
    const alice = t.people.alice!;
    await t.rt.baton.requests.file(await t.batonUser('alice'), 'gear', { item: 'Standing desk' });
    const post = await eventually(async () =>
      t.connector.posts(alice.conversationId).find((c) => cardText(c.body).includes('GEAR-1')),
    );
    const card = cardOf(post.body);
    const text = cardText(card);
    expect(text).not.toContain('${');
    const body = card.body as { type: string; text?: string; facts?: { title: string; value: string }[] }[];
    expect(body[0]).toMatchObject({ type: 'TextBlock', text: 'We got your request for Standing desk' });
    expect(body.some((e) => e.type === 'TextBlock' && e.text === 'GEAR-1')).toBe(true);
    const facts = body.flatMap((e) => e.facts ?? []);
    expect(facts).toContainEqual({ title: 'Stage', value: 'Submitted' });
    expect(facts).toContainEqual({ title: 'Requested by', value: 'Alice Requester' });
    expect(facts).toContainEqual({ title: 'Item', value: 'Standing desk' });
  });
});
