import { afterEach, describe, expect, it } from 'vitest';
import type { User } from '../../src/core/types.js';
import { recipesDir, seedPeople, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/** What recipe steps make of the values their templates give, as a recipe author sees it. */

const APP = `
kind: app
key: trip
name: Trip
id_prefix: TRIP
stages: [New, Booked, Done]
fields:
  - { key: approver, label: Approver, type: user }
  - { key: nights, label: Nights, type: number, min: 1, max: 30 }
  - { key: cities, label: Cities, type: multi_select, options: [Oslo, Rome, Lima] }
  - { key: summary, label: Summary, type: text }
  - { key: notes, label: Notes, type: long_text }
`;

describe('recipe step values', () => {
  let rt: TestRuntime;
  let p: Record<string, User>;

  async function start(recipe: string): Promise<void> {
    rt = await startTestRuntime({ recipesDir: recipesDir({ 'app.yaml': APP, 'recipe.yaml': recipe }) });
    p = await seedPeople(rt.baton);
  }

  afterEach(async () => {
    await rt?.close();
  });

  it("renders a stop step's reason like any text, so the job shows it filled in", async () => {
    await start(`
kind: recipe
name: trip-flow
trigger: { type: new_request, app: trip }
steps:
  - action: stop
    reason: "{{ record.nights }} nights for {{ requester.name }} need no approval"
`);
    await rt.baton.requests.file(p.alice!, 'trip', { nights: 2 });
    const [job] = await rt.baton.recipes.listJobs(p.admin!);
    expect(job!.status).toBe('completed');
    expect(job!.stop_reason).toBe('2 nights for Alice Requester need no approval');
  });
});
