import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { type Portal, startPortal } from './harness.js';

const FILES = {
  'facilities.yaml': `
kind: app
key: facilities
name: Facilities
id_prefix: FAC
stages: [Submitted, Done]
fields:
  - { key: title, label: Title, type: text, required: true }
`,
};

/** A person signed in to the playground over real HTTP; `get` sends the Accept header given. */
async function signedIn(url: string, slug: string) {
  let cookie = '';
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      if (pair?.startsWith('baton_session=')) cookie = pair;
    }
  };
  const get = async (path: string, headers: Record<string, string>) => {
    const res = await fetch(`${url}${path}`, { headers: { cookie, ...headers }, redirect: 'manual' });
    keep(res);
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  };
  const csrf = /name="_csrf" value="([^"]+)"/.exec((await get('/login', { accept: 'text/html' })).text)![1]!;
  const login = await fetch(`${url}/login/playground`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, who: slug }),
    redirect: 'manual',
  });
  keep(login);
  expect(login.status).toBe(303);
  return get;
}

/**
 * The admin POST routes answer a client that asks for JSON in JSON; their GET pages answered it
 * with the HTML page (200, text/html), as if it had asked for that.
 */
describe('the admin pages, read by a client that asks for JSON', () => {
  let portal: Portal;
  beforeAll(async () => {
    portal = await startPortal({ RECIPES_DIR: recipesDir(FILES) });
  });
  afterAll(async () => {
    await portal?.close();
  });

  const PAGES = [
    '/admin',
    '/admin/apps',
    '/admin/apps/facilities',
    '/admin/recipes',
    '/admin/jobs',
    '/admin/groups',
    '/dashboard',
  ];

  it('answers 406 in JSON, saying the page is HTML, instead of the HTML page', async () => {
    const ada = await signedIn(portal.url, 'ada');
    for (const path of PAGES) {
      const res = await ada(path, { accept: 'application/json' });
      expect([path, res.status, res.type]).toEqual([path, 406, expect.stringMatching(/^application\/json/)]);
      expect(JSON.parse(res.text)).toMatchObject({
        error: 'baton.not_acceptable',
        message: expect.any(String),
      });
    }
  });

  it('still answers browsers with the page, and someone who may not see it with 403 in JSON first', async () => {
    const ada = await signedIn(portal.url, 'ada');
    for (const path of PAGES) {
      const res = await ada(path, {
        accept: 'text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8',
      });
      expect([path, res.status, res.type]).toEqual([path, 200, expect.stringMatching(/^text\/html/)]);
    }
    // A client that takes anything too (axios' default Accept) gets the page as well.
    const axiosLike = await ada('/admin/apps', { accept: 'application/json, text/plain, */*' });
    expect([axiosLike.status, axiosLike.type]).toEqual([200, expect.stringMatching(/^text\/html/)]);
    const riley = await signedIn(portal.url, 'riley');
    const refused = await riley('/admin/apps', { accept: 'application/json' });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text).error).toBe('baton.forbidden');
    // The portal's own script reads the inbox's fragment as HTML.
    const fragment = await riley('/fragments/inbox', { 'x-requested-with': 'fetch', accept: 'text/html' });
    expect([fragment.status, fragment.type]).toEqual([200, expect.stringMatching(/^text\/html/)]);
  });
});
