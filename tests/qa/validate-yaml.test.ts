import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDirectory } from '../../src/recipes/loader.js';
import { ROOT, recipesDir } from '../helpers/runtime.js';

/** Mistakes people make writing recipes by hand, and what `npm run validate` tells them. */

const APP = `kind: app
key: hw
name: Hardware
stages: [Submitted, Approved]
fields:
  - { key: item, label: Item, type: text }
  - { key: approver, label: Approver, type: user }
`;

const recipe = (steps: string) => `kind: recipe
name: hw-flow
trigger: { type: new_request, app: hw }
steps:
${steps}`;

async function problemsOf(steps: string): Promise<string[]> {
  const { problems } = await loadDirectory(recipesDir({ 'app.yaml': APP, 'recipe.yaml': recipe(steps) }));
  return problems.map((p) => `${p.line}: ${p.severity}: ${p.message}`);
}

describe('validate on hand-written YAML', () => {
  it('says a {{ }} template needs quotes, instead of "expected a recipient" and a Node warning about object keys', async () => {
    const steps = `  - action: assign_task
    to: {{ record.approver }}
    title: Buy it
`;
    expect(await problemsOf(steps)).toEqual([
      '6: error: YAML: a {{ }} template must be in quotes, or YAML reads it as a mapping: write "{{ record.approver }}"',
    ]);
    const dir = recipesDir({ 'app.yaml': APP, 'recipe.yaml': recipe(steps) });
    const result = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/cli/validate.ts'), dir], {
      cwd: ROOT,
      env: { ...process.env, RECIPES_DIR: dir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(
      `${join(dir, 'recipe.yaml')}:6: YAML: a {{ }} template must be in quotes`,
    );
    expect(result.status).toBe(1);
  });

  it('says a value with ": " in it needs quotes', async () => {
    expect(
      await problemsOf(`  - action: assign_task
    to: "{{ record.approver }}"
    title: Buy: {{ record.item }}
`),
    ).toEqual([
      '7: error: YAML: Nested mappings are not allowed in compact mappings; a value with ": " in it must be in quotes, e.g. title: "Leave: {{ record.days }}"',
    ]);
  });

  it('says a step with action: has no if: of its own, instead of suggesting "id"', async () => {
    expect(
      await problemsOf(`  - action: change_stage
    stage: Approved
    if: "record.item = 'Laptop'"
`),
    ).toEqual([
      '7: error: steps[0].if: a step with action: has no condition of its own; put the step under one: - if: "<condition>" then: [the step]',
    ]);
  });
});
