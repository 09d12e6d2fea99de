import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { type AdminPortal, mainOf, signIn, startAdminPortal, textOf } from '../web/admin-kit.js';

/**
 * A step whose expression fails when a request reaches it (a text that is not a number, a
 * blank date): the job fails, and its page and the request's history say why. The message
 * said "Unable to cast value to a number: "abc" (at position 9)", a position in an expression
 * it did not show (which of the step's expressions, or the field's, was left to guess), and a
 * wait on a blank date said `wait "until" gave undefined, not a date`.
 */

const APP = `kind: app
key: calc
name: Calc
stages: [New, Done]
fields:
  - { key: code, label: Code, type: text, required: true }
  - { key: n, label: N, type: number }
  - { key: label, label: Label, type: text }
  - { key: when, label: When, type: date }
`;
const RECIPE = `kind: recipe
name: calc-run
trigger: { type: new_request, app: calc }
steps:
  - id: boom
    action: update_record
    fields:
      label: "{{ $uppercase(record.code) }}"
      n: "{{ $number(record.code) * 2 }}"
  - if: "record.code + 1 > 2"
    then:
      - action: change_stage
        stage: Done
  - id: later
    action: wait
    until: "{{ record.when }}"
`;

describe('a step whose expression fails at run time', () => {
  let portal: AdminPortal | undefined;
  afterEach(async () => {
    await portal?.close();
    portal = undefined;
  });

  async function failedJob(admin: Awaited<ReturnType<typeof signIn>>, request: string) {
    return eventually(async () => {
      const list = await admin.get('/admin/jobs?status=failed');
      const id = [...list.html.matchAll(/href="\/admin\/jobs\/([^"?]+)"/g)]
        .map((m) => m[1]!)
        .find((j) => j.includes(request));
      return id ?? null;
    });
  }

  it('names the expression that failed, on the job page and in the history, and a blank date says what to do', async () => {
    portal = await startAdminPortal({ 'app.yaml': APP, 'recipe.yaml': RECIPE });
    const riley = await signIn(portal.app, 'riley');
    const admin = await signIn(portal.app, 'ada');
    const form = await riley.get('/apps/calc/new');
    const filed = await riley.submit(form, '/apps/calc/new', { code: 'abc', n: '', label: '', when: '' });
    expect(filed.status).toBe(303);
    const request = filed.location!.split('/').pop()!;

    const job = await failedJob(admin, request);
    const page = textOf(mainOf((await admin.get(`/admin/jobs/${job}`)).html));
    expect(page).toContain('Failed at boom');
    expect(page).toContain(
      'Unable to cast value to a number: "abc" (in {{ $number(record.code) * 2 }}, at position 9)',
    );
    const history = textOf(mainOf((await admin.get(`/requests/${request}`)).html));
    expect(history).toContain(
      'The recipe calc-run stopped at step "boom": Unable to cast value to a number: "abc" (in {{ $number(record.code) * 2 }}, at position 9).',
    );
    // The requester reads a plain line (the expression and the rerun are the admins' to act on).
    expect(textOf(mainOf((await riley.get(`/requests/${request}`)).html))).toContain(
      'Something went wrong processing this request; an admin has been told.',
    );

    // The admin fixes the field's expression; the rerun goes on to the condition, which fails next.
    const editor = await admin.get('/admin/recipes/calc-run/edit');
    const fixed = RECIPE.replace('$number(record.code) * 2', '$length(record.code) * 2');
    expect((await admin.submit(editor, '/admin/recipes/save', { yaml: fixed })).status).toBe(303);
    const detail = await admin.get(`/admin/jobs/${job}`);
    expect((await admin.submit(detail, `/admin/jobs/${job}/rerun`)).status).toBe(303);
    await eventually(async () =>
      textOf(mainOf((await admin.get(`/admin/jobs/${job}`)).html)).includes(
        // (a condition is written bare: it is quoted as written, not as a {{ }} template)
        'The left side of the "+" operator must evaluate to a number (in if: record.code + 1 > 2, at position 13)',
      ),
    );

    // Then the wait on a blank date: what gave nothing, and how to wait only when there is a date.
    const again = await admin.get('/admin/recipes/calc-run/edit');
    const fixedIf = fixed.replace('record.code + 1 > 2', '$length(record.code) + 1 > 2');
    expect((await admin.submit(again, '/admin/recipes/save', { yaml: fixedIf })).status).toBe(303);
    expect(
      (await admin.submit(await admin.get(`/admin/jobs/${job}`), `/admin/jobs/${job}/rerun`)).status,
    ).toBe(303);
    const waited = await eventually(async () => {
      const text = textOf(mainOf((await admin.get(`/admin/jobs/${job}`)).html));
      return text.includes('Failed at later') ? text : null;
    });
    expect(waited).toContain(
      'wait "until" {{ record.when }} gave nothing (a blank field?), not a date; to wait only when there is one, put the wait under - if: "$exists(record.when)"',
    );
    expect(waited).not.toContain('undefined');
  });
});
