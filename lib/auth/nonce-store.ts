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
 * Nonces in memory, kept in one-minute buckets by expiry so that forgetting expired ones costs
 * one Map drop per minute instead of a scan.
 */
export class MemoryNonceStore implements NonceStore {
  readonly #buckets = new Map<number, Set<string>>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async claim(accessKeyId: string, nonce: string, expiresAt: number): Promise<boolean> {
    const now = this.#now();
    this.#forgetExpired(now);
    const key = `${accessKeyId}\n${nonce}`;
    for (const bucket of this.#buckets.values()) if (bucket.has(key)) return false;
    const minute = Math.ceil(expiresAt / 60_000);
    let bucket = this.#buckets.get(minute);
    if (!bucket) this.#buckets.set(minute, (bucket = new Set()));
    bucket.add(key);
    return true;
  }

  /** Forgets a claim that could not be made durable, so the request it belonged to can be retried. */
  release(accessKeyId: string, nonce: string): void {
    const key = `${accessKeyId}\n${nonce}`;
    for (const bucket of this.#buckets.values()) bucket.delete(key);
  }

  #forgetExpired(now: number): void {
    const current = Math.floor(now / 60_000);
    for (const minute of this.#buckets.keys()) if (minute < current) this.#buckets.delete(minute);
  }
}
