import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { fakeWebApi, type SlackTestApp, slackFixture, startSlackTestApp } from '../helpers/slack.js';

/**
 * Fields a recipe fills in (`on_form: false`: a PO number, a review date, a security check) are
 * not asked in the /baton new modal: the requester would otherwise fill them in themselves, and
 * an unticked "Security cleared" would read No before anyone reviewed anything.
 */
const FILES = {
  'vendor.yaml': `
kind: app
key: vendor
name: Vendor onboarding
id_prefix: VEN
stages: [Submitted, Reviewed]
fields:
  - { key: vendor, label: Vendor, type: text, required: true }
  - { key: po_number, label: PO number, type: text, on_form: false }
  - { key: reviewed_on, label: Reviewed on, type: date, on_form: false }
  - { key: security_cleared, label: Security cleared, type: boolean, on_form: false }
  - { key: risk, label: Risk, type: select, options: [Low, High], default: Low, required: true, on_form: false }
  - { key: urgent, label: Urgent, type: boolean }
`,
  'vendor-review.yaml': `
kind: recipe
name: vendor-review
trigger: { type: new_request, app: vendor }
steps:
  - action: update_record
    fields: { po_number: "PO-{{ request.id }}" }
  - id: security
    action: assign_task
    to: "{{ request.requester }}"
    title: "Security review of {{ record.vendor }}"
  - if: "steps.security.outcome = 'Approve'"
    then:
      - action: update_record
        fields: { security_cleared: true, reviewed_on: "{{ $now() }}" }
`,
};

type Block = { type: string; block_id?: string; element?: Record<string, unknown> };
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

/** The signed view_submission Slack sends for `view` with these values typed, boxes unticked. */
function submission(view: View, typed: Record<string, string>, id: string) {
  const payload = slackFixture<{ user: Record<string, string>; view: Record<string, unknown> }>(
    'view-submission-request',
  );
  const values: Record<string, Record<string, unknown>> = {};
  for (const b of view.blocks) {
    if (b.type !== 'input' || !b.block_id) continue;
    const type = b.element!.type as string;
    values[b.block_id] = {
      value:
        type === 'checkboxes'
          ? { type, selected_options: [] }
          : type === 'datepicker'
            ? { type, selected_date: typed[b.block_id] ?? null }
            : { type, value: typed[b.block_id] ?? null },
    };
  }
  payload.view = {
    ...payload.view,
    id,
    callback_id: view.callback_id,
    private_metadata: view.private_metadata,
    blocks: view.blocks,
    state: { values },
  };
  return payload;
}

describe('Slack: fields off the request form (on_form: false)', () => {
  it('the /baton new modal has no block for them; filing leaves them to the recipe', async () => {
    t = await startSlackTestApp({ recipesDir: recipesDir(FILES) });
    const calls = fakeWebApi();
    await t.command('new vendor', 'alice');
    const open = await eventually(async () => calls.find((c) => c.method === 'views.open'));
    const view = open.args.view as View;
    const inputs = view.blocks.filter((b) => b.type === 'input').map((b) => b.block_id);
    expect(inputs).toEqual(['vendor', 'urgent']);

    const res = await t.interact(submission(view, { vendor: 'Acme' }, 'V1'));
    expect(res.json()).toEqual({ response_action: 'clear' });
    await t.idle();
    // The recipe's PO number and the default (Risk) are there; nobody reviewed yet: no "Security cleared: No".
    await eventually(async () => (await t!.rt.baton.requests.load('VEN-1'))?.record.po_number);
    expect((await t.rt.baton.requests.load('VEN-1'))!.record).toEqual({
      vendor: 'Acme',
      po_number: 'PO-VEN-1',
      risk: 'Low',
      urgent: false,
    });
  });

  it('a modal opened before a field was taken off the form does not file what it still asked', async () => {
    t = await startSlackTestApp({ recipesDir: recipesDir(FILES) });
    const calls = fakeWebApi();
    await t.command('new vendor', 'alice');
    const open = await eventually(async () => calls.find((c) => c.method === 'views.open'));
    const view = open.args.view as View;
    // As the modal was when PO number and Reviewed on were still on the form.
    const older: View = {
      ...view,
      blocks: [
        ...view.blocks,
        { type: 'input', block_id: 'po_number', element: { type: 'plain_text_input' } },
        { type: 'input', block_id: 'reviewed_on', element: { type: 'datepicker' } },
      ],
    };
    const res = await t.interact(
      submission(older, { vendor: 'Acme', po_number: 'MINE-1', reviewed_on: '2026-01-01' }, 'V2'),
    );
    expect(res.json()).toEqual({ response_action: 'clear' });
    await t.idle();
    await eventually(async () => (await t!.rt.baton.requests.load('VEN-1'))?.record.po_number);
    const record = (await t.rt.baton.requests.load('VEN-1'))!.record;
    expect(record.po_number).toBe('PO-VEN-1');
    expect(record.reviewed_on).toBeUndefined();
  });
});
