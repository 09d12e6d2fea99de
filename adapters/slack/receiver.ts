import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import type { Logger } from '../../src/logger.js';
import { verifySlackSignature } from './verify.js';

/** What the receiver needs of an HTTP request (framework-free: the Fastify plugin adapts to it). */
export interface SlackHttpRequest {
  /** The body exactly as received. */
  rawBody: string;
  headers: Record<string, string | string[] | undefined>;
}

/** What to send back. `body` is already serialized; empty means no body. */
export interface SlackHttpResponse {
  status: number;
  contentType?: 'application/json' | 'text/plain';
  body: string;
}

export interface SlackHttpReceiverOptions {
  signingSecret: string;
  logger: Logger;
  /** Clock for the signature's timestamp check, in ms (tests inject one). */
  now?: () => number;
  /** When Slack gets an answer if no listener acked yet (Slack gives up at 3 s). */
  ackTimeoutMs?: number;
  /**
   * Keeps a form submission that the safety timeout is about to answer while its work still
   * runs (Slack never sends an answered submission again): resolves with the call that forgets
   * it once the work is done. A process that dies in between leaves it for `replay` at the next
   * start. Without it, such a submission is lost with the process.
   */
  holdLate?: (body: Record<string, unknown>) => Promise<() => Promise<void>>;
}

/** Raised by `ack()` when the receiver already answered Slack (a second ack, or an ack after the safety timeout). */
export class SlackAckError extends Error {
  readonly code = 'slack.ack_already_sent';
  constructor(message: string) {
    super(message);
    this.name = 'SlackAckError';
  }
}

const EMPTY_OK: SlackHttpResponse = { status: 200, body: '' };

function header(headers: SlackHttpRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Slash commands and interactivity arrive form-encoded (interactivity as a JSON `payload` field); events as JSON. */
export function parseSlackBody(rawBody: string, contentType: string | undefined): Record<string, unknown> {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') {
    const form = new URLSearchParams(rawBody);
    const payload = form.get('payload');
    if (payload === null) return Object.fromEntries(form.entries());
    const parsed: unknown = JSON.parse(payload);
    if (!isObject(parsed)) throw new Error('payload is not a JSON object');
    return checkShape(parsed);
  }
  const parsed: unknown = JSON.parse(rawBody);
  if (!isObject(parsed)) throw new Error('body is not a JSON object');
  return checkShape(parsed);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const INTERACTIONS = new Set([
  'block_actions',
  'block_suggestion',
  'view_submission',
  'view_closed',
  'shortcut',
  'message_action',
  'interactive_message',
  'dialog_submission',
]);

/**
 * What Bolt reads before any listener runs, present in the shape Slack always sends: an event
 * that is an object, an interaction's person (`user` or `team`) and a view's `view`. Bolt throws
 * on anything else (a 500 Slack would retry); such a body is refused as unreadable instead.
 */
function checkShape(body: Record<string, unknown>): Record<string, unknown> {
  if ('event' in body && !isObject(body.event)) throw new Error('event is not an object');
  const interaction = 'actions' in body || (typeof body.type === 'string' && INTERACTIONS.has(body.type));
  if (interaction && !isObject(body.user) && !isObject(body.team))
    throw new Error('interaction without user or team');
  if ((body.type === 'view_submission' || body.type === 'view_closed') && !isObject(body.view))
    throw new Error('view is not an object');
  return body;
}

function toResponse(response: unknown): SlackHttpResponse {
  if (response === undefined || response === null || response === '') return EMPTY_OK;
  if (typeof response === 'string') return { status: 200, contentType: 'text/plain', body: response };
  return { status: 200, contentType: 'application/json', body: JSON.stringify(response) };
}

/**
 * Bolt's custom-receiver pattern for one HTTP endpoint: verify the signature on the raw
 * body, answer `ssl_check` and `url_verification` itself, and hand everything else to
 * `app.processEvent`. Slack gets its HTTP answer as soon as a listener calls `ack()` (with
 * the ack's body, e.g. `response_action: errors`), when processing ends without an ack, or
 * after a safety timeout well inside Slack's 3 seconds — whichever comes first. Work after
 * the ack goes on in the background and is awaited by `stop()`.
 */
export class SlackHttpReceiver implements Receiver {
  private app: App | undefined;
  private readonly inflight = new Set<Promise<void>>();
  private readonly now: () => number;
  private readonly ackTimeoutMs: number;

  constructor(private readonly options: SlackHttpReceiverOptions) {
    this.now = options.now ?? Date.now;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 2500;
  }

  init(app: App): void {
    this.app = app;
  }

  /** The HTTP server is Fastify's: nothing to start. */
  async start(): Promise<void> {}

  /** Waits (bounded) for work still running after its ack. */
  async stop(timeoutMs = 10_000): Promise<void> {
    await this.drain(timeoutMs);
  }

  /** Resolves when no event is being processed (or after `timeoutMs`). */
  async drain(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inflight.size > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.inflight]),
        new Promise((r) => {
          timer = setTimeout(r, Math.max(0, deadline - Date.now()));
        }),
      ]);
      clearTimeout(timer);
    }
  }

  /** Events being processed right now. */
  get inflightCount(): number {
    return this.inflight.size;
  }

  /** Handles one request to the Slack endpoint; resolves with what to answer Slack. */
  async handle(req: SlackHttpRequest): Promise<SlackHttpResponse> {
    const log = this.options.logger;
    const verified = verifySlackSignature({
      signingSecret: this.options.signingSecret,
      rawBody: req.rawBody,
      signature: header(req.headers, 'x-slack-signature'),
      timestamp: header(req.headers, 'x-slack-request-timestamp'),
      nowMs: this.now(),
    });
    if (!verified.ok) {
      log.warn({ reason: verified.reason }, 'refused a request to /slack/events: signature check failed');
      return {
        status: 401,
        contentType: 'application/json',
        body: JSON.stringify({ error: 'slack.invalid_signature', message: verified.reason }),
      };
    }
    let body: Record<string, unknown>;
    try {
      body = parseSlackBody(req.rawBody, header(req.headers, 'content-type'));
    } catch (err) {
      log.warn({ err }, 'unreadable body on /slack/events');
      return {
        status: 400,
        contentType: 'application/json',
        body: JSON.stringify({ error: 'slack.bad_body', message: 'The body could not be parsed.' }),
      };
    }
    if (body.ssl_check === '1' || body.ssl_check === 1) return EMPTY_OK;
    if (body.type === 'url_verification') {
      return {
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({ challenge: String(body.challenge ?? '') }),
      };
    }
    const app = this.app;
    if (!app) throw new Error('SlackHttpReceiver used before Bolt initialized it');
    const retryNum = header(req.headers, 'x-slack-retry-num');
    const retryReason = header(req.headers, 'x-slack-retry-reason');

    return new Promise<SlackHttpResponse>((resolve) => {
      let answered = false;
      const answer = (response: SlackHttpResponse): boolean => {
        if (answered) return false;
        answered = true;
        clearTimeout(timer);
        resolve(response);
        return true;
      };
      let release: Promise<(() => Promise<void>) | undefined> | undefined;
      const timer = setTimeout(() => {
        const late = () => {
          if (answer(EMPTY_OK))
            log.warn({ ms: this.ackTimeoutMs }, 'no ack from a Slack listener in time; acked');
        };
        const hold = this.options.holdLate;
        if (!hold || body.type !== 'view_submission' || answered) return late();
        // Held before Slack hears of it (the form closes), so a crash before the work is done
        // leaves it to the next start.
        release = hold(body).then(
          (r) => {
            late();
            return r;
          },
          (err: unknown) => {
            log.warn({ err }, 'could not hold a late Slack form submission; acked unheld');
            late();
            return undefined;
          },
        );
      }, this.ackTimeoutMs);
      const event: ReceiverEvent = {
        body,
        ack: async (response?: unknown) => {
          if (!answer(toResponse(response))) {
            throw new SlackAckError(
              'Slack was already answered (a second ack, or an ack after the timeout).',
            );
          }
        },
        ...(retryNum !== undefined && /^\d+$/.test(retryNum) ? { retryNum: Number(retryNum) } : {}),
        ...(retryReason !== undefined ? { retryReason } : {}),
      };
      const work = app
        .processEvent(event)
        .then(
          () => {
            // Every listener has finished; if none acked (nothing listens for this), answer now.
            answer(EMPTY_OK);
          },
          (err: unknown) => {
            log.error({ err }, 'processing a Slack request failed');
            answer({
              status: 500,
              contentType: 'application/json',
              body: JSON.stringify({ error: 'baton.internal', message: 'Internal error' }),
            });
          },
        )
        .then(async () => {
          const forget = await release;
          await forget?.().catch((err: unknown) =>
            log.warn({ err }, 'could not release a held Slack submission'),
          );
        })
        .finally(() => {
          this.inflight.delete(work);
        });
      this.inflight.add(work);
    });
  }

  /**
   * Carries out a request Slack was answered for by a process that died before its work was done
   * (see `holdLate`): Slack was answered already, so each `ack` says so and the listeners tell
   * the person some other way (a DM), as after the safety timeout.
   */
  async replay(body: Record<string, unknown>): Promise<void> {
    const app = this.app;
    if (!app) throw new Error('SlackHttpReceiver used before Bolt initialized it');
    const work = app
      .processEvent({
        body,
        ack: async () => {
          throw new SlackAckError('Slack was answered by the process that received this request.');
        },
        retryNum: 1,
        retryReason: 'baton_restart',
      })
      .finally(() => {
        this.inflight.delete(work);
      });
    this.inflight.add(work);
    await work;
  }
}
