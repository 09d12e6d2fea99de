/**
 * The Bot Connector REST API, as much of it as Baton uses: post, reply to and update
 * activities, read one member of a conversation, create a 1:1 conversation. Every call goes
 * to the `serviceUrl` Teams gave with an activity (a local fake connector in tests).
 *
 * Retries follow Microsoft's guidance for Teams (back off on 429, 412, 502 and 504, with
 * jitter; `Retry-After` when given), with one rule on top: a call that creates a message
 * is retried only when the connector certainly did not process it (429, 412). After a 502,
 * a 504 or a dropped connection the message may have been posted, so it is not sent again
 * (the caller's claim and the recorded delivery decide what happens next). Reads, updates
 * and conversation creation are idempotent and retried on all of them.
 */
import type { Logger } from '../../src/logger.js';

export interface ConnectorOptions {
  /** A bearer token for the connector (botbuilder's app credentials); null when running anonymously. */
  token: (serviceUrl: string) => Promise<string | null>;
  logger: Logger;
  /** Attempts per call, first included (default 5). */
  maxAttempts?: number;
  /** Backoff base and cap in ms (defaults 500 ms and 30 s); full jitter in between. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per-attempt timeout in ms (default 15 s). */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface TeamsAccount {
  id: string;
  name?: string;
  aadObjectId?: string;
  email?: string;
  userPrincipalName?: string;
  [key: string]: unknown;
}

/** An outgoing activity (the subset Baton sends). */
export interface OutgoingActivity {
  type: 'message' | 'typing';
  text?: string;
  textFormat?: 'markdown' | 'plain' | 'xml';
  attachments?: { contentType: string; content: unknown }[];
  summary?: string;
  [key: string]: unknown;
}

/** A connector call that failed: the HTTP status (0: no answer), the method and path. */
export class ConnectorError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    message: string,
    /** True when the call may have been carried out although it failed (a 502/504 or a lost connection). */
    readonly ambiguous = false,
  ) {
    super(`Teams connector ${method} ${path}: ${message}`);
    this.name = 'ConnectorError';
  }
}

const RETRYABLE = new Set([429, 412, 502, 504]);
/** Statuses after which the connector certainly did not carry the call out. */
const NOT_PROCESSED = new Set([429, 412]);

export class TeamsConnector {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly options: ConnectorOptions) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = options.random ?? Math.random;
  }

  /** Posts a new message into a conversation; returns its activity id. */
  async send(serviceUrl: string, conversationId: string, activity: OutgoingActivity): Promise<string> {
    const res = await this.call<{ id?: string }>(
      serviceUrl,
      'POST',
      `/v3/conversations/${encodeURIComponent(conversationId)}/activities`,
      activity,
      false,
    );
    return res?.id ?? '';
  }

  /** Replies to an activity (threads in channels); returns the new activity id. */
  async reply(
    serviceUrl: string,
    conversationId: string,
    replyToId: string,
    activity: OutgoingActivity,
  ): Promise<string> {
    const res = await this.call<{ id?: string }>(
      serviceUrl,
      'POST',
      `/v3/conversations/${encodeURIComponent(conversationId)}/activities/${encodeURIComponent(replyToId)}`,
      { ...activity, replyToId },
      false,
    );
    return res?.id ?? '';
  }

  /** Replaces a message the bot posted (a card's new state). */
  async update(
    serviceUrl: string,
    conversationId: string,
    activityId: string,
    activity: OutgoingActivity,
  ): Promise<void> {
    await this.call(
      serviceUrl,
      'PUT',
      `/v3/conversations/${encodeURIComponent(conversationId)}/activities/${encodeURIComponent(activityId)}`,
      { ...activity, id: activityId },
      true,
    );
  }

  /** Deletes a message the bot posted (a duplicate copy). */
  async delete(serviceUrl: string, conversationId: string, activityId: string): Promise<void> {
    await this.call(
      serviceUrl,
      'DELETE',
      `/v3/conversations/${encodeURIComponent(conversationId)}/activities/${encodeURIComponent(activityId)}`,
      undefined,
      true,
    );
  }

  /** One member of a conversation, with email and UPN (Teams' `TeamsInfo.getMember`). */
  async member(serviceUrl: string, conversationId: string, userId: string): Promise<TeamsAccount> {
    const res = await this.call<TeamsAccount>(
      serviceUrl,
      'GET',
      `/v3/conversations/${encodeURIComponent(conversationId)}/members/${encodeURIComponent(userId)}`,
      undefined,
      true,
    );
    if (!res?.id) throw new ConnectorError(200, 'GET', 'members', 'no member in the answer');
    return res;
  }

  /**
   * Creates (or finds: Teams returns the existing one) the 1:1 conversation of the bot and a
   * user of a tenant. Fails with 403 when the bot is not installed for that user.
   */
  async createConversation(
    serviceUrl: string,
    params: { botId: string; userId: string; tenantId: string },
  ): Promise<string> {
    const res = await this.call<{ id?: string }>(
      serviceUrl,
      'POST',
      '/v3/conversations',
      {
        bot: { id: params.botId },
        members: [{ id: params.userId }],
        isGroup: false,
        tenantId: params.tenantId,
        channelData: { tenant: { id: params.tenantId } },
      },
      true,
    );
    if (!res?.id) throw new ConnectorError(200, 'POST', '/v3/conversations', 'no conversation id');
    return res.id;
  }

  private delay(attempt: number, retryAfter: string | null): number {
    const seconds = retryAfter !== null ? Number(retryAfter) : Number.NaN;
    if (Number.isFinite(seconds) && seconds >= 0) {
      // The server's wait, plus a little jitter so callers released together do not collide.
      return Math.min(seconds * 1000 + this.random() * this.baseDelayMs, this.maxDelayMs);
    }
    const cap = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** attempt);
    return Math.max(1, Math.round(this.random() * cap));
  }

  private async call<T>(
    serviceUrl: string,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    body: unknown,
    idempotent: boolean,
  ): Promise<T | null> {
    const url = `${serviceUrl.replace(/\/+$/, '')}${path}`;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (body !== undefined) headers['content-type'] = 'application/json; charset=utf-8';
      const token = await this.options.token(serviceUrl);
      if (token) headers.authorization = `Bearer ${token}`;
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers,
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        if (idempotent && attempt + 1 < this.maxAttempts) {
          await this.sleep(this.delay(attempt, null));
          continue;
        }
        throw new ConnectorError(0, method, path, `no answer (${reason})`, !idempotent);
      }
      if (res.ok) {
        const text = await res.text();
        if (text === '') return null;
        try {
          return JSON.parse(text) as T;
        } catch {
          return null;
        }
      }
      const detail = (await res.text().catch(() => '')).slice(0, 300);
      const retryable = RETRYABLE.has(res.status) && (idempotent || NOT_PROCESSED.has(res.status));
      const retryAfter = res.headers.get('retry-after');
      // A wait longer than the longest back-off is not slept here (it would hold a slot of the
      // work queue, and retrying sooner is refused again): the call fails as not carried out,
      // and what it was for stays owed to the next redelivery (every few minutes).
      const tooLong = retryAfter !== null && Number(retryAfter) * 1000 > this.maxDelayMs;
      if (retryable && !tooLong && attempt + 1 < this.maxAttempts) {
        const wait = this.delay(attempt, retryAfter);
        this.options.logger.debug(
          { method, path, status: res.status, attempt: attempt + 1, wait_ms: wait },
          'teams: connector busy; backing off',
        );
        await this.sleep(wait);
        continue;
      }
      throw new ConnectorError(
        res.status,
        method,
        path,
        `HTTP ${res.status}${tooLong ? ` (Retry-After ${retryAfter} s)` : ''}${detail ? ` ${detail}` : ''}`,
        !idempotent && !NOT_PROCESSED.has(res.status) && res.status >= 500,
      );
    }
  }
}
