import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
    expect(t).toContain('Apps (2)');
    expect(t).toContain('*Time off* (`time-off`)');
    expect(t).toContain('Recipes (');
    expect(t).toMatch(/\*time-off-approval\* — running/);
    expect(t).toMatch(/\*broken-flow\* — running · 1 failing job/);
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
});
