import { describe, expect, it } from 'vitest';
import { loadDirectory } from '../../src/recipes/loader.js';
import { recipesDir } from '../helpers/runtime.js';

/**
 * `wait until: "2026-02-30"` passed validation and waited until 2 March (the platform's date
 * parser rolls a day the month does not have over into the next month); it is refused like the
 * same date in an update_record of a date field.
 */

const APP = `kind: app
key: trip
name: Trip
stages: [New, Done]
fields:
  - { key: back, label: Back on, type: date }
`;

describe('wait until a date that is not on the calendar', () => {
  it('is refused at its line, and real dates (with or without a time) are accepted', async () => {
    const recipe = `kind: recipe
name: trip-wait
trigger: { type: new_request, app: trip }
steps:
  - action: wait
    until: "2026-02-30"
  - action: wait
    until: "2026-04-31T09:00"
  - action: wait
    until: "2028-02-29"
  - action: wait
    until: "2026-12-01T09:00:00Z"
`;
    const { problems } = await loadDirectory(recipesDir({ 'app.yaml': APP, 'wait.yaml': recipe }));
    expect(problems.map((p) => `${p.line}: ${p.severity}: ${p.message}`)).toEqual([
      '6: error: steps[0].until: "2026-02-30" is not a day of the calendar (February 2026 has 28 days)',
      '8: error: steps[1].until: "2026-04-31T09:00" is not a day of the calendar (April 2026 has 30 days)',
    ]);
  });
});

describe('wait until words that are no date', () => {
  it('suggests a delay or an expression that gives a date, not "{{ tomorrow }}" (there is no such name)', async () => {
    const recipe = `kind: recipe
name: trip-later
trigger: { type: new_request, app: trip }
steps:
  - action: wait
    until: tomorrow
  - action: wait
    until: next monday
  - action: wait
    until: "2026-13-01"
  - action: wait
    until: record.back
  - action: wait
    until: "{{ $toMillis($now()) + 24*60*60*1000 }}"
`;
    const { problems } = await loadDirectory(recipesDir({ 'app.yaml': APP, 'wait.yaml': recipe }));
    const advice =
      'to wait a while, write for: 1d (s, m, h, d, w); to wait until a date, give one (2026-12-01T09:00) or an expression in {{ }} that gives one, e.g. "{{ record.<date field> }}" or "{{ $toMillis($now()) + 24*60*60*1000 }}" (a day from now)';
    expect(problems.map((p) => `${p.line}: ${p.severity}: ${p.message}`)).toEqual([
      `6: error: steps[0].until: "tomorrow" is not a date: ${advice}`,
      `8: error: steps[1].until: "next monday" is not a date: ${advice}`,
      `10: error: steps[2].until: "2026-13-01" is not a date: ${advice}`,
      '12: error: steps[3].until: "record.back" is not a date (e.g. 2026-12-01T09:00:00Z); to compute one, write "{{ record.back }}"',
    ]);
  });
});
