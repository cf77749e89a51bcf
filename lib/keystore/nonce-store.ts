import { countNonces } from '../metrics/metrics.js';
import { type Fingerprint, NonceTable } from './nonce-table.js';

/**
 * Replay protection: a signature nonce may be used once per access key within the replay window.
 * Used nonces are state, like keys: each state backend keeps its own (the file journal, a
 * PostgreSQL table, DynamoDB items); authentication only claims them. In memory (one process): below.
 */
export interface NonceStore {
  /**
   * Records `nonce` for `accessKeyId` until `expiresAt` (epoch ms). Returns false when it is
   * already recorded and not expired: the request is a replay.
   */
  claim(accessKeyId: string, nonce: string, expiresAt: number): Promise<boolean>;
}

/**
 * Replay protection in this process's memory (one process; the file backend's journal and the
 * shared backends build on it or replace it): a compact table of fingerprints (see NonceTable).
 * A claim is remembered exactly until its expiry; after that the nonce may be used again.
 */
export class MemoryNonceStore implements NonceStore {
  readonly #table = new NonceTable();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    countNonces(this);
  }

  /** Claims remembered (some may have expired and not been dropped yet). */
  get size(): number {
    return this.#table.size;
  }

  /** Bytes the table takes. */
  get bytes(): number {
    return this.#table.bytes;
  }

  async claim(accessKeyId: string, nonce: string, expiresAt: number): Promise<boolean> {
    return this.claimNow(accessKeyId, nonce, expiresAt);
  }

  /** {@link claim}, answered at once: for a caller deciding a batch of claims in one go (the journal). */
  claimNow(accessKeyId: string, nonce: string, expiresAt: number): boolean {
    return this.#table.claim(accessKeyId, nonce, expiresAt, this.#now());
  }

  /** The pair's fingerprint, for the calls below: a pair looked up, then claimed, then maybe released, is hashed once. */
  fingerprint(accessKeyId: string, nonce: string): Fingerprint {
    return this.#table.fingerprint(accessKeyId, nonce);
  }

  /** Whether the nonce is claimed and not expired (nothing is recorded). */
  hasFingerprint(fingerprint: Fingerprint): boolean {
    return this.#table.hasFingerprint(fingerprint, this.#now());
  }

  /** {@link claimNow} of a pair by its fingerprint. */
  claimFingerprintNow(fingerprint: Fingerprint, expiresAt: number): boolean {
    return this.#table.claimFingerprint(fingerprint, expiresAt, this.#now());
  }

  /** Forgets a claim that could not be made durable, so the request it belonged to can be retried. */
  releaseFingerprint(fingerprint: Fingerprint): void {
    this.#table.releaseFingerprint(fingerprint);
  }
}
