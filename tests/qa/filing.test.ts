import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ValidationError } from '../../src/core/errors.js';
import type { User } from '../../src/core/types.js';
import { recipesDir, seedPeople, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/** Filing requests as people do, through the core API: every problem said at once, in words. */

const APP = `
kind: app
key: leave
name: Leave
id_prefix: LEAVE
stages: [Submitted, Approved]
fields:
  - { key: approver, label: Approver, type: user, required: true }
  - { key: days, label: Days, type: number, required: true, min: 0.5, max: 30 }
  - { key: start, label: Start, type: date, required: true }
  - { key: backup, label: Backup, type: user }
`;

async function problems(
  promise: Promise<unknown>,
): Promise<{ message: string; fields: Record<string, string> }> {
  try {
    await promise;
  } catch (err) {
    const e = err as ValidationError;
    return { message: e.message, fields: e.fields };
  }
  throw new Error('expected a validation error');
}

describe('filing a request', () => {
  let rt: TestRuntime;
  let p: Record<string, User>;
  beforeEach(async () => {
    rt = await startTestRuntime({ recipesDir: recipesDir({ 'app.yaml': APP }) });
    p = await seedPeople(rt.baton);
  });
  afterEach(async () => {
    await rt.close();
  });

  it('names an unknown person together with the other problems, not only once the rest is right', async () => {
    const got = await problems(
      rt.baton.requests.file(p.alice!, 'leave', {
        approver: 'nobody@example.com',
        days: 31,
        start: '2026-02-30',
        backup: 'bob@example.com',
      }),
    );
    expect(got.fields).toEqual({
      approver: 'Approver: no person named "nobody@example.com" is known to Baton',
      days: 'Days must be at most 30',
      start: 'Start must be a date (YYYY-MM-DD)',
    });
    expect(got.message).toBe(
      'Please fix: Approver: no person named "nobody@example.com" is known to Baton; Days must be at most 30; Start must be a date (YYYY-MM-DD).',
    );
    const r = await rt.baton.requests.file(p.alice!, 'leave', {
      approver: 'bob@example.com',
      days: 3,
      start: '2026-02-20',
    });
    expect(r.record.approver).toBe(p.bob!._id);
  });
});
