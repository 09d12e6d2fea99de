/**
 * "… is not a request id (like PTO-42)" named the time-off app's prefix whatever this Baton
 * has: a team without a time-off app (here, only incidents, INC-…) was shown an id that can
 * never exist. The example takes an installed app's prefix, as `help` does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';
import { slackCommand, startSlackAcceptance } from '../slack/acceptance-harness.js';

const INCIDENT = {
  'incident.yaml': `
kind: app
key: incident
name: Incident
id_prefix: INC
stages: [Open, Closed, Cancelled]
fields:
  - { key: summary, label: Summary, type: text, required: true }
`,
};

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('a word that is not a request id', () => {
  it('on Teams, is told with an id of an app that exists', async () => {
    const t: TeamsTestApp = await startTeamsTestApp({ recipesDir: recipesDir(INCIDENT) });
    closers.push(() => t.close());
    await t.install('admin');
    const chat = t.people.admin!.conversationId;
    for (const command of ['show hello', 'cancel hello', 'admin requests move hello Closed']) {
      const before = t.connector.posts(chat).length;
      await t.say('admin', command);
      await t.idle();
      const answer = String(t.connector.posts(chat)[before]?.body.text ?? '');
      expect(answer, command).toContain('is not a request id (like INC-42)');
      expect(answer, command).not.toContain('PTO');
    }
  });

  it('on Slack, is told with an id of an app that exists', async () => {
    const { t, fake } = await startSlackAcceptance(INCIDENT);
    closers.push(async () => {
      await t.close();
      await fake.stop();
    });
    const answer = await slackCommand(t, fake, 'show hello', 'alice');
    expect(answer.text).toContain('is not a request id (like INC-42)');
    expect(answer.text).not.toContain('PTO');
  });
});
