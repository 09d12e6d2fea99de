import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { type Portal, startPortal } from './harness.js';
import { signedIn, textOf } from './http-client.js';

const FILES = {
  'kit.yaml': `
kind: app
key: kit
name: Equipment
stages: [Asked, Sent]
fields:
  - { key: what, label: What, type: text, required: true }
`,
};

/** The message at the top of a refused admin form, once the form is shown again. */
function topMessage(body: string): string {
  const m = /<div class="form-error" role="alert">([\s\S]*?)<\/div>/.exec(body);
  return m ? textOf(m[1]!) : '';
}

/**
 * A refused "Add a field" (or "Create an app") showed at the top of the form the core's raw
 * summary, with zod paths: "The app is not valid: fields.1.min: min (5) is greater than max (1)".
 * It now reads as the request form's summary does: what to fix, by the input's label, linked to it.
 */
describe('admin forms: the summary of a refused form', () => {
  let portal: Portal;
  beforeAll(async () => {
    portal = await startPortal({ RECIPES_DIR: recipesDir(FILES) });
  });
  afterAll(async () => {
    await portal.close();
  });

  it('names the inputs to fix, with no paths', async () => {
    const ada = await signedIn(portal.url, 'ada');
    await ada.get('/admin/apps/kit');
    const bad = await ada.post('/admin/apps/kit/fields', {
      key: 'qty',
      label: 'Quantity',
      type: 'number',
      min: '5',
      max: '1',
    });
    expect(bad.status).toBe(400);
    // The message by the input is kept.
    expect(bad.body).toMatch(/id="field-min-error">min \(5\) is greater than max \(1\)/);
    const top = topMessage(bad.body);
    expect(top).toBe('Please fix this: Minimum: min (5) is greater than max (1)');
    expect(bad.body).toContain('<a href="#field-min">');
    expect(bad.body).not.toContain('fields.1.');
    expect(bad.body).not.toContain('is not valid');

    const two = await ada.post('/admin/apps/kit/fields', {
      key: 'Bad Key',
      label: 'x',
      type: 'number',
      min: '5',
      max: '1',
    });
    expect(two.status).toBe(400);
    const both = topMessage(two.body);
    expect(both).toMatch(/^Please fix these: /);
    expect(both).toContain('Minimum: min (5) is greater than max (1)');
    expect(both).toMatch(/Key: field keys are lower-case/);
    expect(two.body).not.toContain('is not valid');

    const app = await ada.post('/admin/apps', { key: 'Bad', name: 'Bad', stages: 'Asked' });
    expect(app.status).toBe(400);
    expect(topMessage(app.body)).toMatch(/^Please fix this: Key: /);
    expect(app.body).toContain('<a href="#app-key">');
    expect(app.body).not.toContain('is not valid');
  });
});
