/**
 * A message activity whose `text` is not a string (a number, as a client or proxy may send for
 * a message of digits; an object) or whose `entities` is not a list: it is read as the text it
 * stands for, or as no text, never answered with "Something went wrong".
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { activityFrom, cardOf, cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

describe('Teams: a message whose text is not a string', () => {
  let t: TeamsTestApp;
  beforeEach(async () => {
    t = await startTeamsTestApp({
      recipesDir: recipesDir({
        'memo.yaml': 'kind: app\nkey: memo\nname: Memo\nid_prefix: MEMO\nstages: [Submitted]\nfields: []\n',
      }),
    });
    await t.install('alice');
  });
  afterEach(async () => {
    await t.close();
  });

  const answer = async (overrides: Record<string, unknown>) => {
    const before = t.connector.posts(t.people.alice!.conversationId).length;
    const res = await t.send(activityFrom('message-personal', t.people.alice!, t.connector.url, overrides));
    expect(res.statusCode).toBe(200);
    await t.idle();
    return t.connector
      .posts(t.people.alice!.conversationId)
      .slice(before)
      .map((p) => `${String(p.body.text ?? '')}${p.body.attachments ? cardText(cardOf(p.body)) : ''}`)
      .join('\n');
  };

  it('a number is read as the text typed; an object as nothing typed (help)', async () => {
    const number = await answer({ text: 42 });
    expect(number).not.toMatch(/went wrong/i);
    expect(number).toContain('42');
    const object = await answer({ text: { cmd: 'help' } });
    expect(object).not.toMatch(/went wrong/i);
    expect(object).toMatch(/requests/);
    const entities = await answer({ text: 'requests', entities: { type: 'mention' } });
    expect(entities).not.toMatch(/went wrong/i);
    expect(entities).toMatch(/request/i);
  });
});
