/**
 * What the service counts, recorded into whichever sink the process installs: Prometheus in the
 * gateway (./prometheus.ts, scraped on /metrics); nothing in a cloud function, which no scraper
 * reaches (there, the adapters report through the platform: lib/adapters/lambda-metrics.ts). So a
 * function's bundle carries no Prometheus client (≈ 65 KB, ≈ 10 ms of every cold start).
 *
 * Labels carry only Action names, error Codes, group and cache names, reasons: never a key id, an
 * access key id or anything a caller chose freely.
 */
export interface MetricsSink {
  /** A request answered, by Action and result Code (`OK` for success), and how long it took (when timed). */
  request(action: string, code: string, seconds?: number): void;
  /** A request refused by a rate limit, by Action group. */
  throttled(group: string): void;
  /** A request the key store could not serve (answered 503), by reason. */
  storeError(reason: string): void;
  /** A lookup in an in-process cache (keys, aliases, versions, access keys). */
  cacheLookup(cache: string, hit: boolean): void;
  /** An audit line that could not be written (its request was refused). */
  auditFailure(): void;
}

const NO_METRICS: MetricsSink = {
  request() {},
  throttled() {},
  storeError() {},
  cacheLookup() {},
  auditFailure() {},
};

let sink: MetricsSink = NO_METRICS;

/** Where this process's metrics go from now on (the gateway installs Prometheus at start). */
export function installMetrics(next: MetricsSink): void {
  sink = next;
}

/** This process's metrics. */
export const metrics: MetricsSink = {
  request: (action, code, seconds) => sink.request(action, code, seconds),
  throttled: (group) => sink.throttled(group),
  storeError: (reason) => sink.storeError(reason),
  cacheLookup: (cache, hit) => sink.cacheLookup(cache, hit),
  auditFailure: () => sink.auditFailure(),
};

/** Sources of the nonces-held gauges: every replay store of the process that can count (weakly held). */
const nonceStores = new Set<WeakRef<{ readonly size: number; readonly bytes?: number }>>();

/** Counts a replay store's nonces (Prometheus: `kms_nonces_held`, `kms_nonce_memory_bytes`) while it lives. */
export function countNonces(store: { readonly size: number; readonly bytes?: number }): void {
  nonceStores.add(new WeakRef(store));
}

/** The live replay stores of the process. */
export function* liveNonceStores(): Generator<{ readonly size: number; readonly bytes?: number }> {
  for (const ref of nonceStores) {
    const store = ref.deref();
    if (store) yield store;
    else nonceStores.delete(ref);
  }
}
