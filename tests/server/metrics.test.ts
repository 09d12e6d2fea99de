import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/server/app.js';
import { killHard, startBaton } from '../helpers/process.js';
import {
  ROOT,
  recipesDir,
  seedPeople,
  startTestRuntime,
  type TestRuntime,
  tempDir,
} from '../helpers/runtime.js';

/** The value of one sample line (`name{labels} value`) of a Prometheus text exposition. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics, over HTTP', () => {
  let rt: TestRuntime;
  let app: Awaited<ReturnType<typeof buildApp>>;
  let url: string;

  beforeAll(async () => {
    rt = await startTestRuntime({ recipesDir: recipesDir({}, ['recipes/time-off']) });
    app = await buildApp({ baton: rt.baton, config: parseConfig({}), logger: createLogger('silent') });
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.close();
    await rt?.close();
  });

  it('counts requests filed and tasks opened and closed, what is open now, and the HTTP traffic by route', async () => {
    const p = await seedPeople(rt.baton);
    const first = await rt.baton.requests.file(p.alice!, 'time-off', {
      start: '2027-02-01',
      days: 2,
      approver: p.bob!._id,
    });
    await rt.baton.requests.file(p.alice!, 'time-off', {
      start: '2027-02-08',
      days: 1,
      approver: p.bob!._id,
    });
    const [task] = await rt.baton.tasks.listForRequest(first._id);
    await rt.baton.tasks.complete(p.bob!, task!._id, 'Approve');
    await fetch(`${url}/healthz`);
    await fetch(`${url}/healthz`);
    await fetch(`${url}/no/such/page`);

    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(sample(text, 'baton_requests_filed_total{app="time-off"}')).toBe(2);
    expect(sample(text, 'baton_tasks_opened_total{app="time-off"}')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'baton_tasks_closed_total{app="time-off",status="completed"}')).toBe(1);
    const open = (await rt.store.collection('tasks').countDocuments({ status: 'open' })) as number;
    expect(sample(text, 'baton_open_tasks')).toBe(open);
    expect(sample(text, 'baton_jobs{status="failed"}')).toBe(0);
    expect(text).toMatch(/^baton_info\{version="\d+\.\d+\.\d+[^"]*",store="embedded"\} 1$/m);
    // The route's pattern, never the address: unknown addresses share one series.
    expect(sample(text, 'baton_http_requests_total{method="GET",route="/healthz",status_code="200"}')).toBe(
      2,
    );
    expect(sample(text, 'baton_http_requests_total{method="GET",route="unmatched",status_code="404"}')).toBe(
      1,
    );
    expect(text).not.toContain('/no/such/page');
    expect(sample(text, 'baton_http_request_duration_seconds_count{method="GET",route="/healthz"}')).toBe(2);
    // The process's own (prom-client's default collectors).
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(text).toContain('nodejs_eventloop_lag_seconds');
  });
});

describe('npm start with METRICS_TOKEN', () => {
  it('answers /metrics only with the token, and never logs it', async () => {
    const token = 'metrics-token-6f1d2c9a';
    const baton = await startBaton(tempDir(), path.join(ROOT, 'recipes'), { METRICS_TOKEN: token });
    try {
      const none = await fetch(`${baton.url}/metrics`);
      expect(none.status).toBe(401);
      expect(await none.json()).toEqual({
        error: 'baton.unauthorized',
        message: 'This server asks for its metrics token: Authorization: Bearer <METRICS_TOKEN>.',
      });
      const wrong = await fetch(`${baton.url}/metrics`, { headers: { authorization: 'Bearer nope' } });
      expect(wrong.status).toBe(401);
      expect((await wrong.json()).message).toBe('The metrics token was refused.');
      const right = await fetch(`${baton.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(right.status).toBe(200);
      expect(await right.text()).toContain('baton_open_tasks 0');
      // /healthz stays open.
      expect((await fetch(`${baton.url}/healthz`)).status).toBe(200);
      expect(baton.output()).not.toContain(token);
    } finally {
      await killHard(baton.child);
    }
  });
});
