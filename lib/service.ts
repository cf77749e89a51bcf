import { AccessKeyRegistry } from './access-keys.js';
import { type AuditLog, NoAuditLog } from './audit/audit-log.js';
import { type AuditTrail, type RecentAuditRecords, RecordingAuditLog } from './audit/recent-records.js';
import { MemoryNonceStore, type NonceStore } from './keystore/nonce-store.js';
import { Keyring } from './keyring/keyring.js';
import { ChangeWatch } from './keystore/change-watch.js';
import type { KeyStore } from './keystore/key-store.js';
import { createLogger, type Logger } from './logger.js';
import type { RateLimits } from './ratelimit/limits.js';
import { type Admission, RateLimiter } from './ratelimit/rate-limiter.js';
import { Readiness } from './readiness.js';
import { defaultSecretsKey } from './secrets/default-key.js';
import { SecretStore } from './secrets/secret-store.js';

/** An entry no one writes: reading it proves the store answers (and, sealed, that it was opened with its root key). */
const READY_PROBE_ENTRY = 'meta/ready-probe';

/** Defaults, declared once (a test pins them). */
export const DEFAULTS = {
  region: 'cn-hangzhou',
  accountId: '1234567890123456',
  cacheTtlMs: 1000,
} as const;

/**
 * Everything an operation and the middleware stack share, built once per process (per Lambda
 * container, per gateway), never per request.
 */
/** The AWS regions served when KMS_AWS_REGIONS is not set. */
export const DEFAULT_AWS_REGIONS: readonly string[] = ['us-east-1'];

/** Where this deployment's keys live in AWS ARNs. */
export interface AwsScope {
  accountId: string;
  /** Regions a SigV4 credential scope (and an AWS ARN) may name. */
  regions: ReadonlySet<string>;
  /** The Alibaba ARN scope, for references AWS names in another account or region. */
  alibabaRegion: string;
}

export interface Service {
  keyring: Keyring;
  /**
   * The secrets (lib/secrets/), in the same key store, sealed under the keyring's keys; a secret
   * made without a key uses the default secrets key (lib/secrets/default-key.ts, made on first use).
   */
  secrets: SecretStore;
  accessKeys: AccessKeyRegistry;
  nonces: NonceStore;
  logger: Logger;
  /** Per access key and Action group; admits everything when no limit is configured. */
  rateLimiter: Admission;
  /** One line per request and per scheduled-job action; a request whose line cannot be written is refused. None when absent. */
  audit?: AuditLog;
  /**
   * The recent audit records this deployment can serve (ListAuditEvents): the local gateway's.
   * None for the cloud functions, whose audit lines go to the platform's logs.
   */
  auditTrail?: AuditTrail;
  /**
   * Resolves when the service can serve (readiness): the key store answers a read and its change
   * marker can be read (as {@link validateCaches} does for every request), its recent writes did
   * not fail, the replay store takes a claim (see lib/readiness.ts), and the audit log can be
   * written. Rejects when it cannot.
   */
  probe: () => Promise<void>;
  now: () => number;
  /** The AWS protocol's scope: this account, and the regions a SigV4 credential scope may name. */
  aws: AwsScope;
  /**
   * Resolves once this process's caches of key records, aliases and access keys hold nothing that
   * a change acknowledged before the call replaced, through any process on the store (one read of
   * the store's change marker, shared by the calls of an event-loop turn: see ChangeWatch).
   * Rejects with KeyStoreUnavailableError (503) when that cannot be known. Every request awaits it
   * before it authenticates, and every scheduled job before it looks at keys.
   */
  validateCaches(): Promise<void>;
}

export interface ServiceOptions {
  store: KeyStore;
  region?: string;
  accountId?: string;
  cacheTtlMs?: number;
  nonces?: NonceStore;
  logger?: Logger;
  /** KMS_RATE_LIMITS, parsed (lib/ratelimit/limits.ts); none by default. */
  rateLimits?: RateLimits;
  /** Replaces the buckets of this process (the gateway's workers ask their primary's). */
  rateLimiter?: Admission;
  /** The audit log (lib/audit/); none by default (the gateway and the functions use KMS_AUDIT_LOG). */
  audit?: AuditLog;
  /**
   * Keep this process's recent audit records (every record the audit log writes, requests and jobs
   * alike, also with no audit log or `KMS_AUDIT_LOG=none`) in this ring, and serve them as the
   * {@link Service.auditTrail} unless `auditTrail` says otherwise. None by default.
   */
  recentAudit?: RecentAuditRecords;
  /** What ListAuditEvents serves (a gateway worker's asks the primary); default `recentAudit`. */
  auditTrail?: AuditTrail;
  now?: () => number;
  /** Regions AWS-protocol requests may be signed for (KMS_AWS_REGIONS); default us-east-1. The Alibaba region is always one. */
  awsRegions?: readonly string[];
}

export function createService(options: ServiceOptions): Service {
  const now = options.now ?? Date.now;
  const cacheTtlMs = options.cacheTtlMs ?? DEFAULTS.cacheTtlMs;
  const readiness = new Readiness(now);
  const store = readiness.watchStore(options.store);
  const nonces = readiness.watchNonces(options.nonces ?? new MemoryNonceStore(now));
  const keyring = new Keyring(store, {
    region: options.region ?? DEFAULTS.region,
    accountId: options.accountId ?? DEFAULTS.accountId,
    cacheTtlMs,
    // Dropped with the rest when the marker moves (see the watch below); a store without one has no listings cached.
    cacheListings: store.changes !== undefined,
    now,
  });
  const accessKeys = new AccessKeyRegistry(store, { cacheTtlMs, now });
  // Nothing to validate without caches; a store without a marker (Secrets Manager) is trusted for the TTL.
  const watch =
    cacheTtlMs > 0 && store.changes
      ? new ChangeWatch(store.changes, () => {
          keyring.dropCachedState();
          accessKeys.dropCache();
        })
      : undefined;
  const validateCaches = () => watch?.validate() ?? Promise.resolve();
  const audit = options.recentAudit ? new RecordingAuditLog(options.audit ?? new NoAuditLog(), options.recentAudit) : options.audit;
  const auditTrail = options.auditTrail ?? options.recentAudit;
  const region = options.region ?? DEFAULTS.region;
  const accountId = options.accountId ?? DEFAULTS.accountId;
  const awsRegions = new Set([...(options.awsRegions ?? DEFAULT_AWS_REGIONS), region]);
  const secrets = new SecretStore(store, keyring, {
    scope: { region, accountId, awsRegions },
    defaultKeyId: defaultSecretsKey(keyring, now),
    now,
  });
  return {
    keyring,
    secrets,
    accessKeys,
    nonces,
    logger: options.logger ?? createLogger(),
    rateLimiter: options.rateLimiter ?? new RateLimiter(options.rateLimits ?? {}, { now }),
    ...(audit ? { audit } : {}),
    ...(auditTrail ? { auditTrail } : {}),
    probe: async () => {
      // The read every request makes first: a marker that cannot be read makes every request a 503.
      const read = () => Promise.all([store.get(READY_PROBE_ENTRY), validateCaches()]);
      await Promise.all([readiness.check(read, nonces), options.audit?.ready()]);
    },
    now,
    validateCaches,
    aws: { accountId, regions: awsRegions, alibabaRegion: region },
  };
}
