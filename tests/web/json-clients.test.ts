import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recipesDir } from '../helpers/runtime.js';
import { type Portal, startPortal } from './harness.js';

const FILES = {
  'facilities.yaml': `
kind: app
key: facilities
name: Facilities
id_prefix: FAC
stages: [Submitted, Done, Cancelled]
fields:
  - { key: title, label: Title, type: text, required: true }
  - { key: qty, label: Quantity, type: number, min: 1, max: 20 }
  - { key: contact, label: Contact email, type: email }
`,
};

/** A client of the portal over real HTTP that asks for JSON (Accept: application/json), as an API client would. */
async function signedInJson(url: string, slug: string) {
  let cookie = '';
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      if (pair?.startsWith('baton_session=')) cookie = pair;
    }
  };
  const page = async (path: string) => {
    const res = await fetch(`${url}${path}`, {
      headers: { cookie, accept: 'text/html' },
      redirect: 'manual',
    });
    keep(res);
    return res.text();
  };
  const csrfOf = (body: string) =>
    (/name="_csrf" value="([^"]+)"/.exec(body) ??
      /<meta name="csrf-token" content="([^"]+)"/.exec(body))![1]!;
  const loginCsrf = csrfOf(await page('/login'));
  const login = await fetch(`${url}/login/playground`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: loginCsrf, who: slug }),
    redirect: 'manual',
  });
  keep(login);
  expect(login.status).toBe(303);
  const csrf = csrfOf(await page('/'));
  return async (path: string, body: Record<string, unknown>) => {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: {
        cookie,
        'x-csrf-token': csrf,
        'content-type': 'application/json',
        accept: 'application/json',
      },
      body: JSON.stringify(body),
      redirect: 'manual',
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', text };
  };
}

/**
 * A client asking for JSON got JSON for some errors (a missing app, a refused permission) but an
 * HTML page for a refused request form (400) and a redirect where a request was filed, a comment
 * added or a stage moved: only the portal's own script (x-requested-with: fetch) got JSON there.
 */
describe('the portal to a client that asks for JSON', () => {
  let portal: Portal;
  beforeAll(async () => {
    portal = await startPortal({ RECIPES_DIR: recipesDir(FILES) });
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('files, comments, moves and refuses in JSON, with each field error named', async () => {
    const riley = await signedInJson(portal.url, 'riley');
    const refused = await riley('/apps/facilities/new', { qty: '50', contact: 'nope' });
    expect(refused.status).toBe(400);
    expect(refused.type).toMatch(/^application\/json/);
    expect(JSON.parse(refused.text)).toMatchObject({
      error: 'baton.validation_failed',
      fields: {
        title: 'Title is required',
        qty: 'Quantity must be at most 20',
        contact: 'Contact email must be an email address',
      },
    });

    const filed = await riley('/apps/facilities/new', { title: 'Chair', qty: '2' });
    expect(filed.status).toBe(201);
    const { id, url } = JSON.parse(filed.text);
    expect(url).toBe(`/requests/${id}`);
    expect((await portal.runtime.baton.requests.load(id))!.record).toMatchObject({ title: 'Chair', qty: 2 });

    const commented = await riley(`/requests/${id}/comment`, { comment: 'Any news?' });
    expect([commented.status, commented.text]).toEqual([200, '{"ok":true}']);
    const empty = await riley(`/requests/${id}/comment`, { comment: '' });
    expect(empty.status).toBe(400);
    expect(JSON.parse(empty.text).message).toBeTruthy();

    const ada = await signedInJson(portal.url, 'ada');
    const moved = await ada(`/requests/${id}/stage`, { stage: 'Done' });
    expect([moved.status, moved.text]).toEqual([200, '{"ok":true}']);
    expect((await portal.runtime.baton.requests.load(id))!.stage).toBe('Done');
    const nowhere = await ada(`/requests/${id}/stage`, { stage: 'Nowhere' });
    expect(nowhere.status).toBe(400);
    expect(nowhere.type).toMatch(/^application\/json/);
  });
});
