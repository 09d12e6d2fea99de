import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HOME_REQUEST_ACTION } from '../../adapters/slack/home.js';
import type { User } from '../../src/core/types.js';
import {
  eventually,
  recipesDir,
  seedPeople,
  startTestRuntime,
  type TestRuntime,
} from '../helpers/runtime.js';
import {
  type BlockActionsFixture,
  buttonsOf,
  FakeSlackApi,
  fixture,
  linkSlackPeople,
  type Posted,
  SLACK,
  startTestSurface,
  type TestSurface,
} from './tasks-harness.js';

const BROKEN = {
  'broken.yaml': `
kind: app
key: broken
name: Broken
stages: [Submitted, Done]
fields:
  - { key: note, label: Note, type: text }
`,
  'broken-recipe.yaml': `
kind: recipe
name: broken-flow
trigger: { type: new_request, app: broken }
steps:
  - action: change_stage
    stage: "{{ 'No' & 'where' }}"
`,
  'vote.yaml': `
kind: app
key: vote
name: Vote
stages: [Open, Yes, No]
fields:
  - { key: q, label: Question, type: text }
`,
  'vote-recipe.yaml': `
kind: recipe
name: vote-flow
trigger: { type: new_request, app: vote }
steps:
  - id: t
    action: assign_task
    to: group:hr
    title: "Vote: {{ record.q }}"
    outcomes: [Yes, No]
    quorum: { mode: all }
  - action: change_stage
    stage: "{{ steps.t.outcome }}"
`,
};

type HomeView = {
  type: string;
  callback_id: string;
  blocks: Posted['blocks'] & { text?: { text: string } }[];
};

describe('Slack: App Home', () => {
  let rt: TestRuntime;
  let fake: FakeSlackApi;
  let surface: TestSurface;
  let p: Record<string, User>;

  beforeEach(async () => {
    fake = new FakeSlackApi();
    await fake.start();
    rt = await startTestRuntime({ recipesDir: recipesDir(BROKEN, ['recipes/time-off']) });
    p = await seedPeople(rt.baton);
    await linkSlackPeople(rt.baton, fake);
    surface = await startTestSurface(rt.baton, fake);
  });
  afterEach(async () => {
    await surface?.stop();
    await rt?.close();
    await fake.stop();
  });

  const open = (who: string) => {
    const envelope = fixture<{ event: { user: string; channel: string }; event_id: string }>(
      'home-app-home-opened.json',
    );
    envelope.event.user = SLACK[who]!.id;
    envelope.event.channel = `D${SLACK[who]!.id.slice(1)}`;
    envelope.event_id = `Ev${who}${Date.now()}`;
    return surface.event(envelope);
  };
  const published = (who: string) =>
    fake
      .of('views.publish')
      .filter((a) => a.user_id === SLACK[who]!.id)
      .map((a) => a.view as HomeView);
  const text = (v: HomeView) => JSON.stringify(v.blocks);

  it('publishes the viewer’s open tasks (actionable), their requests, and refreshes when they change', async () => {
    await rt.baton.requests.file(p.alice!, 'time-off', {
      start: '2026-12-01',
      days: 2,
      approver: p.bob!._id,
    });
    const [task] = await rt.baton.tasks.listOpenFor(p.bob!);

    expect((await open('bob')).status).toBe(200);
    const bobHome = await eventually(async () => published('bob')[0]);
    expect(bobHome.type).toBe('home');
    expect(text(bobHome)).toContain('Your open tasks (1)');
    expect(text(bobHome)).toContain(task!.title);
    const buttons = buttonsOf(bobHome.blocks);
    expect(buttons.map((b) => b.text?.text)).toEqual(['Approve', 'Reject']);
    expect(JSON.parse(buttons[0]!.value!)).toMatchObject({ task_id: task!._id, outcome: 'Approve' });
    expect(text(bobHome)).not.toContain('Recipes (');

    await open('alice');
    const aliceHome = await eventually(async () => published('alice')[0]);
    expect(text(aliceHome)).toContain('*PTO-1* · Time off — stage *Submitted*');
    expect(text(aliceHome)).toContain('Nothing is waiting for you.');

    // Bob approves from his Home tab (a block_actions whose container is the view).
    const click = fixture<BlockActionsFixture>('home-block-actions.json');
    click.actions[0]!.value = buttons[0]!.value!;
    expect((await surface.interact(click)).status).toBe(200);
    await eventually(async () => (await rt.baton.tasks.load(task!._id))?.status === 'completed');

    // Both homes are refreshed: Bob's without the task, Alice's with the new stage.
    const bobAfter = await eventually(async () =>
      published('bob').find((v) => text(v).includes('Your open tasks (0)')),
    );
    expect(buttonsOf(bobAfter.blocks)).toEqual([]);
    await eventually(async () => published('alice').find((v) => text(v).includes('stage *Approved*')));
  });

  it('debounces refreshes per viewer', async () => {
    await open('alice');
    await eventually(async () => published('alice')[0]);
    for (let i = 0; i < 5; i++) {
      await rt.baton.requests.file(p.alice!, 'time-off', {
        start: '2026-12-01',
        days: 1,
        approver: p.bob!._id,
      });
    }
    const last = await eventually(async () => published('alice').find((v) => text(v).includes('PTO-5')));
    expect(text(last)).toContain('PTO-1');
    // Five filings (and their task events) within the debounce window: far fewer than ten publishes.
    expect(published('alice').length).toBeLessThanOrEqual(4);
  });

  it('admins also see apps and recipe states with counts of failing jobs', async () => {
    await rt.baton.requests.file(p.alice!, 'broken', { note: 'x' });
    await eventually(
      async () => (await rt.baton.recipes.listJobs(p.admin!, { status: 'failed' })).length === 1,
    );
    await open('admin');
    const home = await eventually(async () => published('admin')[0]);
    const t = text(home);
    expect(t).toContain('Apps (3)');
    expect(t).toContain('*Time off* (`time-off`)');
    expect(t).toContain('Recipes (');
    expect(t).toMatch(/\*time-off-approval\* — running/);
    expect(t).toMatch(/\*broken-flow\* — running · 1 failing job/);
    expect(t).not.toMatch(/vote-flow\* — running · /);
  });

  it('admins see the warnings of a recipe assigning to a group that does not exist, until it does', async () => {
    await rt.baton.recipes.installPack(p.admin!, 'expense');
    await open('admin');
    const home = await eventually(async () => published('admin')[0]);
    expect(text(home)).toMatch(/\*expense-approval\* — running · :warning: 2 warnings/);
    await rt.baton.groups.create(p.admin!, 'finance');
    await rt.baton.groups.create(p.admin!, 'finance-directors');
    await open('admin');
    await eventually(async () =>
      published('admin').find((v) => /\*expense-approval\* — running"/.test(text(v))),
    );
  });

  it("an admin's open Home tab refreshes when recipes, apps or failing jobs change", async () => {
    await open('admin');
    await eventually(async () => published('admin').length === 1);
    const latest = () => text(published('admin').at(-1)!);

    await rt.baton.recipes.stop(p.admin!, 'time-off-approval');
    await eventually(async () => /\*time-off-approval\* — stopped/.test(latest()));

    await rt.baton.apps.create(p.admin!, { key: 'trips', name: 'Trips', stages: ['Open'], fields: [] });
    await eventually(async () => latest().includes('*Trips* (`trips`)'));

    await rt.baton.requests.file(p.alice!, 'broken', { note: 'x' });
    await eventually(async () => /\*broken-flow\* — running · 1 failing job/.test(latest()));
  });

  /** A click on a button of the Home tab, as Slack sends it (the container is the view). */
  const clickOnHome = (who: string, button: { action_id?: string; value?: string }) => {
    const click = fixture<BlockActionsFixture>('home-block-actions.json');
    click.user = { id: SLACK[who]!.id, username: who, name: who };
    click.actions[0]!.action_id = button.action_id ?? 'baton:task:0';
    click.actions[0]!.value = button.value!;
    return surface.interact(click);
  };

  it('a click on a Home tab the server has not published since it started (a restart) still refreshes it, saying what became of the click', async () => {
    await rt.baton.requests.file(p.alice!, 'time-off', {
      start: '2026-12-01',
      days: 2,
      approver: p.bob!._id,
    });
    const [task] = await rt.baton.tasks.listOpenFor(p.bob!);
    // Bob's tab was published by an earlier process: this one never saw him open it.
    expect(published('bob')).toEqual([]);
    expect(
      (await clickOnHome('bob', { value: JSON.stringify({ task_id: task!._id, outcome: 'Approve' }) }))
        .status,
    ).toBe(200);
    const after = await eventually(async () => published('bob').at(-1));
    expect(text(after)).toContain('Your open tasks (0)');
    expect(text(after)).toContain('approved by you');
    expect(buttonsOf(after.blocks)).toEqual([]);
    // From now on his tab follows changes, like one he opened.
    await rt.baton.requests.file(p.alice!, 'time-off', {
      start: '2026-12-02',
      days: 1,
      approver: p.bob!._id,
    });
    await eventually(async () => text(published('bob').at(-1)!).includes('Your open tasks (1)'));
  });

  it('a stale Home tab button (the task was decided elsewhere) shows who decided it on the tab, not in the Messages tab', async () => {
    await rt.baton.requests.file(p.alice!, 'time-off', {
      start: '2026-12-01',
      days: 2,
      approver: p.bob!._id,
    });
    const [task] = await rt.baton.tasks.listOpenFor(p.bob!);
    await rt.baton.tasks.complete(p.admin!, task!._id, 'Reject');
    await clickOnHome('bob', { value: JSON.stringify({ task_id: task!._id, outcome: 'Approve' }) });
    const after = await eventually(async () => published('bob').at(-1));
    expect(text(after)).toContain('Already rejected by Ada Admin');
    expect(text(after)).toContain('Your open tasks (0)');
    expect(fake.of('chat.postEphemeral')).toEqual([]);
    // Opening the tab again starts without the note.
    await open('bob');
    await eventually(async () => published('bob').length === 2);
    expect(text(published('bob').at(-1)!)).not.toContain('Already rejected');
  });

  it("a member's answer to a task with a quorum takes it off their open Home tab, wherever they answered", async () => {
    await rt.baton.requests.file(p.alice!, 'vote', { q: 'Offsite?' });
    const task = await eventually(async () => (await rt.baton.tasks.listOpenFor(p.hank!))[0]);
    await open('hank');
    await eventually(async () => text(published('hank').at(-1)!).includes('Offsite?'));
    // Hank answers from his DM copy: his open Home tab drops the task.
    await rt.baton.tasks.complete(p.hank!, task._id, 'Yes');
    await eventually(async () => text(published('hank').at(-1)!).includes('Your open tasks (0)'));
  });

  it('pages the open tasks: 15 a page, with Previous and Next', async () => {
    for (let i = 1; i <= 17; i++)
      await rt.baton.requests.file(p.alice!, 'time-off', {
        start: '2026-12-01',
        days: 1,
        approver: p.bob!._id,
      });
    await open('bob');
    const first = await eventually(async () => published('bob')[0]);
    expect(text(first)).toContain('Your open tasks (17)');
    expect(text(first)).toContain('Tasks 1–15 of 17, oldest first.');
    expect(text(first)).toContain('PTO-15');
    expect(text(first)).not.toContain('PTO-16');
    const next = buttonsOf(first.blocks).find((b) => b.text?.text === 'Next →');
    expect(buttonsOf(first.blocks).some((b) => b.text?.text === '← Previous')).toBe(false);
    await clickOnHome('bob', next!);
    const second = await eventually(async () => published('bob')[1]);
    expect(text(second)).toContain('Tasks 16–17 of 17, oldest first.');
    expect(text(second)).toContain('PTO-17');
    expect(text(second)).not.toContain('PTO-15 ·');
    expect(buttonsOf(second.blocks).map((b) => b.text?.text)).toContain('← Previous');
    expect(buttonsOf(second.blocks).some((b) => b.text?.text === 'Next →')).toBe(false);
    // Deciding both tasks of the last page shows the page before it, not an empty one.
    for (const t of (await rt.baton.tasks.listOpenFor(p.bob!)).slice(15))
      await rt.baton.tasks.complete(p.bob!, t._id, 'Approve');
    await eventually(async () => text(published('bob').at(-1)!).includes('Your open tasks (15)'));
    const last = published('bob').at(-1)!;
    expect(text(last)).toContain('PTO-1 ·');
    expect(text(last)).not.toContain('Tasks 1–15');
  });

  it('"Details" beside a task or a request opens the request in a modal, for those who may see it', async () => {
    await rt.baton.requests.file(p.alice!, 'time-off', {
      start: '2026-12-01',
      days: 2,
      approver: p.bob!._id,
    });
    await open('bob');
    const home = await eventually(async () => published('bob')[0]);
    const details = (home.blocks as { accessory?: { action_id: string; value: string } }[]).find(
      (b) => b.accessory?.action_id === HOME_REQUEST_ACTION,
    )!.accessory!;
    expect(details.value).toBe('PTO-1');
    await clickOnHome('bob', details);
    const modal = await eventually(async () => fake.of('views.open')[0]?.view as HomeView | undefined);
    expect(modal.type).toBe('modal');
    expect(text(modal)).toContain('*PTO-1* · Time off · stage *Submitted*');
    expect(text(modal)).toContain('*Working days:* 2');
    expect(text(modal)).toContain('waiting on Bob Manager');

    // Mallory sends the same button: refused on her Home tab, nothing of the request shown.
    await clickOnHome('mallory', details);
    const refused = await eventually(async () => published('mallory').at(-1));
    expect(text(refused)).toContain("You can't see PTO-1.");
    expect(fake.of('views.open')).toHaveLength(1);
  });
});
