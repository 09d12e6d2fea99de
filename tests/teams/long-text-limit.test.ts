/**
 * A long_text field takes up to 20,000 characters (the core's limit, as the portal's textarea
 * and the core's validation allow). Teams sets no limit of its own on what an Input.Text
 * collects (maxLength is the card's choice; Slack's plain_text_input is what stops at 3,000):
 * the Teams form allows as much as the core, and a form refused for another field keeps the
 * long text typed, so it need not be typed again. A text too large to go back in the answer
 * card (which Teams would refuse as too large) is not silently dropped: the form says so.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { cardText, startTeamsTestApp, TEAMS_MAX_MESSAGE_BYTES, type TeamsTestApp } from '../helpers/teams.js';

const FILES = {
  'postmortem.yaml': `
kind: app
key: postmortem
name: Postmortem
stages: [Submitted, Accepted]
fields:
  - { key: title, label: Incident title, type: text, required: true }
  - { key: summary, label: Summary, type: long_text, required: true }
`,
};

type InvokeBody = { statusCode: number; type: string; value: Record<string, unknown> };
type Element = { type?: string; id?: string; maxLength?: number; value?: string; text?: string };

describe('Teams: long_text fields take what the core takes', () => {
  let t: TeamsTestApp;
  beforeEach(async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    await t.install('alice');
  });
  afterEach(async () => {
    await t.close();
  });

  it("the form's long text input allows 20,000 characters, and that many are filed", async () => {
    await t.say('alice', 'new postmortem');
    await t.idle();
    const form = t.connector.posts(t.people.alice!.conversationId).at(-1)!;
    const body = (form.body.attachments as { content: { body: Element[] } }[])[0]!.content.body;
    expect(body.find((e) => e.id === 'summary')).toMatchObject({ isMultiline: true, maxLength: 20000 });
    const summary = 'The failover took 14 minutes. '.repeat(700).slice(0, 20000).trimEnd();
    const res = await t.execute('alice', 'request.submit', { app: 'postmortem', title: 'DB', summary }, 'f1');
    expect(cardText((res.json() as InvokeBody).value)).toContain('filed');
    expect((await t.rt.baton.requests.load('POSTMORTEM-1'))?.record.summary).toBe(summary);
  });

  it('a form refused for another field keeps a long text typed', async () => {
    const summary = 'Root cause: a cache stampede after the deploy. '.repeat(200).trimEnd(); // 9,399 characters
    const res = await t.execute('alice', 'request.submit', { app: 'postmortem', title: '', summary }, 'f2');
    expect(res.body.length).toBeLessThan(TEAMS_MAX_MESSAGE_BYTES);
    const card = (res.json() as InvokeBody).value;
    expect(cardText(card)).toContain('Incident title is required');
    expect((card.body as Element[]).find((e) => e.id === 'summary')?.value).toBe(summary);
  });

  it('a long text too large to go back in the card is not dropped without a word', async () => {
    const summary = '障害の概要：キャッシュが一斉に失効した。'.repeat(1000).slice(0, 20000); // 60 KB in UTF-8
    const res = await t.execute('alice', 'request.submit', { app: 'postmortem', title: '', summary }, 'f3');
    expect(res.body.length).toBeLessThan(TEAMS_MAX_MESSAGE_BYTES);
    const card = (res.json() as InvokeBody).value;
    expect(cardText(card)).toContain('Incident title is required');
    expect(cardText(card)).toMatch(/Summary.*too long to show again here.*paste it again/s);
  });
});
