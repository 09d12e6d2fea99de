/**
 * A small HTTP load generator for the benchmarks (loopback only): an open loop at a fixed
 * rate, and a closed loop of N workers. Every loop is bounded in count and in time.
 */
import http from 'node:http';
import { percentile } from './common.js';

export interface LatencyStats {
  /** Requests sent in the measured window (after the warm-up). */
  sent: number;
  ok: number;
  /** Non-200 answers, network errors and timeouts (of the measured window). */
  errors: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Requests sent per second in the measured window. */
  sent_per_second: number;
  /** OK answers per second, from the start of the measured window to its last answer. */
  achieved_per_second: number;
  /** How late the generator sent against its schedule (p99), ms: large means the numbers undercount. */
  send_lag_p99_ms: number;
}

export interface PreparedRequest {
  body: string;
  headers: Record<string, string>;
}

export interface OpenLoopOptions {
  /** http://127.0.0.1:<port>/<path> */
  url: string;
  rate: number;
  warmupSeconds: number;
  seconds: number;
  /** Builds request `i` at the moment it is sent (fresh signatures). */
  request: (i: number) => PreparedRequest;
  /** Per-request time limit, from send to the end of the answer (default 10 s); past it, an error. */
  timeoutMs?: number;
  /** Whether an answer counts as OK (default: status 200). */
  ok?: (status: number, body: string) => boolean;
}

const ms = (ns: bigint) => Number(ns) / 1e6;
const round = (x: number, digits = 2) => Number(x.toFixed(digits));

export function loopbackAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 512 });
}

/** One POST; resolves with the status and body (status 0 for a network error or a timeout). */
export function post(
  agent: http.Agent,
  url: URL,
  req: PreparedRequest,
  timeoutMs = 10_000,
): Promise<{ status: number; body: string }> {
  if (url.hostname !== '127.0.0.1') throw new Error(`only loopback may be targeted, not ${url.hostname}`);
  return new Promise((resolve) => {
    let done = false;
    let deadline: NodeJS.Timeout | undefined;
    const finish = (status: number, body: string) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      resolve({ status, body });
    };
    const r = http.request(
      {
        agent,
        method: 'POST',
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => finish(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
        res.on('error', () => finish(0, ''));
      },
    );
    // A deadline on the whole exchange (queueing for a socket included), not an idle timeout.
    deadline = setTimeout(() => {
      finish(0, '');
      r.destroy(new Error('timeout'));
    }, timeoutMs);
    r.on('error', () => finish(0, ''));
    r.end(req.body);
  });
}

/**
 * Sends `rate` requests per second for `warmupSeconds + seconds` on its own schedule,
 * whatever the answers (open loop); latency is from send to the end of the response.
 * Only the requests sent after the warm-up are counted.
 */
export async function openLoop(options: OpenLoopOptions): Promise<LatencyStats> {
  const url = new URL(options.url);
  const agent = loopbackAgent();
  const ok = options.ok ?? ((status: number) => status === 200);
  const total = Math.round(options.rate * (options.warmupSeconds + options.seconds));
  const warm = Math.round(options.rate * options.warmupSeconds);
  const intervalNs = BigInt(Math.round(1e9 / options.rate));
  const latencies: number[] = [];
  const lags: number[] = [];
  let okCount = 0;
  let errors = 0;
  let lastAnswer = 0n;
  const pending = new Set<Promise<void>>();
  const t0 = process.hrtime.bigint() + 5_000_000n;
  const measuredStart = t0 + intervalNs * BigInt(warm);
  let firstMeasuredSend = 0n;
  let lastMeasuredSend = 0n;

  const send = (i: number) => {
    const req = options.request(i);
    const sentAt = process.hrtime.bigint();
    const measured = i >= warm;
    if (measured) {
      lags.push(ms(sentAt - (t0 + intervalNs * BigInt(i))));
      if (firstMeasuredSend === 0n) firstMeasuredSend = sentAt;
      lastMeasuredSend = sentAt;
    }
    const p = post(agent, url, req, options.timeoutMs).then(({ status, body }) => {
      const end = process.hrtime.bigint();
      if (!measured) return;
      if (ok(status, body)) {
        okCount++;
        latencies.push(ms(end - sentAt));
        if (end > lastAnswer) lastAnswer = end;
      } else errors++;
    });
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  let i = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = process.hrtime.bigint();
      while (i < total && t0 + intervalNs * BigInt(i) <= now) send(i++);
      if (i >= total) return resolve();
      const wait = ms(t0 + intervalNs * BigInt(i) - process.hrtime.bigint());
      setTimeout(tick, Math.max(0, Math.min(wait, 1)));
    };
    tick();
  });
  // Each request has its own time limit: this ends.
  await Promise.all([...pending]);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  lags.sort((a, b) => a - b);
  const sent = total - warm;
  const sendSpan = ms(lastMeasuredSend - firstMeasuredSend) / 1000;
  const answerSpan = ms(lastAnswer - measuredStart) / 1000;
  return {
    sent,
    ok: okCount,
    errors,
    p50_ms: round(percentile(latencies, 50)),
    p99_ms: round(percentile(latencies, 99)),
    max_ms: round(latencies.at(-1) ?? Number.NaN),
    sent_per_second: Math.round(sendSpan > 0 ? (sent - 1) / sendSpan : 0),
    achieved_per_second: Math.round(answerSpan > 0 ? okCount / answerSpan : 0),
    send_lag_p99_ms: round(percentile(lags, 99)),
  };
}

export interface ClosedLoopStats {
  concurrency: number;
  /** Loops finished in the measured window. */
  completed: number;
  /** Loops finished in all, warm-up included. */
  total: number;
  errors: number;
  seconds: number;
  per_second: number;
  p50_ms: number;
  p99_ms: number;
}

/**
 * `concurrency` workers each run `loop` back to back for `warmupSeconds + seconds` (no new
 * loop starts after that); loops that end after the warm-up count. `loop` must bound its
 * own waits; a loop that throws counts as an error.
 */
export async function closedLoop(options: {
  concurrency: number;
  warmupSeconds: number;
  seconds: number;
  /** Upper bound on loops per worker. */
  maxLoopsPerWorker?: number;
  loop: (worker: number, n: number) => Promise<void>;
}): Promise<ClosedLoopStats> {
  const start = process.hrtime.bigint();
  const warmEnd = start + BigInt(Math.round(options.warmupSeconds * 1e9));
  const deadline = warmEnd + BigInt(Math.round(options.seconds * 1e9));
  const max = options.maxLoopsPerWorker ?? 1_000_000;
  const latencies: number[] = [];
  let errors = 0;
  let total = 0;
  let lastEnd = warmEnd;
  await Promise.all(
    Array.from({ length: options.concurrency }, async (_, worker) => {
      for (let n = 0; n < max && process.hrtime.bigint() < deadline; n++) {
        const began = process.hrtime.bigint();
        let failed = false;
        try {
          await options.loop(worker, n);
        } catch {
          failed = true;
        }
        const end = process.hrtime.bigint();
        if (!failed) total++;
        if (end < warmEnd) continue;
        if (failed) {
          errors++;
          continue;
        }
        latencies.push(ms(end - began));
        if (end > lastEnd) lastEnd = end;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const seconds = ms(lastEnd - warmEnd) / 1000;
  return {
    concurrency: options.concurrency,
    completed: latencies.length,
    total,
    errors,
    seconds: round(seconds),
    per_second: Math.round(seconds > 0 ? latencies.length / seconds : 0),
    p50_ms: round(percentile(latencies, 50)),
    p99_ms: round(percentile(latencies, 99)),
  };
}
