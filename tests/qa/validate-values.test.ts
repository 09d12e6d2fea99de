import { describe, expect, it } from 'vitest';
import { loadDirectory, parseDefinitionFile } from '../../src/recipes/loader.js';
import { recipesDir } from '../helpers/runtime.js';

const APP = `kind: app
key: kit
name: Kit
stages: [New, Done]
fields:
  - { key: qty, label: Quantity, type: number, min: 1, max: 10 }
  - { key: size, label: Size, type: select, options: [S, M, L] }
  - { key: due, label: Due, type: date }
  - { key: ok, label: OK, type: boolean }
  - { key: note, label: Note, type: text, required: true }
`;
const RECIPE = `kind: recipe
name: kit-flow
trigger: { type: new_request, app: kit }
steps:
  - action: update_record
    fields:
      qty: "many"
      size: XL
      due: 2025-02-30
      ok: "true"
      note: "{{ 'computed ' & record.qty }}"
  - action: update_record
    fields:
      qty: 11
      note: ""
  - action: update_record
    fields:
      qty: "3"
      size: M
      due: "2025-02-28"
      ok: false
  - action: notify
    to: someone@example.com
    text: hi
    card: tsak
  - action: assign_task
    to: someone@example.com
    title: Check
    card: task
`;

describe('validation of literal values and card names in recipes', () => {
  it('reports update_record values the form would refuse, and unknown cards, with their lines', async () => {
    const dir = recipesDir({ 'app.yaml': APP, 'flow.yaml': RECIPE });
    const { problems } = await loadDirectory(dir);
    expect(problems.map((p) => `${p.line}: ${p.severity}: ${p.message}`)).toEqual([
      '7: error: steps[0].fields.qty: Quantity must be a number',
      '8: error: steps[0].fields.size: Size must be one of S, M, L',
      '9: error: steps[0].fields.due: Due must be a date (YYYY-MM-DD)',
      '14: error: steps[1].fields.qty: Quantity must be at most 10',
      '15: error: steps[1].fields.note: Note is required',
      '25: warning: steps[3].card: no card named "tsak" in cards/ (cards: notification, request, task); the default layout would be used',
    ]);
  });

  it('warns when a shipped card is used where it cannot show the step (task card in notify, request card for a task)', async () => {
    const flow = `kind: recipe
name: kit-cards
trigger: { type: new_request, app: kit }
steps:
  - action: notify
    to: someone@example.com
    card: task
  - action: notify
    to: someone@example.com
    card: request
  - action: assign_task
    to: someone@example.com
    title: Check
    card: request
  - action: assign_task
    to: someone@example.com
    title: Check again
    card: notification
`;
    const { problems } = await loadDirectory(recipesDir({ 'app.yaml': APP, 'cards.yaml': flow }));
    expect(problems.map((p) => `${p.line}: ${p.severity}: ${p.message}`)).toEqual([
      '7: warning: steps[0].card: the task card shows a task, and a notification has none (its title and status would be blank): use card: notification or card: request',
      '14: warning: steps[2].card: the request card shows a request, not a task (no outcome buttons): the task is shown with the task card instead; use task or leave card out',
      '18: warning: steps[3].card: the notification card shows a request, not a task (no outcome buttons): the task is shown with the task card instead; use task or leave card out',
    ]);
  });

  it('says what is wrong in words of the format, not of the libraries underneath', () => {
    const quorum = parseDefinitionFile(
      'kind: recipe\nname: q\ntrigger: { type: new_request, app: kit }\nsteps:\n  - action: assign_task\n    to: a@example.com\n    title: t\n    quorum: { mode: count, count: 0 }\n',
      'q.yaml',
    );
    expect(
      quorum.problems.filter((p) => p.severity === 'error').map((p) => `${p.line}: ${p.message}`),
    ).toEqual(['8: steps[0].quorum.count: must be greater than 0']);
    const multi = parseDefinitionFile(
      'kind: recipe\nname: a\ntrigger: { type: new_request, app: kit }\nsteps: [{ action: stop }]\n---\nkind: app\n',
      'multi.yaml',
    );
    expect(multi.problems.map((p) => `${p.line}: ${p.message}`)).toEqual([
      '5: YAML: a file holds one app or one recipe: this one has several YAML documents (separated by ---)',
    ]);
  });

  it('warns about record fields the app does not have (a typo would make a condition quietly false)', async () => {
    const flow = `kind: recipe
name: kit-route
trigger: { type: new_request, app: kit }
steps:
  - if: "record.qtty > 5 and record.size = 'L'"
    then:
      - action: notify
        to: someone@example.com
        text: "{{ record.note }} ({{ record.sise }}) {{ 'record.x in quotes is text' }}"
  - action: notify
    to: someone@example.com
    text: "Nothing to check here: record.whatever is outside braces"
`;
    const { problems } = await loadDirectory(recipesDir({ 'app.yaml': APP, 'route.yaml': flow }));
    expect(problems.map((p) => `${p.line}: ${p.severity}: ${p.message}`)).toEqual([
      '5: warning: steps[0].if: app "kit" has no field "qtty" (did you mean "qty"?); fields: qty, size, due, ok, note',
      '9: warning: steps[0].then[0].text: app "kit" has no field "sise" (did you mean "size"?); fields: qty, size, due, ok, note',
    ]);
  });
});
