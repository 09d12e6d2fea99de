import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** A random, URL-safe id with a type prefix: `u_8h3k...` (16 base32 chars, 80 bits). */
export function newId(prefix: string): string {
  const bytes = randomBytes(16);
  let out = '';
  for (let i = 0; i < 16; i++) out += ALPHABET[bytes[i]! & 31];
  return `${prefix}_${out}`;
}

/** `<ms>-<8 random base32 chars>`: unique per event even when two happen in the same millisecond. */
export function eventStamp(at: Date): string {
  return `${at.getTime()}-${newId('x').slice(2, 10)}`;
}
