import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Baton } from '../../src/core/baton.js';
import type { User } from '../../src/core/types.js';
import type { Logger } from '../../src/logger.js';

/**
 * The contract between the portal's shell (plugin, sessions, layout, CSRF — adapters/web/*.ts)
 * and its page groups (adapters/web/admin/, adapters/web/dashboard/). A page group is a
 * function `(app, kit) => void` that adds routes under its own prefix; the shell registers
 * it inside its encapsulated scope, where the session is already resolved and form bodies
 * (application/x-www-form-urlencoded) are parsed.
 */

/** HTML that is already safe to emit (escaped or built from escaped parts). */
export interface SafeHtml {
  readonly __html: string;
  toString(): string;
}

export interface PageOptions {
  title: string;
  /** Main content. */
  body: SafeHtml;
  /** Which nav entry is highlighted: 'home' | 'apps' | 'admin' | 'dashboard' | … */
  active?: string;
  /** HTTP status (default 200). */
  status?: number;
}

export interface WebKit {
  baton: Baton;
  logger: Logger;
  /**
   * Tagged template that escapes every interpolated value unless it is SafeHtml;
   * arrays are joined (each element escaped unless SafeHtml). `html\`<p>${name}</p>\``.
   */
  html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml;
  /** Marks a trusted string as SafeHtml (use sparingly: JSON for scripts, pre-built SVG). */
  raw(s: string): SafeHtml;
  /** The signed-in Baton user; replies 303 to the sign-in page (or 401 JSON for fetch/API) and returns null when none. */
  requireUser(req: FastifyRequest, reply: FastifyReply): Promise<User | null>;
  /** The hidden CSRF input for a <form method="post"> of this session. */
  csrfField(req: FastifyRequest): SafeHtml;
  /** Sends a full HTML page (nav, playground banner, CSRF meta, styles) for the signed-in user. */
  page(req: FastifyRequest, reply: FastifyReply, user: User, options: PageOptions): FastifyReply;
  /**
   * Sends a core error (BatonError: forbidden, not found, validation) as an HTML error page
   * for browsers, or `{ error, message }` JSON when the client asked for JSON. `back` is a
   * page to link back to besides the inbox (the request a refused task answer was about).
   */
  fail(
    req: FastifyRequest,
    reply: FastifyReply,
    user: User | null,
    err: unknown,
    options?: { back?: { href: string; label: string } },
  ): FastifyReply;
}

/** A group of portal pages. CSRF is checked by the shell for every POST before the handler runs. */
export type WebPages = (app: FastifyInstance, kit: WebKit) => void | Promise<void>;
