import type { RateLimits } from '../../lib/ratelimit/limits.js';
import type { RpcHandler } from '../../lib/middleware/stack.js';
import { createDispatcher } from '../../lib/middleware/dispatch.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import type { KeyStore } from '../../lib/keystore/key-store.js';
import type { NonceStore } from '../../lib/keystore/nonce-store.js';
import { createLogger } from '../../lib/logger.js';
import { createService, type Service } from '../../lib/service.js';
import { applySeed, type Seed } from '../../lib/seed.js';
import { OPERATIONS } from '../../functions/actions.js';
import type { RpcRequest } from '../../lib/rpc/request.js';
import type { Credentials } from './sign.js';
import type { AuditLog } from '../../lib/audit/audit-log.js';
import type { RecentAuditRecords } from '../../lib/audit/recent-records.js';

/** Fixed identities for tests. Throw-away values, never used outside tests. */
export const KEY_ID = '11111111-2222-4333-8444-555555555555';
export const KEY_VERSION_ID = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
export const KEY_MATERIAL = Buffer.alloc(32, 7).toString('base64');
export const DISABLED_KEY_ID = '22222222-2222-4333-8444-555555555555';
export const OTHER_KEY_ID = 'key-hzz62f1cb66fa42qo0001';
export const ALIAS = 'alias/test';
export const REGION = 'cn-hangzhou';
export const ACCOUNT_ID = '1234567890123456';
export const keyArnOf = (keyId: string) => `acs:kms:${REGION}:${ACCOUNT_ID}:key/${keyId}`;

export const ADMIN: Credentials = { accessKeyId: 'testAdmin0001', accessKeySecret: 'admin-secret-0123456789' };
/** The seed's key provider: may only create encrypted data keys. */
export const PROVIDER: Credentials = { accessKeyId: 'testProvider01', accessKeySecret: 'provider-secret-0123456789' };
/** The seed's producer/consumer: may only Decrypt. */
export const CONSUMER: Credentials = { accessKeyId: 'testConsumer01', accessKeySecret: 'consumer-secret-0123456789' };
/** Allowed everything on KEY_ID only, with Decrypt explicitly denied. */
export const SCOPED: Credentials = { accessKeyId: 'testScoped0001', accessKeySecret: 'scoped-secret-0123456789' };

export const TEST_SEED: Seed = {
  keys: [
    { keyId: KEY_ID, description: 'test key', aliases: [ALIAS], versions: [{ keyVersionId: KEY_VERSION_ID, material: KEY_MATERIAL }] },
    { keyId: DISABLED_KEY_ID, state: 'Disabled', aliases: ['alias/disabled'] },
    { keyId: OTHER_KEY_ID, aliases: ['alias/other'] },
  ],
  accessKeys: [
    { ...toSeed(ADMIN), policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] } },
    { ...toSeed(PROVIDER), policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: ['kms:GenerateDataKeyWithoutPlaintext'], Resource: ['*'] }] } },
    { ...toSeed(CONSUMER), policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: ['kms:Decrypt'], Resource: ['acs:kms:*:*:key/*'] }] } },
    {
      ...toSeed(SCOPED),
      policy: {
        Version: '1',
        Statement: [
          { Effect: 'Allow', Action: 'kms:*', Resource: keyArnOf(KEY_ID) },
          { Effect: 'Deny', Action: 'kms:decrypt', Resource: '*' },
        ],
      },
    },
  ],
};

function toSeed(c: Credentials) {
  return { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret };
}

export interface TestService {
  service: Service;
  store: KeyStore;
  dispatch: RpcHandler;
  /** Dispatches and parses a JSON body. */
  call(request: RpcRequest): Promise<{ status: number; body: Record<string, any>; raw: string; headers: Record<string, string> }>;
}

/** A service over an in-memory store, seeded with {@link TEST_SEED} (unless `seed: false`), behind the real dispatcher. */
export async function createTestService(
  options: {
    now?: () => number;
    store?: KeyStore;
    logLines?: string[];
    seed?: boolean;
    rateLimits?: RateLimits;
    nonces?: NonceStore;
    cacheTtlMs?: number;
    audit?: AuditLog;
    /** Keep the recent audit records here and serve them (ListAuditEvents), as the local gateway does. */
    recentAudit?: RecentAuditRecords;
  } = {},
): Promise<TestService> {
  const store = options.store ?? new MemoryKeyStore();
  const service = createService({
    store,
    region: REGION,
    accountId: ACCOUNT_ID,
    now: options.now,
    ...(options.cacheTtlMs !== undefined ? { cacheTtlMs: options.cacheTtlMs } : {}),
    ...(options.rateLimits ? { rateLimits: options.rateLimits } : {}),
    ...(options.nonces ? { nonces: options.nonces } : {}),
    ...(options.audit ? { audit: options.audit } : {}),
    ...(options.recentAudit ? { recentAudit: options.recentAudit } : {}),
    logger: createLogger({ level: options.logLines ? 'debug' : 'silent', write: (line) => options.logLines?.push(line) }),
  });
  if (options.seed !== false) await applySeed(TEST_SEED, service);
  const dispatch = createDispatcher(service, OPERATIONS);
  return {
    service,
    store,
    dispatch,
    async call(request) {
      const response = await dispatch(request);
      let body: Record<string, any> = {};
      try {
        body = JSON.parse(response.body);
      } catch {
        body = {};
      }
      return { status: response.statusCode, body, raw: response.body, headers: response.headers };
    },
  };
}
