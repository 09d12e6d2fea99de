import { describe, expect, it } from 'vitest';
import { loadDirectory } from '../../src/recipes/loader.js';
import { recipesDir } from '../helpers/runtime.js';

const APP = `kind: app
key: trip
name: Trip
stages: [New, Waiting, Done]
fields:
  - { key: back, label: Back on, type: date }
`;

describe('validation of wait and notify steps', () => {
  it('refuses a wait until that is neither a date nor an expression in {{ }}, and accepts both of those', async () => {
    const recipe = `kind: recipe
name: trip-wait
trigger: { type: new_request, app: trip }
steps:
  - action: wait
    until: record.back
  - action: wait
    until: "{{ record.back }}"
  - action: wait
    until: "2026-12-01T09:00:00Z"
`;
    const { problems } = await loadDirectory(recipesDir({ 'app.yaml': APP, 'wait.yaml': recipe }));
    expect(problems.map((p) => `${p.line}: ${p.severity}: ${p.message}`)).toEqual([
      '6: error: steps[0].until: "record.back" is not a date (e.g. 2026-12-01T09:00:00Z); to compute one, write "{{ record.back }}"',
    ]);
  });

  it('warns that a notify step cannot show the task card (it has no task), and accepts the request card', async () => {
    const recipe = `kind: recipe
name: trip-notify
trigger: { type: new_request, app: trip }
steps:
  - action: notify
    to: "{{ request.requester }}"
    text: Filed
    card: task
  - action: notify
    to: "{{ request.requester }}"
    card: request
`;
    const { problems } = await loadDirectory(recipesDir({ 'app.yaml': APP, 'notify.yaml': recipe }));
    expect(problems.map((p) => `${p.line}: ${p.severity}: ${p.message}`)).toEqual([
      '8: warning: steps[0].card: the task card shows a task, and a notification has none (its title and status would be blank): use card: notification or card: request',
    ]);
  });

  it('says a condition is written without {{ }} instead of a JSONata error about a missing ":"', async () => {
    const recipe = `kind: recipe
name: trip-if
trigger: { type: new_request, app: trip }
steps:
  - if: "{{ record.back > '2026-01-01' }}"
    then:
      - action: stop
  - if: "record.back > '2026-01-01'"
    then:
      - action: stop
`;
    const { problems } = await loadDirectory(recipesDir({ 'app.yaml': APP, 'if.yaml': recipe }));
    expect(problems.map((p) => `${p.line}: ${p.severity}: ${p.message}`)).toEqual([
      `5: error: steps[0].if: a condition is a bare expression, without {{ }}: write "record.back > '2026-01-01'"`,
    ]);
  });

  it('warns about record.<key> in an expression when the app has no such field (a typo gives a blank or false)', async () => {
    const recipe = `kind: recipe
name: trip-fields
trigger: { type: new_request, app: trip }
steps:
  - if: "record.bak > '2026-01-01' and record.back > '2026-01-01'"
    then:
      - action: notify
        to: "{{ request.requester }}"
        text: "Back on {{ record.back }}, {{ record.xyz }}"
`;
    const { problems } = await loadDirectory(recipesDir({ 'app.yaml': APP, 'fields.yaml': recipe }));
    expect(problems.map((p) => `${p.line}: ${p.severity}: ${p.message}`)).toEqual([
      '5: warning: steps[0].if: app "trip" has no field "bak" (did you mean "back"?); fields: back',
      '9: warning: steps[0].then[0].text: app "trip" has no field "xyz"; fields: back',
    ]);
  });
});
