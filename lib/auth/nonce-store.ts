import { countNonces } from '../metrics/metrics.js';

/**
 * Replay protection: a signature nonce may be used once per access key within the replay window.
 * Backends: in memory (one process, below) and, in the cloud, a shared table with a conditional put.
 */
export interface NonceStore {
  /**
   * Records `nonce` for `accessKeyId` until `expiresAt` (epoch ms). Returns false when it is
   * already recorded and not expired: the request is a replay.
   */
  claim(accessKeyId: string, nonce: string, expiresAt: number): Promise<boolean>;
}

/**
 * Nonces in memory: each claim with its exact expiry (a nonce is free again the moment it
 * expires), and one-minute buckets by expiry so that forgetting expired claims costs one bucket
 * per minute instead of a scan.
 */
export class MemoryNonceStore implements NonceStore {
  readonly #expiry = new Map<string, number>();
  readonly #buckets = new Map<number, string[]>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    countNonces(this);
  }

  /** Claims remembered (some may have expired and not been forgotten yet). */
  get size(): number {
    return this.#expiry.size;
  }

  async claim(accessKeyId: string, nonce: string, expiresAt: number): Promise<boolean> {
    const now = this.#now();
    this.#forgetExpired(now);
    const key = `${accessKeyId}\n${nonce}`;
    const held = this.#expiry.get(key);
    if (held !== undefined && held > now) return false;
    this.#expiry.set(key, expiresAt);
    const minute = Math.ceil(expiresAt / 60_000);
    let bucket = this.#buckets.get(minute);
    if (!bucket) this.#buckets.set(minute, (bucket = []));
    bucket.push(key);
    return true;
  }

  /** Whether the nonce is claimed and not expired (nothing is recorded). */
  has(accessKeyId: string, nonce: string): boolean {
    const held = this.#expiry.get(`${accessKeyId}\n${nonce}`);
    return held !== undefined && held > this.#now();
  }

  /** Forgets a claim that could not be made durable, so the request it belonged to can be retried. */
  release(accessKeyId: string, nonce: string): void {
    this.#expiry.delete(`${accessKeyId}\n${nonce}`);
  }

  #forgetExpired(now: number): void {
    const current = Math.floor(now / 60_000);
    for (const [minute, keys] of this.#buckets) {
      if (minute >= current) continue;
      this.#buckets.delete(minute);
      // A key claimed again later sits in a later bucket with a later expiry: it stays.
      for (const key of keys) if ((this.#expiry.get(key) ?? Infinity) <= now) this.#expiry.delete(key);
    }
  }
}
