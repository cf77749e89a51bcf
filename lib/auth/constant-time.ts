import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares two signatures in time independent of where they differ and of their lengths: both
 * sides are hashed to a fixed width first, so a length mismatch is not an early exit either.
 */
export function signaturesEqual(received: string, expected: string): boolean {
  const a = createHash('sha256').update(received, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
