/**
 * The answer to a filed request names the stage the request is in when the answer is written:
 * a recipe that moves a new request on at once (Draft → Triage) has done so by then, and the
 * requester was told "Stage: Draft", the app's first stage, which it was no longer in.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { renderRequestModal } from '../../adapters/slack/modals.js';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { slackFixture } from '../helpers/slack.js';
import { cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';
import { startSlackAcceptance } from '../slack/acceptance-harness.js';

const INCIDENT = {
  'incident.yaml': `
kind: app
key: incident
name: Incident
id_prefix: INC
stages: [Draft, Triage, Mitigated, Closed]
fields:
  - { key: summary, label: Summary, type: text, required: true }
`,
  'triage.yaml': `
kind: recipe
name: incident-triage
trigger: { type: new_request, app: incident }
steps:
  - action: change_stage
    stage: Triage
  - action: assign_task
    to: "{{ request.requester }}"
    title: "Mitigate {{ request.id }}"
    outcomes: [Mitigated, Close]
`,
};

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('the answer to a filed request', () => {
  it('on Teams, names the stage the recipe moved the request to', async () => {
    const t: TeamsTestApp = await startTeamsTestApp({ recipesDir: recipesDir(INCIDENT) });
    closers.push(() => t.close());
    await t.install('alice');
    const res = await t.execute('alice', 'request.submit', { app: 'incident', summary: 'DB down' });
    expect(res.statusCode).toBe(200);
    const text = cardText(JSON.parse(res.body));
    expect(text).toContain('Request INC-1 filed in Incident');
    expect((await t.rt.baton.requests.load('INC-1'))?.stage).toBe('Triage');
    expect(text).toContain('Stage: Triage.');
    expect(text).not.toContain('Draft');
  });

  it('on Slack, names the stage the recipe moved the request to', async () => {
    const { t, fake } = await startSlackAcceptance(INCIDENT);
    closers.push(async () => {
      await t.close();
      await fake.stop();
    });
    const payload = slackFixture<Record<string, unknown> & { view: Record<string, unknown> }>(
      'view-submission-request',
    );
    payload.user = { id: 'U0ALICE', username: 'alice', name: 'alice', team_id: 'T0TEST' };
    payload.view.id = 'VINCIDENT1';
    payload.view.private_metadata = 'incident';
    payload.view.blocks = renderRequestModal(await t.rt.baton.apps.get('incident')).blocks;
    payload.view.state = {
      values: { summary: { value: { type: 'plain_text_input', value: 'DB down' } } },
    };
    expect((await t.interact(payload)).statusCode).toBe(200);
    const told = await eventually(async () =>
      fake.calls.find(
        (c) => c.method === 'chat.postMessage' && String(c.args.text ?? '').includes('was filed in'),
      ),
    );
    expect(told.args.text).toContain('Your request INC-1 was filed in Incident (stage: Triage)');
  });
});
