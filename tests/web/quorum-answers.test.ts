/**
 * A member's answer to a group task with a quorum in the portal (over HTTP, signed in as a
 * playground person): the answer is recorded without deciding the task; the person is told
 * what the task still waits for, and it leaves their inbox instead of offering the buttons again.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { seedPlayground } from '../../src/core/playground.js';
import type { User } from '../../src/core/types.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/server/app.js';
import { recipesDir, removeDir, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

const FILES = {
  'offsite.yaml': `
kind: app
key: offsite
name: Team offsite
stages: [Proposed, Agreed, Declined]
fields:
  - { key: place, label: Place, type: text, required: true }
`,
  'vote.yaml': `
kind: recipe
name: offsite-vote
trigger: { type: new_request, app: offsite }
steps:
  - id: vote
    action: assign_task
    to: group:team
    title: "Offsite at {{ record.place }}?"
    outcomes: [Yes, No]
    quorum: { mode: count, count: 2 }
  - action: change_stage
    stage: "{{ steps.vote.outcome = 'Yes' ? 'Agreed' : 'Declined' }}"
`,
};

/** A signed-in client over HTTP (app.inject): keeps the session cookie and the CSRF token. */
function client(app: FastifyInstance) {
  let cookie = '';
  let csrf = '';
  const keep = (headers: Record<string, unknown>) => {
    const set = headers['set-cookie'];
    for (const c of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair] = String(c).split(';');
      if (pair?.startsWith('baton_session=')) cookie = pair;
    }
  };
  const get = async (url: string) => {
    const res = await app.inject({ method: 'GET', url, headers: { cookie } });
    keep(res.headers);
    const m = /name="_csrf" value="([^"]*)"/.exec(res.body);
    if (m?.[1]) csrf = m[1];
    return res;
  };
  const post = async (url: string, form: Record<string, string>, json = false) => {
    const res = await app.inject({
      method: 'POST',
      url,
      headers: {
        cookie,
        'content-type': 'application/x-www-form-urlencoded',
        ...(json ? { accept: 'application/json' } : {}),
      },
      payload: new URLSearchParams({ ...form, _csrf: csrf }).toString(),
    });
    keep(res.headers);
    return res;
  };
  return {
    get,
    post,
    async signIn(slug: string) {
      await get('/login');
      expect((await post('/login/playground', { who: slug })).statusCode).toBe(303);
      await get('/');
    },
  };
}

describe('answering a group task with a quorum in the portal', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  let people: Record<string, User>;

  beforeAll(async () => {
    rt = await startTestRuntime({ recipesDir: recipesDir(FILES), admins: [] });
    app = await buildApp({
      baton: rt.baton,
      config: parseConfig({ DATA_DIR: rt.dataDir, HOST: '127.0.0.1' }),
      logger: createLogger('silent'),
    });
    people = await seedPlayground(rt.baton);
    await rt.baton.groups.create(people.ada!, 'team', 'The team');
    for (const who of ['morgan', 'max', 'hana'])
      await rt.baton.groups.addMember(people.ada!, 'team', people[who]!._id);
  });

  afterAll(async () => {
    await app.close();
    await rt.close();
    removeDir(rt.dataDir);
  });

  it('says the answer is recorded and what the task waits for; the task leaves that inbox and shows the answer', async () => {
    await rt.baton.requests.file(people.riley!, 'offsite', { place: 'Porto' });
    const morgan = client(app);
    await morgan.signIn('morgan');
    const inbox = await morgan.get('/');
    const taskId = /action="\/tasks\/([^/]+)\/complete"/.exec(inbox.body)?.[1];
    expect(taskId).toBeDefined();

    const res = await morgan.post(`/tasks/${taskId}/complete`, { outcome: 'Yes' }, true);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      ok: true,
      message: 'Your answer "Yes" on Offsite at Porto? is recorded; the task waits for 1 more response.',
      task: { status: 'open' },
    });

    // Morgan's inbox no longer offers the task; the request page shows the answer, no buttons.
    expect((await morgan.get('/')).body).not.toContain(`/tasks/${taskId}/complete`);
    const page = (await morgan.get('/requests/OFFSITE-1')).body;
    expect(page).toContain('You answered &quot;Yes&quot;; the task waits for 1 more response');
    expect(page).not.toContain(`action="/tasks/${taskId}/complete"`);

    // Max still has it, with its buttons.
    const max = client(app);
    await max.signIn('max');
    expect((await max.get('/')).body).toContain(`/tasks/${taskId}/complete`);
  });

  it('a member who answers after two others decided is told both of their names, as the task shows', async () => {
    await rt.baton.requests.file(people.riley!, 'offsite', { place: 'Lisbon' });
    const hana = client(app);
    await hana.signIn('hana');
    const taskId = /action="\/tasks\/([^/]+)\/complete"/.exec(
      (await hana.get('/requests/OFFSITE-2')).body,
    )?.[1];
    expect(taskId).toBeDefined();
    for (const who of ['morgan', 'max']) {
      const voter = client(app);
      await voter.signIn(who);
      expect((await voter.post(`/tasks/${taskId}/complete`, { outcome: 'Yes' }, true)).statusCode).toBe(200);
    }
    const page = (await hana.get('/requests/OFFSITE-2')).body;
    expect(page).toContain('Answered &quot;Yes&quot; by Morgan Manager and Max Manager');

    const late = await hana.post(`/tasks/${taskId}/complete`, { outcome: 'No' }, true);
    expect(late.statusCode).toBe(409);
    expect((late.json() as { message: string }).message).toMatch(
      /^Already answered "Yes" by Morgan Manager and Max Manager at /,
    );
  });
});
