import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/validate.js';
import { generateJsonSchema } from '../../src/recipes/json-schema.js';
import { loadDirectory } from '../../src/recipes/loader.js';
import { recipesDir } from '../helpers/runtime.js';

/**
 * `on_form: false`: a field a recipe fills in (a PO number, a review date, a security check),
 * not asked on the request forms. What `npm run validate` and the JSON Schema say of it.
 */

const app = (fields: string) => `kind: app
key: vendor
name: Vendor onboarding
id_prefix: VEN
stages: [Submitted, Reviewed]
fields:
  - { key: vendor, label: Vendor, type: text, required: true }
${fields}`;

const RECIPE = `kind: recipe
name: vendor-review
trigger: { type: new_request, app: vendor }
steps:
  - action: update_record
    fields:
      po_number: "PO-{{ request.id }}"
`;

async function problemsOf(files: Record<string, string>): Promise<string[]> {
  const { problems } = await loadDirectory(recipesDir(files));
  return problems.map((p) => `${p.file.split('/').at(-1)}:${p.line}: ${p.severity}: ${p.message}`);
}

describe('validate: fields off the request form (on_form: false)', () => {
  it('accepts on_form: false on a field a recipe sets, and on one with a default', async () => {
    expect(
      await problemsOf({
        'app.yaml': app(`  - { key: po_number, label: PO number, type: text, on_form: false }
  - { key: risk, label: Risk, type: select, options: [Low, High], default: Low, on_form: false, required: true }
  - { key: notes, label: Notes, type: long_text, on_form: true }
`),
        'recipe.yaml': RECIPE,
      }),
    ).toEqual([]);
  });

  it('refuses required: true on a field off the form without a default, saying what to do', async () => {
    expect(
      await problemsOf({
        'app.yaml': app(`  - { key: po_number, label: PO number, type: text, on_form: false, required: true }
`),
        'recipe.yaml': RECIPE,
      }),
    ).toEqual([
      'app.yaml:8: error: fields[1].required: required: true asks for a value when the request is filed, but on_form: false keeps the field off the request form: remove required (a recipe sets the field with update_record), or give the field a default (its value at filing)',
    ]);
  });

  it('warns about a field off the form that nothing ever fills in', async () => {
    expect(
      await problemsOf({
        'app.yaml': app(`  - { key: po_number, label: PO number, type: text, on_form: false }
  - key: cleared
    label: Security cleared
    type: boolean
    on_form: false
`),
        'recipe.yaml': RECIPE,
      }),
    ).toEqual([
      'app.yaml:12: warning: fields[2].on_form: Security cleared is not on the request form (on_form: false), and no recipe of app "vendor" in these files sets it with update_record: it stays blank',
    ]);
  });

  it('refuses a value that is not true or false, and names on_form for the words people write', async () => {
    expect(
      await problemsOf({
        'app.yaml': app(`  - { key: po_number, label: PO number, type: text, on_form: "no" }
  - { key: reviewed_on, label: Reviewed on, type: date, form: false }
`),
        'recipe.yaml': RECIPE,
      }),
    ).toEqual([
      'app.yaml:8: error: fields[1].on_form: expected true or false',
      'app.yaml:9: error: fields[2].form: unknown key "form" (did you mean "on_form"?); allowed keys: key, label, type, required, on_form, help, default, min, max, options',
    ]);
  });

  it('npm run validate exits 0 on such files, and the JSON Schema offers on_form', async () => {
    const dir = recipesDir({
      'app.yaml': app(`  - { key: po_number, label: PO number, type: text, on_form: false }
`),
      'recipe.yaml': RECIPE,
    });
    const lines: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => lines.push(args.join(' '));
    try {
      expect(await main([], { RECIPES_DIR: dir })).toBe(0);
    } finally {
      console.log = log;
    }
    expect(lines.join('\n')).toContain('0 errors, 0 warnings');
    expect(JSON.stringify(generateJsonSchema())).toContain('"on_form":{"type":"boolean"}');
  });
});
