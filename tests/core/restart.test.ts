import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { User } from '../../src/core/types.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { killHard, startBaton } from '../helpers/process.js';
import {
  eventually,
  ROOT,
  recipesDir,
  startTestRuntime,
  type TestRuntime,
  tempDir,
} from '../helpers/runtime.js';

const CHILD = path.join(ROOT, 'tests/helpers/crash-child.ts');

const APPS = {
  'leave.yaml': `
kind: app
key: leave
name: Leave
stages: [Submitted, Manager approved, Approved, Rejected, Expired]
fields:
  - { key: approver, label: Approver, type: user, required: true }
  - { key: days, label: Days, type: number, required: true, max: 30 }
`,
  'leave-recipe.yaml': `
kind: recipe
name: leave-approval
trigger: { type: new_request, app: leave }
steps:
  - id: manager
    action: assign_task
    to: "{{ record.approver }}"
    title: "Leave: {{ record.days }} days"
    expires_in: 2d
  - if: "steps.manager.outcome = 'Approve' and record.days > 5"
    then:
      - action: change_stage
        stage: Manager approved
      - action: notify
        to: "{{ request.requester }}"
        text: "Manager approved {{ request.id }}"
      - id: hr
        action: assign_task
        to: group:hr
        title: "HR: {{ request.id }}"
      - action: change_stage
        stage: "{{ steps.hr.outcome = 'Approve' ? 'Approved' : 'Rejected' }}"
    else:
      - action: change_stage
        stage: "{{ steps.manager.outcome = 'Approve' ? 'Approved' : 'Rejected' }}"
  - action: notify
    to: "{{ request.requester }}"
    text: "{{ request.id }} is done"
`,
  'quick.yaml': `
kind: app
key: quick
name: Quick
stages: [Submitted, Approved, Expired]
fields:
  - { key: approver, label: Approver, type: user, required: true }
`,
  'quick-recipe.yaml': `
kind: recipe
name: quick-approval
trigger: { type: new_request, app: quick }
steps:
  - id: t
    action: assign_task
    to: "{{ record.approver }}"
    title: Quick one
    expires_in: 1s
  - action: change_stage
    stage: "{{ steps.t.status = 'expired' ? 'Expired' : 'Approved' }}"
`,
};

function runChild(mode: string, dataDir: string, recipes: string, killAfterMs?: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // node itself (not the tsx wrapper), so SIGKILL hits the process that holds the database.
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, dataDir, recipes], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (killAfterMs !== undefined && out.includes('ready')) {
        setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        killAfterMs = undefined;
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (_code, signal) => {
      if (signal === 'SIGKILL') resolve(out);
      else reject(new Error(`child exited without being killed: ${err}`));
    });
  });
}

async function people(rt: TestRuntime): Promise<Record<string, User>> {
  const get = async (id: string) => (await rt.baton.users.lookup(`${id}@example.com`))!;
  return {
    alice: await get('alice'),
    bob: await get('bob'),
    hank: await get('hank'),
    admin: await get('admin'),
  };
}

describe('restart: a new process on the same DATA_DIR', () => {
  let rt: TestRuntime | undefined;
  afterEach(async () => {
    await rt?.close();
    rt = undefined;
  });

  it('a store written by an earlier version: history entries keyed by event id are rekeyed, the old index dropped', async () => {
    const dataDir = tempDir();
    const recipes = recipesDir(APPS);
    rt = await startTestRuntime({ dataDir, recipesDir: recipes, admins: ['admin@example.com'] });
    const alice = await rt.baton.users.resolve({
      provider: 'web',
      id: 'a',
      name: 'Alice',
      email: 'alice@example.com',
    });
    const bob = await rt.baton.users.resolve({
      provider: 'web',
      id: 'b',
      name: 'Bob',
      email: 'bob@example.com',
    });
    await rt.baton.requests.file(alice, 'leave', { approver: bob._id, days: 2 });
    await rt.baton.requests.comment(alice, 'LEAVE-1', 'see you');
    const [task] = await rt.baton.tasks.listOpenFor(bob);
    await rt.baton.tasks.complete(bob, task!._id, 'Approve');
    const before = (await rt.baton.requests.get(alice, 'LEAVE-1')).history;
    expect(before.length).toBeGreaterThanOrEqual(5);
    await rt.close();
    rt = undefined;

    // As the version of 2026-12-03 left it: entries keyed by their event id, the (request_id,
    // seq) index, no record of the migration.
    const store = SqliteStore.open(dataDir);
    const history = store.collection<{ _id: string; id: string }>('history');
    for (const entry of await history.find({}).toArray()) {
      await history.deleteOne({ _id: entry._id });
      await history.insertOne({ ...entry, _id: entry.id });
    }
    await history.createIndex({ request_id: 1, seq: 1 });
    await store.collection('counters').deleteOne({ _id: 'migration:history-keys' });
    await store.close();

    rt = await startTestRuntime({ dataDir, recipesDir: recipes, admins: ['admin@example.com'] });
    const after = (await rt.baton.requests.get(alice, 'LEAVE-1')).history;
    expect(after).toEqual(before);
    const keys = (await rt.store.collection('history').find({}).toArray()).map((d) => d._id);
    expect(keys.every((k) => k.startsWith('LEAVE-1/'))).toBe(true);
    const err = await rt.store
      .collection('history')
      .dropIndex('request_id_1_seq_1')
      .catch((e: unknown) => e);
    expect((err as { code?: unknown }).code).toBe(27);
    // New entries land beside them, in order.
    await rt.baton.requests.comment(alice, 'LEAVE-1', 'back again');
    const last = (await rt.baton.requests.get(alice, 'LEAVE-1')).history;
    expect(last.slice(0, -1)).toEqual(before);
    expect(last.at(-1)).toMatchObject({ type: 'comment', data: { comment: 'back again' } });
    await rt.close();
    rt = undefined;

    // Rolled back to the earlier version for a while (it wrote an entry under its old key and
    // made its index again), then upgraded again: that entry is rekeyed too.
    const again = SqliteStore.open(dataDir);
    const entries = again.collection<{ _id: string; id: string; seq: number; at: Date }>('history');
    const newest = (await entries.find({}).toArray()).sort((a, b) => b.seq - a.seq)[0]!;
    const at = new Date(newest.at.getTime() + 1000);
    await entries.insertOne({
      ...newest,
      _id: 'LEAVE-1:rolled-back',
      id: 'LEAVE-1:rolled-back',
      seq: newest.seq + 1e6,
      at,
    });
    await entries.createIndex({ request_id: 1, seq: 1 });
    await again.close();
    rt = await startTestRuntime({ dataDir, recipesDir: recipes, admins: ['admin@example.com'] });
    const rolled = (await rt.baton.requests.get(alice, 'LEAVE-1')).history;
    expect(rolled.slice(0, -1)).toEqual(last);
    expect(rolled.at(-1)).toMatchObject({ id: 'LEAVE-1:rolled-back', type: 'comment' });
  });

  it('a large store of an earlier version: start-up says it is rekeying the history, and keeps every entry in order', async () => {
    const dataDir = tempDir();
    const recipes = recipesDir(APPS);
    rt = await startTestRuntime({ dataDir, recipesDir: recipes, admins: ['admin@example.com'] });
    const alice = await rt.baton.users.resolve({
      provider: 'web',
      id: 'a',
      name: 'Alice',
      email: 'alice@example.com',
    });
    const bob = await rt.baton.users.resolve({
      provider: 'web',
      id: 'b',
      name: 'Bob',
      email: 'bob@example.com',
    });
    await rt.baton.requests.file(alice, 'leave', { approver: bob._id, days: 2 });
    await rt.baton.requests.comment(alice, 'LEAVE-1', 'first');
    const filed = (await rt.baton.requests.get(alice, 'LEAVE-1')).history;
    await rt.close();
    rt = undefined;

    // As months on the version of 2026-12-03 left it: more entries than one page of the scan,
    // keyed by their event id, the (request_id, seq) index, no record of the migration; and a
    // few already copied under their new key by a run of the migration that was killed.
    const store = SqliteStore.open(dataDir);
    const history = store.collection<{ _id: string; id: string; seq: number }>('history');
    const entries = await history.find({}).toArray();
    const last = Math.max(...entries.map((e) => e.seq));
    for (const entry of entries) {
      await history.deleteOne({ _id: entry._id });
      await history.insertOne({ ...entry, _id: entry.id });
    }
    const comments = Array.from({ length: 2500 }, (_, i) => {
      const id = `c_${String(i).padStart(5, '0')}`;
      const at = new Date(Date.UTC(2026, 11, 1, 0, 0, i));
      return {
        _id: id,
        id,
        type: 'comment',
        at,
        by: alice._id,
        text: `Alice: note ${i}`,
        data: { comment: `note ${i}` },
        request_id: 'LEAVE-1',
        seq: last + 1 + i,
      };
    });
    await history.insertMany(comments);
    for (const c of comments.slice(1200, 1210)) await history.insertOne({ ...c, _id: `LEAVE-1/${c.id}` });
    await history.createIndex({ request_id: 1, seq: 1 });
    await store.collection('counters').deleteOne({ _id: 'migration:history-keys' });
    await store.close();

    const { child, url, output } = await startBaton(dataDir, recipes);
    try {
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(((await health.json()) as { status: string }).status).toBe('ok');
    } finally {
      await killHard(child);
    }
    // An operator watching a long start-up is told why, and when it is done.
    const lines = output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string; entries?: number; rekeyed?: number });
    expect(
      lines.find((l) => /giving history entries of an earlier version their new key/.test(l.msg)),
    ).toMatchObject({
      level: 30,
      entries: filed.length + 2500 + 10,
    });
    expect(lines.find((l) => /history entries rekeyed$/.test(l.msg))).toMatchObject({
      rekeyed: filed.length + 2500,
    });

    rt = await startTestRuntime({ dataDir, recipesDir: recipes, admins: ['admin@example.com'] });
    const after = (await rt.baton.requests.get(alice, 'LEAVE-1')).history;
    expect(after.slice(0, filed.length)).toEqual(filed);
    expect(after.slice(filed.length).map((h) => h.text)).toEqual(comments.map((c) => c.text));
    const keys = (await rt.store.collection('history').find({}).toArray()).map((d) => d._id);
    expect(keys).toHaveLength(filed.length + 2500);
    expect(keys.every((k) => k.startsWith('LEAVE-1/'))).toBe(true);
  });

  it('after kill -9 while jobs wait, everything is still there; jobs resume; timers due while down fire', async () => {
    const dataDir = tempDir();
    const recipes = recipesDir(APPS);
    const out = await runChild('waiting', dataDir, recipes);
    const { requests, tasks } = JSON.parse(out.trim()) as { requests: string[]; tasks: string[] };
    expect(requests).toEqual(['LEAVE-1', 'QUICK-1']);
    // Let the 1 s expiry fall due while nothing runs.
    await new Promise((r) => setTimeout(r, 1200));

    rt = await startTestRuntime({ dataDir, recipesDir: recipes });
    const p = await people(rt);
    const { baton } = rt;
    // The timer that fell due while down fires right after start.
    await eventually(async () => (await baton.requests.get(p.alice!, 'QUICK-1')).stage === 'Expired');
    const open = await baton.tasks.listOpenFor(p.bob!);
    expect(open.map((t) => t._id)).toEqual([tasks.find((t) => open.some((o) => o._id === t))]);
    await baton.tasks.complete(p.bob!, open[0]!._id, 'Approve');
    const leave = await baton.requests.get(p.alice!, 'LEAVE-1');
    expect(leave.stage).toBe('Approved');
    const notes = await rt.store.collection('notifications').find({ request_id: 'LEAVE-1' }).toArray();
    expect(notes.map((n) => n.text)).toEqual(['LEAVE-1 is done']);
    // Nothing ran twice: one task per step, one assignment and one creation in the trail.
    expect(leave.history.filter((h) => h.type === 'task_assigned')).toHaveLength(1);
    expect(await rt.store.collection('tasks').countDocuments({ request_id: 'LEAVE-1' })).toBe(1);
    expect(await rt.store.collection('jobs').countDocuments({ request_id: 'LEAVE-1' })).toBe(1);
  });

  it('kill -9 right after the core handed something out: every result and event it gave survived', async () => {
    // The embedded store acknowledges the core's writes once applied, not once committed;
    // the core holds back its results and events until they are durable. A process killed
    // the instant after it got them must find all of it after a restart.
    const dataDir = tempDir();
    const recipes = recipesDir(APPS);
    await runChild('acks', dataDir, recipes);
    const lines = readFileSync(path.join(dataDir, 'acks.txt'), 'utf8').split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThanOrEqual(300);
    expect(lines.at(-1)).toMatch(/^N /);
    // The store as the killed process left it (no start-up recovery, which could redo work).
    const store = SqliteStore.open(dataDir);
    const db = (name: string) => store.collection(name);
    const kinds = new Set<string>();
    for (const line of lines) {
      const [kind, id] = line.split(' ') as [string, string];
      kinds.add(kind);
      if (kind === 'R') expect(await db('requests').findOne({ _id: id }), line).not.toBeNull();
      if (kind === 'O') expect(await db('tasks').findOne({ _id: id }), line).not.toBeNull();
      if (kind === 'C') expect((await db('tasks').findOne({ _id: id }))?.status, line).toBe('completed');
      if (kind === 'N') expect(await db('notifications').findOne({ _id: id }), line).not.toBeNull();
    }
    expect([...kinds].sort()).toEqual(['C', 'N', 'O', 'R']);
    await store.close();
  });

  it('kill -9 at an arbitrary moment of busy work: after restart every job finishes and no effect is doubled', async () => {
    const dataDir = tempDir();
    const recipes = recipesDir(APPS);
    const killAfter = 400 + Math.floor(Math.random() * 1200);
    await runChild('chaos', dataDir, recipes, killAfter);

    rt = await startTestRuntime({ dataDir, recipesDir: recipes });
    const p = await people(rt);
    const { baton } = rt;
    // Finish everything that is still open.
    for (let round = 0; round < 5; round++) {
      for (const who of [p.bob!, p.hank!]) {
        for (const t of await baton.tasks.listOpenFor(who)) await baton.tasks.complete(who, t._id, 'Approve');
      }
    }
    const requests = await rt.store.collection('requests').find({ app: 'leave' }).toArray();
    expect(requests.length).toBeGreaterThan(0);
    const jobs = await rt.store.collection('jobs').find({}).toArray();
    await eventually(
      async () => (await rt!.store.collection('jobs').countDocuments({ status: { $ne: 'completed' } })) === 0,
    );
    expect(jobs).toHaveLength(requests.length); // exactly one job per request
    for (const r of requests) {
      const history = await baton.requests.history(r._id as string);
      expect(new Set(history.map((h) => h.id)).size).toBe(history.length);
      expect(['Approved', 'Rejected']).toContain(r.stage);
      expect(history.filter((h) => h.type === 'created')).toHaveLength(1);
      const notes = await rt.store.collection('notifications').find({ request_id: r._id }).toArray();
      const texts = notes.map((n) => n.text as string);
      expect(texts.filter((t) => t.endsWith('is done'))).toHaveLength(1);
      expect(new Set(texts).size).toBe(texts.length);
      const taskCount = await rt.store.collection('tasks').countDocuments({ request_id: r._id });
      expect(history.filter((h) => h.type === 'task_assigned')).toHaveLength(taskCount);
      expect(await rt.store.collection('tasks').countDocuments({ request_id: r._id, status: 'open' })).toBe(
        0,
      );
    }
  });
});
