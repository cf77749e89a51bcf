import { join } from 'node:path';
import { REPO_ROOT } from '../../helpers/gateway-process.js';

/**
 * The monthly cost of one AWS stage for a stated workload, computed from list prices (`npm run
 * cost` prints it and writes the table in docs/deploy-aws.md; test/unit/cost.test.ts checks the
 * committed table and the total). Every figure is a constant below with its source, or comes out
 * of the computation; nothing is rounded until it is printed.
 */

export const COST_DOC = join(REPO_ROOT, 'docs/deploy-aws.md');
export const COST_SECTION = 'aws-cost';

/**
 * List prices in eu-central-1 (Frankfurt), on-demand, without free tiers, in USD. Taken from the
 * public pricing pages named beside each, as known on {@link PRICES_AS_OF}; check them there
 * before relying on the figures (prices change, and some differ by region).
 */
export const PRICES_AS_OF = '2026-12-07';
export const PRICES = {
  lambdaRequest: { usd: 0.2 / 1e6, unit: 'request', source: 'https://aws.amazon.com/lambda/pricing/' },
  lambdaArmGbSecond: { usd: 0.0000133334, unit: 'GB-second (arm64)', source: 'https://aws.amazon.com/lambda/pricing/' },
  albHour: { usd: 0.027, unit: 'ALB-hour', source: 'https://aws.amazon.com/elasticloadbalancing/pricing/' },
  albLcuHour: { usd: 0.0096, unit: 'LCU-hour', source: 'https://aws.amazon.com/elasticloadbalancing/pricing/' },
  dynamoDbRead: { usd: 0.1525 / 1e6, unit: 'read request unit (on-demand)', source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/' },
  dynamoDbWrite: { usd: 0.7625 / 1e6, unit: 'write request unit (on-demand)', source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/' },
  dynamoDbStorageGbMonth: { usd: 0.306, unit: 'GB-month (Standard table class)', source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/' },
  dynamoDbPitrGbMonth: { usd: 0.2448, unit: 'GB-month of point-in-time recovery', source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/' },
  secretMonth: { usd: 0.4, unit: 'secret-month', source: 'https://aws.amazon.com/secrets-manager/pricing/' },
  secretsApiCall: { usd: 0.05 / 10_000, unit: 'API call', source: 'https://aws.amazon.com/secrets-manager/pricing/' },
  kmsKeyMonth: { usd: 1, unit: 'customer-managed key-month', source: 'https://aws.amazon.com/kms/pricing/' },
  kmsRequest: { usd: 0.03 / 10_000, unit: 'request', source: 'https://aws.amazon.com/kms/pricing/' },
  logsIngestedGb: { usd: 0.63, unit: 'GB ingested (CloudWatch Logs, Standard)', source: 'https://aws.amazon.com/cloudwatch/pricing/' },
  logsStoredGbMonth: { usd: 0.0324, unit: 'GB-month archived', source: 'https://aws.amazon.com/cloudwatch/pricing/' },
  alarmMonth: { usd: 0.1, unit: 'standard-resolution alarm-month', source: 'https://aws.amazon.com/cloudwatch/pricing/' },
  sqsRequest: { usd: 0.4 / 1e6, unit: 'request (standard queue)', source: 'https://aws.amazon.com/sqs/pricing/' },
} as const;

/** The DynamoDB calls of one request, counted from the code (test/unit/cold-start-rounds.test.ts checks them against the real backend). */
export interface StoreCalls {
  /** Strongly consistent `GetItem`s of items under 4 KB: one read request unit each. */
  reads: number;
  /** `PutItem`s of items under 1 KB: one write request unit each. */
  writes: number;
}

/**
 * Per request on an instance whose caches have expired (key records, aliases and access keys are
 * trusted for KMS_CACHE_TTL_MS, 1 s by default; at a few requests a second spread over many
 * instances, most requests find them expired): the change marker, the access key, then what the
 * Action names; the nonce claim is the one write. Version material is cached for the instance's
 * life. Warm within the TTL a request makes 1 read (the marker) and the write.
 */
export const STORE_CALLS: Record<'GenerateDataKey by alias' | 'Decrypt' | 'other reads by key id', StoreCalls> = {
  // marker, access key, alias, key
  'GenerateDataKey by alias': { reads: 4, writes: 1 },
  // marker, access key, key (the version and its index are cached)
  Decrypt: { reads: 3, writes: 1 },
  // marker, access key, key (DescribeKey, Encrypt, GenerateDataKey by key id)
  'other reads by key id': { reads: 3, writes: 1 },
};

/** The workload the docs state, and what is assumed about it (each assumption named where it is used). */
export const WORKLOAD = {
  region: 'eu-central-1',
  stages: 1,
  keys: 1_000,
  versionsPerKey: 12,
  requestsPerMonth: 10_000_000,
  mix: { 'GenerateDataKey by alias': 0.6, Decrypt: 0.35, 'other reads by key id': 0.05 } satisfies Record<keyof typeof STORE_CALLS, number>,
  /** serverless.yml's `provider.memorySize`. */
  memoryMb: 512,
  /** Billed duration of a warm request: two DynamoDB round trips and a few milliseconds of CPU. */
  warmDurationMs: 30,
  /** Share of requests that reach a new instance (cold start), and what one bills (init, now billed, plus a first request). */
  coldStartShare: 0.005,
  coldStartBilledMs: 800,
  /** Per cold start: the root-key secret (1 GetSecretValue, which decrypts under the stage key: 1 KMS request) and the seal's 2 entries. */
  coldStartSecretReads: 1,
  coldStartKmsRequests: 1,
  coldStartExtraReads: 2,
  /** The hourly jobs (rotateKeys, deleteExpiredKeys): an invocation each per hour, a ListKeys-sized scan of the keys each. */
  scheduledInvocationsPerMonth: 2 * 730,
  scheduledReadsPerInvocation: 2_000,
  scheduledBilledMs: 3_000,
  /** CloudWatch Logs per request: the access line, the audit line, Lambda's START/END/REPORT lines. */
  logBytesPerRequest: 1_300,
  /** Audit retention (the stack's default, 1 year): at steady state a year of logs is stored (counted uncompressed: an upper bound). */
  logRetentionMonths: 12,
  /**
   * Alarms of the stack: server errors, one errors-and-throttles alarm per function, the scheduled
   * jobs, DynamoDB throttles, ALB 5xx, the provisioning dead-letter queue. An upper count:
   * test/e2e/serverless.test.ts fails when the packaged template has more.
   */
  alarms: 60,
  /** ALB: bytes a request and its answer carry, new connections (every request on a new one: an upper bound), listener rules evaluated beyond the 10 free. */
  albBytesPerRequest: 2_500,
  albRulesEvaluatedBeyondFree: 110,
  /** State items: a version (material sealed, ~400 B) and its index entry, a key record, an alias; used nonces kept until TTL removes them (within about 48 h). */
  versionItemBytes: 600,
  keyItemBytes: 700,
  aliasItemBytes: 250,
  nonceItemBytes: 200,
  nonceRetentionHours: 48,
  /** The provisioner's queue and the partition events: a handful of messages a month. */
  sqsRequestsPerMonth: 10_000,
} as const;

/** A workload like {@link WORKLOAD}, any of its figures changed. */
export type Workload = { [K in keyof typeof WORKLOAD]: (typeof WORKLOAD)[K] extends number ? number : (typeof WORKLOAD)[K] };

/** The earlier design, for comparison: one Secrets Manager secret per key version (plus the provisioner's), material read through the secrets. */
export const OLD_DESIGN = {
  secrets: WORKLOAD.keys * WORKLOAD.versionsPerKey + 1,
  /** Each new instance reads the material of the version it uses; warm instances read it again hourly (the material cache's TTL): 10 instances × 10 versions × 730 h. */
  secretReadsPerMonth: WORKLOAD.requestsPerMonth * WORKLOAD.coldStartShare + 10 * 10 * 730,
} as const;

export interface CostLine {
  item: string;
  quantity: string;
  usd: number;
}

const HOURS_PER_MONTH = 730;
const GB = 1e9;
const fmt = (n: number, digits = 0) => n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The stage's monthly cost, line by line. */
export function monthlyCost(w: Workload = WORKLOAD, p = PRICES): { lines: CostLine[]; total: number } {
  const requests = w.requestsPerMonth;
  const coldStarts = requests * w.coldStartShare;
  const gbSeconds =
    ((requests * w.warmDurationMs + coldStarts * w.coldStartBilledMs + w.scheduledInvocationsPerMonth * w.scheduledBilledMs) / 1000) * (w.memoryMb / 1024);
  const invocations = requests + w.scheduledInvocationsPerMonth;

  const perRequest = (Object.keys(w.mix) as Array<keyof typeof STORE_CALLS>).reduce(
    (sum, action) => ({ reads: sum.reads + w.mix[action] * STORE_CALLS[action].reads, writes: sum.writes + w.mix[action] * STORE_CALLS[action].writes }),
    { reads: 0, writes: 0 },
  );
  const reads = requests * perRequest.reads + coldStarts * w.coldStartExtraReads + w.scheduledInvocationsPerMonth * w.scheduledReadsPerInvocation;
  const writes = requests * perRequest.writes;
  const versions = w.keys * w.versionsPerKey;
  const stateBytes = versions * w.versionItemBytes + w.keys * (w.keyItemBytes + w.aliasItemBytes);
  const nonceBytes = (requests / (HOURS_PER_MONTH * 3600)) * w.nonceRetentionHours * 3600 * w.nonceItemBytes;
  const tableGb = (stateBytes + nonceBytes) / GB;

  const logGb = (requests * w.logBytesPerRequest) / GB;
  const perSecond = requests / (HOURS_PER_MONTH * 3600);
  // An LCU is the largest of its dimensions: 25 new connections/s, 0.4 GB/h processed for Lambda targets, 1,000 rule evaluations/s.
  const lcu = Math.max(perSecond / 25, (perSecond * 3600 * w.albBytesPerRequest) / GB / 0.4, (perSecond * w.albRulesEvaluatedBeyondFree) / 1000);
  const secretReads = coldStarts * w.coldStartSecretReads;

  const lines: CostLine[] = [
    { item: 'Lambda requests (arm64)', quantity: `${fmt(invocations / 1e6, 2)} M invocations`, usd: invocations * p.lambdaRequest.usd },
    {
      item: 'Lambda duration',
      quantity: `${fmt(gbSeconds)} GB-s (${w.memoryMb} MB; ${w.warmDurationMs} ms warm, ${fmt(coldStarts)} cold starts × ${w.coldStartBilledMs} ms)`,
      usd: gbSeconds * p.lambdaArmGbSecond.usd,
    },
    { item: 'ALB hours', quantity: `${HOURS_PER_MONTH} h`, usd: HOURS_PER_MONTH * p.albHour.usd },
    { item: 'ALB capacity units', quantity: `${fmt(lcu, 2)} LCU × ${HOURS_PER_MONTH} h`, usd: lcu * HOURS_PER_MONTH * p.albLcuHour.usd },
    {
      item: 'DynamoDB reads (on-demand, strongly consistent)',
      quantity: `${fmt(reads / 1e6, 1)} M RRU (${fmt(perRequest.reads, 2)} a request)`,
      usd: reads * p.dynamoDbRead.usd,
    },
    {
      item: 'DynamoDB writes (the nonce claim)',
      quantity: `${fmt(writes / 1e6, 1)} M WRU (${fmt(perRequest.writes, 2)} a request)`,
      usd: writes * p.dynamoDbWrite.usd,
    },
    {
      item: 'DynamoDB storage',
      quantity: `${fmt(tableGb, 3)} GB (${fmt(versions)} versions, ${fmt(w.keys)} keys, 48 h of nonces)`,
      usd: tableGb * p.dynamoDbStorageGbMonth.usd,
    },
    { item: 'DynamoDB point-in-time recovery', quantity: `${fmt(tableGb, 3)} GB`, usd: tableGb * p.dynamoDbPitrGbMonth.usd },
    { item: 'Secrets Manager secrets', quantity: `${w.stages} (the root key \`kms/<stage>/root-key\`)`, usd: w.stages * p.secretMonth.usd },
    { item: 'Secrets Manager API calls', quantity: `${fmt(secretReads)} GetSecretValue (one per cold start)`, usd: secretReads * p.secretsApiCall.usd },
    { item: 'AWS KMS stage key', quantity: '1 customer-managed key', usd: p.kmsKeyMonth.usd },
    {
      item: 'AWS KMS requests',
      quantity: `${fmt(coldStarts * w.coldStartKmsRequests)} (the secret's decryption)`,
      usd: coldStarts * w.coldStartKmsRequests * p.kmsRequest.usd,
    },
    { item: 'CloudWatch Logs ingestion', quantity: `${fmt(logGb, 1)} GB (${fmt(w.logBytesPerRequest)} B a request)`, usd: logGb * p.logsIngestedGb.usd },
    {
      item: 'CloudWatch Logs storage',
      quantity: `${fmt(logGb * w.logRetentionMonths, 0)} GB (${w.logRetentionMonths} months kept, uncompressed)`,
      usd: logGb * w.logRetentionMonths * p.logsStoredGbMonth.usd,
    },
    { item: 'CloudWatch alarms', quantity: `${w.alarms}`, usd: w.alarms * p.alarmMonth.usd },
    {
      item: 'SQS and EventBridge (provisioning, schedules)',
      quantity: `${fmt(w.sqsRequestsPerMonth)} SQS requests`,
      usd: w.sqsRequestsPerMonth * p.sqsRequest.usd,
    },
  ];
  return { lines, total: lines.reduce((sum, line) => sum + line.usd, 0) };
}

/** The earlier design's cost for the same workload: the same lines, with a secret per key version. */
export function oldDesignCost(w: Workload = WORKLOAD, p = PRICES): { secretsUsd: number; total: number } {
  const current = monthlyCost(w, p);
  const ours = current.lines.filter((l) => l.item.startsWith('Secrets Manager')).reduce((sum, l) => sum + l.usd, 0);
  const secretsUsd = OLD_DESIGN.secrets * p.secretMonth.usd + OLD_DESIGN.secretReadsPerMonth * p.secretsApiCall.usd;
  return { secretsUsd, total: current.total - ours + secretsUsd };
}

const usd = (n: number) => `$${fmt(n, 2)}`;

/** The table docs/deploy-aws.md carries between its `aws-cost` markers. */
export function renderCostTable(): string {
  const { lines, total } = monthlyCost();
  const old = oldDesignCost();
  const w = WORKLOAD;
  const mix = Object.entries(w.mix)
    .map(([action, share]) => `${fmt(share * 100)} % ${action}`)
    .join(', ');
  return [
    `One stage in ${w.region}, ${fmt(w.keys)} keys × ${w.versionsPerKey} versions, ${fmt(w.requestsPerMonth / 1e6)} M requests a month (${mix}), list prices of ${PRICES_AS_OF} without free tiers:`,
    '',
    '| item | quantity a month | USD a month |',
    '| --- | --- | ---: |',
    ...lines.map((l) => `| ${l.item} | ${l.quantity} | ${usd(l.usd)} |`),
    `| **total** | | **${usd(total)}** |`,
    '',
    `The earlier design, one Secrets Manager secret per key version (${fmt(OLD_DESIGN.secrets)} secrets, material read through them), came to ${usd(old.total)} a month for the same workload, ${usd(old.secretsUsd)} of it Secrets Manager.`,
  ].join('\n');
}
