/**
 * The real server (core, scheduler, the portal's shell with its sessions and CSRF, and the
 * admin and dashboard page groups) for the admin and dashboard tests, and a browser
 * stand-in over `app.inject()`: it signs in through the playground's "continue as" form,
 * keeps the session cookie, and submits the forms a page contains with their hidden inputs
 * (the CSRF token included), as a browser would.
 */
import type { FastifyInstance } from 'fastify';
import { parseConfig } from '../../src/config.js';
import type { Baton } from '../../src/core/baton.js';
import { demoIdentity, seedPlayground } from '../../src/core/playground.js';
import type { User } from '../../src/core/types.js';
import { createLogger } from '../../src/logger.js';
import { type Runtime, startRuntime } from '../../src/runtime.js';
import { buildApp } from '../../src/server/app.js';
import { recipesDir, removeDir, tempDir } from '../helpers/runtime.js';

export interface AdminPortal {
  runtime: Runtime;
  baton: Baton;
  app: FastifyInstance;
  /** The playground's demo users by slug (riley, morgan, max, hana, ivan, fiona, dana, ada). */
  people: Record<string, User>;
  close(): Promise<void>;
}

/** Starts Baton on a temp DATA_DIR with the given recipe files, the playground on, and an optional clock. */
export async function startAdminPortal(
  files: Record<string, string>,
  options: { now?: () => Date } = {},
): Promise<AdminPortal> {
  const dataDir = tempDir('baton-admin-');
  const recipes = recipesDir(files);
  const config = parseConfig({
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    RECIPES_DIR: recipes,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    SCHEDULER_POLL_MS: '100',
  });
  const logger = createLogger(config.LOG_LEVEL);
  const runtime = await startRuntime(config, logger, options.now ? { now: options.now } : {});
  let app: FastifyInstance;
  try {
    app = await buildApp({ baton: runtime.baton, config, logger });
    await app.ready();
  } catch (err) {
    await runtime.close();
    throw err;
  }
  // The demo people (the shell also seeds them, idempotently, when the picker is shown).
  await seedPlayground(runtime.baton);
  const people: Record<string, User> = {};
  for (const slug of ['riley', 'morgan', 'max', 'hana', 'ivan', 'fiona', 'dana', 'ada']) {
    const user = await runtime.baton.users.lookup(`web:${demoIdentity(slug)}`);
    if (!user) throw new Error(`the playground did not seed ${slug}`);
    people[slug] = user;
  }
  return {
    runtime,
    baton: runtime.baton,
    app,
    people,
    async close() {
      await app.close();
      await runtime.close();
      removeDir(dataDir);
      removeDir(recipes);
    },
  };
}

export interface Page {
  status: number;
  html: string;
  location?: string | undefined;
}

function decode(s: string): string {
  return s
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The main content of a page, without the shell's header (whose nav and forms are not ours). */
export function mainOf(html: string): string {
  return /<main[^>]*>([\s\S]*)<\/main>/.exec(html)?.[1] ?? html;
}

/** The text of some HTML without tags (what people read). */
export function textOf(html: string): string {
  return decode(html.replace(/<style[\s\S]*?<\/style>/g, '').replace(/<[^>]+>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
}

export type Browser = Awaited<ReturnType<typeof signIn>>;

/** Signs in as a demo person through the playground picker and returns a browser stand-in. */
export async function signIn(app: FastifyInstance, slug: string) {
  let cookie = '';
  let csrf = '';
  const keep = (res: { headers: Record<string, unknown>; body: string }) => {
    const set = res.headers['set-cookie'];
    for (const c of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair] = String(c).split(';');
      if (pair?.startsWith('baton_session=')) cookie = pair;
    }
    const m = /<meta name="csrf-token" content="([^"]*)"/.exec(res.body);
    if (m?.[1]) csrf = m[1];
  };
  const toPage = (res: { statusCode: number; body: string; headers: Record<string, unknown> }): Page => {
    keep(res);
    return {
      status: res.statusCode,
      html: res.body,
      location: res.headers.location as string | undefined,
    };
  };
  const send = async (url: string, data: URLSearchParams) =>
    toPage(
      await app.inject({
        method: 'POST',
        url,
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: data.toString(),
      }),
    );
  const client = {
    async get(url: string): Promise<Page> {
      return toPage(await app.inject({ method: 'GET', url, headers: { cookie } }));
    },
    /** Submits the POST form of `page` whose action is `action`: its hidden inputs (CSRF included) plus `fields`. */
    async submit(page: Page, action: string, fields: Record<string, string> = {}): Promise<Page> {
      const forms = [...mainOf(page.html).matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)];
      const form = forms.find(
        (f) => /method="post"/.test(f[1]!) && decode(/action="([^"]*)"/.exec(f[1]!)?.[1] ?? '') === action,
      );
      if (!form) throw new Error(`no POST form with action ${action} on the page`);
      const data = new URLSearchParams();
      for (const m of form[2]!.matchAll(/<input\b[^>]*type="hidden"[^>]*>/g)) {
        const name = /name="([^"]*)"/.exec(m[0])?.[1];
        const value = /value="([^"]*)"/.exec(m[0])?.[1] ?? '';
        if (name && !(name in fields)) data.append(decode(name), decode(value));
      }
      if (!data.has('_csrf')) throw new Error(`form ${action} has no CSRF field`);
      for (const [k, v] of Object.entries(fields)) data.append(k, v);
      return send(action, data);
    },
    /** A hand-made POST with this session's CSRF token (as a script on a Baton page could send). */
    async post(url: string, fields: Record<string, string>): Promise<Page> {
      return send(url, new URLSearchParams({ _csrf: csrf, ...fields }));
    },
  };
  const login = await client.get('/login');
  const signedIn = await client.submit(login, '/login/playground', { who: slug });
  if (signedIn.status !== 303)
    throw new Error(`sign-in as ${slug} failed: ${signedIn.status} ${signedIn.html}`);
  await client.get('/');
  return client;
}
