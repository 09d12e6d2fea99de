import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { startPortal } from './harness.js';
import { signedIn, textOf } from './http-client.js';

/**
 * Fields a recipe fills in (`on_form: false`: a PO number, a review date, a security check) are
 * not on the portal's request form; a post that sets one anyway is refused, naming the field
 * (a requester must not certify their own security review); once a recipe sets them, the
 * request page shows them.
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
        fields: { security_cleared: true, reviewed_on: "2026-03-02" }
      - action: change_stage
        stage: Reviewed
`,
};

describe('portal: fields off the request form (on_form: false)', () => {
  let portal: Awaited<ReturnType<typeof startPortal>>;
  beforeAll(async () => {
    portal = await startPortal({ RECIPES_DIR: recipesDir(FILES) });
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('the form has no input for them, a post setting one is refused naming it, and a recipe sets them later', async () => {
    const riley = await signedIn(portal.url, 'riley');
    const form = await riley.get('/apps/vendor/new');
    expect(form.status).toBe(200);
    const names = [...form.body.matchAll(/<(?:input|select|textarea)[^>]* name="([^"]+)"/g)].map((m) => m[1]);
    expect(names.filter((n) => !n!.startsWith('_'))).toEqual(['vendor', 'urgent', 'urgent']);
    expect(textOf(form.body)).not.toMatch(/PO number|Reviewed on|Security cleared|Risk/);

    // A post that sets them anyway: refused, nothing filed.
    const forged = await riley.post('/apps/vendor/new', {
      vendor: 'Acme',
      urgent: 'false',
      security_cleared: 'true',
      po_number: 'MINE-1',
    });
    expect(forged.status).toBe(400);
    const said = textOf(forged.body);
    expect(said).toContain(
      'Security cleared is not filled in when filing: it is not on the request form of Vendor onboarding, and is set later (by its recipes)',
    );
    expect(said).toContain('PO number is not filled in when filing');
    expect(await portal.runtime.baton.requests.load('VEN-1')).toBeNull();
    // The form shown again still asks only what it asks.
    expect(forged.body).not.toMatch(/name="(po_number|security_cleared)"/);

    // The form as the browser sends it (an unticked box is "false").
    const filed = await riley.post('/apps/vendor/new', { vendor: 'Acme', urgent: 'false' });
    expect(filed.status).toBe(303);
    expect(filed.location).toBe('/requests/VEN-1');
    await eventually(async () => (await portal.runtime.baton.requests.load('VEN-1'))?.record.po_number);
    expect((await portal.runtime.baton.requests.load('VEN-1'))!.record).toEqual({
      vendor: 'Acme',
      po_number: 'PO-VEN-1',
      risk: 'Low',
      urgent: false,
    });
    const before = await riley.get('/requests/VEN-1');
    const shown = textOf(before.body);
    expect(shown).toContain('PO number PO-VEN-1');
    expect(shown).not.toContain('Security cleared');

    // The review done, the recipe fills them in and the page shows them.
    const action = /action="(\/tasks\/[^"/]+\/complete)"/.exec(before.body)?.[1];
    expect(action).toBeDefined();
    const done = await riley.post(action!, { outcome: 'Approve' });
    expect(done.status).toBe(303);
    await eventually(async () => (await portal.runtime.baton.requests.load('VEN-1'))?.stage === 'Reviewed');
    const after = textOf((await riley.get('/requests/VEN-1')).body);
    expect(after).toContain('Security cleared Yes');
    expect(after).toMatch(/Reviewed on 2026-03-02/);
  });

  it("the admin's app page says which fields are off the request form", async () => {
    const ada = await signedIn(portal.url, 'ada');
    const page = await ada.get('/admin/apps/vendor');
    expect(page.status).toBe(200);
    const text = textOf(page.body);
    expect(text).toMatch(
      /po_number PO number Text \(one line\) no not on the request form \(set by recipes\)/,
    );
    expect(text).toMatch(
      /risk Risk Choice \(one\) yes not on the request form \(set by recipes\); options: Low, High; default: Low/,
    );
    expect(text).not.toMatch(/vendor Vendor Text \(one line\) yes not on the request form/);
  });

  it('an admin adds a field off the request form from the app page', async () => {
    const ada = await signedIn(portal.url, 'ada');
    const page = await ada.get('/admin/apps/vendor');
    expect(page.body).toContain(
      '<input id="field-on-form" type="checkbox" name="on_form" value="false"> Not on the request form (a recipe fills it in)',
    );
    // Required with nothing to give it at filing: refused, saying what to do.
    const refused = await ada.post('/admin/apps/vendor/fields', {
      key: 'contract_id',
      label: 'Contract id',
      type: 'text',
      required: 'on',
      on_form: 'false',
    });
    expect(refused.status).toBe(400);
    expect(textOf(refused.body)).toContain(
      'required: true asks for a value when the request is filed, but on_form: false keeps the field off the request form',
    );
    const added = await ada.post('/admin/apps/vendor/fields', {
      key: 'contract_id',
      label: 'Contract id',
      type: 'text',
      on_form: 'false',
    });
    expect(added.status).toBe(303);
    const def = await portal.runtime.baton.apps.get('vendor');
    expect(def.fields.find((f) => f.key === 'contract_id')).toMatchObject({ on_form: false });
    const riley = await signedIn(portal.url, 'riley');
    expect((await riley.get('/apps/vendor/new')).body).not.toContain('name="contract_id"');
  });
});
