import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { type AdminPortal, mainOf, signIn, startAdminPortal, textOf } from './admin-kit.js';

/**
 * A condition that took its else branch was logged as "Skipped" on the job page, as if nothing
 * had been decided; the log now says what the condition gave and which way the job went.
 */
const FILES = {
  'gear.yaml': `
kind: app
key: gear
name: Gear
id_prefix: GEAR
stages: [Filed, Big, Small, Checked]
fields:
  - { key: cost, label: Cost, type: number, required: true }
`,
  'gear-size.yaml': `
kind: recipe
name: gear-size
trigger: { type: new_request, app: gear }
steps:
  - id: big
    if: "record.cost > 1000"
    then:
      - action: change_stage
        stage: Big
    else:
      - action: change_stage
        stage: Small
  - if: "record.cost > 5000"
    then:
      - action: change_stage
        stage: Checked
`,
};

let portal: AdminPortal | undefined;
afterEach(async () => {
  await portal?.close();
  portal = undefined;
});

describe('the job log of a condition', () => {
  it('says what the condition gave and which branch the job took', async () => {
    portal = await startAdminPortal(FILES);
    const { baton, people } = portal;
    await baton.requests.file(people.riley!, 'gear', { cost: 20 });
    const [job] = await eventually(async () => {
      const jobs = await baton.recipes.listJobs(people.ada!, { status: 'completed' });
      return jobs.length === 1 ? jobs : undefined;
    });
    const ada = await signIn(portal.app, 'ada');
    const text = textOf(mainOf((await ada.get(`/admin/jobs/${job!._id}`)).html));
    expect(text).toContain('Condition false: took the else branch');
    expect(text).toContain('Condition false: no else branch, went on');
    expect(text).not.toContain('Skipped');
  });
});
