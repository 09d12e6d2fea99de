import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  eventually,
  ROOT,
  recipesDir,
  removeDir,
  startTestRuntime,
  type TestRuntime,
  tempDir,
} from '../helpers/runtime.js';
import {
  dm,
  FakeSlackApi,
  linkSlackPeople,
  type Posted,
  startTestSurface,
  type TestSurface,
} from './tasks-harness.js';

const CHILD = path.join(ROOT, 'tests/slack/crash-delivery-child.ts');

const BOARD = {
  'policy.yaml': `
kind: app
key: policy
name: Policy
id_prefix: POL
stages: [Draft, Approved, Rejected]
fields:
  - { key: title, label: Title, type: text, required: true }
`,
  'board.yaml': `
kind: recipe
name: policy-board
trigger: { type: new_request, app: policy }
steps:
  - id: board
    action: assign_task
    to: group:board
    title: "Policy: {{ record.title }}"
  - action: change_stage
    stage: "{{ steps.board.outcome = 'Approve' ? 'Approved' : 'Rejected' }}"
`,
};

/** Runs the child until it has recorded two copies, then kills it (SIGKILL); resolves with the task id. */
function runAndKill(dataDir: string, recipes: string, apiUrl: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // node itself (not the tsx wrapper), so SIGKILL hits the process that holds the database.
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, recipes, apiUrl], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/recorded \S+\n/.test(out)) child.kill('SIGKILL');
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (_code, signal) => {
      const task = /recorded (\S+)\n/.exec(out)?.[1];
      if (signal === 'SIGKILL' && task) resolve(task);
      else reject(new Error(`child exited without being killed: ${err}`));
    });
  });
}

/**
 * A group task's members each get a copy in a DM. When the process dies after some copies went
 * out, the next start must post the others' copies, and nobody gets a second one.
 */
describe('Slack: kill -9 while the copies of a group task go out', { timeout: 90_000 }, () => {
  let fake: FakeSlackApi | undefined;
  let rt: TestRuntime | undefined;
  let surface: TestSurface | undefined;
  let dataDir = '';
  afterEach(async () => {
    await surface?.stop();
    await rt?.close();
    await fake?.stop();
    removeDir(dataDir);
  });

  it('after a restart every member has exactly one copy', async () => {
    fake = new FakeSlackApi();
    await fake.start();
    // Hedy's and Ada's copies never reach Slack before the process dies.
    const late = [dm('hedy'), dm('admin')];
    fake.hold = (method, args) => method === 'chat.postMessage' && late.includes(String(args.channel));
    dataDir = tempDir();
    const recipes = recipesDir(BOARD);
    const taskId = await runAndKill(dataDir, recipes, fake.url);
    const members = ['bob', 'hank', 'hedy', 'admin'];
    const copiesIn = (channel: string) =>
      fake!
        .of('chat.postMessage')
        .map((a) => a as unknown as Posted)
        .filter((a) => a.channel === channel && a.text.includes('Policy: Remote work'));
    expect(copiesIn(dm('bob'))).toHaveLength(1);
    expect(copiesIn(dm('hank'))).toHaveLength(1);
    expect(fake.held.map((c) => c.args.channel).sort()).toEqual([...late].sort());
    fake.hold = undefined;

    // The next start on the same DATA_DIR: once the surface listens, the redelivery runs.
    rt = await startTestRuntime({ dataDir, recipesDir: recipes });
    await linkSlackPeople(rt.baton, fake);
    surface = await startTestSurface(rt.baton, fake);
    await rt.baton.redeliver();
    const people = await Promise.all(
      members.map(async (who) => (await rt!.baton.users.lookup(`${who}@example.com`))!._id),
    );
    await eventually(async () => {
      const copies = await rt!.baton.deliveries.taskDeliveries(taskId, 'slack');
      return people.every((id) => copies.some((c) => c.user === id));
    });
    for (const who of members) expect(copiesIn(dm(who)), who).toHaveLength(1);

    // Done for Slack: the next sweeps hand it out no more, and post nothing twice.
    await eventually(async () => (await rt!.baton.redeliver()).tasks === 0);
    for (const who of members) expect(copiesIn(dm(who)), who).toHaveLength(1);
  });
});
