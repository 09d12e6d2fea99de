import { expect } from 'vitest';

/**
 * A browser without JavaScript, over real HTTP: keeps the session cookie, reads the CSRF token
 * from each page, posts forms as `application/x-www-form-urlencoded` and does not follow redirects.
 */
export interface HttpClient {
  get(path: string): Promise<{ status: number; body: string; location: string | null }>;
  post(
    path: string,
    form: Record<string, string>,
  ): Promise<{ status: number; body: string; location: string | null }>;
}

export async function signedIn(url: string, slug: string): Promise<HttpClient> {
  let cookie = '';
  let csrf = '';
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      if (pair?.startsWith('baton_session=')) cookie = pair;
    }
  };
  const read = async (res: Response) => {
    keep(res);
    const body = await res.text();
    const m =
      /<meta name="csrf-token" content="([^"]+)"/.exec(body) ?? /name="_csrf" value="([^"]+)"/.exec(body);
    if (m?.[1]) csrf = m[1];
    return { status: res.status, body, location: res.headers.get('location') };
  };
  const client: HttpClient = {
    async get(path) {
      return read(
        await fetch(`${url}${path}`, { headers: { cookie, accept: 'text/html' }, redirect: 'manual' }),
      );
    },
    async post(path, form) {
      return read(
        await fetch(`${url}${path}`, {
          method: 'POST',
          headers: {
            cookie,
            accept: 'text/html',
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams({ _csrf: csrf, ...form }),
          redirect: 'manual',
        }),
      );
    },
  };
  await client.get('/login');
  const login = await client.post('/login/playground', { who: slug });
  expect(login.status).toBe(303);
  await client.get('/');
  return client;
}

/** The visible text of an HTML fragment, tags dropped and spaces collapsed. */
export function textOf(body: string): string {
  return body
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/\s+/g, ' ')
    .trim();
}
