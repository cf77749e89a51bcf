import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CounterTally } from './counter-tally.js';
import { installMetrics, liveNonceStores } from './metrics.js';

/**
 * The process's Prometheus metrics (one process is one scrape target): requests by Action and
 * Code, latency, throttles, store errors, cache lookups, nonces held, and Node's process metrics.
 * Importing this module installs them as the process's metrics (./metrics.ts); the gateway does,
 * a cloud function does not.
 */
export const registry = new Registry();

/** Requests counted per request, added to kms_requests_total when it is read (./counter-tally.ts). */
const requests = new CounterTally(['action', 'code'] as const);

export const requestsTotal = new Counter({
  name: 'kms_requests_total',
  help: 'Requests answered, by Action and result Code (OK for success)',
  labelNames: ['action', 'code'] as const,
  registers: [registry],
  collect() {
    requests.addTo(this);
  },
});

export const requestDuration = new Histogram({
  name: 'kms_request_duration_seconds',
  help: 'Time from receiving a request to its answer, by Action',
  labelNames: ['action'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

export const throttledTotal = new Counter({
  name: 'kms_throttled_requests_total',
  help: 'Requests refused by a rate limit, by Action group',
  labelNames: ['group'] as const,
  registers: [registry],
});

export const storeErrorsTotal = new Counter({
  name: 'kms_store_errors_total',
  help: 'Requests the key store could not serve (answered 503), by reason',
  labelNames: ['reason'] as const,
  registers: [registry],
});

/** Cache lookups (several a request), added to kms_cache_lookups_total when it is read. */
const cacheLookups = new CounterTally(['cache', 'result'] as const);

export const cacheLookupsTotal = new Counter({
  name: 'kms_cache_lookups_total',
  help: 'Lookups in the in-process caches (keys, aliases, versions, access keys, listings of keys and aliases), by cache and result',
  labelNames: ['cache', 'result'] as const,
  registers: [registry],
  collect() {
    cacheLookups.addTo(this);
  },
});

export const auditFailuresTotal = new Counter({
  name: 'kms_audit_write_failures_total',
  help: 'Audit lines that could not be written (each such request was refused)',
  registers: [registry],
});

export const tlsReloadFailuresTotal = new Counter({
  name: 'kms_tls_reload_failures_total',
  help: 'Certificate reloads (SIGHUP) refused because the files could not serve; the previous certificate stayed in use',
  registers: [registry],
  // Counted by the process that reads the files (the primary, with workers): the workers' zeros are left out.
  aggregator: 'omit',
});

export const noncesHeld = new Gauge({
  name: 'kms_nonces_held',
  help: "Used nonces remembered by this process's replay stores (until their timestamp window closes)",
  registers: [registry],
  // Gateway workers on one data directory each hold every nonce of the directory: not a sum.
  aggregator: 'max',
  collect() {
    let total = 0;
    for (const store of liveNonceStores()) total += store.size;
    this.set(total);
  },
});

export const nonceMemoryBytes = new Gauge({
  name: 'kms_nonce_memory_bytes',
  help: "Memory this process's replay stores take for the nonces they hold",
  registers: [registry],
  // Gateway workers report the one table their primary holds for them: not a sum either.
  aggregator: 'max',
  collect() {
    let total = 0;
    for (const store of liveNonceStores()) total += store.bytes ?? 0;
    this.set(total);
  },
});

let processMetrics = false;

/** Adds Node's process metrics (CPU, memory, event loop lag, handles) once; the gateway calls it. */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: registry });
}

// Measured: a request and three cache lookups cost ≈ 1.7 µs through prom-client's inc, ≈ 0.5 µs
// with the tallies (most of it now the histogram's observe, left to prom-client).
installMetrics({
  request(action, code, seconds) {
    requests.add(action, code);
    if (seconds !== undefined) requestDuration.observe({ action }, seconds);
  },
  throttled: (group) => throttledTotal.inc({ group }),
  storeError: (reason) => storeErrorsTotal.inc({ reason }),
  cacheLookup: (cache, hit) => cacheLookups.add(cache, hit ? 'hit' : 'miss'),
  auditFailure: () => auditFailuresTotal.inc(),
});
