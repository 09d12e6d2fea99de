import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { type AdminPortal, mainOf, signIn, startAdminPortal, textOf } from './admin-kit.js';

/**
 * When a recipe step failed, the request page showed everyone who may see the request what
 * only an admin can act on: the error with the expression's source, the job id and "admin jobs
 * rerun j_…". The requester and the approver now read one plain line; admins (and operators,
 * who rerun jobs) keep the detail.
 */
const FILES = {
  'gear.yaml': `
kind: app
key: gear
name: Gear
id_prefix: GEAR
stages: [Submitted, Approved]
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
  - id: costing
    action: update_record
    fields: { code: "{{ $string($number(record.code) * 2) }}" }
`,
};

const PLAIN = 'Something went wrong processing this request; an admin has been told.';

let portal: AdminPortal | undefined;
afterEach(async () => {
  await portal?.close();
  portal = undefined;
});

describe('a failed recipe in the request history', () => {
  it('reads as one plain line for the requester and the approver, in full for admins', async () => {
    portal = await startAdminPortal(FILES);
    const { baton, people } = portal;
    const request = await baton.requests.file(people.riley!, 'gear', { code: 'abc' });
    const [task] = await eventually(async () => {
      const tasks = await baton.tasks.listForRequest(request._id);
      return tasks.length === 1 ? tasks : undefined;
    });
    await baton.tasks.complete(people.morgan!, task!._id, 'Approve');
    const [job] = await eventually(async () => {
      const failed = await baton.recipes.listJobs(people.ada!, { status: 'failed' });
      return failed.length === 1 ? failed : undefined;
    });

    for (const slug of ['riley', 'morgan']) {
      const page = textOf(
        mainOf((await (await signIn(portal.app, slug)).get(`/requests/${request._id}`)).html),
      );
      expect(page).toContain(PLAIN);
      expect(page).not.toContain('rerun');
      expect(page).not.toContain(job!._id);
      expect(page).not.toContain('$number');
    }
    const admin = textOf(
      mainOf((await (await signIn(portal.app, 'ada')).get(`/requests/${request._id}`)).html),
    );
    expect(admin).toContain(
      `The recipe gear-flow stopped at step "costing": Unable to cast value to a number: "abc" (in {{ $string($number(record.code) * 2) }}`,
    );
    expect(admin).toContain(`"admin jobs rerun ${job!._id}"`);
    expect(admin).not.toContain(PLAIN);
  });
});
