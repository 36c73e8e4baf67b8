import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time comparison of a shared secret (SHA-256 digests, so unequal lengths leak nothing). */
export function secretMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = createHash('sha256').update(expected, 'utf8').digest();
  const b = createHash('sha256').update(given, 'utf8').digest();
  return timingSafeEqual(a, b);
}
