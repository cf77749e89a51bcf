import { createHmac, timingSafeEqual } from 'node:crypto';
import { hashOf, type MacAlgorithm } from './key-spec.js';

/**
 * HMAC (RFC 2104) for GenerateMac / VerifyMac: the raw tag of the algorithm's hash (28, 32, 48 or
 * 64 bytes), deterministic, as AWS KMS computes it. The key is the version's raw material.
 */
export function macOf(algorithm: MacAlgorithm, key: Buffer, message: Buffer): Buffer {
  return createHmac(hashOf(algorithm), key).update(message).digest();
}

/**
 * Whether `mac` is the tag of `message` under `key`, compared in constant time. A tag of the wrong
 * length (empty, truncated, padded) is simply no match.
 */
export function macMatches(algorithm: MacAlgorithm, key: Buffer, message: Buffer, mac: Buffer): boolean {
  const expected = macOf(algorithm, key, message);
  return mac.length === expected.length && timingSafeEqual(expected, mac);
}
