/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, recipesDir } from '../helpers/runtime.js';
import { launchChromium, type Portal, signInAs, startPortal } from './harness.js';

const FILES = {
  'laptop.yaml': `
kind: app
key: laptop
name: Laptop order
id_prefix: LAP
stages: [Requested, Approved, Cancelled]
fields:
  - { key: model, label: Model, type: select, options: [{ value: mbp, label: MacBook Pro }, { value: tp, label: ThinkPad X1 }], required: true }
  - { key: title, label: Short title, type: text, required: true }
  - { key: urgent, label: Urgent, type: boolean }
`,
  'laptop-flow.yaml': `
kind: recipe
name: laptop-flow
trigger: { type: new_request, app: laptop }
steps:
  - id: manager
    action: assign_task
    to: morgan@playground.baton.invalid
    title: "Laptop for {{ requester.name }}"
    outcomes: [Approve, Reject]
    inputs: [{ id: note, label: Note to IT, type: long_text }]
  - id: tag
    action: update_record
    fields: { title: "{{ record.title & ' (approved)' }}", model: tp, urgent: true }
  - id: tell
    action: notify
    to: "{{ request.requester }}"
    text: "Your laptop was approved"
  - id: moved
    action: change_stage
    stage: Approved
  - id: cooling
    action: wait
    for: 2d
`,
};

/**
 * The job page (Admin → Jobs → a job) was written for developers: "waiting until
 * 2026-12-05T11:20:22.422Z", "waiting for task t_LAP-1_…", step values as JSON
 * ({"title":"…","model":"tp"}, ["u_…"]), actions as recipe keys (assign_task), the app by its key,
 * and a task's inputs not at all. It now reads as the rest of the portal: times in the reader's
 * zone, the task by its title and assignee, values by field label and person's name, actions in words.
 */
describe('the job page reads for people, in Chromium', { timeout: 90_000 }, () => {
  let portal: Portal;
  let browser: Browser;

  beforeAll(async () => {
    portal = await startPortal({ RECIPES_DIR: recipesDir(FILES) });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await portal?.close();
  });

  it('shows the wait, the task, values and actions in words', async () => {
    const { page, context, errors } = await signInAs(browser, portal.url, 'Ada Admin', {
      timezoneId: 'America/New_York',
      locale: 'en-US',
    });
    const { baton } = portal.runtime;
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const morgan = (await baton.users.lookup('morgan@playground.baton.invalid'))!;
    const request = await baton.requests.file(riley, 'laptop', { model: 'mbp', title: 'New laptop' });
    const [task] = await eventually(async () => {
      const tasks = await baton.tasks.listForRequest(request._id);
      return tasks.length === 1 ? tasks : null;
    });
    const ada = (await baton.users.lookup('ada@playground.baton.invalid'))!;
    const [job] = await baton.recipes.listJobs(ada, { limit: 5 });

    // Waiting on the task: its title and who it is assigned to, not its id.
    await page.goto(`${portal.url}/admin/jobs/${job!._id}`);
    // The text as shown (the page's <style> and the cells kept apart), as a person reads it.
    const shown = async () =>
      // biome-ignore lint/performance/useDomNodeTextContent: innerText is the text as shown
      (await page.locator('main').innerText()).replace(/\s+/g, ' ');
    let main = await shown();
    expect(main).toContain('Request LAP-1 (Laptop order)');
    expect(main).toContain('waiting for the task “Laptop for Riley Requester”, assigned to Morgan Manager');
    expect(main).not.toContain(task!._id);

    await baton.tasks.complete(morgan, task!._id, 'Approve', { inputs: { note: 'Add a dock' } });
    await eventually(async () => (await baton.recipes.getJob(ada, job!._id)).waiting?.kind === 'timer');
    await page.goto(`${portal.url}/admin/jobs/${job!._id}`);
    main = await shown();
    // The wait's end is a time in the reader's zone, like every other time on the page.
    expect(main).toMatch(/waiting until \w{3} \d{1,2}, \d{4}, \d{1,2}:\d\d [AP]M (EST|EDT)/);
    expect(main).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/);
    // The task's inputs, by label.
    expect(main).toContain('Note to IT: Add a dock');
    // Values by field label and option label; people by name; no JSON, no user ids.
    expect(main).toContain('Short title: New laptop (approved)');
    expect(main).toContain('Model: ThinkPad X1');
    expect(main).toContain('Urgent: Yes');
    expect(main).toContain('Riley Requester');
    expect(main).not.toMatch(/[{}[\]"]/);
    expect(main).not.toMatch(/\bu_[a-z0-9]{8,}/);
    // Actions in words.
    const actions = await page
      .locator('section[aria-labelledby="log-h"] tbody td:nth-child(3)')
      .allInnerTexts();
    expect(actions).toEqual(
      expect.arrayContaining(['Assign a task', 'Update the request', 'Notify', 'Change the stage', 'Wait']),
    );
    expect(main).not.toMatch(/assign_task|update_record|change_stage/);
    expect(errors).toEqual([]);
    await context.close();
  });

  /**
   * A job stopped because its request was cancelled said "Stopped by a stop step: LAP-2 was
   * cancelled by …" (the recipe has no stop step), and its task step still read "open", though
   * the cancel had withdrawn the task.
   */
  it('a job stopped by a cancel says so, and its withdrawn task is not open', async () => {
    const { page, context, errors } = await signInAs(browser, portal.url, 'Ada Admin');
    const { baton } = portal.runtime;
    const riley = (await baton.users.lookup('riley@playground.baton.invalid'))!;
    const ada = (await baton.users.lookup('ada@playground.baton.invalid'))!;
    const request = await baton.requests.file(riley, 'laptop', { model: 'tp', title: 'Spare' });
    await eventually(async () => (await baton.tasks.listForRequest(request._id)).length === 1);
    await baton.engine.cancelRequest(riley, request._id, 'Found a spare one');
    const job = (await baton.recipes.listJobs(ada, { limit: 50 })).find((j) => j.request_id === request._id);
    expect(job?.status).toBe('stopped');
    await page.goto(`${portal.url}/admin/jobs/${job!._id}`);
    // biome-ignore lint/performance/useDomNodeTextContent: innerText is the text as shown
    const main = (await page.locator('main').innerText()).replace(/\s+/g, ' ');
    expect(main).toContain(`Stopped: ${request._id} was cancelled by Riley Requester`);
    expect(main).not.toContain('stop step');
    expect(main).toMatch(/Step results Step Status Outcome By At Value manager Cancelled/);
    expect(errors).toEqual([]);
    await context.close();
  });
});
