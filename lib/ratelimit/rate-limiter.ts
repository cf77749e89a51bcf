import { ThrottlingError } from '../errors.js';
import { metrics } from '../metrics/metrics.js';
import type { ActionGroup } from './action-groups.js';
import { type GroupRates, type RateLimits, rateOf } from './limits.js';

interface Bucket {
  tokens: number;
  at: number;
}

/** What admits a verified request before its nonce is claimed: the buckets here, or a relay to them. */
export interface Admission {
  /** Resolves (or returns) when admitted; throws or rejects with {@link ThrottlingError} over the rate. */
  admit(accessKeyId: string, group: ActionGroup, own?: GroupRates): void | Promise<void>;
}

/**
 * Buckets kept at most; the least recently used is forgotten first (unused for a second, a bucket
 * is full again, so forgetting it loses nothing unless this many keys are busy at once).
 */
const MAX_BUCKETS = 100_000;

/**
 * Token buckets per access key and Action group, in this process. A bucket holds one second's
 * worth of requests (a burst up to the rate passes) and refills continuously. Over the rate, a
 * request is refused with 429 `Rejected.Throttling` saying when to retry.
 *
 * Per process (a gateway's workers share their primary's, see infra/gateway/rate-relay.ts): N separate
 * gateway processes (or N function instances) admit up to N times the rate.
 */
export class RateLimiter implements Admission {
  readonly #limits: RateLimits;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(limits: RateLimits, options: { now?: () => number } = {}) {
    this.#limits = limits;
    this.#now = options.now ?? Date.now;
  }

  /** Whether any limit is configured (none: every check passes at once). */
  get active(): boolean {
    return Object.keys(this.#limits).length > 0;
  }

  /**
   * Takes one token for a request of `accessKeyId` for an Action of `group`, or throws {@link ThrottlingError}.
   * `own` are the key's own limits (its record), which override KMS_RATE_LIMITS group by group.
   */
  admit(accessKeyId: string, group: ActionGroup, own?: GroupRates): void {
    const rate = rateOf(this.#limits, accessKeyId, group, own);
    if (rate === undefined) return;
    const now = this.#now();
    const name = `${accessKeyId}\u0000${group}`;
    let bucket = this.#buckets.get(name);
    if (bucket) {
      bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) / 1000) * rate);
      bucket.at = now;
      // Most recently used last: the oldest entries are evicted first.
      this.#buckets.delete(name);
    } else {
      bucket = { tokens: rate, at: now };
      if (this.#buckets.size >= MAX_BUCKETS) this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    this.#buckets.set(name, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return;
    }
    const retryAfterMs = Math.ceil(((1 - bucket.tokens) / rate) * 1000);
    metrics.throttled(group);
    throw new ThrottlingError({ group, rate, retryAfterMs });
  }
}
