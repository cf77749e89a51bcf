import type { NonceStore } from '../../lib/keystore/nonce-store.js';
import { ServiceUnavailableError } from '../../lib/errors.js';
import { countNonces } from '../../lib/metrics/metrics.js';
import type { WorkerCalls } from './worker-calls.js';

/**
 * Replay protection for gateway workers (KMS_WORKERS > 1): every worker hands its nonce claims to
 * the primary, whose one replay store (the data directory's journal, or the backend's table)
 * decides them, so a nonce accepted through one worker is refused through every other, exactly
 * as on one process. The primary answers a claim only once its store has (durably) recorded it.
 *
 * It replaces each worker taking the journal's cross-process lock in turn, which made two workers
 * slower than one.
 */
export const NONCE_CLAIM = 'nonce-claim';

/** What a claim carries to the primary. */
export type NonceClaimCall = [accessKeyId: string, nonce: string, expiresAt: number];
/** What comes back: fresh or a replay, and the primary's table, for this worker's metrics. */
export interface NonceClaimAnswer {
  fresh: boolean;
  size: number;
  bytes: number;
}

/** The worker's side: a NonceStore that asks the primary. Any failure is a 503: never accepted. */
export class RelayedNonceStore implements NonceStore {
  /** What the primary last reported (kms_nonces_held on this worker). */
  size = 0;
  bytes = 0;

  constructor(private readonly calls: WorkerCalls) {
    countNonces(this);
  }

  async claim(accessKeyId: string, nonce: string, expiresAt: number): Promise<boolean> {
    let answer: NonceClaimAnswer;
    try {
      answer = (await this.calls.call(NONCE_CLAIM, [accessKeyId, nonce, expiresAt] satisfies NonceClaimCall)) as NonceClaimAnswer;
    } catch (err) {
      throw new ServiceUnavailableError({ cause: err });
    }
    if (typeof answer?.fresh !== 'boolean') throw new ServiceUnavailableError({ cause: new Error('malformed answer from the gateway primary') });
    this.size = answer.size;
    this.bytes = answer.bytes;
    return answer.fresh;
  }
}

/** The primary's side: decides a worker's claim with `nonces` (the primary's replay store). */
export function nonceClaimHandler(nonces: NonceStore & { readonly size?: number; readonly bytes?: number }) {
  return async (item: unknown): Promise<{ ok: NonceClaimAnswer } | { error: string }> => {
    const [accessKeyId, nonce, expiresAt] = item as NonceClaimCall;
    if (typeof accessKeyId !== 'string' || typeof nonce !== 'string' || typeof expiresAt !== 'number') return { error: 'malformed claim' };
    try {
      const fresh = await nonces.claim(accessKeyId, nonce, expiresAt);
      return { ok: { fresh, size: nonces.size ?? 0, bytes: nonces.bytes ?? 0 } };
    } catch {
      return { error: 'the replay store could not record the nonce' };
    }
  };
}
