import { isBatonError } from '../../src/core/errors.js';
import type { Logger } from '../../src/logger.js';

/** Escapes text for Slack mrkdwn (`&`, `<`, `>`), so user input cannot become a mention or a link. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Undoes Slack's escaping of text a person typed (a slash command's `text` arrives with
 * `&`, `<` and `>` as `&amp;`, `&lt;` and `&gt;`), for values Baton stores as typed.
 */
export function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/**
 * Answers Slack through `ack`; false when Slack was answered already (the receiver's safety
 * timeout, a second ack), so the caller can tell the person some other way.
 */
export async function ackOnce<R>(ack: (response?: R) => Promise<void>, response?: R): Promise<boolean> {
  try {
    await ack(response);
    return true;
  } catch {
    return false;
  }
}

/** A message a person can act on, for any error a core call threw; unexpected ones are logged. */
export function describeError(err: unknown, logger: Logger): string {
  if (isBatonError(err)) return err.message;
  // Slack lets a form open only within 3 s of the click or command (trigger_id).
  const platform = (err as { data?: { error?: unknown } } | null)?.data?.error;
  if (platform === 'expired_trigger_id') {
    logger.warn({ err }, 'a Slack form opened too late (expired trigger_id)');
    return 'Slack gives Baton 3 seconds to open a form and this one took longer (Baton is busy right now). Please try again.';
  }
  logger.error({ err }, 'a Slack command failed');
  return 'Something went wrong on our side; it has been logged. Please try again in a moment.';
}

/**
 * Truncates to `max` characters with an ellipsis (Slack limits most text fields), never inside
 * an emoji (a UTF-16 surrogate pair, which Slack would get as invalid text) or an `&…;` entity.
 */
export { truncate } from './blockkit.js';
