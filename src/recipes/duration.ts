/**
 * Durations in recipes: a whole number followed by a unit, e.g. `30s`, `15m`, `4h`, `2d`, `1w`.
 */
export const DURATION_PATTERN = /^(\d+)(s|m|h|d|w)$/;

const UNIT_MS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * The longest duration a recipe may use: 10 years (3650d, 521w). Longer ones (99999999999w)
 * are no real deadline and do not even make a valid date.
 */
export const MAX_DURATION_MS = 3650 * 86_400_000;

/** True for a well-formed duration of at most MAX_DURATION_MS. */
export function isDuration(value: string): boolean {
  const match = DURATION_PATTERN.exec(value);
  return match !== null && Number(match[1]) * UNIT_MS[match[2]!]! <= MAX_DURATION_MS;
}

/** Converts a duration such as `2d` to milliseconds. Throws on anything that is not a duration. */
export function parseDuration(value: string): number {
  const match = DURATION_PATTERN.exec(value.trim());
  if (!match) {
    throw new Error(`invalid duration "${value}": expected a number followed by s, m, h, d or w (e.g. 2d)`);
  }
  const ms = Number(match[1]) * UNIT_MS[match[2]!]!;
  if (!(ms <= MAX_DURATION_MS)) {
    throw new Error(`invalid duration "${value}": at most 10 years (3650d)`);
  }
  return ms;
}

/** An ISO 8601 date and time without a time zone: `2026-12-24T09:00`, `2026-12-24 09:00:30`. */
const ZONELESS_DATE_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)$/;

/**
 * A point in time a recipe gives as text (`wait` `until`). A date (`2026-12-24`, midnight) or a
 * date and time without a time zone is UTC, the zone Baton shows times in, whatever the server's
 * own zone (JavaScript alone reads `2026-12-24T09:00` in the server's zone).
 */
export function parseInstant(text: string): Date {
  const trimmed = text.trim();
  const m = ZONELESS_DATE_TIME.exec(trimmed);
  return new Date(m ? `${m[1]}T${m[2]}Z` : trimmed);
}
