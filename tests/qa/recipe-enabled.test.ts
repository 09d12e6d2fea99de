import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBaton } from '../helpers/process.js';
import { recipesDir, removeDir, tempDir } from '../helpers/runtime.js';

/**
 * `enabled: false` in a recipe file (the recipe format's way to ship a recipe turned off) was
 * read only when the recipe was first installed: a team that turned a running recipe off in its
 * file and restarted Baton found it still running, and still starting jobs.
 */

const APP = `kind: app
key: memo
name: Memo
stages: [New, Seen]
fields:
  - { key: text, label: Text, type: text, required: true }
`;
const recipe = (enabled: string) => `kind: recipe
name: memo-seen
${enabled}trigger: { type: new_request, app: memo }
steps:
  - action: change_stage
    stage: Seen
`;

/** A browser's session through the playground picker, over real HTTP. */
async function signIn(url: string, who: string) {
  let cookie = '';
  const get = async (p: string) => {
    const res = await fetch(url + p, { headers: { cookie }, redirect: 'manual' });
    const set = res.headers.getSetCookie().find((c) => c.startsWith('baton_session='));
    if (set) cookie = set.split(';')[0]!;
    return res.text();
  };
  const post = async (p: string, body: Record<string, string>) => {
    const page = await get(p === '/login/playground' ? '/login' : '/');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    const res = await fetch(url + p, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, ...body }).toString(),
      redirect: 'manual',
    });
    const set = res.headers.getSetCookie().find((c) => c.startsWith('baton_session='));
    if (set) cookie = set.split(';')[0]!;
    return { status: res.status, location: res.headers.get('location') };
  };
  expect((await post('/login/playground', { who })).status).toBe(303);
  return { get, post };
}

const stateOf = (html: string) =>
  /State: <[^>]*>\s*(\w+)/.exec(html)?.[1] ?? /State:\s*(\w+)/.exec(html)?.[1];

describe('enabled: in a recipe file', () => {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    for (const dir of dirs.splice(0)) removeDir(dir);
  });
  const start = async (dataDir: string, recipes: string) => {
    const baton = await startBaton(dataDir, recipes);
    children.push(baton.child);
    return baton;
  };
  const stop = async () => {
    const child = children.pop()!;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };

  it('is followed when it changes in the file; an operator stop stands while it does not', async () => {
    const dataDir = tempDir();
    const recipes = recipesDir({ 'app.yaml': APP, 'seen.yaml': recipe('') });
    dirs.push(dataDir, recipes);
    const file = path.join(recipes, 'seen.yaml');

    let { url } = await start(dataDir, recipes);
    let ada = await signIn(url, 'ada');
    expect(stateOf(await ada.get('/admin/recipes/memo-seen'))).toBe('Running');
    await stop();

    // Turned off in its file: stopped at the next start, and a new request starts nothing.
    writeFileSync(file, recipe('enabled: false\n'));
    ({ url } = await start(dataDir, recipes));
    ada = await signIn(url, 'ada');
    expect(stateOf(await ada.get('/admin/recipes/memo-seen'))).toBe('Stopped');
    const riley = await signIn(url, 'riley');
    const filed = await riley.post('/apps/memo/new', { text: 'hello' });
    expect(filed.status).toBe(303);
    await new Promise((r) => setTimeout(r, 500));
    expect(await riley.get(filed.location!)).not.toContain('Stage changed');

    // An operator starts it: that stands at the next start, the file being unchanged.
    expect((await ada.post('/admin/recipes/memo-seen/start', {})).status).toBe(303);
    await stop();
    ({ url } = await start(dataDir, recipes));
    ada = await signIn(url, 'ada');
    expect(stateOf(await ada.get('/admin/recipes/memo-seen'))).toBe('Running');

    // An operator stops it, then its author turns it on in the file: the file's change is followed.
    expect((await ada.post('/admin/recipes/memo-seen/stop', {})).status).toBe(303);
    await stop();
    writeFileSync(file, recipe('enabled: true\n'));
    ({ url } = await start(dataDir, recipes));
    ada = await signIn(url, 'ada');
    expect(stateOf(await ada.get('/admin/recipes/memo-seen'))).toBe('Running');
  }, 120_000);
});
