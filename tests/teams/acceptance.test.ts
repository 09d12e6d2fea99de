import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { activityFrom, cardOf, cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

/** Findings of the acceptance pass over the Teams surface, each pinned over HTTP. */
describe('Teams acceptance', () => {
  let t: TeamsTestApp;

  beforeEach(async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir({}, ['recipes/time-off']) });
    await t.install('alice');
    await t.install('bob');
  });
  afterEach(async () => {
    await t.close();
  });

  const form = () => ({
    app: 'time-off',
    type: 'Vacation',
    start: '2026-12-01',
    days: '2',
    approver: t.people.bob!.aadObjectId,
    reason: 'Trip',
  });
  const submit = (replyToId: string, id?: string) =>
    t.send(
      activityFrom('invoke-action', t.people.alice!, t.connector.url, {
        ...(id ? { id } : {}),
        replyToId,
        value: {
          action: { type: 'Action.Execute', title: 'Submit', verb: 'request.submit', data: form() },
          trigger: 'manual',
        },
      }),
    );

  it('a submit Teams retries (same invoke) or a double click (same card) files one request, and both answers name it', async () => {
    const first = await submit('form-card-1', 'f:submit-retry');
    const retried = await submit('form-card-1', 'f:submit-retry');
    const doubleClick = await submit('form-card-1');
    for (const res of [first, retried, doubleClick]) {
      expect(res.statusCode).toBe(200);
      expect(cardText(cardOf(res.json()))).toContain('Request PTO-1 filed');
    }
    await t.idle();
    const alice = await t.batonUser('alice');
    expect(await t.rt.baton.requests.load('PTO-2')).toBeNull();
    expect((await t.rt.baton.requests.load('PTO-1'))?.requester).toBe(alice._id);
    // Another form card is another request.
    const other = await submit('form-card-2');
    expect(cardText(cardOf(other.json()))).toContain('Request PTO-2 filed');
    // Someone else submitting the same card (a form posted in a channel) files their own.
    const bobs = await t.send(
      activityFrom('invoke-action', t.people.bob!, t.connector.url, {
        replyToId: 'form-card-1',
        value: { action: { type: 'Action.Execute', verb: 'request.submit', data: form() } },
      }),
    );
    expect(cardText(cardOf(bobs.json()))).toContain('Request PTO-3 filed');
  });

  it('a refused submit can be corrected and submitted again from the same card', async () => {
    const bad = await t.send(
      activityFrom('invoke-action', t.people.alice!, t.connector.url, {
        replyToId: 'form-card-3',
        value: {
          action: {
            type: 'Action.Execute',
            verb: 'request.submit',
            data: { ...form(), days: '40' },
          },
        },
      }),
    );
    expect(cardText(cardOf(bad.json()))).toMatch(/at most 30/);
    const good = await submit('form-card-3');
    expect(cardText(cardOf(good.json()))).toContain('Request PTO-1 filed');
  });

  it('an activity without a sender, conversation or serviceUrl is a 400 (JSON), and nothing runs', async () => {
    const calls = t.connector.calls.length;
    const complete = activityFrom('message-personal', t.people.alice!, t.connector.url, { text: 'help' });
    for (const broken of [
      { type: 'message', text: 'help' },
      { ...complete, from: undefined },
      { ...complete, conversation: {} },
      { ...complete, serviceUrl: '' },
      {},
    ]) {
      const res = await t.send(broken);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        error: 'baton.bad_request',
        message: expect.stringMatching(/^Bad Request/),
      });
    }
    await t.idle();
    expect(t.connector.calls.length).toBe(calls);
    expect((await t.send(complete)).statusCode).toBe(200);
  });

  it('in a channel, show/requests/tasks answer in the person’s own chat, not in the thread everyone reads', async () => {
    await submit('form-card-4');
    await t.idle();
    const alice = t.people.alice!;
    const inChannel = (text: string) =>
      t.send(
        activityFrom('message-channel-mention', alice, t.connector.url, { text: `<at>Baton</at> ${text}` }),
      );
    const channelPosts = () => t.connector.posts().filter((c) => c.path.includes('thread.tacv2'));
    for (const command of ['show PTO-1', 'requests']) {
      const before = t.connector.posts(alice.conversationId).length;
      expect((await inChannel(command)).statusCode).toBe(200);
      await t.idle();
      const privately = t.connector.posts(alice.conversationId).slice(before);
      expect(cardText(privately.map((c) => c.body))).toContain('PTO-1');
    }
    const bob = t.people.bob!;
    const beforeBob = t.connector.posts(bob.conversationId).length;
    await t.send(
      activityFrom('message-channel-mention', bob, t.connector.url, { text: '<at>Baton</at> tasks' }),
    );
    await t.idle();
    expect(
      cardText(
        t.connector
          .posts(bob.conversationId)
          .slice(beforeBob)
          .map((c) => c.body),
      ),
    ).toContain('Alice Requester');
    // The channel only hears where the answer went: no request, no record, no task card.
    const said = cardText(channelPosts().map((c) => c.body));
    expect(said).toContain('I sent you the answer in your chat with Baton');
    expect(said).not.toContain('PTO-1');
    expect(said).not.toContain('Trip');
    expect(channelPosts().every((c) => !(c.body.attachments as unknown[] | undefined)?.length)).toBe(true);
    // help is for everyone: answered in the thread.
    await inChannel('help');
    await t.idle();
    expect(cardText(channelPosts().at(-1)!.body)).toContain('What you can ask Baton');
  });

  it('someone whose first words to Baton are an @mention in a channel is looked up in the team: an admin by email is an admin there', async () => {
    const admin = t.people.admin!; // BATON_ADMINS=admin@example.com; never talked to Baton before
    await t.send(
      activityFrom('message-channel-mention', admin, t.connector.url, {
        text: '<at>Baton</at> admin groups create finance',
      }),
    );
    await t.idle();
    const lookups = t.connector.calls.filter((c) => c.method === 'GET' && c.path.includes('/members/'));
    expect(lookups.at(-1)?.path).toContain(
      encodeURIComponent('19:0b4e0c9c3a0d4e1f9d7c2a8e5b6f1d3c@thread.tacv2'),
    );
    const last = t.connector
      .posts()
      .filter((c) => c.path.includes('thread.tacv2'))
      .at(-1)!;
    expect(cardText(last.body)).toContain('Group **finance** created.');
    expect((await t.batonUser('admin')).email).toBe('admin@example.com');
  });

  it('in a channel, someone Baton cannot message privately is told where to ask', async () => {
    const mallory = t.people.mallory!; // never installed Baton
    await t.send(
      activityFrom('message-channel-mention', mallory, t.connector.url, { text: '<at>Baton</at> requests' }),
    );
    await t.idle();
    const last = t.connector
      .posts()
      .filter((c) => c.path.includes('thread.tacv2'))
      .at(-1)!;
    expect(cardText(last.body)).toContain('open your chat with Baton');
  });

  it('a forged form value that is not text (an object) is ignored, not a server error', async () => {
    const res = await t.send(
      activityFrom('invoke-action', t.people.alice!, t.connector.url, {
        replyToId: 'form-card-5',
        value: {
          action: {
            type: 'Action.Execute',
            verb: 'request.submit',
            data: { ...form(), start: { $gt: '' }, days: 2 },
          },
        },
      }),
    );
    const card = cardOf(res.json());
    // The form again, with the core's message for the missing first day.
    expect(cardText(card)).toMatch(/First day is required/);
    expect(cardText(card)).not.toMatch(/went wrong/);
    expect(await t.rt.baton.requests.load('PTO-1')).toBeNull();
  });

  it('an unfinished admin command lists the commands it starts (for those who may use them), as on Slack', async () => {
    const reply = async (who: string, text: string) => {
      const before = t.connector.posts(t.people[who]!.conversationId).length;
      await t.say(who, text);
      await t.idle();
      return cardText(
        t.connector
          .posts(t.people[who]!.conversationId)
          .slice(before)
          .map((c) => c.body),
      );
    };
    expect(await reply('alice', 'admin')).toContain('**admin …** commands are for admins and operators.');
    expect(await reply('admin', 'admin apps')).toContain('**admin apps list**: apps and their stages');
    expect(await reply('admin', 'admin groups')).toContain('**admin groups add \\<group\\> @person…**');
    // Typos still get the closest command.
    expect(await reply('admin', 'admin grups create hr')).toContain('Did you mean **admin groups create');
    expect(await reply('alice', 'hlep')).toContain('Did you mean **help**?');
  });

  it('admin forms Teams retries (create an app, add a field) answer with what the first did, not an error', async () => {
    await t.install('admin');
    const adminSubmit = (verb: string, data: Record<string, unknown>, replyToId: string) =>
      t.send(
        activityFrom('invoke-action', t.people.admin!, t.connector.url, {
          id: `f:${replyToId}`,
          replyToId,
          value: { action: { type: 'Action.Execute', verb, data } },
        }),
      );
    const app = { form: 'create_app', key: 'kit', name: 'Kit', stages: 'Asked\nDone' };
    for (let i = 0; i < 2; i++) {
      const res = await adminSubmit('admin.apps.create', app, 'create-card');
      expect(cardText(cardOf(res.json()))).toContain('App Kit (kit) created');
    }
    const field = { app: 'kit', form: 'add_field', key: 'qty', label: 'Quantity', type: 'number' };
    for (let i = 0; i < 2; i++) {
      const res = await adminSubmit('admin.apps.add_field', field, 'field-card');
      expect(cardText(cardOf(res.json()))).toContain('Field qty added to Kit');
    }
    expect((await t.rt.baton.apps.get('kit')).fields.map((f) => f.key)).toEqual(['qty']);
    // A real duplicate from another card is still refused in the form.
    const again = await adminSubmit('admin.apps.add_field', field, 'field-card-2');
    expect(cardText(cardOf(again.json()))).not.toContain('Field qty added');
  });

  it('a task button Teams retries answers as the first click did; someone else still hears who won', async () => {
    await submit('form-card-6');
    const task = await eventually(async () => (await t.rt.baton.tasks.listForRequest('PTO-1'))[0]);
    await t.idle();
    const approve = () =>
      t.send(
        activityFrom('invoke-action', t.people.bob!, t.connector.url, {
          id: 'f:approve-retry',
          value: {
            action: {
              type: 'Action.Execute',
              verb: 'task.complete',
              data: { task_id: task._id, outcome: 'Approve' },
            },
          },
        }),
      );
    const first = cardText(cardOf((await approve()).json()));
    const retried = cardText(cardOf((await approve()).json()));
    expect(first).toContain('Approved by Bob Manager');
    expect(retried).toBe(first);
    expect(retried).not.toContain('Already');
    // The admin pressing afterwards is told who decided.
    await t.install('admin');
    const late = await t.execute('admin', 'task.complete', { task_id: task._id, outcome: 'Reject' });
    expect(cardText(cardOf(late.json()))).toContain('Already approved by Bob Manager');
  });
});
