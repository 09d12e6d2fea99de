import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { SLACK_TEST_API_URL, type SlackTestApp, slackFixture, startSlackTestApp } from '../helpers/slack.js';

const API = SLACK_TEST_API_URL.replace(/\/api\/$/, '');

const APP = {
  'laptop.yaml': `
kind: app
key: laptop
name: Laptop
id_prefix: LAPTOP
stages: [Asked, Done]
fields:
  - { key: model, label: Model, type: text, required: true }
  - { key: backup, label: Keep a backup, type: boolean, default: true }
  - { key: policy, label: I read the policy, type: boolean, required: true, default: true }
  - { key: urgent, label: Urgent, type: boolean }
`,
};

type Block = { type: string; block_id?: string; optional?: boolean; element?: Record<string, unknown> };
type View = { callback_id: string; private_metadata: string; blocks: Block[] };

let t: SlackTestApp | undefined;
beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterEach(async () => {
  await t?.close();
  t = undefined;
  nock.cleanAll();
});
afterAll(() => nock.enableNetConnect());

/** A box ticked by default (`default: true`) must be untickable in the Slack request modal. */
describe('Slack: boolean fields in the request modal', () => {
  async function openModal(): Promise<View> {
    const views: View[] = [];
    nock(API)
      .post('/api/views.open', (body: Record<string, string>) => {
        views.push(JSON.parse(body.view!) as View);
        return true;
      })
      .reply(200, { ok: true, view: { id: 'V1' } });
    await t!.command('new laptop', 'alice');
    await eventually(async () => views[0]);
    return views[0]!;
  }

  /** The view_submission Slack sends for `view` with these checkboxes ticked (others unticked). */
  function submission(view: View, model: string, ticked: string[]) {
    const payload = slackFixture<{ user: Record<string, string>; view: Record<string, unknown> }>(
      'view-submission-request',
    );
    const values: Record<string, Record<string, unknown>> = {};
    for (const b of view.blocks) {
      if (b.type !== 'input' || !b.block_id) continue;
      const element = b.element!;
      values[b.block_id] = {
        value:
          element.type === 'checkboxes'
            ? {
                type: 'checkboxes',
                selected_options: ticked.includes(b.block_id) ? (element.options as unknown[]) : [],
              }
            : { type: element.type, value: model },
      };
    }
    payload.view = {
      ...payload.view,
      callback_id: view.callback_id,
      private_metadata: view.private_metadata,
      blocks: view.blocks,
      state: { values },
    };
    return payload;
  }

  it('unticking records false, even on a required field; a box left ticked records true', async () => {
    t = await startSlackTestApp({ recipesDir: recipesDir(APP) });
    nock(API).persist().post('/api/chat.postMessage').reply(200, { ok: true, channel: 'D0ALICE', ts: '1.2' });
    const view = await openModal();
    const boxes = view.blocks.filter((b) => b.element?.type === 'checkboxes');
    expect(
      boxes.map((b) => [b.block_id, b.optional, (b.element!.initial_options as unknown[])?.length ?? 0]),
    ).toEqual([
      ['backup', true, 1],
      // Slack refuses a required checkbox input left unticked: a boolean is never a required input.
      ['policy', true, 1],
      ['urgent', true, 0],
    ]);

    const off = await t.interact(submission(view, 'X1', []));
    expect(off.json()).toEqual({ response_action: 'clear' });
    // Another view (one view files one request).
    const again = submission(view, 'X2', ['backup', 'policy']);
    const on = await t.interact({ ...again, view: { ...again.view, id: 'V2' } });
    expect(on.json()).toEqual({ response_action: 'clear' });
    await t.idle();
    expect((await t.rt.baton.requests.load('LAPTOP-1'))!.record).toEqual({
      model: 'X1',
      backup: false,
      policy: false,
      urgent: false,
    });
    expect((await t.rt.baton.requests.load('LAPTOP-2'))!.record).toEqual({
      model: 'X2',
      backup: true,
      policy: true,
      urgent: false,
    });
  });
});
