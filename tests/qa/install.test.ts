import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { recipesDir, seedPeople, startTestRuntime, type TestRuntime, tempDir } from '../helpers/runtime.js';

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

  it('a recipe renamed in its file, or whose file is deleted, stops running at the next start (no second job per request)', async () => {
    const notify = (name: string, text: string) => `kind: recipe
name: ${name}
trigger: { type: new_request, app: note }
steps:
  - action: notify
    to: "{{ request.requester }}"
    text: ${text}
`;
    const dir = recipesDir({
      'app.yaml': APP,
      'tell.yaml': notify('note-tell', 'v1'),
      'extra.yaml': notify('note-extra', 'extra'),
      'broken.yaml': 'kind: recipe\nname: note-broken\ntrigger: { type: new_request, app: note\n',
    });
    const dataDir = tempDir();
    rt = await startTestRuntime({ dataDir, recipesDir: dir });
    const p = await seedPeople(rt.baton);
    const names = async () =>
      (await rt!.baton.recipes.list(p.admin!)).map((r) => `${r._id.replace(dir, '<dir>')}:${r.state}`).sort();
    expect(await names()).toEqual([
      'file:<dir>/broken.yaml:invalid',
      'note-extra:running',
      'note-tell:running',
    ]);
    await rt.close();

    // The author renames the recipe, deletes another file and fixes the broken one.
    writeFileSync(`${dir}/tell.yaml`, notify('note-tell-requester', 'v2'));
    rmSync(`${dir}/extra.yaml`);
    writeFileSync(`${dir}/broken.yaml`, notify('note-fixed', 'fixed'));
    rt = await startTestRuntime({ dataDir, recipesDir: dir });
    expect(await names()).toEqual(['note-fixed:running', 'note-tell-requester:running']);
    const r = await rt.baton.requests.file(p.alice!, 'note', { text: 'hi' });
    const notified = (await rt.baton.requests.get(p.alice!, r._id)).history.filter(
      (h) => h.type === 'notified',
    );
    expect(notified.map((h) => h.text).sort()).toEqual([
      'Notified Alice Requester: fixed',
      'Notified Alice Requester: v2',
    ]);
    await rt.close();

    // A file that cannot be read for now keeps what it installed (a typo must not drop a running recipe).
    writeFileSync(`${dir}/tell.yaml`, 'kind: recipe\nname: [oops\n');
    renameSync(`${dir}/broken.yaml`, `${dir}/fixed.yaml`);
    rt = await startTestRuntime({ dataDir, recipesDir: dir });
    expect(await names()).toEqual([
      'file:<dir>/tell.yaml:invalid',
      'note-fixed:running',
      'note-tell-requester:running',
    ]);
  });
});
