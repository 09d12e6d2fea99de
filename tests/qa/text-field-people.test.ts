import { afterEach, describe, expect, it } from 'vitest';
import {
  eventually,
  recipesDir,
  seedPeople,
  startTestRuntime,
  type TestRuntime,
} from '../helpers/runtime.js';

/**
 * `note: "Approved by {{ steps.manager.completed_by }}"` in an update_record step stored
 * "Approved by u_3kq…" in the request's text field (shown in the table, the CSV export and the
 * history), where the same template in a notification reads "Approved by Bob Manager".
 */

const APP = `kind: app
key: kit
name: Kit
stages: [New, Approved]
fields:
  - { key: approver, label: Approver, type: user }
  - { key: note, label: Note, type: text }
  - { key: log, label: Log, type: long_text }
  - { key: deputy, label: Deputy, type: user }
`;
const RECIPE = `kind: recipe
name: kit-flow
trigger: { type: new_request, app: kit }
steps:
  - id: manager
    action: assign_task
    to: "{{ record.approver }}"
    title: Kit
  - action: update_record
    fields:
      note: "Approved by {{ steps.manager.completed_by }}"
      log: "{{ steps.manager.completed_by }}"
      deputy: "{{ steps.manager.completed_by }}"
  - action: change_stage
    stage: Approved
`;

describe('update_record of a text field with a person in it', () => {
  let rt: TestRuntime | undefined;
  afterEach(async () => {
    await rt?.close();
    rt = undefined;
  });

  it('writes the person’s name, as a notification would; a user field still gets the id', async () => {
    rt = await startTestRuntime({ recipesDir: recipesDir({ 'app.yaml': APP, 'recipe.yaml': RECIPE }) });
    const p = await seedPeople(rt.baton);
    const r = await rt.baton.requests.file(p.alice!, 'kit', { approver: p.bob!._id });
    const [task] = await eventually(() =>
      rt!.baton.tasks.listOpenFor(p.bob!).then((l) => (l.length ? l : null)),
    );
    await rt.baton.tasks.complete(p.bob!, task!._id, 'Approve');
    const done = await eventually(async () => {
      const req = await rt!.baton.requests.get(p.alice!, r._id);
      return req.stage === 'Approved' ? req : null;
    });
    expect(done.record.note).toBe(`Approved by ${p.bob!.name}`);
    expect(done.record.log).toBe(p.bob!.name);
    expect(done.record.deputy).toBe(p.bob!._id);
  });
});
