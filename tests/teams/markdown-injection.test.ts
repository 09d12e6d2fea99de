import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inertText } from '../../adapters/teams/render.js';
import { eventually, recipesDir } from '../helpers/runtime.js';
import {
  cardOf,
  defaultTeamsPeople,
  executeActions,
  startTeamsTestApp,
  type TeamsTestApp,
} from '../helpers/teams.js';

// An app and recipe of our own: the title, instructions and notification are built from what the
// requester typed, and the rejection needs a comment the approver types.
const APP = `kind: app
key: gear
name: Gear
id_prefix: GEAR
stages: [Submitted, Approved, Rejected]
fields:
  - { key: item, label: Item, type: text, required: true }
  - { key: why, label: Why, type: long_text }
  - { key: approver, label: Approver, type: user, required: true }
`;
const RECIPE = `kind: recipe
name: gear-approval
trigger: { type: new_request, app: gear }
steps:
  - id: mgr
    action: assign_task
    to: "{{ record.approver }}"
    title: "Gear: {{ record.item }} for {{ requester.name }}"
    instructions: "Reason: {{ record.why }}"
    outcomes: [Approve, { label: Reject, comment: required }]
  - action: change_stage
    stage: "{{ steps.mgr.outcome = 'Approve' ? 'Approved' : 'Rejected' }}"
  - action: notify
    to: "{{ request.requester }}"
    text: "{{ steps.mgr.outcome }}: {{ record.item }}. {{ steps.mgr.comment }}"
`;

const LINK = '[Click to confirm](https://evil.example/login)';

/** The markdown Teams renders in card text, fact values and markdown messages. */
function shownTexts(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) shownTexts(n, out);
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if ((o.type === 'TextBlock' || o.type === 'TextRun') && typeof o.text === 'string') out.push(o.text);
    if (o.type === 'message' && typeof o.text === 'string') out.push(o.text);
    if (Array.isArray(o.facts))
      for (const f of o.facts as Record<string, unknown>[]) out.push(String(f.title), String(f.value));
    for (const v of Object.values(o)) if (v && typeof v === 'object') shownTexts(v, out);
  }
  return out;
}

/** A markdown link: `[label](target)`, with nothing between `]` and `(`. */
const MARKDOWN_LINK = /\[[^\]\n]*\]\(/;

describe('Teams: text people type never becomes a markdown link', () => {
  let t: TeamsTestApp;

  beforeEach(async () => {
    const people = defaultTeamsPeople();
    people.mallory!.name = `Mallory ${LINK}`;
    t = await startTeamsTestApp({
      people,
      recipesDir: recipesDir({ 'gear/app.yaml': APP, 'gear/recipe.yaml': RECIPE }),
    });
    await t.install('alice');
    await t.install('bob');
  });
  afterEach(async () => {
    await t.close();
  });

  it('inertText keeps the text as typed but breaks the link syntax', () => {
    expect(inertText(LINK)).toBe('[Click to confirm]\u2060(https://evil.example/login)');
    expect(inertText(LINK)).not.toMatch(MARKDOWN_LINK);
    expect(inertText('no link [here] (or) there')).toBe('no link [here] (or) there');
  });

  it('a link typed in a request field and a comment is shown as text on the task card, its closed copy, the notification and "show"', async () => {
    const alice = t.people.alice!;
    const bob = t.people.bob!;
    await t.say('alice', 'new gear');
    await t.idle();
    const form = cardOf(t.connector.posts(alice.conversationId).at(-1)!.body);
    const submit = executeActions(form)[0]!;
    const filed = await t.execute('alice', submit.verb, {
      ...submit.data,
      item: `Laptop ${LINK}`,
      why: `Urgent: ${LINK}`,
      approver: bob.aadObjectId,
    });
    expect(filed.statusCode).toBe(200);
    expect((await t.rt.baton.requests.load('GEAR-1'))?.record.item).toBe(`Laptop ${LINK}`);

    // The approver's task card: title, instructions and facts carry the text, not a link.
    const taskPost = await eventually(async () =>
      t.connector.posts(bob.conversationId).find((c) => JSON.stringify(c.body).includes('GEAR-1')),
    );
    const taskCard = cardOf(taskPost.body);
    const texts = shownTexts(taskCard).join('\n');
    expect(texts).toContain(
      'Gear: Laptop [Click to confirm]\u2060(https://evil.example/login) for Alice Requester',
    );
    expect(texts).toContain('Urgent: [Click to confirm]\u2060(https://evil.example/login)');
    expect(texts).not.toMatch(MARKDOWN_LINK);

    // The buttons still send the outcomes as written; the comment with a link is required and kept.
    const reject = executeActions(taskCard).find((b) => b.title === 'Reject')!;
    expect(reject.data.outcome).toBe('Reject');
    const done = await t.execute('bob', reject.verb, { ...reject.data, comment: `See ${LINK}` });
    expect(done.statusCode).toBe(200);
    const closed = (done.json() as { value: unknown }).value;
    const closedTexts = shownTexts(closed).join('\n');
    expect(closedTexts).toContain('Rejected by Bob Manager');
    expect(closedTexts).toContain('Comment: See [Click to confirm]\u2060(https://evil.example/login)');
    expect(closedTexts).not.toMatch(MARKDOWN_LINK);
    const task = (await t.rt.baton.tasks.listForRequest('GEAR-1'))[0]!;
    expect(task.comment).toBe(`See ${LINK}`);

    // The requester's notification, built by the recipe from the field and the comment.
    const note = await eventually(async () =>
      t.connector
        .posts(alice.conversationId)
        .find((c) => shownTexts(c.body).some((x) => x.startsWith('Reject: Laptop'))),
    );
    const noteTexts = shownTexts(note.body).join('\n');
    expect(noteTexts).toContain('See [Click to confirm]\u2060(https://evil.example/login)');
    expect(noteTexts).not.toMatch(MARKDOWN_LINK);

    // "show GEAR-1": the request card with its fields and history.
    const before = t.connector.posts(alice.conversationId).length;
    await t.say('alice', 'show GEAR-1');
    await t.idle();
    const shown = t.connector.posts(alice.conversationId).slice(before);
    expect(shown).toHaveLength(1);
    const showTexts = shownTexts(shown[0]!.body).join('\n');
    expect(showTexts).toContain('Laptop [Click to confirm]\u2060(https://evil.example/login)');
    expect(showTexts).not.toMatch(MARKDOWN_LINK);
  });

  it('a display name with a link is shown as text in the welcome message', async () => {
    const mallory = t.people.mallory!;
    await t.install('mallory');
    const welcome = t.connector.posts(mallory.conversationId);
    expect(welcome).toHaveLength(1);
    const text = shownTexts(welcome[0]!.body).join('\n');
    expect(text).toMatch(/^Hi Mallory /);
    expect(text).not.toMatch(MARKDOWN_LINK);
  });
});
