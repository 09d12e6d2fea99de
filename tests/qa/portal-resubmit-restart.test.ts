/**
 * A request form posted again after Baton restarted (the first post's answer lost to a crash,
 * the browser re-posting on reload, Back and Submit again) files one request, as it does
 * without a restart: the form's one-time token is remembered in the store, not in memory.
 */

import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { killHard, startBaton } from '../helpers/process.js';
import { recipesDir, removeDir, tempDir } from '../helpers/runtime.js';
import { signedIn } from '../web/http-client.js';

const GEAR = {
  'gear.yaml': `
kind: app
key: gear
name: Gear
id_prefix: GEAR
stages: [Requested, Ordered]
fields:
  - { key: item, label: Item, type: text, required: true }
`,
};

describe('Portal: a request form posted again after a restart', { timeout: 120_000 }, () => {
  let child: ChildProcess | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    if (child) await killHard(child);
    for (const d of dirs.splice(0)) removeDir(d);
  });

  it('files one request (kill -9 between the two posts)', async () => {
    const dataDir = tempDir('races8-portal-');
    const recipes = recipesDir(GEAR);
    dirs.push(dataDir, recipes);
    let baton = await startBaton(dataDir, recipes);
    child = baton.child;
    let riley = await signedIn(baton.url, 'riley');
    const form = await riley.get('/apps/gear/new');
    const token = /name="_submission" value="([^"]+)"/.exec(form.body)?.[1];
    expect(token).toBeTruthy();
    const fields = { _submission: token!, item: 'Laptop' };
    const first = await riley.post('/apps/gear/new', fields);
    expect(first.status).toBe(303);
    expect(first.location).toBe('/requests/GEAR-1');

    await killHard(baton.child);
    baton = await startBaton(dataDir, recipes);
    child = baton.child;
    riley = await signedIn(baton.url, 'riley');
    const again = await riley.post('/apps/gear/new', fields);
    expect(again.status).toBe(303);
    expect(again.location).toBe('/requests/GEAR-1');
    const table = await riley.get('/apps/gear');
    expect([...new Set(table.body.match(/GEAR-\d+/g))]).toEqual(['GEAR-1']);
  });
});
