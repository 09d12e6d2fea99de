import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Portal, startPortal } from './harness.js';

/** A signed-in person over real HTTP (streams need a real socket). */
async function signIn(url: string, who: string): Promise<{ cookie: string; csrf: string }> {
  const login = await fetch(`${url}/login`);
  const first = login.headers.getSetCookie()[0]!.split(';')[0]!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await login.text())![1]!;
  const res = await fetch(`${url}/login/playground`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: first, 'content-type': 'application/x-www-form-urlencoded' },
    body: `who=${who}&_csrf=${csrf}`,
  });
  const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
  const home = await (await fetch(`${url}/`, { headers: { cookie } })).text();
  return { cookie, csrf: /<meta name="csrf-token" content="([^"]+)"/.exec(home)![1]! };
}

/** An open event stream that collects `change` events. */
async function stream(url: string, cookie: string, path = '/events') {
  const controller = new AbortController();
  const res = await fetch(`${url}${path}`, { headers: { cookie }, signal: controller.signal });
  const events: { event: string; data: { request?: string | null } }[] = [];
  let ended = false;
  const waiters: (() => void)[] = [];
  const done = (async () => {
    if (!res.body) return;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let i = buffer.indexOf('\n\n');
        while (i >= 0) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const event = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
          for (const w of waiters.splice(0)) w();
          i = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted
    }
    ended = true;
    for (const w of waiters.splice(0)) w();
  })();
  const until = async (check: () => boolean) => {
    while (!check()) {
      if (ended) throw new Error('stream ended');
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  await until(() => events.some((e) => e.event === 'ready'));
  return {
    status: res.status,
    events,
    changes: (id: string) => events.filter((e) => e.event === 'change' && e.data.request === id),
    until,
    isEnded: () => ended,
    done,
    close: () => controller.abort(),
  };
}

async function file(
  url: string,
  who: { cookie: string; csrf: string },
  app: string,
  form: Record<string, string>,
) {
  const body = new URLSearchParams({ ...form, _csrf: who.csrf });
  const res = await fetch(`${url}/apps/${app}/new`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: who.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  expect(res.status).toBe(303);
  return res.headers.get('location')!.split('/').pop()!;
}

describe('live updates (server-sent events)', () => {
  let portal: Portal;
  beforeAll(async () => {
    portal = await startPortal();
  });
  afterAll(async () => {
    await portal?.close();
  });

  it('tells each person only about requests they may see', async () => {
    const riley = await signIn(portal.url, 'riley');
    const ivan = await signIn(portal.url, 'ivan');
    const fiona = await signIn(portal.url, 'fiona');
    const rileyInbox = await stream(portal.url, riley.cookie);
    const ivanInbox = await stream(portal.url, ivan.cookie);
    const fionaInbox = await stream(portal.url, fiona.cookie);
    const id = await file(portal.url, riley, 'access-request', { system: 'Jira', justification: 'Tickets' });
    await ivanInbox.until(() => ivanInbox.changes(id).length > 0); // a task for the it group
    await rileyInbox.until(() => rileyInbox.changes(id).length > 0); // her own request
    // Fiona files her own: once she hears about it, she has heard everything before it.
    const hers = await file(portal.url, fiona, 'time-off', {
      start: '2026-12-01',
      days: '1',
      approver: (await portal.runtime.baton.users.lookup('web:demo-max'))!._id,
    });
    await fionaInbox.until(() => fionaInbox.changes(hers).length > 0);
    expect(fionaInbox.changes(id)).toEqual([]);

    // A request page's stream: only that request, and only for someone who may see it.
    const page = await stream(portal.url, riley.cookie, `/events?request=${id}`);
    const refused = await fetch(`${portal.url}/events?request=${id}`, { headers: { cookie: fiona.cookie } });
    expect(refused.status).toBe(403);
    await refused.body?.cancel();
    const task = (await portal.runtime.baton.tasks.listForRequest(id))[0]!;
    const res = await fetch(`${portal.url}/tasks/${task._id}/complete`, {
      method: 'POST',
      headers: {
        cookie: ivan.cookie,
        'x-csrf-token': ivan.csrf,
        'x-requested-with': 'fetch',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ outcome: 'Approve' }),
    });
    expect(res.status).toBe(200);
    await page.until(() => page.changes(id).length > 0);
    expect(page.events.filter((e) => e.event === 'change' && e.data.request !== id)).toEqual([]);
    for (const s of [rileyInbox, ivanInbox, fionaInbox, page]) s.close();
  });

  it('ends open streams when the server shuts down, so shutdown is not held up', async () => {
    const other = await startPortal();
    const riley = await signIn(other.url, 'riley');
    const s = await stream(other.url, riley.cookie);
    expect(s.isEnded()).toBe(false);
    await other.close();
    await s.done;
    expect(s.isEnded()).toBe(true);
  });
});
