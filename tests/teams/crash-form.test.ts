/**
 * `npm start` killed (`kill -9` of the node process) while or right after a Teams request form
 * was submitted, then the same card submitted again after the restart: the request is filed
 * exactly once, and the person is told which one (not "already being submitted" for a day).
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { submitKey } from '../../adapters/teams/forms.js';
import { killHard, startBaton } from '../helpers/process.js';
import { eventually, recipesDir, removeDir, tempDir } from '../helpers/runtime.js';
import { activityFrom, cardOf, cardText, FakeConnector, startTeamsTestApp } from '../helpers/teams.js';

const FILES = {
  'check.yaml': `
kind: app
key: check
name: Check
stages: [Open, Done]
fields:
  - { key: note, label: Note, type: text, required: true }
  - { key: reviewer, label: Reviewer, type: user }
`,
};

async function send(url: string, activity: unknown): Promise<Response> {
  return fetch(`${url}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(activity),
  });
}

async function requestIds(url: string, who: Parameters<typeof activityFrom>[1], connector: FakeConnector) {
  const before = connector.posts(who.conversationId).length;
  expect(
    (await send(url, activityFrom('message-personal', who, connector.url, { text: 'requests' }))).status,
  ).toBe(200);
  const reply = await eventually(async () => connector.posts(who.conversationId)[before]);
  return [...new Set(cardText(reply.body).match(/CHECK-\d+/g) ?? [])];
}

describe('Teams: a request form submitted around a kill -9', () => {
  const children: ChildProcess[] = [];
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) await killHard(c);
    for (const f of cleanup.splice(0)) await f();
  });

  async function setUp() {
    const connector = new FakeConnector();
    await connector.start();
    cleanup.push(() => connector.stop());
    const dataDir = tempDir();
    cleanup.push(() => removeDir(dataDir));
    return { connector, dataDir, recipes: recipesDir(FILES) };
  }

  it('killed while filing (the picked person being looked up): the same card submitted again files it once', async () => {
    const { connector, dataDir, recipes } = await setUp();
    const alice = connector.people.get('29:1aliceTeamsId2')!;
    const mallory = connector.people.get('29:1malloryTeamsId7')!;
    // Mallory is new to Baton: the form's people picker gave her object id, and Baton asks the
    // connector who she is; the first Baton dies while that question is unanswered.
    let firstLife = true;
    let reached!: () => void;
    const lookupReached = new Promise<void>((resolve) => {
      reached = resolve;
    });
    connector.hold = {
      match: (c) => {
        if (!firstLife || c.method !== 'GET' || !c.path.includes(mallory.aadObjectId)) return false;
        reached();
        return true;
      },
      until: new Promise(() => {}),
    };
    const card = activityFrom('invoke-action', alice, connector.url, {
      replyToId: 'act-form-card',
      value: {
        action: {
          type: 'Action.Execute',
          verb: 'request.submit',
          data: { app: 'check', note: 'the door', reviewer: mallory.aadObjectId },
        },
        trigger: 'manual',
      },
    });
    const first = await startBaton(dataDir, recipes);
    children.push(first.child);
    void send(first.url, card).catch(() => undefined);
    await lookupReached;
    await killHard(first.child);
    firstLife = false;

    const second = await startBaton(dataDir, recipes);
    children.push(second.child);
    // Teams sends the card's Submit again (same card, same person, a new invoke id).
    const again = await send(second.url, { ...card, id: `${String(card.id)}-again` });
    expect(again.status).toBe(200);
    const text = cardText(((await again.json()) as { value: unknown }).value);
    expect(text).toContain('CHECK-1 filed');
    expect(text).not.toContain('already being submitted');
    // And once more: the same request, nothing filed twice.
    const third = await send(second.url, { ...card, id: `${String(card.id)}-third` });
    expect(cardText(((await third.json()) as { value: unknown }).value)).toContain('CHECK-1 filed');
    expect(await requestIds(second.url, alice, connector)).toEqual(['CHECK-1']);
  }, 120_000);

  it('killed right after the answer: the same card submitted again names the request filed, and files nothing', async () => {
    const { connector, dataDir, recipes } = await setUp();
    const alice = connector.people.get('29:1aliceTeamsId2')!;
    const card = activityFrom('invoke-action', alice, connector.url, {
      replyToId: 'act-form-card',
      value: {
        action: {
          type: 'Action.Execute',
          verb: 'request.submit',
          data: { app: 'check', note: 'the window' },
        },
        trigger: 'manual',
      },
    });
    const first = await startBaton(dataDir, recipes);
    children.push(first.child);
    const filed = await send(first.url, card);
    expect(cardText(((await filed.json()) as { value: unknown }).value)).toContain('CHECK-1 filed');
    await killHard(first.child);

    const second = await startBaton(dataDir, recipes);
    children.push(second.child);
    const again = await send(second.url, { ...card, id: `${String(card.id)}-again` });
    expect(cardText(((await again.json()) as { value: unknown }).value)).toContain('CHECK-1 filed');
    expect(await requestIds(second.url, alice, connector)).toEqual(['CHECK-1']);
  }, 120_000);
});

describe('Teams: an admin form whose submission a crash cut off', () => {
  it('the same card submitted again creates the app, instead of "already being submitted" for a day', async () => {
    const t = await startTeamsTestApp();
    try {
      await t.install('admin');
      const submit = (verb: string, data: Record<string, unknown>, replyToId: string) =>
        activityFrom('invoke-action', t.people.admin!, t.connector.url, {
          replyToId,
          value: { action: { type: 'Action.Execute', verb, data } },
        });
      const create = submit(
        'admin.apps.create',
        { form: 'create_app', key: 'kit', name: 'Kit', stages: 'Asked\nDone' },
        'create-card',
      );
      const field = submit(
        'admin.apps.add_field',
        { app: 'kit', form: 'add_field', key: 'qty', label: 'Quantity', type: 'number' },
        'field-card',
      );
      // What a process killed between claiming the card and creating the app left behind (the
      // claim is committed on its own): five minutes later the admin presses the button again.
      const dedupe = t.rt.store.collection('dedupe');
      const leftover = (key: string | null) =>
        dedupe.insertOne({ _id: key!, expires_at: new Date(Date.now() + 24 * 3600_000 - 5 * 60_000) });
      await leftover(submitKey(create, 'create_app'));
      const created = await t.send(create);
      expect(cardText(cardOf(created.json()))).toContain('App Kit (kit) created');
      await leftover(submitKey(field, 'add_field:kit'));
      const added = await t.send(field);
      expect(cardText(cardOf(added.json()))).toContain('Field qty added to Kit');
      expect((await t.rt.baton.apps.get('kit')).fields.map((f) => f.key)).toEqual(['qty']);
      // Once done, the same card again answers with what it did.
      expect(cardText(cardOf((await t.send(create)).json()))).toContain('App Kit (kit) created');
    } finally {
      await t.close();
    }
  });
});
