import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TASK_COMMENT_ACTION } from '../../adapters/slack/tasks.js';
import {
  eventually,
  recipesDir,
  seedPeople,
  startTestRuntime,
  type TestRuntime,
} from '../helpers/runtime.js';
import {
  type BlockActionsFixture,
  dm,
  FakeSlackApi,
  fixture,
  linkSlackPeople,
  SLACK,
  startTestSurface,
  type TestSurface,
  type ViewSubmissionFixture,
} from './tasks-harness.js';

/**
 * A task message whose task Baton does not have (a copy from before the data was restored
 * from a backup, or from another Baton on the same Slack app): a click, "with comment" or a
 * submitted task form says so in words a person can act on, never with the raw task id.
 */
describe('Slack: a click or form for a task that no longer exists', () => {
  let rt: TestRuntime;
  let fake: FakeSlackApi;
  let surface: TestSurface;

  beforeEach(async () => {
    fake = new FakeSlackApi();
    await fake.start();
    rt = await startTestRuntime({ recipesDir: recipesDir({}, ['recipes/time-off']) });
    await seedPeople(rt.baton);
    await linkSlackPeople(rt.baton, fake);
    surface = await startTestSurface(rt.baton, fake);
  });
  afterEach(async () => {
    await surface?.stop();
    await rt?.close();
    await fake.stop();
  });

  const blockActions = () => {
    const body = fixture<BlockActionsFixture>('task-block-actions.json');
    body.user.id = SLACK.bob!.id;
    body.channel!.id = dm('bob');
    body.container.channel_id = dm('bob');
    return body;
  };

  it('a button says the task no longer exists and what to do, without its id', async () => {
    const body = blockActions();
    body.actions[0]!.value = JSON.stringify({ task_id: 't_gone', outcome: 'Approve' });
    expect((await surface.interact(body)).status).toBe(200);
    const said = await eventually(async () => fake.of('chat.postEphemeral')[0]);
    expect(said.user).toBe(SLACK.bob!.id);
    expect(String(said.text)).toContain('That task no longer exists in Baton, so nothing was recorded.');
    expect(String(said.text)).toContain('/baton tasks');
    expect(String(said.text)).not.toContain('t_gone');
  });

  it('"with comment" from the overflow menu says the same', async () => {
    const body = blockActions() as unknown as Record<string, unknown>;
    body.actions = [
      {
        type: 'overflow',
        action_id: TASK_COMMENT_ACTION,
        block_id: 'x',
        selected_option: {
          text: { type: 'plain_text', text: 'Approve with comment' },
          value: JSON.stringify({ task_id: 't_gone', i: 0 }),
        },
        action_ts: '1700000042.123456',
      },
    ];
    expect((await surface.interact(body)).status).toBe(200);
    const said = await eventually(async () => fake.of('chat.postEphemeral')[0]);
    expect(String(said.text)).toContain('That task no longer exists in Baton');
    expect(String(said.text)).not.toContain('t_gone');
    expect(fake.of('views.open')).toEqual([]);
  });

  it('a task form submitted for it shows the same on the form', async () => {
    const submission = fixture<ViewSubmissionFixture>('task-view-submission.json');
    submission.user.id = SLACK.bob!.id;
    submission.view.private_metadata = JSON.stringify({ task_id: 't_gone', outcome: 'Reject' });
    const res = await surface.interact(submission);
    expect(res.status).toBe(200);
    const errors = JSON.parse(res.body).errors as Record<string, string>;
    expect(errors.comment).toBe(
      'That task no longer exists in Baton, so nothing was recorded. /baton tasks lists the tasks waiting for you.',
    );
  });
});
