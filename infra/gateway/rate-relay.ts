import { ServiceUnavailableError, ThrottlingError } from '../../lib/errors.js';
import { metrics } from '../../lib/metrics/metrics.js';
import { ACTION_GROUPS, type ActionGroup } from '../../lib/ratelimit/action-groups.js';
import { type GroupRates, type RateLimits, rateOf } from '../../lib/ratelimit/limits.js';
import type { Admission, RateLimiter } from '../../lib/ratelimit/rate-limiter.js';
import type { WorkerCalls } from './worker-calls.js';

/**
 * Rate limits for gateway workers (KMS_WORKERS > 1): a request that some limit applies to takes
 * its token from the primary's buckets, so a key's limit holds across every worker, as on one
 * process. A request no limit applies to never leaves the worker.
 */
export const RATE_ADMIT = 'rate-admit';

type AdmitCall = [accessKeyId: string, group: ActionGroup, own: GroupRates | null];
/** Admitted, or the throttling the primary decided. */
type AdmitAnswer = { admitted: true } | { admitted: false; group: string; rate: number; retryAfterMs: number };

export class RelayedRateLimiter implements Admission {
  constructor(
    private readonly limits: RateLimits,
    private readonly calls: WorkerCalls,
  ) {}

  async admit(accessKeyId: string, group: ActionGroup, own?: GroupRates): Promise<void> {
    if (rateOf(this.limits, accessKeyId, group, own) === undefined) return;
    let answer: AdmitAnswer;
    try {
      answer = (await this.calls.call(RATE_ADMIT, [accessKeyId, group, own ?? null] satisfies AdmitCall)) as AdmitAnswer;
    } catch (err) {
      // A primary that cannot answer: refused (503), never let through unmetered.
      throw new ServiceUnavailableError({ cause: err });
    }
    if (answer?.admitted === true) return;
    if (answer?.admitted === false) {
      metrics.throttled(answer.group);
      throw new ThrottlingError({ group: answer.group, rate: answer.rate, retryAfterMs: answer.retryAfterMs });
    }
    throw new ServiceUnavailableError({ cause: new Error('malformed answer from the gateway primary') });
  }
}

/** The primary's side: takes the token from `limiter` (the primary's buckets). */
export function rateAdmitHandler(limiter: RateLimiter) {
  return async (item: unknown): Promise<{ ok: AdmitAnswer } | { error: string }> => {
    const [accessKeyId, group, own] = item as AdmitCall;
    if (typeof accessKeyId !== 'string' || !ACTION_GROUPS.includes(group)) return { error: 'malformed admission' };
    try {
      limiter.admit(accessKeyId, group, own ?? undefined);
      return { ok: { admitted: true } };
    } catch (err) {
      if (err instanceof ThrottlingError && err.limit) return { ok: { admitted: false, ...err.limit } };
      return { error: 'the rate limit could not be checked' };
    }
  };
}
