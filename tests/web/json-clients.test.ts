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

/**
 * The admin forms answered a JSON client with their HTML page (400) for every refusal, and a
 * redirect for every change; the request routes above answer JSON.
 */
describe('the admin pages to a client that asks for JSON', () => {
  let portal: Portal;
  beforeAll(async () => {
    portal = await startPortal({ RECIPES_DIR: recipesDir(FILES) });
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('refuses with the errors by input, and says where a change went', async () => {
    const ada = await signedInJson(portal.url, 'ada');
    const json = (r: { type: string; text: string }) => {
      expect(r.type).toMatch(/^application\/json/);
      return JSON.parse(r.text);
    };

    const badApp = await ada('/admin/apps', { key: 'Bad Key', name: '', stages: 'Submitted' });
    expect(badApp.status).toBe(400);
    expect(json(badApp)).toMatchObject({
      error: 'baton.validation_failed',
      fields: { key: expect.any(String), name: expect.any(String) },
    });

    const badField = await ada('/admin/apps/facilities/fields', {
      key: 'x',
      label: 'X',
      type: 'text',
      min: 'a',
    });
    expect(badField.status).toBe(400);
    expect(json(badField).fields).toEqual({ min: 'min must be a number' });

    const sameStage = await ada('/admin/apps/facilities/stages', { stage: 'Done' });
    expect(sameStage.status).toBe(409);
    expect(json(sameStage)).toMatchObject({ error: 'baton.conflict' });

    const badGroup = await ada('/admin/groups', { name: 'Not Valid' });
    expect(badGroup.status).toBe(400);
    expect(json(badGroup).fields.name).toBeTruthy();

    const created = await ada('/admin/groups', { name: 'desk' });
    expect(created.status).toBe(201);
    expect(json(created)).toEqual({ ok: true, url: '/admin/groups/desk?done=created' });

    const unconfirmed = await ada('/admin/groups/desk/delete', {});
    expect(unconfirmed.status).toBe(409);
    expect(json(unconfirmed).message).toContain('confirm');
    expect(await portal.runtime.baton.groups.find('desk')).not.toBeNull();

    const nobody = await ada('/admin/groups/desk/add', { user: 'no-such-person' });
    expect(nobody.status).toBe(400);
    expect(json(nobody).message).toContain('no-such-person');

    const badRole = await ada('/admin/roles', { user: 'nobody', role: 'king' });
    expect(badRole.status).toBeGreaterThanOrEqual(400);
    expect(json(badRole).error).toMatch(/^baton\./);

    const badYaml = await ada('/admin/recipes/save', { yaml: 'kind: recipe\nname: x\n' });
    expect(badYaml.status).toBe(400);
    const body = json(badYaml);
    expect(body.error).toBe('baton.validation_failed');
    expect(body.problems[0]).toMatchObject({ line: expect.any(Number), message: expect.any(String) });
  });
});
