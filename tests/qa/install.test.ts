import { afterEach, describe, expect, it } from 'vitest';
import { recipesDir, seedPeople, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

const APP = `kind: app
key: note
name: Note
stages: [New, Seen]
fields:
  - { key: text, label: Text, type: text }
`;
const RECIPE = `kind: recipe
name: note-flow
trigger: { type: new_request, app: note }
steps:
  - action: change_stage
    stage: Seen
`;

describe('installing recipes from files', () => {
  let rt: TestRuntime | undefined;
  afterEach(async () => {
    await rt?.close();
    rt = undefined;
  });

  it('a second file with the same recipe name is reported without replacing the installed recipe', async () => {
    const dir = recipesDir({ 'app.yaml': APP, 'a-flow.yaml': RECIPE, 'b-copy.yaml': RECIPE });
    rt = await startTestRuntime({ recipesDir: dir });
    const p = await seedPeople(rt.baton);
    const recipes = await rt.baton.recipes.list(p.admin!);
    const flow = recipes.find((r) => r._id === 'note-flow')!;
    expect(flow.state).toBe('running');
    expect(flow.file).toBe(`${dir}/a-flow.yaml`);
    const dup = recipes.find((r) => r._id === `file:${dir}/b-copy.yaml`)!;
    expect(dup.state).toBe('invalid');
    expect(dup.problems.map((x) => `${x.line}: ${x.message}`)).toEqual([
      `2: name: duplicate recipe name "note-flow" (also in ${dir}/a-flow.yaml)`,
    ]);
    const r = await rt.baton.requests.file(p.alice!, 'note', { text: 'hi' });
    expect((await rt.baton.requests.get(p.alice!, r._id)).stage).toBe('Seen');
  });
});
