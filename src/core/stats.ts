import type { AppService } from './apps.js';
import type { CoreContext } from './context.js';
import type { JobDoc, User } from './types.js';
import { requireOperator } from './users.js';

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
  /** The window, in whole UTC days ending today. */
  days: number;
  /** UTC day labels (`YYYY-MM-DD`), oldest first; `requests_per_day` counts line up with them. */
  day_labels: string[];
  apps: { key: string; name: string }[];
  requests_per_day: { app: string; counts: number[]; total: number }[];
  /** Time from filing to the first completed task (a person's decision), per app; decided in the window. */
  decision_times: DecisionTimes[];
  open_tasks: { key: string; label: string; count: number }[];
  failing_jobs: {
    total: number;
    by_recipe: { recipe: string; count: number }[];
    /** True when `by_recipe` counts only the latest `scan_limit` failed jobs. */
    partial: boolean;
    recent: FailedJobSummary[];
  };
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

/**
 * Dashboard aggregates over the store (admins and operators). Every query is indexed and
 * bounded: counts per app and day are index range counts; decision times read only the
 * tasks completed in the window (and the requests they belong to), projected to a few fields.
 */
export class StatsService {
  /** How many failed jobs are read to count them per recipe. */
  static readonly FAILED_SCAN_LIMIT = 5000;

  constructor(
    private readonly ctx: CoreContext,
    private readonly apps: AppService,
  ) {}

  async dashboard(actor: User, options: { days?: number } = {}): Promise<DashboardStats> {
    requireOperator(actor, 'see the dashboard');
    const days = Math.min(Math.max(Math.trunc(options.days ?? 14), 1), 90);
    const now = this.ctx.now();
    const today = utcDay(now);
    const since = new Date(today - (days - 1) * DAY);
    const appDocs = await this.apps.list();
    const apps = appDocs.map((a) => ({ key: a._id, name: a.definition.name }));
    const [requests, decisions, open, failing] = await Promise.all([
      this.requestsPerDay(
        apps.map((a) => a.key),
        today,
        days,
      ),
      this.decisionTimes(since),
      this.openTasksByAge(now),
      this.failingJobs(),
    ]);
    const decisionByApp = new Map(decisions.map((d) => [d.app, d]));
    return {
      generated_at: now,
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
   * {app, created_at} index, projected to `created_at` and bucketed here. (Counting per
   * day instead costs a query per app and day, each slower than this whole read.)
   */
  private async requestsPerDay(
    apps: string[],
    today: number,
    days: number,
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
      const counts = new Array<number>(days).fill(0);
      for (const r of rows) {
        const i = days - 1 - Math.floor((today - utcDay(r.created_at)) / DAY);
        if (i >= 0 && i < days) counts[i]!++;
      }
      out.push({ app, counts, total: rows.length });
    }
    return out;
  }

  /**
   * Decision = the first task of a request that a person completed (an outcome pressed;
   * expired and cancelled tasks are not decisions). Time to decision = that task's
   * `completed_at` minus the request's `created_at`. Counted for requests whose first
   * decision falls at or after `since`.
   */
  private async decisionTimes(since: Date): Promise<DecisionTimes[]> {
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
    for (const part of chunks([...firstAt.keys()])) {
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
        const list = perApp.get(r.app) ?? [];
        list.push(Math.max(0, firstAt.get(r._id)! - r.created_at.getTime()));
        perApp.set(r.app, list);
      }
    }
    return [...perApp].map(([app, list]) => {
      list.sort((a, b) => a - b);
      return { app, decided: list.length, median_ms: percentile(list, 50), p90_ms: percentile(list, 90) };
    });
  }

  /** Open tasks counted by how long they have been open ({status, created_at} index range counts). */
  private async openTasksByAge(now: Date): Promise<DashboardStats['open_tasks']> {
    const t = now.getTime();
    return Promise.all(
      TASK_AGE_BUCKETS.map(async (b, i) => {
        const prev = i === 0 ? null : TASK_AGE_BUCKETS[i - 1]!.max_ms;
        const created: Record<string, Date> = {};
        if (b.max_ms !== null) created.$gt = new Date(t - b.max_ms);
        if (prev !== null) created.$lte = new Date(t - prev);
        const count = await this.ctx.db.tasks.countDocuments({ status: 'open', created_at: created });
        return { key: b.key, label: b.label, count };
      }),
    );
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
