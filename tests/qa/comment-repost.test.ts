/**
 * A comment posted again (a double click, the browser re-posting the form after its answer
 * was lost to a crash) is recorded once in the request's history; a different comment sent
 * from the same rendering of the page (Back, then another comment) is recorded too.
 */

import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { killHard, startBaton } from '../helpers/process.js';
import { recipesDir, removeDir, tempDir } from '../helpers/runtime.js';
import { signedIn, textOf } from '../web/http-client.js';

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

describe('Portal: a comment posted again', { timeout: 120_000 }, () => {
  let child: ChildProcess | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    if (child) await killHard(child);
    for (const d of dirs.splice(0)) removeDir(d);
  });

  it('is recorded once, also across a kill -9; another comment from the same page is recorded', async () => {
    const dataDir = tempDir('races8-comment-');
    const recipes = recipesDir(GEAR);
    dirs.push(dataDir, recipes);
    let baton = await startBaton(dataDir, recipes);
    child = baton.child;
    let riley = await signedIn(baton.url, 'riley');
    const form = await riley.get('/apps/gear/new');
    const token = /name="_submission" value="([^"]+)"/.exec(form.body)![1]!;
    const filed = await riley.post('/apps/gear/new', { _submission: token, item: 'Laptop' });
    expect(filed.location).toBe('/requests/GEAR-1');

    const page = await riley.get('/requests/GEAR-1');
    const commentForm = /<form method="post" action="\/requests\/GEAR-1\/comment"[\s\S]*?<\/form>/.exec(
      page.body,
    )?.[0];
    expect(commentForm).toBeTruthy();
    // What the browser sends: every field of the form as rendered, and the comment typed.
    const fields = Object.fromEntries(
      [...commentForm!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
        m[1]!,
        m[2]!,
      ]),
    );
    const send = () => riley.post('/requests/GEAR-1/comment', { ...fields, comment: 'Please hurry' });
    expect((await Promise.all([send(), send()])).map((r) => r.status)).toEqual([303, 303]);

    await killHard(baton.child);
    baton = await startBaton(dataDir, recipes);
    child = baton.child;
    riley = await signedIn(baton.url, 'riley');
    await riley.get('/requests/GEAR-1');
    const { _csrf: _, ...rendered } = fields;
    expect(
      (await riley.post('/requests/GEAR-1/comment', { ...rendered, comment: 'Please hurry' })).status,
    ).toBe(303);
    expect(
      (await riley.post('/requests/GEAR-1/comment', { ...rendered, comment: 'Second thought' })).status,
    ).toBe(303);

    const text = textOf((await riley.get('/requests/GEAR-1')).body);
    expect(text.match(/Please hurry/g) ?? []).toHaveLength(1);
    expect(text.match(/Second thought/g) ?? []).toHaveLength(1);
  });
});
