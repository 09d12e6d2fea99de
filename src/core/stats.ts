import type { AppService } from './apps.js';
import type { CoreContext } from './context.js';
import type { JobDoc, RequestDoc, User } from './types.js';
import { isOperator } from './users.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Age buckets of open tasks, youngest first. `max_ms` is exclusive; the last bucket has none. */
export const TASK_AGE_BUCKETS = [
  { key: 'hour', label: 'under 1 hour', max_ms: HOUR },
  { key: 'day', label: '1 hour – 1 day', max_ms: DAY },
  { key: 'week', label: '1 day – 1 week', max_ms: 7 * DAY },
  { key: 'older', label: 'over 1 week', max_ms: null },
] as const;

export interface DecisionTimes {
  app: string;
  /** Requests whose decision fell in the window. */
  decided: number;
  median_ms: number | null;
  p90_ms: number | null;
}

export interface FailedJobSummary {
  _id: string;
  recipe: string;
  request_id: string;
  app: string;
  current_step?: string | undefined;
  error?: JobDoc['error'];
  updated_at: Date;
}

export interface DashboardStats {
  generated_at: Date;
  /**
   * `all`: every app's requests, every open task, failing jobs (admins and operators).
   * `mine`: the actor's own requests and the open tasks assigned to them or their groups (users).
   */
  scope: 'all' | 'mine';
  /** The window, in whole UTC days ending today. */
  days: number;
  /** UTC day labels (`YYYY-MM-DD`), oldest first; `requests_per_day` counts line up with them. */
  day_labels: string[];
  apps: { key: string; name: string }[];
  requests_per_day: { app: string; counts: number[]; total: number }[];
  /** Time from filing to the first completed task (a person's decision), per app; decided in the window. */
  decision_times: DecisionTimes[];
  open_tasks: { key: string; label: string; count: number }[];
  /** Null in the `mine` scope (jobs are for operators). */
  failing_jobs: {
    total: number;
    by_recipe: { recipe: string; count: number }[];
    /** True when `by_recipe` counts only the latest `scan_limit` failed jobs. */
    partial: boolean;
    recent: FailedJobSummary[];
  } | null;
}

/** Start of the UTC day of `d`. */
function utcDay(d: Date): number {
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

/** Nearest-rank percentile of sorted values (`p` in 0..100). */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

const CHUNK = 500;

function chunks<T>(list: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** How far back a user's own requests are read for the `mine` scope's decision times. */
const MINE_LOOKBACK_MS = 90 * DAY;

/**
 * Dashboard aggregates over the store. Admins and operators see everything (`all`); other
 * people see their own requests and their own open tasks (`mine`). Every query is indexed
 * and bounded by the window: requests per day are ordered range reads on {app, created_at};
 * decision times read the tasks completed in the window and the requests they belong to;
 * open tasks by age are range counts on {status, created_at}. All projected to a few fields.
 * Measured on the embedded store (2 busy cores): 100,000 requests over 30 days, 5 apps, two
 * thirds decided: 14-day window 1.1 s (46,700 requests and 31,000 decisions in it), 30 days
 * 1.7–2.0 s. The cost follows what falls in the window, not the size of the store.
 */
export class StatsService {
  /** How many failed jobs are read to count them per recipe. */
  static readonly FAILED_SCAN_LIMIT = 5000;

  constructor(
    private readonly ctx: CoreContext,
    private readonly apps: AppService,
  ) {}

  async dashboard(actor: User, options: { days?: number } = {}): Promise<DashboardStats> {
    const scope = isOperator(actor) ? 'all' : 'mine';
    const days = Math.min(Math.max(Math.trunc(Number(options.days ?? 14) || 14), 1), 90);
    const now = this.ctx.now();
    const today = utcDay(now);
    const since = new Date(today - (days - 1) * DAY);
    const appDocs = await this.apps.list();
    const apps = appDocs.map((a) => ({ key: a._id, name: a.definition.name }));
    const keys = apps.map((a) => a.key);
    let requests: DashboardStats['requests_per_day'];
    let decisions: DecisionTimes[];
    let open: DashboardStats['open_tasks'];
    let failing: DashboardStats['failing_jobs'] = null;
    if (scope === 'all') {
      const filed = new Map<string, { app: string; created_at: Date }>();
      requests = await this.requestsPerDay(keys, today, days, filed);
      decisions = await this.decisionTimes(since, filed);
      open = await this.openTasksByAge(now, null);
      failing = await this.failingJobs();
    } else {
      const mine = await this.ctx.db.requests
        .find(
          {
            requester: actor._id,
            created_at: { $gte: new Date(Math.min(since.getTime(), now.getTime() - MINE_LOOKBACK_MS)) },
          },
          { sort: { created_at: -1 }, projection: { app: 1, created_at: 1 }, limit: 10_000 },
        )
        .toArray();
      requests = keys.map((app) =>
        bucket(
          mine.filter((r) => r.app === app && r.created_at >= since),
          app,
          today,
          days,
        ),
      );
      decisions = await this.decisionTimesOf(mine, since);
      const groups = await this.ctx.db.groups
        .find({ members: actor._id }, { projection: { name: 1 } })
        .toArray();
      open = await this.openTasksByAge(now, [`user:${actor._id}`, ...groups.map((g) => `group:${g.name}`)]);
    }
    const decisionByApp = new Map(decisions.map((d) => [d.app, d]));
    return {
      generated_at: now,
      scope,
      days,
      day_labels: Array.from({ length: days }, (_, i) =>
        new Date(today - (days - 1 - i) * DAY).toISOString().slice(0, 10),
      ),
      apps,
      requests_per_day: requests,
      decision_times: [
        ...apps.map(
          (a) => decisionByApp.get(a.key) ?? { app: a.key, decided: 0, median_ms: null, p90_ms: null },
        ),
        ...decisions.filter((d) => !apps.some((a) => a.key === d.app)),
      ],
      open_tasks: open,
      failing_jobs: failing,
    };
  }

  /**
   * Requests filed per app and UTC day: one ordered range read per app on the
   * {app, created_at} index, projected to `created_at` and bucketed here. (A count per app
   * and day costs more than this whole read: the store cannot answer those counts from the
   * index alone.)
   */
  private async requestsPerDay(
    apps: string[],
    today: number,
    days: number,
    filed: Map<string, { app: string; created_at: Date }>,
  ): Promise<DashboardStats['requests_per_day']> {
    const since = new Date(today - (days - 1) * DAY);
    const out: DashboardStats['requests_per_day'] = [];
    for (const app of apps) {
      const rows = await this.ctx.db.requests
        .find(
          { app, created_at: { $gte: since } },
          { sort: { created_at: -1 }, projection: { created_at: 1 } },
        )
        .toArray();
      for (const r of rows) filed.set(r._id, { app, created_at: r.created_at });
      out.push(bucket(rows, app, today, days));
    }
    return out;
  }

  /**
   * Decision = the first task of a request that a person completed (an outcome pressed;
   * expired and cancelled tasks are not decisions). Time to decision = that task's
   * `completed_at` minus the request's `created_at`. Counted for requests whose first
   * decision falls at or after `since`. `filed` holds the requests filed in the window
   * (read for the per-day counts); only older requests are looked up, by id.
   */
  private async decisionTimes(
    since: Date,
    filed: Map<string, { app: string; created_at: Date }>,
  ): Promise<DecisionTimes[]> {
    const { db } = this.ctx;
    const completed = await db.tasks
      .find(
        { status: 'completed', completed_at: { $gte: since } },
        { sort: { completed_at: 1 }, projection: { request_id: 1, completed_at: 1 } },
      )
      .toArray();
    const firstAt = new Map<string, number>();
    for (const t of completed) {
      if (!firstAt.has(t.request_id) && t.completed_at) firstAt.set(t.request_id, t.completed_at.getTime());
    }
    const perApp = new Map<string, number[]>();
    const older: string[] = [];
    for (const [id, at] of firstAt) {
      const r = filed.get(id);
      if (r) add(perApp, r.app, at - r.created_at.getTime());
      else older.push(id);
    }
    for (const part of chunks(older)) {
      const requests = await db.requests
        .find({ _id: { $in: part } }, { projection: { app: 1, created_at: 1 } })
        .toArray();
      for (const r of requests) {
        // Filed before the window: it may have been decided before it too (then it is not counted).
        if (r.created_at < since) {
          const earlier = await db.tasks.countDocuments({
            request_id: r._id,
            status: 'completed',
            completed_at: { $lt: since },
          });
          if (earlier > 0) continue;
        }
        add(perApp, r.app, firstAt.get(r._id)! - r.created_at.getTime());
      }
    }
    return summarize(perApp);
  }

  /** Decision times of the given requests (one person's own), decided at or after `since`. */
  private async decisionTimesOf(
    requests: Pick<RequestDoc, '_id' | 'app' | 'created_at'>[],
    since: Date,
  ): Promise<DecisionTimes[]> {
    const perApp = new Map<string, number[]>();
    for (const r of requests) {
      const first = await this.ctx.db.tasks.findOne(
        { request_id: r._id, status: 'completed' },
        { sort: { completed_at: 1 }, projection: { completed_at: 1 } },
      );
      if (!first?.completed_at || first.completed_at < since) continue;
      add(perApp, r.app, first.completed_at.getTime() - r.created_at.getTime());
    }
    return summarize(perApp);
  }

  /**
   * Open tasks counted by how long they have been open: range counts on {status, created_at},
   * or, for a person, on {assignee_key, status, created_at} for each of their keys.
   */
  private async openTasksByAge(
    now: Date,
    assigneeKeys: string[] | null,
  ): Promise<DashboardStats['open_tasks']> {
    const t = now.getTime();
    const out: DashboardStats['open_tasks'] = [];
    let prev: number | null = null;
    for (const b of TASK_AGE_BUCKETS) {
      const created: Record<string, Date> = {};
      if (b.max_ms !== null) created.$gt = new Date(t - b.max_ms);
      if (prev !== null) created.$lte = new Date(t - prev);
      prev = b.max_ms;
      let count = 0;
      if (assigneeKeys === null) {
        count = await this.ctx.db.tasks.countDocuments({ status: 'open', created_at: created });
      } else {
        for (const key of assigneeKeys) {
          count += await this.ctx.db.tasks.countDocuments({
            assignee_key: key,
            status: 'open',
            created_at: created,
          });
        }
      }
      out.push({ key: b.key, label: b.label, count });
    }
    return out;
  }

  private async failingJobs(): Promise<DashboardStats['failing_jobs']> {
    const { db } = this.ctx;
    const limit = StatsService.FAILED_SCAN_LIMIT;
    const [total, scanned, recent] = await Promise.all([
      db.jobs.countDocuments({ status: 'failed' }),
      db.jobs
        .find({ status: 'failed' }, { sort: { updated_at: -1 }, limit, projection: { recipe: 1 } })
        .toArray(),
      db.jobs
        .find(
          { status: 'failed' },
          {
            sort: { updated_at: -1 },
            limit: 20,
            projection: {
              recipe: 1,
              request_id: 1,
              app: 1,
              current_step: 1,
              error: 1,
              updated_at: 1,
            },
          },
        )
        .toArray(),
    ]);
    const byRecipe = new Map<string, number>();
    for (const j of scanned) byRecipe.set(j.recipe, (byRecipe.get(j.recipe) ?? 0) + 1);
    return {
      total,
      by_recipe: [...byRecipe]
        .map(([recipe, count]) => ({ recipe, count }))
        .sort((a, b) => b.count - a.count || a.recipe.localeCompare(b.recipe)),
      partial: total > scanned.length,
      recent: recent.map((j) => ({
        _id: j._id,
        recipe: j.recipe,
        request_id: j.request_id,
        app: j.app,
        current_step: j.current_step,
        error: j.error,
        updated_at: j.updated_at,
      })),
    };
  }
}

function bucket(
  rows: { created_at: Date }[],
  app: string,
  today: number,
  days: number,
): DashboardStats['requests_per_day'][number] {
  const counts = new Array<number>(days).fill(0);
  let total = 0;
  for (const r of rows) {
    const i = days - 1 - Math.round((today - utcDay(r.created_at)) / DAY);
    if (i >= 0 && i < days) {
      counts[i]!++;
      total++;
    }
  }
  return { app, counts, total };
}

function add(perApp: Map<string, number[]>, app: string, ms: number): void {
  const list = perApp.get(app) ?? [];
  list.push(Math.max(0, ms));
  perApp.set(app, list);
}

function summarize(perApp: Map<string, number[]>): DecisionTimes[] {
  return [...perApp].map(([app, list]) => {
    list.sort((a, b) => a - b);
    return { app, decided: list.length, median_ms: percentile(list, 50), p90_ms: percentile(list, 90) };
  });
}
