import { timingSafeEqual } from 'node:crypto';

/**
 * Compares a received signature with the expected one in time independent of where they differ.
 * Only a length mismatch returns early: the expected length is fixed by the algorithm (28 Base64
 * characters for HMAC-SHA1, 64 hex digits for HMAC-SHA256), so it reveals nothing secret.
 */
export function signaturesEqual(received: string, expected: string): boolean {
  const a = Buffer.from(received, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
