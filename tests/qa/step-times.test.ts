import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/runtime.js';
import { type AdminPortal, mainOf, signIn, startAdminPortal, textOf } from '../web/admin-kit.js';

/**
 * The times of a decided task in a recipe's expressions (`steps.<id>.completed_at`, and the
 * `at` of each member's answer under a quorum) are ISO 8601 text, as the README says and as
 * `now` and `request.created_at` are. They reached JSONata as Date objects: a text showed the
 * time in JSON quotes (`at "2026-12-05T06:58:58.815Z"`), and `$toMillis()` or a comparison
 * with `now` failed the job.
 */

const APP = `kind: app
key: buy
name: Buy
stages: [New, Done]
fields:
  - { key: approver, label: Approver, type: user, required: true }
  - { key: item, label: Item, type: text, required: true }
  - { key: notes, label: Notes, type: long_text }
`;
const RECIPE = `kind: recipe
name: buy-flow
trigger: { type: new_request, app: buy }
steps:
  - id: manager
    action: assign_task
    to: "{{ record.approver }}"
    title: "Buy {{ record.item }}"
  - id: board
    action: assign_task
    to: group:finance
    title: "Board: {{ record.item }}"
    quorum: { mode: all }
  - action: update_record
    fields:
      notes: "Decided at {{ steps.manager.completed_at }}; board at {{ steps.board.responses[0].at }}"
  - if: "$toMillis(steps.manager.completed_at) <= $toMillis(now) and steps.manager.completed_at <= now"
    then:
      - action: change_stage
        stage: Done
`;

describe('the times of decided tasks in expressions', () => {
  let portal: AdminPortal | undefined;
  afterEach(async () => {
    await portal?.close();
    portal = undefined;
  });

  it('are ISO 8601 text: shown as such in a text, usable with $toMillis and in comparisons with now', async () => {
    portal = await startAdminPortal({ 'app.yaml': APP, 'recipe.yaml': RECIPE });
    const riley = await signIn(portal.app, 'riley');
    const form = await riley.get('/apps/buy/new');
    const filed = await riley.submit(form, '/apps/buy/new', {
      approver: portal.people.morgan!._id,
      item: 'Desk',
      notes: '',
    });
    expect(filed.status).toBe(303);
    const request = filed.location!;

    const decide = async (slug: string) => {
      const person = await signIn(portal!.app, slug);
      const page = await eventually(async () => {
        const p = await person.get(request);
        return /\/tasks\/[^"]+\/complete/.test(p.html) ? p : null;
      });
      const action = /action="(\/tasks\/[^"]+\/complete)"/.exec(mainOf(page.html))![1]!;
      const done = await person.submit(page, action, { outcome: 'Approve' });
      expect(done.status).toBe(303);
    };
    await decide('morgan');
    await decide('fiona');

    const page = await eventually(async () => {
      const text = textOf(mainOf((await riley.get(request)).html));
      // (a failed step is the end: no need to wait out the deadline)
      return /Stage changed from New to Done|stopped at step/.test(text) ? text : null;
    });
    expect(page).not.toContain('stopped at step');
    expect(page).toMatch(
      /Decided at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z; board at \d{4}-\d\d-\d\dT[\d:.]+Z/,
    );
    expect(page).not.toContain('"20');
  });
});
