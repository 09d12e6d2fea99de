import { afterEach, describe, expect, it } from 'vitest';
import { TaskClosedError } from '../../src/core/errors.js';
import { outcomePhrase } from '../../src/core/tasks.js';
import { recipesDir, seedPeople, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

const FILES = {
  'app.yaml': `
kind: app
key: ticket
name: Ticket
stages: [Open, Escalated, Waiting]
fields:
  - { key: approver, label: Approver, type: user, required: true }
`,
  'recipe.yaml': `
kind: recipe
name: triage
trigger: { type: new_request, app: ticket }
steps:
  - id: t
    action: assign_task
    to: "{{ record.approver }}"
    title: Triage
    outcomes: [Escalate, Needs info]
  - action: change_stage
    stage: "{{ steps.t.outcome = 'Escalate' ? 'Escalated' : 'Waiting' }}"
`,
};

describe('outcome wording', () => {
  let rt: TestRuntime | undefined;
  afterEach(async () => {
    await rt?.close();
    rt = undefined;
  });

  it('known verbs read in the past tense; any other outcome reads as an answer', () => {
    expect(outcomePhrase('Approve')).toBe('approved');
    expect(outcomePhrase('Escalate')).toBe('escalated');
    expect(outcomePhrase('Needs info')).toBe('answered "Needs info"');
  });

  it('the loser of a race is told who answered what, in words that read', async () => {
    rt = await startTestRuntime({ recipesDir: recipesDir(FILES) });
    const p = await seedPeople(rt.baton);
    const { requests, tasks } = rt.baton;
    await requests.file(p.alice!, 'ticket', { approver: p.bob!._id });
    const [t] = await tasks.listOpenFor(p.bob!);
    await tasks.complete(p.bob!, t!._id, 'Needs info');
    const err = await tasks.complete(p.admin!, t!._id, 'Escalate').catch((e) => e);
    expect(err).toBeInstanceOf(TaskClosedError);
    expect(err.message).toMatch(
      /^Already answered "Needs info" by Bob Manager at \d{4}-\d\d-\d\d \d\d:\d\d UTC\.$/,
    );
    const history = await requests.history('TICKET-1');
    expect(history.map((h) => h.text)).toContain('Bob Manager answered "Needs info" on "Triage"');
  });
});
