/**
 * `npm run bench`: runs every benchmark in a fresh process and writes bench/README.md.
 * `npm run bench -- cycles expiry` runs a subset (the README keeps the other sections).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const here = import.meta.dirname;
const README = path.join(here, 'README.md');
const RESULTS = path.join(here, 'results.json');

interface Bench {
  name: string;
  file: string;
  title: string;
  target: string;
  describe: (r: Record<string, unknown>) => string;
}

const BENCHES: Bench[] = [
  {
    name: 'cycles',
    file: 'cycles.ts',
    title: 'Full request → task → complete → resume cycles through the core API (embedded store)',
    target: '≥ 2,000 cycles/s on 2 cores',
    describe: (r) =>
      `**${r.per_second} cycles/s** (${r.cycles} cycles, ${r.concurrency} in flight, ${r.seconds} s, ${r.cpu_ms_per_cycle} ms CPU per cycle)` +
      (Array.isArray(r.runs)
        ? `; by cycles in flight: ${(r.runs as { concurrency: number; per_second: number }[])
            .map((x) => `${x.concurrency} → ${x.per_second}/s`)
            .join(', ')}`
        : ''),
  },
  {
    name: 'expiry',
    file: 'expiry.ts',
    title: 'Expiry lateness: 10,000 tasks falling due within one minute',
    target: 'p99 ≤ 1 s',
    describe: (r) =>
      `**p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms**, max ${r.max_ms} ms (${r.tasks} tasks due over ${r.window_s} s)`,
  },
  {
    name: 'memory',
    file: 'memory.ts',
    title: 'Memory with 100,000 open tasks (and 100,000 waiting jobs)',
    target: 'RSS ≤ 300 MB',
    describe: (r) =>
      `**RSS ${r.rss_mb} MB** (heap ${r.heap_mb} MB; filed at ${r.filed_per_second} requests/s; an inbox query takes ${r.inbox_query_ms} ms at this size)`,
  },
  {
    name: 'slack',
    file: 'slack.ts',
    title:
      'Slack over HTTP: ack latency of signed task clicks, and approval round trips (local fake Web API)',
    target: 'ack p99 ≤ 50 ms at 500/s; ≥ 500 round trips/s',
    describe: (r) =>
      `Fastify hello-world baseline at ${r.rate}/s: p50 ${r.baseline_p50_ms} ms, p99 ${r.baseline_p99_ms} ms. ` +
      `Approve clicks sent at ${r.ack_sent_per_second}/s: **ack p50 ${r.ack_p50_ms} ms, p99 ${r.ack_p99_ms} ms**, ` +
      `answered at ${r.ack_per_second}/s, ${r.ack_errors} of ${Math.round(Number(r.rate) * Number(r.seconds))} errors or 10 s timeouts ` +
      `(${r.ack_completed_at_end} of ${r.ack_tasks} tasks completed by the end; at ${r.ack_low_rate}/s: p50 ${r.ack_low_p50_ms} ms, p99 ${r.ack_low_p99_ms} ms; ` +
      `${r.ack_cpu_ms_per_click} ms CPU per click). **${r.round_trips_per_second} round trips/s** ` +
      `(form → task DM → Approve → copy updated and requester told; ${r.round_trips_concurrency} workers, p50 ${r.round_trip_p50_ms} ms, ` +
      `${r.round_trip_cpu_ms} ms CPU each in Baton, ${r.round_trip_client_cpu_ms} ms in the load generator and fake Web API). RSS ${r.rss_mb} MB (peak ${r.max_rss_mb} MB)`,
  },
  {
    name: 'store',
    file: 'store.ts',
    title: 'Embedded store primitives (100,000 documents on disk)',
    target: 'context for the numbers above',
    describe: (r) =>
      Object.entries(r)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', '),
  },
];

const wanted = process.argv.slice(2);
const results: Record<string, { result: Record<string, unknown>; at: string }> = existsSync(RESULTS)
  ? JSON.parse(readFileSync(RESULTS, 'utf8'))
  : {};

for (const bench of BENCHES) {
  if (wanted.length > 0 && !wanted.includes(bench.name)) continue;
  if (!existsSync(path.join(here, bench.file))) continue;
  process.stdout.write(`running ${bench.name}... `);
  const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(here, bench.file)], {
    cwd: path.dirname(here),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (run.status !== 0 || !line) {
    process.stdout.write('failed\n');
    process.stderr.write(run.stderr.slice(-4000));
    process.exitCode = 1;
    continue;
  }
  const result = JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>;
  results[bench.name] = { result, at: new Date().toISOString() };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);

/**
 * A fixed piece of plain JavaScript work, timed in this process: the same code gives the same
 * figure on the same machine, so runs on different (or differently loaded) machines can be
 * compared. Memory-bound, like most of what Baton does per request.
 */
function speedReference(): number {
  const doc = {
    _id: 'j_reference',
    steps: { manager: { status: 'completed', outcome: 'Approve', completed_at: '2026-01-01T00:00:00.000Z' } },
    log: Array.from({ length: 6 }, (_, pc) => ({
      pc,
      step: `step ${pc}`,
      action: 'notify',
      status: 'completed',
    })),
    record: { days: 3, approver: 'u_0123456789abcdef', note: 'x'.repeat(200) },
  };
  let n = 0;
  for (let i = 0; i < 20_000; i++) n += JSON.parse(JSON.stringify(doc)).log.length;
  const started = process.hrtime.bigint();
  for (let i = 0; i < 100_000; i++) n += JSON.parse(JSON.stringify(doc)).log.length;
  const us = Number(process.hrtime.bigint() - started) / 1e3 / 100_000;
  return n > 0 ? Number(us.toFixed(2)) : us;
}
const reference = speedReference();

const cpus = os.cpus();
const machine = `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
const sections = BENCHES.filter((b) => results[b.name]).map((b) => {
  const { result, at } = results[b.name]!;
  return `### ${b.title}\n\nTarget: ${b.target}. Measured ${at.slice(0, 16).replace('T', ' ')} UTC: ${b.describe(result)}.\n\nSource: [\`bench/${b.file}\`](${b.file}).`;
});
writeFileSync(
  README,
  `# Benchmarks

Produced by \`npm run bench\` (all) or \`npm run bench -- cycles expiry memory store\` (a subset), which runs each
benchmark in a fresh Node process and rewrites this file; raw numbers are in \`results.json\`.

Machine: ${machine}. The machine is shared (other work may run at the same time), so
numbers vary by ±30 % between runs; each figure is one run. Speed reference of this run (a fixed
piece of JavaScript, \`JSON.parse(JSON.stringify(doc))\` of a ~1 KB document, see \`run.ts\`):
${reference} µs; compare it before comparing runs made on different machines or days.

${sections.join('\n\n')}
${existsSync(path.join(here, 'NOTES.md')) ? `\n${readFileSync(path.join(here, 'NOTES.md'), 'utf8')}` : ''}`,
);
process.stdout.write(`wrote ${path.relative(process.cwd(), README)}\n`);
