import { afterEach, describe, expect, it } from 'vitest';
import {
  eventually,
  recipesDir,
  seedPeople,
  startTestRuntime,
  type TestRuntime,
} from '../helpers/runtime.js';

/**
 * JSONata: a comparison with a missing value gives nothing, not false, so
 * `big: "{{ record.n > 5 }}"` with `n` left blank clears the boolean field instead of setting
 * it to No. The README's expressions section now says so and gives the idiom that sets false;
 * this pins both behaviours.
 */

const APP = `
kind: app
key: lot
name: Lot
stages: [New, Done]
fields:
  - { key: n, label: Count, type: number }
  - { key: plain, label: Plain, type: boolean }
  - { key: guarded, label: Guarded, type: boolean }
`;
const RECIPE = `
kind: recipe
name: lot-flow
trigger: { type: new_request, app: lot }
steps:
  - action: update_record
    fields:
      plain: "{{ record.n > 5 }}"
      guarded: "{{ $exists(record.n) and record.n > 5 }}"
  - action: change_stage
    stage: Done
`;

describe('a comparison with a missing field in update_record', () => {
  let rt: TestRuntime | undefined;
  afterEach(async () => {
    await rt?.close();
  });

  it('clears a boolean field, while the documented $exists idiom sets false', async () => {
    rt = await startTestRuntime({ recipesDir: recipesDir({ 'app.yaml': APP, 'recipe.yaml': RECIPE }) });
    const p = await seedPeople(rt.baton);
    const filed = await rt.baton.requests.file(p.alice!, 'lot', { plain: true, guarded: true });
    const done = await eventually(async () => {
      const r = await rt!.baton.requests.get(p.alice!, filed._id);
      return r.stage === 'Done' ? r : null;
    });
    expect(done.record.plain ?? null).toBeNull();
    expect(done.record.guarded).toBe(false);

    const big = await rt.baton.requests.file(p.alice!, 'lot', { n: 9 });
    const doneBig = await eventually(async () => {
      const r = await rt!.baton.requests.get(p.alice!, big._id);
      return r.stage === 'Done' ? r : null;
    });
    expect(doneBig.record).toMatchObject({ plain: true, guarded: true });
  });
});
