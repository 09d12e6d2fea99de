/**
 * An admin adds a stage (only a stage) to an app that comes from a file, with
 * `/baton admin apps add stage` as Slack sends it; the next start installs the file again and
 * must keep that stage. It used to stop Baton at start ("added.fields is not iterable").
 */
import { afterEach, describe, expect, it } from 'vitest';
import { recipesDir, tempDir } from '../helpers/runtime.js';
import { defaultSlackPeople, type SlackTestApp, startSlackTestApp } from '../helpers/slack.js';
import { slackCommand } from './acceptance-harness.js';
import { FakeSlackApi } from './tasks-harness.js';

const FILES = {
  'trips.yaml': `
kind: app
key: trips
name: Trips
stages: [Submitted, Approved]
fields:
  - { key: where, label: Where, type: text, required: true }
`,
};

let t: SlackTestApp | undefined;
let fake: FakeSlackApi | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
  await fake?.stop();
  fake = undefined;
});

describe('a stage an admin added from Slack to an app from a file', () => {
  it('survives a restart: the file is installed again with the stage kept', async () => {
    fake = new FakeSlackApi();
    await fake.start();
    const people = defaultSlackPeople();
    for (const p of Object.values(people))
      fake.people.set(p.id, { id: p.id, name: p.realName, email: p.email! });
    const dir = recipesDir(FILES);
    const dataDir = tempDir();
    const start = () =>
      startSlackTestApp({ apiUrl: fake!.url, mockUsersInfo: false, people, recipesDir: dir, dataDir });

    t = await start();
    const added = await slackCommand(t, fake, 'admin apps add stage trips Booked', 'admin');
    expect(added.text).toContain('Submitted → Approved → Booked');
    await t.close();
    t = undefined;

    t = await start();
    expect((await t.rt.baton.apps.get('trips')).stages).toEqual(['Submitted', 'Approved', 'Booked']);
    const list = await slackCommand(t, fake, 'admin apps list', 'admin');
    expect(list.text).toContain('stages: Submitted → Approved → Booked');
  });
});
