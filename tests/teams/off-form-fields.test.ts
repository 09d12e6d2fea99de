import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { cardOf, executeActions, startTeamsTestApp, type TeamsTestApp } from '../helpers/teams.js';

/**
 * Fields a recipe fills in (`on_form: false`) are not asked on the Teams request form: no input,
 * and a submit carrying one anyway (a card posted before the field was taken off the form) does
 * not file it.
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
`,
};

type Input = Record<string, unknown> & { id: string; type: string };

describe('Teams: fields off the request form (on_form: false)', () => {
  let t: TeamsTestApp;
  beforeEach(async () => {
    t = await startTeamsTestApp({ recipesDir: recipesDir(FILES) });
    await t.install('alice');
  });
  afterEach(async () => {
    await t.close();
  });

  async function openForm(): Promise<Record<string, unknown>> {
    await t.say('alice', 'new vendor');
    await t.idle();
    return cardOf(t.connector.posts(t.people.alice!.conversationId).at(-1)!.body);
  }

  it('the form card has no input for them; filing leaves them to the recipe', async () => {
    const form = await openForm();
    const inputs = (form.body as Input[]).filter((e) => e.type?.startsWith('Input.')).map((e) => e.id);
    expect(inputs).toEqual(['vendor', 'urgent']);
    expect(JSON.stringify(form)).not.toMatch(/PO number|Reviewed on|Security cleared|Risk/);

    const submit = executeActions(form)[0]!;
    const res = await t.execute('alice', submit.verb, { ...submit.data, vendor: 'Acme', urgent: 'false' });
    expect(JSON.stringify(res.json())).toContain('Request VEN-1 filed');
    await eventually(async () => (await t.rt.baton.requests.load('VEN-1'))?.record.po_number);
    // No "Security cleared: No" before anyone reviewed; the default of Risk applies.
    expect((await t.rt.baton.requests.load('VEN-1'))!.record).toEqual({
      vendor: 'Acme',
      po_number: 'PO-VEN-1',
      risk: 'Low',
      urgent: false,
    });
  });

  it('a submit that carries such a field anyway does not file it', async () => {
    const form = await openForm();
    const submit = executeActions(form)[0]!;
    const res = await t.execute('alice', submit.verb, {
      ...submit.data,
      vendor: 'Acme',
      po_number: 'MINE-1',
      security_cleared: 'true',
      risk: 'High',
    });
    expect(JSON.stringify(res.json())).toContain('Request VEN-1 filed');
    await eventually(async () => (await t.rt.baton.requests.load('VEN-1'))?.record.po_number);
    expect((await t.rt.baton.requests.load('VEN-1'))!.record).toEqual({
      vendor: 'Acme',
      po_number: 'PO-VEN-1',
      risk: 'Low',
      urgent: false,
    });
  });
});
