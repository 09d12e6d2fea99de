/**
 * `show <ID>` typed to the bot on a request whose recipe failed: its history gave the requester
 * what only an admin can act on (the error with the expression's source, "admin jobs rerun
 * j_…"). The requester reads one plain line; an admin keeps the detail, as on the portal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

const FILES = {
  'calc.yaml': `
kind: app
key: calc
name: Calc
id_prefix: CALC
stages: [New, Done]
fields:
  - { key: code, label: Code, type: text, required: true }
`,
  'calc-run.yaml': `
kind: recipe
name: calc-run
trigger: { type: new_request, app: calc }
steps:
  - id: boom
    action: update_record
    fields: { code: "{{ $string($number(record.code) * 2) }}" }
`,
};

let t: TeamsTestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('Teams: show of a request whose recipe failed', () => {
  it('gives the requester a plain line and the admin the detail', async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    for (const who of ['alice', 'admin']) await t.say(who, 'help');
    await t.idle();
    const alice = await t.batonUser('alice');
    const admin = await t.batonUser('admin');
    await t.rt.baton.requests.file(alice, 'calc', { code: 'abc' });
    const [job] = await eventually(async () => {
      const failed = await t!.rt.baton.recipes.listJobs(admin, { status: 'failed' });
      return failed.length === 1 ? failed : undefined;
    });
    const shown = async (who: string) => {
      await t!.say(who, 'show CALC-1');
      await t!.idle();
      return cardText(t!.connector.posts(t!.people[who]!.conversationId).at(-1)?.body);
    };
    const requester = await shown('alice');
    expect(requester).toContain('Something went wrong processing this request; an admin has been told.');
    expect(requester).not.toContain('rerun');
    expect(requester).not.toContain('$number');
    const detail = await shown('admin');
    expect(detail).toContain(`admin jobs rerun ${job!._id}`);
    expect(detail).toContain('The recipe calc-run stopped at step');
  });
});
