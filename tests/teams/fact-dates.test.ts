/**
 * Microsoft documents DATE() and TIME() for a TextBlock's text only (learn.microsoft.com,
 * Adaptive Cards "Text features"); a fact's value is a plain string. The request card's "Filed"
 * fact is sent to Teams as plain text in UTC, saying so; TextBlocks keep the functions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { cardOf, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

const FILES = {
  'memo.yaml': `
kind: app
key: memo
name: Memo
stages: [Submitted, Done]
fields:
  - { key: note, label: Note, type: text }
`,
  'memo-recipe.yaml': `
kind: recipe
name: memo-flow
trigger: { type: new_request, app: memo }
steps:
  - action: assign_task
    to: hank@example.com
    title: Read the memo
    expires_in: 2d
`,
};

type Node = { type?: string; text?: string; facts?: { title: string; value: string }[] };

/** Every FactSet and TextBlock of a card, containers included. */
function elements(card: unknown): Node[] {
  const out: Node[] = [];
  const walk = (n: unknown) => {
    if (Array.isArray(n)) n.forEach(walk);
    else if (n && typeof n === 'object') {
      const o = n as Node & Record<string, unknown>;
      if (o.type === 'FactSet' || o.type === 'TextBlock') out.push(o);
      for (const k of ['body', 'items', 'columns']) if (k in o) walk(o[k]);
    }
  };
  walk((card as { body?: unknown }).body);
  return out;
}

describe('Teams: dates in facts', () => {
  let t: TeamsTestApp;
  afterEach(async () => {
    await t.close();
  });

  it('the Filed fact is plain text with its zone; the task card’s expiry keeps DATE() in its TextBlock', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    for (const who of ['alice', 'hank']) await t.install(who);
    const request = await t.rt.baton.requests.file(await t.batonUser('alice'), 'memo', { note: 'Hi' });
    await eventually(async () => (await t.rt.baton.tasks.listForRequest(request._id))[0]);
    await t.idle();

    const from = t.connector.posts(t.people.alice!.conversationId).length;
    await t.say('alice', `show ${request._id}`);
    await t.idle();
    const shown = t.connector
      .posts(t.people.alice!.conversationId)
      .slice(from)
      .find((p) => p.body.attachments)!;
    const facts = elements(cardOf(shown.body)).flatMap((e) => e.facts ?? []);
    const filed = facts.find((f) => f.title === 'Filed');
    const at = new Date(request.created_at).toISOString();
    expect(filed?.value).toBe(`${at.slice(0, 10)} ${at.slice(11, 16)} UTC`);
    expect(JSON.stringify(facts)).not.toContain('{{');

    const post = await eventually(async () =>
      t.connector
        .posts(t.people.hank!.conversationId)
        .find((p) => JSON.stringify(p.body).includes('Read the memo')),
    );
    const texts = elements(cardOf(post.body))
      .filter((e) => e.type === 'TextBlock')
      .map((e) => e.text ?? '');
    expect(texts.some((x) => /^Expires \{\{DATE\(\d{4}-.*Z, SHORT\)\}\} at \{\{TIME\(/.test(x))).toBe(true);
  });
});
