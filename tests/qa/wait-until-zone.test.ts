import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recipesDir, seedPeople, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * `wait until: "2030-01-07T09:00"` (a date and time without a zone, as a date field plus a time
 * gives) waited until 09:00 in the server's own time zone: the same recipe woke at 09:00 UTC on
 * one machine and at 14:00 UTC on another. Baton shows every time in UTC, and a date alone was
 * already read as UTC midnight.
 */

const APP = `kind: app
key: trip
name: Trip
stages: [New, Done]
fields:
  - { key: back, label: Back on, type: date }
`;
const RECIPE = `kind: recipe
name: trip-wait
trigger: { type: new_request, app: trip }
steps:
  - action: wait
    until: "{{ record.back & 'T09:00' }}"
  - action: change_stage
    stage: Done
`;

describe('wait until a date and time without a time zone', () => {
  let rt: TestRuntime | undefined;
  const zone = process.env.TZ;
  beforeEach(() => {
    process.env.TZ = 'America/New_York';
  });
  afterEach(async () => {
    await rt?.close();
    rt = undefined;
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  });

  it('waits until that time in UTC, whatever the time zone of the server', async () => {
    rt = await startTestRuntime({ recipesDir: recipesDir({ 'app.yaml': APP, 'recipe.yaml': RECIPE }) });
    const p = await seedPeople(rt.baton);
    const r = await rt.baton.requests.file(p.alice!, 'trip', { back: '2030-01-07' });
    const [job] = await rt.baton.recipes.listJobs(p.admin!, { request: r._id });
    expect(job!.status).toBe('waiting');
    const waiting = job!.waiting as { kind: 'timer'; until: Date };
    expect(new Date(waiting.until).toISOString()).toBe('2030-01-07T09:00:00.000Z');
  });
});
