import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

/**
 * Cryptographically random bytes, drawn from a pool refilled 4 KiB at a time: one CSPRNG call
 * serves many requests (per-call overhead dominated `randomBytes` for 12- and 32-byte draws).
 * Every byte handed out is copied and zeroed in the pool at once, so the pool never holds bytes
 * that were already used (data keys, IVs).
 */
export function randomBytesFromPool(length: number): Buffer {
  if (length > POOL_BYTES) return randomFillSync(Buffer.alloc(length));
  if (offset + length > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = Buffer.from(pool.subarray(offset, offset + length));
  pool.fill(0, offset, offset + length);
  offset += length;
  return out;
}
