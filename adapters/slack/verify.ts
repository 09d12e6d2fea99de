import { verifySlackRequest } from '@slack/bolt';

/** How far a request's timestamp may be from our clock, either way (Slack's rule: 5 minutes). */
export const MAX_CLOCK_SKEW_S = 5 * 60;

export interface SlackSignatureInput {
  signingSecret: string;
  /** The body exactly as received (the signature covers the raw bytes). */
  rawBody: string;
  /** `X-Slack-Signature`. */
  signature: string | undefined;
  /** `X-Slack-Request-Timestamp` (seconds). */
  timestamp: string | undefined;
  /** Our clock, in milliseconds (injectable so tests need no sleeping). */
  nowMs: number;
}

export type SlackSignatureResult = { ok: true } | { ok: false; reason: string };

/**
 * Checks that a request really comes from Slack: a v0 HMAC-SHA256 of `v0:<ts>:<body>` with
 * the signing secret, and a timestamp within 5 minutes of our clock (in the past or the
 * future, so a captured request cannot be replayed later). Uses Bolt's `verifySlackRequest`.
 */
export function verifySlackSignature(input: SlackSignatureInput): SlackSignatureResult {
  const { signature, timestamp } = input;
  if (!signature) return { ok: false, reason: 'missing X-Slack-Signature' };
  if (!timestamp) return { ok: false, reason: 'missing X-Slack-Request-Timestamp' };
  if (!/^\d{1,12}$/.test(timestamp))
    return { ok: false, reason: 'X-Slack-Request-Timestamp is not a number' };
  const ts = Number(timestamp);
  if (Math.abs(input.nowMs / 1000 - ts) > MAX_CLOCK_SKEW_S) {
    return { ok: false, reason: 'X-Slack-Request-Timestamp is more than 5 minutes off' };
  }
  try {
    verifySlackRequest({
      signingSecret: input.signingSecret,
      body: input.rawBody,
      headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': ts },
      nowMilliseconds: input.nowMs,
    });
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}
