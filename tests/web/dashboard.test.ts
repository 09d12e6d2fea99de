import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countTicks, niceTicks, timeTicks } from '../../adapters/web/dashboard/charts.js';
import { percentile } from '../../src/core/stats.js';
import type { User } from '../../src/core/types.js';
import { type AdminPortal, signIn, startAdminPortal, textOf } from './admin-kit.js';

const APPS = `
kind: app
key: laptop
name: Laptop
stages: [Submitted, Ordered, Declined]
fields:
  - { key: approver, label: Approver, type: user, required: true }
`;
const BADGE = `
kind: app
key: badge
name: Badge
stages: [Submitted, Issued]
fields: []
`;
const RECIPE = `
kind: recipe
name: laptop-order
trigger: { type: new_request, app: laptop }
steps:
  - id: ok
    action: assign_task
    to: "{{ record.approver }}"
    title: Laptop
  - action: change_stage
    stage: "{{ steps.ok.outcome = 'Approve' ? 'Ordered' : 'Nowhere' }}"
`;

const BADGE_RECIPE = `
kind: recipe
name: badge-issue
trigger: { type: new_request, app: badge }
steps:
  - id: issue
    action: assign_task
    to: group:hr
    title: Issue a badge
`;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * A known data set on a fake clock (now = 2026-03-10 12:00 UTC):
 *   laptop (filed by Riley, tasks to Morgan):
 *     OLD_A filed 02-18 10:00, decided 03-09 10:00 (19 d)   — decided in the 14-day window
 *     OLD_B filed 02-18 11:00, decided 02-19 11:00 (24 h)   — decided before it (in the 30-day one)
 *     STALE filed 02-28 12:00, open (10 d: "over 1 week")
 *     L5    filed 03-07 12:00, open (3 d: "1 day – 1 week")
 *     L1    filed 03-08 10:00, rejected 12:00 (2 h) → its job fails (stage Nowhere)
 *     L2    filed 03-09 09:00, approved 13:00 (4 h)
 *     L3    filed 03-10 08:00, approved 09:00 (1 h)
 *     L4    filed 03-10 11:30, open (30 min: "under 1 hour")
 *   badge (filed by Fiona; each opens a task for group hr, i.e. Hana): 03-09 10:00 (26 h open),
 *     03-10 10:00 ×2 (2 h open)
 */
describe('dashboard over HTTP, on a known data set', () => {
  let portal: AdminPortal;
  let p: Record<string, User>;
  let clock = new Date('2026-02-18T00:00:00Z');
  const at = (iso: string) => {
    clock = new Date(iso);
  };

  beforeAll(async () => {
    portal = await startAdminPortal(
      { 'laptop.yaml': APPS, 'badge.yaml': BADGE, 'recipe.yaml': RECIPE, 'badge-recipe.yaml': BADGE_RECIPE },
      { now: () => clock },
    );
    p = portal.people;
    await portal.baton.users.setRole(p.ada!, p.ivan!._id, 'operator');
    const { requests, tasks } = portal.baton;
    const file = async (iso: string) => {
      at(iso);
      const r = await requests.file(p.riley!, 'laptop', { approver: p.morgan!._id });
      const [task] = (await tasks.listForRequest(r._id)).filter((t) => t.status === 'open');
      return task!;
    };
    const decide = async (taskId: string, iso: string, outcome = 'Approve') => {
      at(iso);
      await tasks.complete(p.morgan!, taskId, outcome);
    };
    const oldA = await file('2026-02-18T10:00:00Z');
    const oldB = await file('2026-02-18T11:00:00Z');
    await decide(oldB._id, '2026-02-19T11:00:00Z');
    await file('2026-02-28T12:00:00Z');
    await file('2026-03-07T12:00:00Z');
    const l1 = await file('2026-03-08T10:00:00Z');
    await decide(l1._id, '2026-03-08T12:00:00Z', 'Reject');
    const l2 = await file('2026-03-09T09:00:00Z');
    await decide(oldA._id, '2026-03-09T10:00:00Z');
    at('2026-03-09T10:00:00Z');
    await requests.file(p.fiona!, 'badge', {});
    await decide(l2._id, '2026-03-09T13:00:00Z');
    const l3 = await file('2026-03-10T08:00:00Z');
    await decide(l3._id, '2026-03-10T09:00:00Z');
    at('2026-03-10T10:00:00Z');
    await requests.file(p.fiona!, 'badge', {});
    await requests.file(p.fiona!, 'badge', {});
    await file('2026-03-10T11:30:00Z');
    at('2026-03-10T12:00:00Z');
  });

  afterAll(async () => {
    await portal?.close();
  });

  it('the core computes the aggregates: requests per day, decision times, open tasks by age, failing jobs', async () => {
    const s = await portal.baton.stats.dashboard(p.ada!, { days: 14 });
    expect(s.scope).toBe('all');
    expect(s.day_labels[0]).toBe('2026-02-25');
    expect(s.day_labels.at(-1)).toBe('2026-03-10');
    const laptop = s.requests_per_day.find((r) => r.app === 'laptop')!;
    const badge = s.requests_per_day.find((r) => r.app === 'badge')!;
    const byDay = (counts: number[]) =>
      Object.fromEntries(s.day_labels.map((d, i) => [d, counts[i]]).filter(([, n]) => n !== 0));
    expect(byDay(laptop.counts)).toEqual({
      '2026-02-28': 1,
      '2026-03-07': 1,
      '2026-03-08': 1,
      '2026-03-09': 1,
      '2026-03-10': 2,
    });
    expect(laptop.total).toBe(6);
    expect(byDay(badge.counts)).toEqual({ '2026-03-09': 1, '2026-03-10': 2 });
    expect(s.decision_times).toEqual([
      { app: 'badge', decided: 0, median_ms: null, p90_ms: null },
      { app: 'laptop', decided: 4, median_ms: 2 * HOUR, p90_ms: 19 * DAY },
    ]);
    expect(s.open_tasks.map((b) => [b.key, b.count])).toEqual([
      ['hour', 1],
      ['day', 2],
      ['week', 2],
      ['older', 1],
    ]);
    expect(s.failing_jobs!.total).toBe(1);
    expect(s.failing_jobs!.by_recipe).toEqual([{ recipe: 'laptop-order', count: 1 }]);
    expect(s.failing_jobs!.recent[0]).toMatchObject({ recipe: 'laptop-order', request_id: 'LAPTOP-5' });
    expect(s.failing_jobs!.recent[0]!.error!.message).toMatch(/no stage "Nowhere"/);

    // Thirty days: OLD_A and OLD_B are filed in it, and OLD_B's decision (24 h) counts too.
    const month = await portal.baton.stats.dashboard(p.ada!, { days: 30 });
    expect(month.requests_per_day.find((r) => r.app === 'laptop')!.total).toBe(8);
    expect(month.decision_times.find((d) => d.app === 'laptop')).toEqual({
      app: 'laptop',
      decided: 5,
      median_ms: 4 * HOUR,
      p90_ms: 19 * DAY,
    });
  });

  it('an operator sees every app as charts with tables of the same numbers', async () => {
    const page = await (await signIn(portal.app, 'ivan')).get('/dashboard');
    expect(page.status).toBe(200);
    const html = page.html;
    const stat = (k: string) => new RegExp(`data-stat="${k}">(\\d+)<`).exec(html)?.[1];
    expect([stat('requests'), stat('decided'), stat('open'), stat('failed')]).toEqual(['9', '4', '6', '1']);
    for (const id of ['requests-per-day', 'decision-times', 'open-tasks', 'failing-jobs']) {
      expect(html).toContain(`<svg class="chart chart-wide" viewBox=`);
      expect(html).toMatch(
        new RegExp(`<svg [^>]*role="img" aria-labelledby="${id}-title ${id}-desc"[^>]*data-chart="${id}"`),
      );
      expect(html).toContain(`<title id="${id}-title">`);
      // The phone-sized drawing of the same chart.
      expect(html).toMatch(
        new RegExp(`<svg class="chart chart-narrow" viewBox="0 0 360 \\d+"[^>]*data-chart="${id}-narrow"`),
      );
    }
    // Requests per day: one column piece per app and day with requests (7), each with its number.
    const requestsSvg = /<svg [^>]*data-chart="requests-per-day">[\s\S]*?<\/svg>/.exec(html)![0];
    expect([...requestsSvg.matchAll(/<rect [^>]*><title>/g)]).toHaveLength(7);
    expect(requestsSvg).toContain('<title>3/10: Laptop 2</title>');
    expect(requestsSvg).toContain('<title>3/9: Badge 1</title>');
    expect(requestsSvg).toMatch(
      /<desc id="requests-per-day-desc">9 requests in all: Badge 3, Laptop 6\.<\/desc>/,
    );
    const row = (table: string, key: string) =>
      textOf(
        new RegExp(`<table class="list" data-table="${table}">[\\s\\S]*?<\\/table>`)
          .exec(html)![0]
          .split(key)[1]!
          .split('</tr>')[0]!,
      );
    expect(row('requests-per-day', '<th scope="row">2026-03-10</th>')).toBe('2 2 4');
    expect(row('decision-times', 'data-app="laptop">')).toBe('Laptop 4 2 h 19 d');
    expect(row('decision-times', 'data-app="badge">')).toBe('Badge 0 — —');
    expect(row('open-tasks', 'data-bucket="hour">')).toBe('under 1 hour 1');
    expect(row('open-tasks', 'data-bucket="older">')).toBe('over 1 week 1');
    const decisionSvg = /<svg [^>]*data-chart="decision-times">[\s\S]*?<\/svg>/.exec(html)![0];
    expect(decisionSvg).toContain('<title>Laptop: median 2 h</title>');
    expect(decisionSvg).toContain('<title>Laptop: 90th percentile 19 d</title>');
    // Failing jobs link to their pages.
    const failing = /<table class="list" data-table="failing-jobs">[\s\S]*?<\/table>/.exec(html)![0];
    const [job] = await portal.baton.recipes.listJobs(p.ada!, { status: 'failed' });
    expect(failing).toContain(`<a href="/admin/jobs/${job!._id}">${job!._id}</a>`);
    expect(textOf(failing)).toMatch(/laptop-order LAPTOP-5 change_stage#2 Laptop has no stage "Nowhere"/);
    expect(textOf(html)).toContain('the first task on it that a person completed');

    const month = await (await signIn(portal.app, 'ivan')).get('/dashboard?days=30');
    expect(/data-stat="decided">(\d+)</.exec(month.html)![1]).toBe('5');
    expect(month.html).toContain('<a href="/dashboard?days=30" aria-current="page">30 days</a>');
    // An unknown window falls back to 14 days.
    expect(
      /data-stat="decided">(\d+)</.exec(
        (await (await signIn(portal.app, 'ivan')).get('/dashboard?days=1e9')).html,
      )![1],
    ).toBe('4');
  });

  it('a user sees their own requests and tasks, and no jobs', async () => {
    const alice = await (await signIn(portal.app, 'riley')).get('/dashboard');
    expect(alice.status).toBe(200);
    const stat = (html: string, k: string) => new RegExp(`data-stat="${k}">(\\d+)<`).exec(html)?.[1];
    expect(stat(alice.html, 'requests')).toBe('6');
    expect(stat(alice.html, 'decided')).toBe('4');
    expect(stat(alice.html, 'open')).toBe('0');
    expect(stat(alice.html, 'failed')).toBeUndefined();
    expect(alice.html).not.toContain('data-chart="failing-jobs"');
    expect(textOf(alice.html)).toContain('Your own requests');
    const bob = await (await signIn(portal.app, 'morgan')).get('/dashboard');
    expect(stat(bob.html, 'requests')).toBe('0');
    expect(stat(bob.html, 'open')).toBe('3');
    // Hana's open tasks are her group's (hr): the three badges.
    const hana = await portal.baton.stats.dashboard(p.hana!, { days: 14 });
    expect(hana.open_tasks.map((b) => [b.key, b.count])).toEqual([
      ['hour', 0],
      ['day', 2],
      ['week', 1],
      ['older', 0],
    ]);
    const mallory = await portal.baton.stats.dashboard(p.fiona!, { days: 14 });
    expect(mallory.requests_per_day.map((r) => [r.app, r.total])).toEqual([
      ['badge', 3],
      ['laptop', 0],
    ]);
    expect((await portal.app.inject({ method: 'GET', url: '/dashboard' })).statusCode).toBe(303);
  });
});

describe('chart helpers', () => {
  it('ticks are round and cover the maximum', () => {
    expect(niceTicks(9)).toEqual([0, 5, 10]);
    expect(niceTicks(100)).toEqual([0, 50, 100]);
    expect(countTicks(3)).toEqual([0, 1, 2, 3]);
    expect(countTicks(0)).toEqual([0, 1]);
    expect(timeTicks(19 * DAY)).toEqual([0, 7 * DAY, 14 * DAY, 21 * DAY]);
    expect(timeTicks(90 * 60_000)).toEqual([0, 30 * 60_000, 60 * 60_000, 90 * 60_000]);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 90)).toBe(4);
    expect(percentile([], 50)).toBeNull();
  });
});
