import { afterEach, describe, expect, it } from 'vitest';
import { fitCard } from '../../adapters/teams/render.js';
import { eventually, recipesDir } from '../helpers/runtime.js';
import {
  cardOf,
  cardText,
  executeActions,
  startTeamsTestApp,
  TEAMS_MAX_MESSAGE_BYTES,
  type TeamsTestApp,
} from '../helpers/teams.js';

const APP = {
  'memo.yaml': `
kind: app
key: memo
name: Memo
stages: [Submitted, Approved, Rejected]
fields:
  - { key: approver, label: Approver, type: user, required: true }
  - { key: summary, label: Summary, type: text }
  - { key: body, label: Body, type: long_text }
`,
  'memo-recipe.yaml': `
kind: recipe
name: memo-approval
trigger: { type: new_request, app: memo }
steps:
  - id: t
    action: assign_task
    to: "{{ record.approver }}"
    title: "Memo: {{ record.summary }}"
    instructions: "{{ record.body }}"
    outcomes: [Approve, Reject]
  - action: change_stage
    stage: "{{ steps.t.outcome = 'Approve' ? 'Approved' : 'Rejected' }}"
`,
};

const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

/** Teams refuses messages over 28 KB: long request text must not cost the approver their task card. */
describe('Teams: cards stay under the message size limit', () => {
  let t: TeamsTestApp;
  afterEach(async () => {
    await t.close();
  });

  it('a request with the longest text the core accepts (filed on the portal) still reaches the approver, shortened, and can be approved', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(APP) });
    await t.install('alice');
    await t.install('bob');
    const alice = await t.batonUser('alice');
    // 20,000 characters (the core's limit for long text), 3 bytes each in UTF-8.
    const body = '長い説明のテキスト。'.repeat(2000);
    const summary = '要約🎉'.repeat(600);
    const request = await t.rt.baton.requests.file(alice, 'memo', {
      approver: 'bob@example.com',
      summary,
      body,
    });
    const task = await eventually(async () => (await t.rt.baton.tasks.listForRequest(request._id))[0]);
    await t.idle();
    const copies = await eventually(async () => {
      const c = await t.rt.baton.deliveries.taskDeliveries(task._id, 'teams');
      return c.length === 1 ? c : null;
    });
    const post = t.connector
      .posts(t.people.bob!.conversationId)
      .find((c) => cardText(c.body).includes('Memo: 要約'))!;
    expect(bytes(post.body)).toBeLessThanOrEqual(TEAMS_MAX_MESSAGE_BYTES);
    const card = cardOf(post.body);
    expect(cardText(card)).toContain('長い説明のテキスト。');
    expect(cardText(card)).toContain('shortened');
    expect(cardText(card)).not.toContain('\uFFFD');
    expect(executeActions(card).map((a) => a.title)).toEqual(['Approve', 'Reject']);

    const res = await t.execute(
      'bob',
      'task.complete',
      { task_id: task._id, outcome: 'Approve' },
      copies[0]!.ref.activity,
    );
    expect(res.statusCode).toBe(200);
    expect(bytes(res.json())).toBeLessThanOrEqual(TEAMS_MAX_MESSAGE_BYTES);
    expect(cardText(cardOf(res.json()))).toContain('Approved by Bob Manager');
    await t.idle();
    expect((await t.rt.baton.requests.load(request._id))?.stage).toBe('Approved');

    // "show" answers with the request's card: shortened too.
    await t.say('alice', `show ${request._id}`);
    await t.idle();
    const shown = t.connector.posts(t.people.alice!.conversationId).at(-1)!;
    expect(bytes(shown.body)).toBeLessThanOrEqual(TEAMS_MAX_MESSAGE_BYTES);
    expect(cardText(cardOf(shown.body))).toContain(request._id);
  });
});

// `show`'s history gives its times as DATE() and TIME() in one TextBlock: a text cut to fit must
// not end in half a function ("{{DATE(2026-12-0…"), which Teams would show as written.
describe('Teams: a shortened text keeps its date functions whole', () => {
  it('cuts before a date function rather than through it', () => {
    const date = `{{DATE(${new Date(0).toISOString().slice(0, 19)}Z, SHORT)}} at {{TIME(${new Date(0).toISOString().slice(0, 19)}Z)}}`;
    for (let pad = 0; pad < 120; pad += 7) {
      const text = Array.from({ length: 400 }, (_, i) => `- ${date}: ${'x'.repeat(pad + (i % 50))}`).join(
        '\n',
      );
      const card = fitCard(
        { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text }] },
        8000,
      );
      const cut = String((card.body![0] as { text: string }).text);
      expect(cut.endsWith('…')).toBe(true);
      const open = cut.lastIndexOf('{{');
      expect(cut.indexOf('}}', open), `pad ${pad}: ${cut.slice(-80)}`).toBeGreaterThan(open);
    }
  });
});
