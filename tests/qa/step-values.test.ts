import { afterEach, describe, expect, it } from 'vitest';
import type { User } from '../../src/core/types.js';
import { loadDirectory } from '../../src/recipes/loader.js';
import {
  eventually,
  recipesDir,
  seedPeople,
  startTestRuntime,
  type TestRuntime,
} from '../helpers/runtime.js';

/** What recipe steps make of the values their templates give, as a recipe author sees it. */

const APP = `
kind: app
key: trip
name: Trip
id_prefix: TRIP
stages: [New, Booked, Done]
fields:
  - { key: approver, label: Approver, type: user }
  - { key: nights, label: Nights, type: number, min: 1, max: 30 }
  - { key: cities, label: Cities, type: multi_select, options: [Oslo, Rome, Lima] }
  - { key: summary, label: Summary, type: text }
  - { key: notes, label: Notes, type: long_text }
  - { key: back, label: Back on, type: date }
  - { key: fare, label: Fare, type: select, options: [{ value: eco, label: Economy }, { value: biz, label: Business }] }
`;

describe('recipe step values', () => {
  let rt: TestRuntime;
  let p: Record<string, User>;

  async function start(recipe: string): Promise<void> {
    rt = await startTestRuntime({ recipesDir: recipesDir({ 'app.yaml': APP, 'recipe.yaml': recipe }) });
    p = await seedPeople(rt.baton);
  }

  afterEach(async () => {
    await rt?.close();
  });

  it("renders a stop step's reason like any text, so the job shows it filled in", async () => {
    await start(`
kind: recipe
name: trip-flow
trigger: { type: new_request, app: trip }
steps:
  - action: stop
    reason: "{{ record.nights }} nights for {{ requester.name }} need no approval"
`);
    await rt.baton.requests.file(p.alice!, 'trip', { nights: 2 });
    const [job] = await rt.baton.recipes.listJobs(p.admin!);
    expect(job!.status).toBe('completed');
    expect(job!.stop_reason).toBe('2 nights for Alice Requester need no approval');
  });

  it('assigns a task to the one person of a list written around a template, and refuses a list of several at load', async () => {
    await start(`
kind: recipe
name: trip-flow
trigger: { type: new_request, app: trip }
steps:
  - id: ok
    action: assign_task
    to: ["{{ record.approver }}"]
    title: "Trip of {{ record.nights }} nights"
`);
    const r = await rt.baton.requests.file(p.alice!, 'trip', { approver: 'bob@example.com', nights: 2 });
    const [job] = await rt.baton.recipes.listJobs(p.admin!);
    expect(job!.error?.message).toBeUndefined();
    expect(job!.status).toBe('waiting');
    const [task] = await rt.baton.tasks.listOpenFor(p.bob!);
    expect(task).toMatchObject({ request_id: r._id, title: 'Trip of 2 nights' });

    const two = `kind: recipe
name: trip-two
trigger: { type: new_request, app: trip }
steps:
  - action: assign_task
    to: ["{{ record.approver }}", group:hr]
    title: Check
`;
    const { problems } = await loadDirectory(recipesDir({ 'app.yaml': APP, 'two.yaml': two }));
    expect(problems.map((x) => `${x.line}: ${x.severity}: ${x.message}`)).toEqual([
      '6: error: steps[0].to: a task has one assignee, a person or group:<name> (this lists 2); to let any of several people decide, assign it to a group',
    ]);
  });

  it('fills in the templates inside a list an update_record step sets (a multi-select), at load and at run time', async () => {
    const recipe = `
kind: recipe
name: trip-flow
trigger: { type: new_request, app: trip }
steps:
  - action: update_record
    fields:
      cities: [Oslo, "{{ record.nights > 5 ? 'Rome' : 'Lima' }}"]
`;
    const { problems } = await loadDirectory(recipesDir({ 'app.yaml': APP, 'recipe.yaml': recipe }));
    expect(problems).toEqual([]);
    await start(recipe);
    const r = await rt.baton.requests.file(p.alice!, 'trip', { nights: 7 });
    const [job] = await rt.baton.recipes.listJobs(p.admin!);
    expect(job!.error?.message).toBeUndefined();
    expect((await rt.baton.requests.get(p.alice!, r._id)).record.cities).toEqual(['Oslo', 'Rome']);
  });

  it('gives a text field the text of a number or list a template computed, and a date field the date of a date and time', async () => {
    const recipe = `
kind: recipe
name: trip-flow
trigger: { type: new_request, app: trip }
steps:
  - action: update_record
    fields:
      summary: "{{ record.nights }}"
      notes: "{{ record.cities }}"
      back: "{{ $fromMillis($toMillis('2026-03-01') + record.nights * 86400000) }}"
  - action: update_record
    fields:
      summary: 42
`;
    const { problems } = await loadDirectory(recipesDir({ 'app.yaml': APP, 'recipe.yaml': recipe }));
    expect(problems).toEqual([]);
    await start(recipe);
    const r = await rt.baton.requests.file(p.alice!, 'trip', { nights: 3, cities: ['Oslo', 'Rome'] });
    const [job] = await rt.baton.recipes.listJobs(p.admin!);
    expect(job!.error?.message).toBeUndefined();
    const done = await rt.baton.requests.get(p.alice!, r._id);
    expect(done.record).toMatchObject({ summary: '42', notes: 'Oslo, Rome', back: '2026-03-04' });
    expect(done.history.filter((h) => h.type === 'field_changed').map((h) => h.text)).toEqual([
      'Summary changed from — to 3',
      'Notes changed from — to Oslo, Rome',
      'Back on changed from — to 2026-03-04',
      'Summary changed from 3 to 42',
    ]);
  });

  it('shows people by name, not by their Baton id, in task titles, instructions, notifications and stop reasons', async () => {
    await start(`
kind: recipe
name: trip-flow
trigger: { type: new_request, app: trip }
steps:
  - id: manager
    action: assign_task
    to: "{{ record.approver }}"
    title: "Trip for {{ requester.name }}, approver {{ record.approver }}"
    instructions: "Filed by {{ request.requester }}"
  - action: notify
    to: "{{ request.requester }}"
    text: "{{ steps.manager.outcome }} by {{ steps.manager.completed_by }}"
  - action: stop
    reason: "decided by {{ steps.manager.completed_by }}"
`);
    const r = await rt.baton.requests.file(p.alice!, 'trip', { approver: 'bob@example.com', nights: 2 });
    const [task] = await rt.baton.tasks.listOpenFor(p.bob!);
    expect(task).toMatchObject({
      title: 'Trip for Alice Requester, approver Bob Manager',
      instructions: 'Filed by Alice Requester',
    });
    await rt.baton.tasks.complete(p.bob!, task!._id, 'Approve');
    const done = await rt.baton.requests.get(p.alice!, r._id);
    expect(done.history.find((h) => h.type === 'notified')!.text).toBe(
      'Notified Alice Requester: Approve by Bob Manager',
    );
    const [job] = await rt.baton.recipes.listJobs(p.admin!);
    expect(job!.stop_reason).toBe('decided by Bob Manager');
    // Where a person is meant, the id stays: the record keeps it, and the task went to Bob.
    expect(done.record.approver).toBe(p.bob!._id);
  });

  it('waits until a time computed in milliseconds ($toMillis), as it does for a date', async () => {
    await start(`
kind: recipe
name: trip-flow
trigger: { type: new_request, app: trip }
steps:
  - action: wait
    until: "{{ $toMillis(now) + 1000 }}"
  - action: change_stage
    stage: Done
`);
    const r = await rt.baton.requests.file(p.alice!, 'trip', { nights: 1 });
    const [job] = await rt.baton.recipes.listJobs(p.admin!);
    expect(job!.error?.message).toBeUndefined();
    expect(job!.status).toBe('waiting');
    await eventually(async () => (await rt.baton.requests.get(p.alice!, r._id)).stage === 'Done');
  });

  it("records what the approver typed into a task's inputs in the request's history", async () => {
    await start(`
kind: recipe
name: trip-flow
trigger: { type: new_request, app: trip }
steps:
  - id: book
    action: assign_task
    to: "{{ record.approver }}"
    title: Book the trip
    outcomes: [Booked, Cannot]
    inputs:
      - { id: ref, label: Booking reference, required_for: [Booked] }
      - { id: hotel, label: Hotel }
`);
    const r = await rt.baton.requests.file(p.alice!, 'trip', { approver: 'bob@example.com', nights: 2 });
    const [task] = await rt.baton.tasks.listOpenFor(p.bob!);
    await rt.baton.tasks.complete(p.bob!, task!._id, 'Booked', {
      comment: 'All set',
      inputs: { ref: 'XK-42', hotel: 'Grand' },
    });
    const entry = (await rt.baton.requests.get(p.alice!, r._id)).history.find(
      (h) => h.type === 'task_completed',
    )!;
    expect(entry.text).toBe(
      'Bob Manager answered "Booked" on "Book the trip": All set (Booking reference: XK-42; Hotel: Grand)',
    );
    expect(entry.data).toMatchObject({ outcome: 'Booked', inputs: { ref: 'XK-42', hotel: 'Grand' } });
  });

  it('says nobody was notified when the group has no members, instead of "Notified : ..."', async () => {
    await start(`
kind: recipe
name: trip-flow
trigger: { type: new_request, app: trip }
steps:
  - action: notify
    to: group:travel
    text: "New trip {{ request.id }}"
`);
    await rt.baton.groups.create(p.admin!, 'travel', 'Travel desk');
    const r = await rt.baton.requests.file(p.alice!, 'trip', { nights: 2 });
    const entry = (await rt.baton.requests.get(p.alice!, r._id)).history.find((h) => h.type === 'notified')!;
    expect(entry.text).toBe(`Notified nobody: group travel has no members (New trip ${r._id})`);
  });

  it('names people and option labels in the history of fields a recipe changed, not ids and stored values', async () => {
    await start(`
kind: recipe
name: trip-flow
trigger: { type: new_request, app: trip }
steps:
  - id: check
    action: assign_task
    to: "{{ record.approver }}"
    title: Check
  - action: update_record
    fields:
      approver: "{{ steps.check.completed_by = request.requester ? request.requester : 'carol@example.com' }}"
      fare: biz
`);
    const r = await rt.baton.requests.file(p.alice!, 'trip', { approver: 'bob@example.com', fare: 'eco' });
    const [task] = await rt.baton.tasks.listOpenFor(p.bob!);
    await rt.baton.tasks.complete(p.bob!, task!._id, 'Approve');
    const done = await rt.baton.requests.get(p.alice!, r._id);
    expect(done.record).toMatchObject({ approver: p.carol!._id, fare: 'biz' });
    expect(done.history.filter((h) => h.type === 'field_changed').map((h) => h.text)).toEqual([
      'Approver changed from Bob Manager to Carol Manager',
      'Fare changed from Economy to Business',
    ]);
  });
});
