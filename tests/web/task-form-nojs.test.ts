import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { demoIdentity } from '../../src/core/playground.js';
import { createLogger } from '../../src/logger.js';
import { buildApp } from '../../src/server/app.js';
import { eventually, recipesDir, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

const FILES = {
  'memo.yaml': `
kind: app
key: memo
name: Memo
stages: [Submitted, Done]
fields:
  - { key: summary, label: Summary, type: text, required: true }
`,
  'memo-recipe.yaml': `
kind: recipe
name: memo-flow
trigger: { type: new_request, app: memo }
steps:
  - id: review
    action: assign_task
    to: morgan@playground.baton.invalid
    title: "Review {{ record.summary }}"
    outcomes:
      - Approve
      - { label: Reject, comment: required }
    inputs:
      - { id: budget_code, label: Budget code, type: text, required_for: [Approve] }
  - action: change_stage
    stage: Done
`,
};

/** Approving without JavaScript (the plain form under each card) when something is missing. */
describe('task form without JavaScript', () => {
  let rt: TestRuntime;
  let app: FastifyInstance;
  let cookie = '';
  let csrf = '';

  const get = async (url: string) => {
    const res = await app.inject({ method: 'GET', url, headers: { cookie, accept: 'text/html' } });
    const m = /<meta name="csrf-token" content="([^"]*)"/.exec(res.body);
    if (m?.[1]) csrf = m[1];
    return res;
  };
  const post = (url: string, form: Record<string, string>) =>
    app.inject({
      method: 'POST',
      url,
      headers: { cookie, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: csrf, ...form }).toString(),
    });

  beforeAll(async () => {
    const env = { HOST: '127.0.0.1' };
    rt = await startTestRuntime({ recipesDir: recipesDir(FILES), env });
    const config = parseConfig({ DATA_DIR: rt.dataDir, LOG_LEVEL: 'silent', ...env });
    app = await buildApp({ baton: rt.baton, config, logger: createLogger('silent') });
    await app.ready();
    const login = await app.inject({ method: 'GET', url: '/login' });
    cookie = String(login.headers['set-cookie']).split(';')[0]!;
    csrf = /name="_csrf" value="([^"]*)"/.exec(login.body)![1]!;
    const signIn = await post('/login/playground', { who: 'morgan' });
    cookie = String(signIn.headers['set-cookie'] ?? cookie).split(';')[0]!;
    await get('/');
  });
  afterAll(async () => {
    await app.close();
    await rt.close();
  });

  it('a missing input shows the task form again with the message and what was typed; then it goes through', async () => {
    const riley = (await rt.baton.users.lookup(`web:${demoIdentity('riley')}`))!;
    const request = await rt.baton.requests.file(riley, 'memo', { summary: 'Team offsite' });
    const task = await eventually(async () => (await rt.baton.tasks.listForRequest(request._id))[0]);
    await get('/');
    const refused = await post(`/tasks/${task._id}/complete`, {
      return_to: '/',
      outcome: 'Approve',
      comment: 'Fine by me <3',
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.headers['content-type']).toMatch(/^text\/html/);
    expect(refused.body).toContain('Budget code is required to Approve');
    // The same form, with the comment kept, to try again.
    expect(refused.body).toContain(`action="/tasks/${task._id}/complete"`);
    expect(refused.body).toMatch(/<textarea name="comment"[^>]*>Fine by me &lt;3<\/textarea>/);
    expect(refused.body).toContain('name="inputs.budget_code"');
    expect(refused.body).toContain('<input type="hidden" name="return_to" value="/">');
    expect((await rt.baton.tasks.load(task._id))?.status).toBe('open');

    const ok = await post(`/tasks/${task._id}/complete`, {
      return_to: '/',
      outcome: 'Approve',
      comment: 'Fine by me <3',
      'inputs.budget_code': 'BC-7',
    });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe('/');
    const done = await rt.baton.tasks.load(task._id);
    expect(done).toMatchObject({ status: 'completed', outcome: 'Approve', comment: 'Fine by me <3' });
    expect(done?.inputs_values).toEqual({ budget_code: 'BC-7' });
  });
});
