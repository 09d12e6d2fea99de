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

export function isDuration(value: string): boolean {
  return DURATION_PATTERN.test(value);
}

/** Converts a duration such as `2d` to milliseconds. Throws on anything that is not a duration. */
export function parseDuration(value: string): number {
  const match = DURATION_PATTERN.exec(value.trim());
  if (!match) {
    throw new Error(`invalid duration "${value}": expected a number followed by s, m, h, d or w (e.g. 2d)`);
  }
  const amount = Number(match[1]);
  const unit = UNIT_MS[match[2]!]!;
  return amount * unit;
}
