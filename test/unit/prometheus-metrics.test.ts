import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { metrics } from '../../lib/metrics/metrics.js';
import { cacheLookupsTotal, registry, requestDuration, requestsTotal } from '../../lib/metrics/prometheus.js';

/*
 * What /metrics shows for the requests counted: the same text, series by series and count by
 * count, as prom-client's own counters and histogram fed one call per event (how the sink
 * recorded them at first), over several scrapes.
 */

const NAMES = ['kms_requests_total', 'kms_request_duration_seconds', 'kms_cache_lookups_total'] as const;

/** What a prom-client metric was declared with (set on it by prom-client, not in its types). */
const declared = (metric: unknown) => {
  const { name, help } = metric as { name: string; help: string };
  return { name, help };
};
const buckets = [...(requestDuration as unknown as { upperBounds: number[] }).upperBounds];

/** The metrics of the sink, declared alike in a registry of their own and fed directly. */
function reference() {
  const registers = [new Registry()];
  const requests = new Counter({ ...declared(requestsTotal), labelNames: ['action', 'code'] as const, registers });
  const duration = new Histogram({
    ...declared(requestDuration),
    labelNames: ['action'] as const,
    buckets,
    registers,
  });
  const lookups = new Counter({ ...declared(cacheLookupsTotal), labelNames: ['cache', 'result'] as const, registers });
  return {
    registry: registers[0]!,
    request(action: string, code: string, seconds?: number) {
      requests.inc({ action, code });
      if (seconds !== undefined) duration.observe({ action }, seconds);
    },
    cacheLookup: (cache: string, hit: boolean) => lookups.inc({ cache, result: hit ? 'hit' : 'miss' }),
  };
}

type Event = ['request', string, string, number | undefined] | ['cache', string, boolean];

const rounds: Event[][] = [
  [
    ['request', 'DescribeKey', 'OK', 0.0012],
    ['cache', 'access-keys', false],
    ['cache', 'keys', false],
    ['request', 'Unknown', 'InvalidAction.NotFound', undefined],
    ['request', 'GenerateDataKey', 'OK', 0.02],
    ['cache', 'access-keys', true],
    ['request', 'DescribeKey', 'Forbidden.NoPermission', 0.0004],
  ],
  // Nothing between two scrapes.
  [],
  [
    ['request', 'GenerateDataKey', 'OK', 7],
    ['request', 'GenerateDataKey', 'ServiceUnavailableTemporary', 0.25],
    ['cache', 'aliases', true],
    ['request', 'DescribeKey', 'OK', 0.0025],
    ['cache', 'access-keys', true],
    ['request', 'Encrypt', 'OK', 0],
  ],
];

describe('Prometheus metrics of requests and cache lookups', () => {
  it('scrape after scrape, the text of each metric is what prom-client writes for the same events fed one by one', async () => {
    const ref = reference();
    for (const round of rounds) {
      for (const event of round) {
        if (event[0] === 'request') {
          metrics.request(event[1], event[2], event[3]);
          ref.request(event[1], event[2], event[3]);
        } else {
          metrics.cacheLookup(event[1], event[2]);
          ref.cacheLookup(event[1], event[2]);
        }
      }
      for (const name of NAMES) expect(await registry.getSingleMetricAsString(name)).toBe(await ref.registry.getSingleMetricAsString(name));
    }
    const text = await registry.getSingleMetricAsString('kms_requests_total');
    expect(text).toContain('kms_requests_total{action="GenerateDataKey",code="OK"} 2');
    expect(text).toContain('kms_requests_total{action="DescribeKey",code="OK"} 2');
  });

  it("what a gateway worker reports to the primary (the registry's JSON) is the same too", async () => {
    const ours = (await registry.getMetricsAsJSON()).filter((m) => (NAMES as readonly string[]).includes(m.name));
    const ref = reference();
    for (const round of rounds)
      for (const event of round) event[0] === 'request' ? ref.request(event[1], event[2], event[3]) : ref.cacheLookup(event[1], event[2]);
    expect(ours).toEqual(await ref.registry.getMetricsAsJSON());
  });
});
