/**
 * A Baton process with the Slack surface that gets killed with SIGKILL (`kill -9`) while it
 * posts the copies of a group task: some members' copies are posted and recorded, the others
 * are in flight (the parent's fake Web API never answers them).
 * Usage: tsx tests/slack/crash-delivery-child.ts <dataDir> <recipesDir> <fake Web API url>
 * Prints `recorded <task id>` once two copies are recorded and durable, then waits to be killed.
 */
import { seedPeople, startTestRuntime } from '../helpers/runtime.js';
import { FakeSlackApi, linkSlackPeople, startTestSurface } from './tasks-harness.js';

const [dataDir, recipesDir, apiUrl] = process.argv.slice(2);
const rt = await startTestRuntime({ dataDir: dataDir!, recipesDir: recipesDir! });
const p = await seedPeople(rt.baton);
// Not started: the parent's fake answers; this one only maps Slack people to Baton users.
const fake = new FakeSlackApi();
fake.url = apiUrl!;
await linkSlackPeople(rt.baton, fake);
await rt.baton.groups.create(p.admin!, 'board', 'The board');
for (const who of ['bob', 'hank', 'hedy', 'admin'])
  await rt.baton.groups.addMember(p.admin!, 'board', p[who]!._id);
await startTestSurface(rt.baton, fake);
const request = await rt.baton.requests.file(p.alice!, 'policy', { title: 'Remote work' });
for (;;) {
  const [task] = await rt.baton.tasks.listForRequest(request._id);
  if (task && (await rt.baton.deliveries.taskDeliveries(task._id, 'slack')).length >= 2) {
    await rt.baton.durable();
    process.stdout.write(`recorded ${task._id}\n`);
    break;
  }
  await new Promise((r) => setTimeout(r, 20));
}
await new Promise(() => {}); // the parent kills this process
