import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, recipesDir } from '../helpers/runtime.js';

/**
 * Mistakes a team writing its first apps and recipes makes, and what `npm run validate` (the
 * CLI, on a RECIPES_DIR of the team's files) says about them.
 */

function validate(files: Record<string, string>): { code: number | null; lines: string[] } {
  const dir = recipesDir(files);
  const result = spawnSync(
    path.join(ROOT, 'node_modules/.bin/tsx'),
    [path.join(ROOT, 'src/cli/validate.ts')],
    {
      cwd: ROOT,
      env: { ...process.env, RECIPES_DIR: dir },
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  return {
    code: result.status,
    lines: `${result.stdout}${result.stderr}`
      .trim()
      .split('\n')
      .map((l) => l.replace(`${dir}/`, '')),
  };
}

describe('validate: an app file', () => {
  it('refuses two stages people cannot tell apart (case, spacing), as adding such a stage by command is refused', () => {
    const { code, lines } = validate({
      'app.yaml': `kind: app
key: ticket
name: Ticket
stages:
  - Open
  - On hold
  - Done
  - "on  Hold"
  - open
`,
    });
    expect(code).toBe(1);
    expect(lines).toContain(
      'app.yaml:8: stages[3]: duplicate stage "on  Hold": the same as "On hold" (stage names are told apart regardless of case and spacing)',
    );
    expect(lines).toContain(
      'app.yaml:9: stages[4]: duplicate stage "open": the same as "Open" (stage names are told apart regardless of case and spacing)',
    );
  });
});

const VENDOR = `kind: app
key: vendor
name: Vendor
stages: [Submitted, Approved, Rejected]
fields:
  - { key: name, label: Name, type: text, required: true }
  - { key: po_number, label: PO number, type: text }
  - { key: owner, label: Owner, type: user, required: true }
`;

describe('validate: the inputs of a task a recipe reads', () => {
  it('warns, at the line, about steps.<id>.inputs.<name> that the task has no input of (it stayed blank at run time)', () => {
    const { code, lines } = validate({
      'app.yaml': VENDOR,
      'review.yaml': `kind: recipe
name: vendor-review
trigger: { type: new_request, app: vendor }
steps:
  - id: owner
    action: assign_task
    to: "{{ record.owner }}"
    title: "Vendor {{ record.name }}"
    inputs:
      - { id: po, label: PO number, required_for: [Approve] }
      - { id: note, label: Note, type: long_text }
  - id: finance
    action: assign_task
    to: "{{ record.owner }}"
    title: Budget
  - action: update_record
    fields:
      po_number: "{{ steps.owner.inputs.po_number }}"
  - if: "$exists(steps.owner.inputs.pO) and steps.finance.inputs.budget > 5"
    then:
      - action: notify
        to: "{{ request.requester }}"
        text: "{{ steps.owner.inputs.po }} {{ steps.owner.inputs.note }}"
`,
    });
    expect(code).toBe(0);
    expect(lines).toEqual([
      'review.yaml:18: warning: steps[2].fields.po_number: step "owner" has no input "po_number" (did you mean "po"?) (its inputs: po, note)',
      'review.yaml:19: warning: steps[3].if: step "owner" has no input "pO" (did you mean "po"?) (its inputs: po, note)',
      'review.yaml:19: warning: steps[3].if: step "finance" has no input "budget": it has no inputs',
      '2 files checked (1 app, 1 recipe): 0 errors, 3 warnings',
    ]);
  });
});

const REVIEW = `kind: recipe
name: vendor-review
trigger: { type: new_request, app: vendor }
steps:
  - id: owner
    action: assign_task
    to: "{{ record.owner }}"
    title: "Vendor {{ record.name }}"
`;

describe('validate: one run says it all about a task_completed trigger', () => {
  it('names a trigger.task no recipe has although this file, or another of the app, has an error of its own', () => {
    const { lines } = validate({
      'app.yaml': VENDOR,
      'review.yaml': REVIEW,
      'followup.yaml': `kind: recipe
name: vendor-followup
trigger: { type: task_completed, app: vendor, task: ownr }
steps:
  - action: wait
    for: 1 day
  - action: notify
    to: "{{ record.owner }}"
    text: "Decided: {{ trigger.outcome }}"
`,
      'other.yaml': `kind: recipe
name: vendor-other
trigger: { type: new_request, app: vendor }
steps:
  - action: notify
    to: "{{ record.owner }}"
`,
      'reminder.yaml': `kind: recipe
name: vendor-reminder
trigger: { type: task_completed, app: vendor, outcome: Aprove }
steps:
  - action: wait
    for: 2 weeks
`,
    });
    expect(lines).toContain(
      'followup.yaml:3: warning: trigger.task: no recipe of app "vendor" in these files has an assign_task step with id "ownr" (did you mean "owner"?); task ids: owner',
    );
    expect(lines).toContain(
      'followup.yaml:6: steps[0].for: expected a duration: a whole number followed by s, m, h, d or w (did you mean "1d"?)',
    );
    expect(lines).toContain(
      'reminder.yaml:3: warning: trigger.outcome: no task of app "vendor" in these files has the outcome "Aprove" (outcomes: Approve, Reject), so this recipe never starts',
    );
  });

  it('still says nothing of a task that another file has, but with an error that keeps the step from being read', () => {
    const { lines } = validate({
      'app.yaml': VENDOR,
      'review.yaml': `${REVIEW}  - id: legal
    action: assign_task
    to: 42
    title: Legal
    outcomes: [Sign, Refuse]
`,
      'followup.yaml': `kind: recipe
name: vendor-followup
trigger: { type: task_completed, app: vendor, task: legal }
steps:
  - action: stop
`,
      'signed.yaml': `kind: recipe
name: vendor-signed
trigger: { type: task_completed, app: vendor, outcome: Sign }
steps:
  - action: stop
`,
    });
    expect(lines.filter((l) => l.startsWith('followup.yaml') || l.startsWith('signed.yaml'))).toEqual([]);
  });
});

describe('validate: a field type written as other tools name it', () => {
  it('says which type was meant', () => {
    const { lines } = validate({
      'app.yaml': `kind: app
key: intake
name: Intake
stages: [New]
fields:
  - { key: tags, label: Tags, type: multiselect, options: [a, b] }
  - { key: ok, label: OK, type: checkbox }
  - { key: notes, label: Notes, type: textarea }
  - { key: who, label: Who, type: person }
  - { key: size, label: Size, type: dropdown, options: [S, M] }
  - { key: n, label: N, type: integer }
  - { key: odd, label: Odd, type: blob }
`,
    });
    const types = 'text, long_text, number, date, select, multi_select, user, boolean, email, url';
    expect(lines.slice(0, 7)).toEqual([
      `app.yaml:6: fields[0].type: expected one of: ${types} (did you mean "multi_select"?)`,
      `app.yaml:7: fields[1].type: expected one of: ${types} (did you mean "boolean"?)`,
      `app.yaml:8: fields[2].type: expected one of: ${types} (did you mean "long_text"?)`,
      `app.yaml:9: fields[3].type: expected one of: ${types} (did you mean "user"?)`,
      `app.yaml:10: fields[4].type: expected one of: ${types} (did you mean "select"?)`,
      `app.yaml:11: fields[5].type: expected one of: ${types} (did you mean "number"?)`,
      `app.yaml:12: fields[6].type: expected one of: ${types}`,
    ]);
  });
});
