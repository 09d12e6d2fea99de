import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, recipesDir } from '../helpers/runtime.js';

/**
 * `- { label: Reject, comment: yes }` (comment takes optional or required) got only "an outcome
 * is a label or { label, style?, comment? }", which the outcome already is: the key that is wrong
 * and what it takes were not said.
 */

const APP = `kind: app
key: laptop
name: Laptop request
stages: [Submitted, Approved, Rejected]
fields:
  - { key: owner, label: Owner, type: user, required: true }
`;

const FLOW = `kind: recipe
name: laptop-flow
trigger: { type: new_request, app: laptop }
steps:
  - action: assign_task
    to: "{{ record.owner }}"
    title: Laptop?
    outcomes:
      - Approve
      - label: Reject
        comment: yes
      - { label: Later, style: red }
      - { lable: Maybe }
`;

describe('npm run validate on an outcome written as a mapping', () => {
  it('says which key of it is wrong and what it takes', () => {
    const dir = recipesDir({ 'app.yaml': APP, 'flow.yaml': FLOW });
    const result = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'src/cli/validate.ts')], {
      cwd: ROOT,
      env: { ...process.env, RECIPES_DIR: dir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.stderr).toBe('');
    const flow = join(dir, 'flow.yaml');
    expect(result.stdout.trim().split('\n')).toEqual([
      `${flow}:10: steps[0].outcomes[1]: an outcome is a label or { label, style?, comment? }: comment: expected optional or required`,
      `${flow}:12: steps[0].outcomes[2]: an outcome is a label or { label, style?, comment? }: style: expected primary, danger or default`,
      `${flow}:13: steps[0].outcomes[3]: an outcome is a label or { label, style?, comment? }: unknown key "lable" (did you mean "label"?); allowed keys: label, style, comment`,
      '2 files checked (1 app, 0 recipes): 3 errors, 0 warnings',
    ]);
    expect(result.status).toBe(1);
  });
});
