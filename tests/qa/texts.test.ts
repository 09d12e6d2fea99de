import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../src/core/types.js';
import { recipesDir, seedPeople, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

const APP = `kind: app
key: kit
name: Kit
stages: [New]
fields:
  - { key: sizes, label: Sizes, type: multi_select, options: [S, M, L] }
  - { key: qty, label: Quantity, type: number }
`;
const RECIPE = `kind: recipe
name: kit-flow
trigger: { type: new_request, app: kit }
steps:
  - id: check
    action: assign_task
    to: "{{ request.requester }}"
    title: "{{ record.sizes }}"
    instructions: "{{ {'qty': record.qty, 'sizes': record.sizes} }}"
  - action: notify
    to: "{{ request.requester }}"
    text: "{{ [record.qty, record.qty * 2] }}"
`;

describe('titles and texts made of one expression', () => {
  let rt: TestRuntime;
  let p: Record<string, User>;
  beforeEach(async () => {
    rt = await startTestRuntime({ recipesDir: recipesDir({ 'app.yaml': APP, 'flow.yaml': RECIPE }) });
    p = await seedPeople(rt.baton);
  });
  afterEach(async () => {
    await rt.close();
  });

  it('render lists and objects as the README says (items joined, objects as JSON), not [object Object]', async () => {
    const r = await rt.baton.requests.file(p.alice!, 'kit', { sizes: ['S', 'L'], qty: 3 });
    const [task] = await rt.baton.tasks.listForRequest(r._id);
    expect(task!.title).toBe('S, L');
    expect(task!.instructions).toBe('{"qty":3,"sizes":["S","L"]}');
    await rt.baton.tasks.complete(p.alice!, task!._id, 'Approve');
    const [note] = await rt.store.collection('notifications').find({ request_id: r._id }).toArray();
    expect(note!.text).toBe('3, 6');
  });
});
