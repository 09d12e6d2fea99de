import { afterEach, describe, expect, it } from 'vitest';
import type { User } from '../../src/core/types.js';
import {
  eventually,
  recipesDir,
  seedPeople,
  startTestRuntime,
  type TestRuntime,
} from '../helpers/runtime.js';

/**
 * An update_record step that sets a blank field from a template giving nothing (an empty
 * multi-select, a missing field) added "Summary changed from — to —" to the request's history.
 */

const APP = `
kind: app
key: trip
name: Trip
stages: [New, Done]
fields:
  - { key: cities, label: Cities, type: multi_select, options: [Oslo, Rome] }
  - { key: summary, label: Summary, type: text }
  - { key: notes, label: Notes, type: long_text }
  - { key: stops, label: Stops, type: multi_select, options: [Oslo, Rome] }
  - { key: ok, label: OK, type: boolean }
`;
const RECIPE = `
kind: recipe
name: trip-flow
trigger: { type: new_request, app: trip }
steps:
  - action: update_record
    fields:
      summary: "{{ record.cities }}"
      notes: "{{ record.nowhere }}"
      stops: "{{ record.cities }}"
      ok: false
  - action: change_stage
    stage: Done
`;

describe('update_record on blank fields', () => {
  let rt: TestRuntime;
  let p: Record<string, User>;
  afterEach(async () => {
    await rt?.close();
  });

  it('records no change when a blank field stays blank, and records the ones that do change', async () => {
    rt = await startTestRuntime({ recipesDir: recipesDir({ 'app.yaml': APP, 'recipe.yaml': RECIPE }) });
    p = await seedPeople(rt.baton);
    const filed = await rt.baton.requests.file(p.alice!, 'trip', { cities: [] });
    const done = await eventually(async () => {
      const r = await rt.baton.requests.get(p.alice!, filed._id);
      return r.stage === 'Done' ? r : null;
    });
    expect(done.history.filter((h) => h.type === 'field_changed').map((h) => h.text)).toEqual([
      'OK changed from — to No',
    ]);

    const second = await rt.baton.requests.file(p.alice!, 'trip', { cities: ['Rome', 'Oslo'] });
    const changed = await eventually(async () => {
      const r = await rt.baton.requests.get(p.alice!, second._id);
      return r.stage === 'Done' ? r : null;
    });
    expect(changed.history.filter((h) => h.type === 'field_changed').map((h) => h.text)).toEqual([
      'Summary changed from — to Rome, Oslo',
      'Stops changed from — to Rome, Oslo',
      'OK changed from — to No',
    ]);
  });
});
