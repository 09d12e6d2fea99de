import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { type AdminPortal, mainOf, signIn, startAdminPortal, textOf } from './admin-kit.js';

/**
 * Admin → Jobs read as a developer's dump: "Current step" gave a step's id alone ("manager",
 * "if#2"), statuses were the stored lowercase words ("waiting", "failed"), and the job page's
 * step log numbered its rows by the step's position in the compiled recipe (0, 0, 1, 7: the
 * steps of a then branch are counted before its else). The current step now says what it does
 * (and, waiting, what for), statuses read as words, and the log numbers steps 1, 2, 3 in the
 * order the job reached them.
 */
const FILES = {
  'gear.yaml': `
kind: app
key: gear
name: Gear
id_prefix: GEAR
stages: [Submitted, Approved, Rejected]
fields:
  - { key: code, label: Cost code, type: text, required: true }
`,
  'gear-flow.yaml': `
kind: recipe
name: gear-flow
trigger: { type: new_request, app: gear }
steps:
  - id: manager
    action: assign_task
    to: morgan@playground.baton.invalid
    title: Gear order
    outcomes: [Approve, Reject]
  - if: "steps.manager.outcome = 'Approve'"
    then:
      - action: change_stage
        stage: Approved
      - action: notify
        to: "{{ request.requester }}"
        text: Approved
      - action: notify
        to: "{{ request.requester }}"
        text: Ordered
    else:
      - id: costing
        action: update_record
        fields: { code: "{{ $string($number(record.code) * 2) }}" }
`,
};

let portal: AdminPortal | undefined;
afterEach(async () => {
  await portal?.close();
  portal = undefined;
});

const cells = (html: string, col: number) =>
  [...mainOf(html).matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)]
    .map((row) => [...row[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => textOf(c[1]!)))
    .filter((row) => row.length > col)
    .map((row) => row[col]!);

describe('Admin → Jobs in words', () => {
  it('says what the current step does, statuses as words, and numbers the log 1, 2, 3', async () => {
    portal = await startAdminPortal(FILES);
    const { baton, people } = portal;
    const request = await baton.requests.file(people.riley!, 'gear', { code: 'abc' });
    const [task] = await eventually(async () => {
      const tasks = await baton.tasks.listForRequest(request._id);
      return tasks.length === 1 ? tasks : undefined;
    });
    const ada = await signIn(portal.app, 'ada');

    let list = await ada.get('/admin/jobs');
    expect(cells(list.html, 3)).toEqual(['Waiting']);
    expect(cells(list.html, 4)).toEqual([
      'Assign a task manager — waiting for the task “Gear order”, assigned to Morgan Manager',
    ]);
    expect(textOf(mainOf(list.html))).toContain('Any status Running Waiting Completed Failed Stopped');

    await baton.tasks.complete(people.morgan!, task!._id, 'Reject');
    const [job] = await eventually(async () => {
      const failed = await baton.recipes.listJobs(people.ada!, { status: 'failed' });
      return failed.length === 1 ? failed : undefined;
    });
    list = await ada.get('/admin/jobs');
    expect(cells(list.html, 3)).toEqual(['Failed']);
    expect(cells(list.html, 4)).toEqual(['Update the request costing']);

    const page = await ada.get(`/admin/jobs/${job!._id}`);
    const text = textOf(mainOf(page.html));
    expect(text).toContain('Current step Update the request costing');
    // The step log: the condition (no id) by its words, each step numbered in the order run.
    const log = mainOf(page.html).split('id="log-h"')[1]!;
    expect(cells(log, 0)).toEqual(['1', '1', '2', '3']);
    // The condition says which way it went (its stored status is skipped).
    expect(cells(log, 3)).toEqual([
      'Waiting',
      'Completed',
      'Condition false: took the else branch',
      'Failed',
    ]);
    const results = mainOf(page.html).split('id="results-h"')[1]!.split('id="log-h"')[0]!;
    expect(cells(results, 1)).toEqual(['Completed']);
  });
});
