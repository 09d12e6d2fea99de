/**
 * `GET /metrics`: Prometheus' text format, for an operator's scraper. prom-client writes the
 * format and the process's own metrics (CPU, memory, event-loop lag, GC, handles); Baton adds
 * its work (requests filed, tasks opened and closed, what is open or waiting now) and its HTTP
 * traffic by route. Open like `/healthz` unless `METRICS_TOKEN` is set, then it takes
 * `Authorization: Bearer <token>`.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Baton } from '../core/baton.js';
import { VERSION } from '../version.js';

/**
 * The process's own metrics, once per process: prom-client's collectors watch the process (GC,
 * event loop), not a server, and each call of collectDefaultMetrics would add observers.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function registerMetrics(app: FastifyInstance, baton: Baton, token: string | undefined): void {
  const registry = new Registry();
  new Gauge({
    name: 'baton_info',
    help: 'Always 1; the labels say which version runs on which store.',
    labelNames: ['version', 'store'] as const,
    registers: [registry],
  }).set({ version: VERSION, store: baton.ctx.store.kind }, 1);

  const filed = new Counter({
    name: 'baton_requests_filed_total',
    help: 'Requests filed since the process started, by app.',
    labelNames: ['app'] as const,
    registers: [registry],
  });
  const opened = new Counter({
    name: 'baton_tasks_opened_total',
    help: 'Tasks assigned since the process started, by app.',
    labelNames: ['app'] as const,
    registers: [registry],
  });
  const closed = new Counter({
    name: 'baton_tasks_closed_total',
    help: 'Tasks closed since the process started, by app and how (completed, expired, cancelled).',
    labelNames: ['app', 'status'] as const,
    registers: [registry],
  });
  const onFiled = (r: { app: string }) => filed.inc({ app: r.app });
  const onOpened = (t: { app: string }) => opened.inc({ app: t.app });
  const onClosed = (t: { app: string; status: string }) => closed.inc({ app: t.app, status: t.status });
  baton.events.on('request.created', onFiled);
  baton.events.on('task.opened', onOpened);
  baton.events.on('task.closed', onClosed);
  app.addHook('onClose', async () => {
    baton.events.off('request.created', onFiled);
    baton.events.off('task.opened', onOpened);
    baton.events.off('task.closed', onClosed);
  });

  // What is open or waiting now: counted from the store when scraped (indexed counts, as /healthz).
  let now: Promise<Awaited<ReturnType<Baton['health']>>> | null = null;
  const health = () => {
    // One look-up serves the gauges of one scrape.
    now ??= baton.health().finally(() => {
      now = null;
    });
    return now;
  };
  new Gauge({
    name: 'baton_open_tasks',
    help: 'Tasks open now.',
    registers: [registry],
    async collect() {
      this.set((await health()).open_tasks);
    },
  });
  new Gauge({
    name: 'baton_jobs',
    help: 'Recipe jobs now, by status (running, waiting, failed).',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const { jobs } = await health();
      for (const status of ['running', 'waiting', 'failed'] as const) this.set({ status }, jobs[status]);
    },
  });
  new Gauge({
    name: 'baton_scheduler_jobs',
    help: 'Scheduler timers now: running, and pending (due later or waiting to run).',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const { scheduler } = await health();
      this.set({ state: 'running' }, scheduler.running);
      this.set({ state: 'pending' }, scheduler.pending);
    },
  });

  const requests = new Counter({
    name: 'baton_http_requests_total',
    help: 'HTTP requests answered, by method, route and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'baton_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by method and route.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  app.addHook('onResponse', async (req, reply) => {
    // The route's pattern (/requests/:id), never the address itself: one series per route.
    const route = req.routeOptions.url ?? 'unmatched';
    if (route === '/metrics') return;
    requests.inc({ method: req.method, route, status_code: String(reply.statusCode) });
    durations.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });

  app.get('/metrics', async (req, reply) => {
    if (token !== undefined) {
      const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
      if (!given || !sameSecret(given, token)) {
        return reply
          .status(401)
          .header('www-authenticate', 'Bearer realm="metrics"')
          .send({
            error: 'baton.unauthorized',
            message: given
              ? 'The metrics token was refused.'
              : 'This server asks for its metrics token: Authorization: Bearer <METRICS_TOKEN>.',
          });
      }
    }
    const text = (await processMetrics().metrics()) + (await registry.metrics());
    return reply.type(registry.contentType).send(text);
  });
}
