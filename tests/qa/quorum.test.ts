import { afterEach, describe, expect, it } from 'vitest';
import type { User } from '../../src/core/types.js';
import { recipesDir, seedPeople, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/** Group tasks with a quorum: every member (all), or a number of them (count), must answer. */

const APP = `
kind: app
key: policy
name: Policy
id_prefix: POL
stages: [Draft, Approved, Rejected]
fields:
  - { key: title, label: Title, type: text, required: true }
`;
const recipe = (quorum: string) => `
kind: recipe
name: policy-board
trigger: { type: new_request, app: policy }
steps:
  - id: board
    action: assign_task
    to: group:board
    title: "Policy: {{ record.title }}"
    outcomes: [Approve, Reject]
    inputs: [{ id: ref, label: Reference, type: text }]
    quorum: ${quorum}
  - if: "steps.board.outcome = 'Approve'"
    then:
      - { action: change_stage, stage: Approved }
    else:
      - { action: change_stage, stage: Rejected }
  - action: notify
    to: "{{ request.requester }}"
    text: "{{ $count(steps.board.responses) }} answers: {{ steps.board.responses.outcome }}"
`;

describe('group tasks with a quorum', () => {
  let rt: TestRuntime;
  let p: Record<string, User>;
  async function start(quorum: string): Promise<void> {
    rt = await startTestRuntime({
      recipesDir: recipesDir({ 'app.yaml': APP, 'board.yaml': recipe(quorum) }),
    });
    p = await seedPeople(rt.baton);
    await rt.baton.groups.create(p.admin!, 'board', 'The board');
    for (const who of ['bob', 'carol', 'hank'])
      await rt.baton.groups.addMember(p.admin!, 'board', p[who]!._id);
  }
  afterEach(async () => {
    await rt?.close();
  });

  it('mode all: the task waits for every member, each answers once, and the request moves when all approved', async () => {
    await start('{ mode: all }');
    const { baton } = rt;
    const r = await baton.requests.file(p.alice!, 'policy', { title: 'Remote work' });
    const [task] = await baton.tasks.listOpenFor(p.bob!);
    const first = await baton.tasks.complete(p.bob!, task!._id, 'Approve');
    expect(first.status).toBe('open');
    await expect(baton.tasks.complete(p.bob!, task!._id, 'Reject')).rejects.toThrow(
      'You already answered Approve on "Policy: Remote work"; the task waits for 2 more responses.',
    );
    // Still open in the other members' inboxes.
    expect((await baton.tasks.listOpenFor(p.carol!)).map((t) => t._id)).toEqual([task!._id]);
    expect((await baton.requests.get(p.alice!, r._id)).stage).toBe('Draft');
    await baton.tasks.complete(p.carol!, task!._id, 'Approve', { comment: 'Fine by me' });
    const done = await baton.tasks.complete(p.hank!, task!._id, 'Approve');
    expect(done).toMatchObject({ status: 'completed', outcome: 'Approve', completed_by: p.hank!._id });
    await expect(baton.tasks.complete(p.hedy!, task!._id, 'Approve')).rejects.toThrow(/can't act/);
    const req = await baton.requests.get(p.alice!, r._id);
    expect(req.stage).toBe('Approved');
    expect(req.history.filter((h) => h.type.startsWith('task_')).map((h) => h.text)).toEqual([
      'Task "Policy: Remote work" assigned to group board',
      'Bob Manager approved "Policy: Remote work" (1 of 3 needed)',
      'Carol Manager approved "Policy: Remote work": Fine by me (2 of 3 needed)',
      'Hank HR approved "Policy: Remote work"',
    ]);
    expect(req.history.find((h) => h.type === 'notified')!.text).toBe(
      'Notified Alice Requester: 3 answers: Approve, Approve, Approve',
    );
  });

  it("a member's open tasks leave out those they answered before the limit applies (the list came up short)", async () => {
    await start('{ mode: all }');
    const { baton } = rt;
    for (const title of ['One', 'Two', 'Three']) await baton.requests.file(p.alice!, 'policy', { title });
    const open = await baton.tasks.listOpenFor(p.bob!);
    expect(open.map((t) => t.title)).toEqual(['Policy: One', 'Policy: Two', 'Policy: Three']);
    await baton.tasks.complete(p.bob!, open[0]!._id, 'Approve');
    await baton.tasks.complete(p.bob!, open[1]!._id, 'Approve');
    expect((await baton.tasks.listOpenFor(p.bob!, { limit: 1 })).map((t) => t.title)).toEqual([
      'Policy: Three',
    ]);
    expect((await baton.tasks.listOpenFor(p.carol!, { limit: 2 })).map((t) => t.title)).toEqual([
      'Policy: One',
      'Policy: Two',
    ]);
  });

  it("a member's answer that does not decide yet records what they typed into the task's inputs", async () => {
    await start('{ mode: count, count: 2 }');
    const { baton } = rt;
    const r = await baton.requests.file(p.alice!, 'policy', { title: 'Badges' });
    const [task] = await baton.tasks.listOpenFor(p.bob!);
    await baton.tasks.complete(p.bob!, task!._id, 'Approve', { inputs: { ref: 'N-1' } });
    const history = (await baton.requests.get(p.alice!, r._id)).history;
    expect(history.find((h) => h.type === 'task_response')!.text).toBe(
      'Bob Manager approved "Policy: Badges" (Reference: N-1; 1 of 2 needed)',
    );
  });

  it('mode all: the first member to reject decides at once', async () => {
    await start('{ mode: all }');
    const { baton } = rt;
    const r = await baton.requests.file(p.alice!, 'policy', { title: 'Four-day week' });
    const [task] = await baton.tasks.listOpenFor(p.bob!);
    await baton.tasks.complete(p.bob!, task!._id, 'Approve');
    const done = await baton.tasks.complete(p.carol!, task!._id, 'Reject');
    expect(done).toMatchObject({ status: 'completed', outcome: 'Reject', completed_by: p.carol!._id });
    expect((await baton.requests.get(p.alice!, r._id)).stage).toBe('Rejected');
    await expect(baton.tasks.complete(p.hank!, task!._id, 'Approve')).rejects.toThrow(
      /^Already rejected by Carol Manager at /,
    );
  });

  it('mode count: two approvals decide; members answering at the same moment are each counted once', async () => {
    await start('{ mode: count, count: 2 }');
    const { baton } = rt;
    const r = await baton.requests.file(p.alice!, 'policy', { title: 'Hot desks' });
    const [task] = await baton.tasks.listOpenFor(p.bob!);
    const results = await Promise.allSettled([
      baton.tasks.complete(p.bob!, task!._id, 'Approve'),
      baton.tasks.complete(p.carol!, task!._id, 'Approve'),
      baton.tasks.complete(p.hank!, task!._id, 'Approve'),
    ]);
    const statuses = results.map((x) => (x.status === 'fulfilled' ? x.value.status : x.reason.message));
    expect(statuses.filter((s) => s === 'open')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'completed')).toHaveLength(1);
    expect(statuses.filter((s) => /^Already approved by/.test(s))).toHaveLength(1);
    const req = await baton.requests.get(p.alice!, r._id);
    expect(req.stage).toBe('Approved');
    const stored = await baton.tasks.get(p.admin!, task!._id);
    expect(stored.responses).toHaveLength(2);
  });

  it('an admin who is not a member decides at once (recorded as admin)', async () => {
    await start('{ mode: all }');
    const { baton } = rt;
    const r = await baton.requests.file(p.alice!, 'policy', { title: 'Dress code' });
    const [task] = await baton.tasks.listOpenFor(p.bob!);
    await baton.tasks.complete(p.bob!, task!._id, 'Approve');
    const done = await baton.tasks.complete(p.admin!, task!._id, 'Reject');
    expect(done).toMatchObject({ status: 'completed', outcome: 'Reject', completed_as: 'admin' });
    expect((await baton.requests.get(p.alice!, r._id)).stage).toBe('Rejected');
  });

  it('mode all: a member removed after answering no longer counts (the task read "3 of 2 responses" and closed a member early)', async () => {
    await start('{ mode: all }');
    const { baton } = rt;
    const r = await baton.requests.file(p.alice!, 'policy', { title: 'Parking' });
    const [task] = await baton.tasks.listOpenFor(p.bob!);
    await baton.tasks.complete(p.bob!, task!._id, 'Approve');
    await baton.groups.removeMember(p.admin!, 'board', p.bob!._id);
    await baton.tasks.complete(p.carol!, task!._id, 'Approve');
    // Bob's answer no longer counts: the task still waits for Hank, and says so.
    const view = await baton.views.task(task!._id);
    expect(view.task.progress_text).toBe(
      'Approved by Bob Manager and Carol Manager — 1 of 2 responses, waiting for Hank HR',
    );
    await expect(baton.tasks.complete(p.carol!, task!._id, 'Reject')).rejects.toThrow(
      'You already answered Approve on "Policy: Parking"; the task waits for 1 more response.',
    );
    expect((await baton.requests.get(p.alice!, r._id)).stage).toBe('Draft');
    const done = await baton.tasks.complete(p.hank!, task!._id, 'Approve');
    expect(done).toMatchObject({ status: 'completed', outcome: 'Approve' });
    expect((await baton.requests.get(p.alice!, r._id)).stage).toBe('Approved');
  });
});
