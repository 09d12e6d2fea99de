/**
 * `/baton show` of a request whose recipe failed: its history gave the requester what only an
 * admin can act on (the error with the expression's source, "admin jobs rerun j_…"). The
 * requester reads one plain line; an admin keeps the detail, as on the portal.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import type { SlackTestApp } from '../helpers/slack.js';
import { slackCommand, startSlackAcceptance } from './acceptance-harness.js';
import type { FakeSlackApi } from './tasks-harness.js';

let t: SlackTestApp | undefined;
let fake: FakeSlackApi | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
  await fake?.stop();
  fake = undefined;
});

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

describe('Slack: show of a request whose recipe failed', () => {
  it('gives the requester a plain line and the admin the detail', async () => {
    ({ t, fake } = await startSlackAcceptance(FILES));
    const alice = await t.batonUser('alice');
    const admin = await t.batonUser('admin');
    await t.rt.baton.requests.file(alice, 'calc', { code: 'abc' });
    const [job] = await eventually(async () => {
      const failed = await t!.rt.baton.recipes.listJobs(admin, { status: 'failed' });
      return failed.length === 1 ? failed : undefined;
    });
    const shown = async (who: string) =>
      JSON.stringify((await slackCommand(t!, fake!, 'show CALC-1', who)).blocks);
    const requester = await shown('alice');
    expect(requester).toContain('Something went wrong processing this request; an admin has been told.');
    expect(requester).not.toContain('rerun');
    expect(requester).not.toContain('$number');
    const detail = await shown('admin');
    expect(detail).toContain(`admin jobs rerun ${job!._id}`);
    expect(detail).toContain('The recipe calc-run stopped at step');
  });
});
