/**
 * A stage change is a compare-and-set on the stage it read: a cancel or an admin's move that
 * lands between its read and its write is not overwritten, the trail never shows two moves
 * "from" the same stage, and a recipe's move never takes a cancelled request out of Cancelled.
 * The embedded store runs these one after the other, so the test wraps the requests collection
 * to land the other change exactly between the read and the write.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../src/core/types.js';
import { recipesDir, seedPeople, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

const APP = {
  'chair.yaml': `
kind: app
key: chair
name: Chair
stages: [Submitted, Ordered, Delivered, Cancelled]
fields:
  - { key: model, label: Model, type: text }
`,
};

describe('a stage change racing another one', () => {
  let rt: TestRuntime;
  let p: Record<string, User>;

  beforeEach(async () => {
    rt = await startTestRuntime({ recipesDir: recipesDir(APP) });
    p = await seedPeople(rt.baton);
  });
  afterEach(async () => {
    await rt.close();
  });

  /** Runs `other` once, just before the first stage write to `to` reaches the store. */
  const landBefore = (to: string, other: () => Promise<unknown>) => {
    const requests = rt.baton.ctx.db.requests;
    const original = requests.findOneAndUpdate.bind(requests);
    let done = false;
    requests.findOneAndUpdate = (async (filter: unknown, update: unknown, options: unknown) => {
      const set = (update as { $set?: { stage?: unknown } }).$set;
      if (!done && set?.stage === to) {
        done = true;
        await other();
      }
      return original(filter as never, update as never, options as never);
    }) as typeof requests.findOneAndUpdate;
  };

  const stageLines = async (id: string) =>
    (await rt.baton.requests.history(id)).filter((e) => e.type === 'stage_changed').map((e) => e.text);

  it('a recipe does not move a request cancelled between its read and its write', async () => {
    const { baton } = rt;
    const request = await baton.requests.file(p.alice!, 'chair', { model: 'Aeron' });
    landBefore('Ordered', () => baton.engine.cancelRequest(p.alice!, request._id, 'Not needed'));
    await baton.requests.changeStage('job-1', request._id, 'Ordered', 'job-1:2', { keepCancelled: true });

    expect((await baton.requests.load(request._id))?.stage).toBe('Cancelled');
    expect(await stageLines(request._id)).toEqual(['Stage changed from Submitted to Cancelled']);
  });

  it('two moves at once: each one from the stage it really left, the last one wins', async () => {
    const { baton } = rt;
    const request = await baton.requests.file(p.alice!, 'chair', { model: 'Aeron' });
    landBefore('Ordered', () => baton.requests.setStage(p.admin!, request._id, 'Delivered'));
    await baton.requests.setStage(p.admin!, request._id, 'Ordered');

    expect((await baton.requests.load(request._id))?.stage).toBe('Ordered');
    expect(await stageLines(request._id)).toEqual([
      'Stage changed from Submitted to Delivered',
      'Stage changed from Delivered to Ordered',
    ]);
  });

  it('a move to the stage someone else just moved it to records nothing more', async () => {
    const { baton } = rt;
    const request = await baton.requests.file(p.alice!, 'chair', { model: 'Aeron' });
    landBefore('Ordered', () => baton.requests.setStage(p.admin!, request._id, 'Ordered'));
    await baton.requests.changeStage('job-1', request._id, 'Ordered', 'job-1:2');

    expect((await baton.requests.load(request._id))?.stage).toBe('Ordered');
    expect(await stageLines(request._id)).toEqual(['Stage changed from Submitted to Ordered']);
  });
});
