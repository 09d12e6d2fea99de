import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cardOf, cardText, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

/** What an admin reads after building an app from Teams' admin forms. */
describe('Teams: admin form answers read well', () => {
  let t: TeamsTestApp;

  beforeEach(async () => {
    t = await startTeamsTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  it('the first field added says "1 field now", the second "2 fields now"', async () => {
    const created = await t.execute(
      'admin',
      'admin.apps.create',
      { form: 'create_app', key: 'laptop', name: 'Laptop', stages: 'Requested\nOrdered', id_prefix: 'LAP' },
      'create-form',
    );
    expect(cardText(cardOf(created.json()))).toContain('App Laptop (laptop) created');
    const first = await t.execute(
      'admin',
      'admin.apps.add_field',
      { form: 'add_field', app: 'laptop', key: 'model', label: 'Model', type: 'select', options: 'Air\nX1' },
      'field-form-1',
    );
    const firstText = cardText(cardOf(first.json()));
    expect(firstText).toContain('Field model added to Laptop');
    expect(firstText).toContain('1 field now.');
    expect(firstText).not.toContain('1 fields');
    const second = await t.execute(
      'admin',
      'admin.apps.add_field',
      { form: 'add_field', app: 'laptop', key: 'ram', label: 'RAM', type: 'number' },
      'field-form-2',
    );
    expect(cardText(cardOf(second.json()))).toContain('2 fields now.');
  });

  it('the add-field form can leave a field off the request form, for a recipe to fill in', async () => {
    await t.execute(
      'admin',
      'admin.apps.create',
      { form: 'create_app', key: 'laptop', name: 'Laptop', stages: 'Requested\nOrdered', id_prefix: 'LAP' },
      'create-form',
    );
    const form = await t.execute(
      'admin',
      'admin.apps.add_field',
      {
        form: 'add_field',
        app: 'laptop',
        key: 'po_number',
        label: 'PO number',
        type: 'text',
        off_form: 'true',
      },
      'field-form-1',
    );
    expect(cardText(cardOf(form.json()))).toContain('Field po_number added to Laptop');
    const app = await t.rt.baton.apps.get('laptop');
    expect(app.fields.find((f) => f.key === 'po_number')).toMatchObject({ on_form: false });
  });
});
