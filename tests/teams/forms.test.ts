import { describe, expect, it } from 'vitest';
import { adaptiveCards } from '../../adapters/cards/cards.js';
import { renderRequestForm, toFieldInput } from '../../adapters/teams/forms.js';
import { AppDefinitionSchema } from '../../src/recipes/schema.js';

const app = AppDefinitionSchema.parse({
  kind: 'app',
  key: 'kit',
  name: 'Kit',
  stages: ['Asked', 'Done'],
  fields: [
    { key: 'title', label: 'Title', type: 'text', required: true, default: 'Laptop' },
    { key: 'details', label: 'Details', type: 'long_text' },
    { key: 'qty', label: 'Quantity', type: 'number', min: 1, max: 5, default: 1 },
    { key: 'when', label: 'Needed by', type: 'date' },
    { key: 'kind', label: 'Kind', type: 'select', options: ['Mac', { value: 'pc', label: 'PC' }] },
    {
      key: 'extras',
      label: 'Extras',
      type: 'multi_select',
      options: ['Mouse', 'Dock'],
      default: ['Mouse', 'Dock'],
    },
    { key: 'manager', label: 'Manager', type: 'user', required: true },
    { key: 'urgent', label: 'Urgent', type: 'boolean', help: 'Needed this week' },
    { key: 'contact', label: 'Contact', type: 'email' },
    { key: 'link', label: 'Link', type: 'url' },
    { key: 'app', label: 'App', type: 'text' },
  ],
});

describe('Teams request forms from app fields', () => {
  it('maps every field type to its Adaptive Card input', () => {
    const f = Object.fromEntries(app.fields.map((x) => [x.key, toFieldInput(x)]));
    expect(f.title).toMatchObject({
      type: 'Input.Text',
      id: 'title',
      label: 'Title',
      isRequired: true,
      value: 'Laptop',
    });
    expect(f.details).toMatchObject({ type: 'Input.Text', isMultiline: true });
    expect(f.qty).toMatchObject({ type: 'Input.Number', min: 1, max: 5, value: 1 });
    expect(f.when).toMatchObject({ type: 'Input.Date' });
    expect(f.kind).toMatchObject({
      type: 'Input.ChoiceSet',
      choices: [
        { title: 'Mac', value: 'Mac' },
        { title: 'PC', value: 'pc' },
      ],
    });
    expect(f.extras).toMatchObject({ type: 'Input.ChoiceSet', isMultiSelect: true, value: 'Mouse,Dock' });
    expect(f.manager).toMatchObject({
      type: 'Input.ChoiceSet',
      isRequired: true,
      'choices.data': { type: 'Data.Query', dataset: 'graph.microsoft.com/users' },
    });
    expect(f.urgent).toMatchObject({
      type: 'Input.Toggle',
      title: 'Needed this week',
      valueOn: 'true',
      valueOff: 'false',
    });
    expect(f.contact).toMatchObject({ type: 'Input.Text', style: 'Email' });
    expect(new RegExp(String(f.contact!.regex)).test('a@b.co')).toBe(true);
    expect(new RegExp(String(f.contact!.regex)).test('nope')).toBe(false);
    expect(f.link).toMatchObject({ type: 'Input.Text', style: 'Url' });
    expect(new RegExp(String(f.link!.regex)).test('https://x.example/a')).toBe(true);
    expect(new RegExp(String(f.link!.regex)).test('ftp://x')).toBe(false);
    // A field named like the action's own data keeps its value apart.
    expect(f.app).toMatchObject({ id: 'field_app' });
  });

  it('is a valid Adaptive Card with one Action.Execute, and puts errors under their inputs', () => {
    const card = renderRequestForm(app, {
      values: { qty: '9', title: 'Phone' },
      errors: { qty: 'Quantity must be at most 5' },
    });
    const AC = adaptiveCards();
    const parsed = new AC.AdaptiveCard();
    const context = new AC.SerializationContext();
    parsed.parse(card, context);
    const events = [];
    for (let i = 0; i < context.eventCount; i++) events.push(context.getEventAt(i).message);
    expect(events).toEqual([]);
    expect(card.actions).toEqual([
      {
        type: 'Action.Execute',
        title: 'Submit',
        verb: 'request.submit',
        data: { app: 'kit' },
        style: 'positive',
      },
    ]);
    const body = card.body!;
    const at = body.findIndex((e) => e.id === 'qty');
    expect(body[at]).toMatchObject({ value: 9 });
    expect(body[at + 1]).toMatchObject({
      type: 'TextBlock',
      text: 'Quantity must be at most 5',
      color: 'Attention',
    });
    expect(body.find((e) => e.id === 'title')).toMatchObject({ value: 'Phone' });
  });
});
