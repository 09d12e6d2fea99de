/**
 * A test-only WebKit and browser-like helpers for the admin and dashboard page groups:
 * a bare Fastify app with urlencoded bodies, a CSRF check on every POST (the token comes
 * from the page's own form, as a browser sends it), and the signed-in user taken from a
 * header. Used until the portal's shell can be started in these tests.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { SafeHtml, WebKit, WebPages } from '../../adapters/web/kit.js';
import type { Baton } from '../../src/core/baton.js';
import { isBatonError } from '../../src/core/errors.js';
import type { User } from '../../src/core/types.js';

const CSRF = 'csrf-token-for-tests';

class Html implements SafeHtml {
  constructor(readonly __html: string) {}
  toString(): string {
    return this.__html;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeText(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function piece(v: unknown): string {
  if (v === undefined || v === null || v === false) return '';
  if (v instanceof Html) return v.__html;
  if (Array.isArray(v)) return v.map(piece).join('');
  if (v instanceof Date) return escapeText(v.toISOString());
  return escapeText(String(v));
}

export function createTestKit(baton: Baton): WebKit {
  const html = (strings: TemplateStringsArray, ...values: unknown[]) => {
    let out = strings[0] ?? '';
    for (let i = 0; i < values.length; i++) out += piece(values[i]) + (strings[i + 1] ?? '');
    return new Html(out);
  };
  const send = (reply: FastifyReply, status: number, title: string, body: string) =>
    reply
      .status(status)
      .type('text/html; charset=utf-8')
      .send(
        `<!doctype html><html lang="en"><head><title>${escapeText(title)}</title></head><body><main>${body}</main></body></html>`,
      );
  return {
    baton,
    logger: baton.ctx.logger,
    html,
    raw: (s) => new Html(s),
    async requireUser(req: FastifyRequest, reply: FastifyReply): Promise<User | null> {
      const id = req.headers['x-test-user'];
      const user = typeof id === 'string' ? await baton.users.find(id) : null;
      if (!user) reply.status(401).send({ error: 'baton.unauthenticated' });
      return user;
    },
    csrfField: () => new Html(`<input type="hidden" name="_csrf" value="${CSRF}">`),
    page: (_req, reply, _user, o) => send(reply, o.status ?? 200, o.title, o.body.__html),
    fail(_req, reply, _user, err) {
      if (isBatonError(err))
        return send(reply, err.status, 'Problem', `<p class="error-text">${escapeText(err.message)}</p>`);
      baton.ctx.logger.error({ err }, 'test kit: page failed');
      return send(reply, 500, 'Error', '<p>internal</p>');
    },
  };
}

/** A Fastify app holding the given page groups behind the test kit. */
export async function buildTestApp(baton: Baton, groups: WebPages[]): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(String(body))) {
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    done(null, out);
  });
  app.addHook('preHandler', async (req, reply) => {
    if (req.method !== 'POST') return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (body._csrf !== CSRF) return reply.status(403).send({ error: 'baton.csrf' });
  });
  const kit = createTestKit(baton);
  for (const g of groups) await g(app, kit);
  await app.ready();
  return app;
}

export interface Page {
  status: number;
  html: string;
  location?: string | undefined;
}

function decode(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** A browser stand-in: GET pages, and submit the forms they contain (with their hidden inputs). */
export function browser(app: FastifyInstance, user: User) {
  const headers = { 'x-test-user': user._id };
  const toPage = (res: { statusCode: number; body: string; headers: Record<string, unknown> }): Page => ({
    status: res.statusCode,
    html: res.body,
    location: res.headers.location as string | undefined,
  });
  return {
    async get(url: string): Promise<Page> {
      return toPage(await app.inject({ method: 'GET', url, headers }));
    },
    /** Posts the form of `page` whose action is `action`, with its hidden inputs plus `fields`. */
    async submit(page: Page, action: string, fields: Record<string, string> = {}): Promise<Page> {
      const forms = [...page.html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)];
      const form = forms.find((f) => decode(/action="([^"]*)"/.exec(f[1]!)?.[1] ?? '') === action);
      if (!form) throw new Error(`no form with action ${action} on the page`);
      if (!/method="post"/.test(form[1]!)) throw new Error(`form ${action} is not a POST form`);
      const data = new URLSearchParams();
      for (const m of form[2]!.matchAll(/<input\b[^>]*type="hidden"[^>]*>/g)) {
        const name = /name="([^"]*)"/.exec(m[0])?.[1];
        const value = /value="([^"]*)"/.exec(m[0])?.[1] ?? '';
        if (name && !(name in fields)) data.append(decode(name), decode(value));
      }
      for (const [k, v] of Object.entries(fields)) data.append(k, v);
      return toPage(
        await app.inject({
          method: 'POST',
          url: action,
          headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
          payload: data.toString(),
        }),
      );
    },
    /** A raw POST (a forged or hand-made request), with the right CSRF token unless `csrf` says otherwise. */
    async post(url: string, fields: Record<string, string>, csrf: string = CSRF): Promise<Page> {
      return toPage(
        await app.inject({
          method: 'POST',
          url,
          headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
        }),
      );
    },
  };
}

/** The text of a page without tags (for assertions on what people read). */
export function textOf(html: string): string {
  return decode(html.replace(/<style[\s\S]*?<\/style>/g, '').replace(/<[^>]+>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
}
