/**
 * What people read on Teams reads as written for them: a task done ("marked … done", not
 * "done '…'"), the messages under admin form fields (the form's labels, not app-file keys), fix
 * texts (commands as typed on Teams, not "after /baton in Slack"), and usage examples with
 * the ids of the apps installed here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { cardOf, cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

const TICKET = {
  'ticket.yaml': `
kind: app
key: it-ticket
name: IT ticket
id_prefix: TIX
stages: [Open, Closed]
fields:
  - { key: issue, label: Issue, type: text }
`,
  'ticket-recipe.yaml': `
kind: recipe
name: ticket-flow
trigger: { type: new_request, app: it-ticket }
steps:
  - id: fix
    action: assign_task
    to: hank@example.com
    title: Fix the printer
    outcomes: [Done, Hold]
  - id: desk
    action: assign_task
    to: group:facilities
    title: Find a desk
`,
};

type InvokeBody = { value: Record<string, unknown> };

describe('Teams: wording', () => {
  let t: TeamsTestApp;
  afterEach(async () => {
    await t.close();
  });

  /** The texts of what the bot posted in `who`'s chat since `from`. */
  const chat = (who: string, from = 0) =>
    t.connector
      .posts(t.people[who]!.conversationId)
      .slice(from)
      .map((p) => `${String(p.body.text ?? '')}${p.body.attachments ? cardText(cardOf(p.body)) : ''}`);
  const answer = async (who: string, text: string) => {
    const from = t.connector.posts(t.people[who]!.conversationId).length;
    await t.say(who, text);
    await t.idle();
    return chat(who, from).join('\n');
  };

  /** alice files TIX-1; hank marks its first task Done; the job then stops at a missing group. */
  const fileAndFinish = async () => {
    await t.rt.baton.requests.file(await t.batonUser('alice'), 'it-ticket', { issue: 'Printer' });
    const task = await eventually(async () => (await t.rt.baton.tasks.listForRequest('TIX-1'))[0]);
    await eventually(
      async () => (await t.rt.baton.deliveries.taskDeliveries(task._id, 'teams')).length === 1,
    );
    const res = await t.execute('hank', 'task.complete', { task_id: task._id, outcome: 'Done' });
    expect(cardText((res.json() as InvokeBody).value)).toContain('Done by Hank HR');
    await t.idle();
    return eventually(async () => {
      const text = await answer('alice', 'show TIX-1');
      return text.includes('could not be assigned') ? text : null;
    });
  };

  it('usage examples name the ids of the apps installed here, not PTO', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(TICKET) });
    for (const who of ['alice', 'hank']) await t.install(who);
    expect(await answer('alice', 'cancel')).toContain('For example: cancel TIX-42');
    expect(await answer('alice', 'show')).toContain('For example: show TIX-42');
    const help = await answer('alice', 'help');
    expect(help).toContain('(e.g. show TIX-42)');
    expect(help).not.toContain('PTO-42');
  });

  it('a task marked Done reads "marked … done" in the history', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(TICKET) });
    for (const who of ['alice', 'hank']) await t.install(who);
    const shown = await fileAndFinish();
    expect(shown).toContain('Hank HR marked "Fix the printer" done');
    expect(shown).not.toMatch(/HR done "/);
  });

  it('fix texts name commands as typed on Teams, not "after /baton in Slack"', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(TICKET) });
    for (const who of ['admin', 'alice', 'hank']) await t.install(who);
    await fileAndFinish();
    // The fix is for admins: the history gives it to them (the requester reads a plain line).
    const shown = await answer('admin', 'show TIX-1');
    expect(shown).toContain('"admin groups add facilities @someone"; or the portal');
    expect(shown).not.toContain('/baton');
    const admins = await eventually(async () =>
      chat('admin').find((x) => x.includes('could not be assigned')),
    );
    expect(admins).toContain('then rerun the job ("admin jobs rerun ');
    expect(admins).not.toContain('/baton');
    const [job] = await t.rt.baton.recipes.listJobs(await t.batonUser('admin'), { status: 'failed' });
    const jobText = await answer('admin', `admin jobs show ${job!._id}`);
    expect(jobText).toContain('admin groups create facilities');
    expect(jobText).not.toContain('/baton');
    expect(await answer('admin', 'admin recipes list')).not.toContain('/baton');
  });

  it('messages under admin form fields name the fields as the form does', async () => {
    t = await startTeamsTestApp();
    const formMessages = (body: unknown) =>
      ((cardOf(body).body ?? []) as { type: string; color?: string; text?: string }[])
        .filter((e) => e.type === 'TextBlock' && e.color === 'Attention')
        .map((e) => e.text);
    const created = await t.execute(
      'admin',
      'admin.apps.create',
      { form: 'create_app', key: 'Laptop!', name: '', stages: 'Requested', id_prefix: 'lap' },
      'create-1',
    );
    expect(formMessages(created.json())).toEqual([
      'Key: lower-case letters, digits and dashes, e.g. time-off',
      'Name is required',
      'Request id prefix: upper-case letters and digits, e.g. PTO',
    ]);
    await t.execute(
      'admin',
      'admin.apps.create',
      { form: 'create_app', key: 'laptop', name: 'Laptop', stages: 'Requested', id_prefix: 'LAP' },
      'create-2',
    );
    const field = await t.execute(
      'admin',
      'admin.apps.add_field',
      { form: 'add_field', app: 'laptop', key: 'model', label: '', type: 'dropdown', min: 'abc' },
      'field-1',
    );
    const messages = formMessages(field.json());
    expect(messages).toContain('Label is required');
    expect(messages).toContain(
      'Type must be one of: text, long text, number, date, select, multi select, user, boolean, email, url (did you mean "select"?)',
    );
    expect(messages).toContain('Minimum must be a number');
    const dated = await t.execute(
      'admin',
      'admin.apps.add_field',
      { form: 'add_field', app: 'laptop', key: 'when', label: 'When', type: 'date', default: 'tomorrow' },
      'field-2',
    );
    expect(formMessages(dated.json())).toEqual(['Default must be a date as YYYY-MM-DD']);
    const sized = await t.execute(
      'admin',
      'admin.apps.add_field',
      { form: 'add_field', app: 'laptop', key: 'size', label: 'Size', type: 'text', options: 'S\nM' },
      'field-3',
    );
    expect(formMessages(sized.json())).toEqual([
      'Options are only allowed on select and multi select fields, not text',
    ]);
    // A crafted submit without its app.
    const noApp = await t.execute('admin', 'request.submit', {});
    expect(cardText((noApp.json() as InvokeBody).value)).toContain('This form is missing its app');
    expect(cardText((noApp.json() as InvokeBody).value)).not.toContain('""');
  });

  it('admin jobs list says where a job is only while it is not completed', async () => {
    t = await startTeamsTestApp({
      recipesDir: recipesDir({
        'ticket.yaml': TICKET['ticket.yaml'],
        'close.yaml': `
kind: recipe
name: close-at-once
trigger: { type: new_request, app: it-ticket }
steps:
  - action: change_stage
    stage: Closed
`,
      }),
    });
    await t.install('alice');
    await t.rt.baton.requests.file(await t.batonUser('alice'), 'it-ticket', { issue: 'Printer' });
    await eventually(async () => (await t.rt.baton.requests.load('TIX-1'))?.stage === 'Closed');
    const list = await eventually(async () => {
      const text = await answer('admin', 'admin jobs list');
      return text.includes('**completed**') ? text : null;
    });
    expect(list).toMatch(/close-at-once, \*\*completed\*\*, TIX-1\s*$/m);
  });
});
