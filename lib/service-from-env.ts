import { mkdir, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { DynamoDbNonceStore } from './keystore/dynamodb/dynamodb-nonce-store.js';
import { MemoryNonceStore, type NonceStore } from './keystore/nonce-store.js';
import { CACHED_STORE_DEFAULTS, CachedKeyStore } from './keystore/cached-store.js';
import { openFileBackend, NONCE_JOURNAL_FILE } from './keystore/file/file-backend.js';
import { FileKeyStore } from './keystore/file/file-store.js';
import { loadRootKey, type RootKeySource, rootKeySourceFromEnvironment } from './keystore/root-key.js';
import { SealedKeyStore } from './keystore/sealed-store.js';
import { holdsKeyStore, NoKeyStoreError } from './keystore/existing-store.js';
import type { StateBackend } from './keystore/backend.js';
import { SplitKeyStore } from './keystore/split-store.js';
import type { KeyStore } from './keystore/key-store.js';
import { isLogLevel, createLogger, type Logger, type LogLevel } from './logger.js';
import { createService, DEFAULTS, type Service } from './service.js';
import { parseRateLimits, type RateLimits } from './ratelimit/limits.js';
import type { Admission } from './ratelimit/rate-limiter.js';
import { auditLogFromEnvironment } from './audit/audit-log.js';
import { LineFile } from './log-file.js';

/** The defaults of the environment variables the service reads, declared once (a test pins them). */
export const ENV_DEFAULTS = {
  KMS_DATA_DIR: './.kms-data',
  KMS_LOG_LEVEL: 'info',
  KMS_KEY_STORE: 'file',
  KMS_SECRETS_PREFIX: 'kms/',
  KMS_STORE_CACHE_TTL_MS: CACHED_STORE_DEFAULTS.ttlMs,
  KMS_STORE_STALE_FOR_MS: CACHED_STORE_DEFAULTS.staleForMs,
} as const;

export { NONCE_JOURNAL_FILE, NoKeyStoreError };

/**
 * How the AWS clients are built: the stores retry on their own (bounded, with jitter), so the
 * SDK's retries are off; a call that hangs is cut short so a request fails fast instead of
 * waiting for the Lambda timeout.
 */
export const AWS_CLIENT_DEFAULTS = { maxAttempts: 1, connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000 } as const;

export type KeyStoreKind = 'file' | 'postgres' | 'dynamodb' | 'secrets-manager';
export type NonceStoreKind = 'dynamodb' | 'journal' | 'memory' | 'backend';

/** What the environment selects, after validation and defaults. */
export interface BackendSelection {
  keyStore: KeyStoreKind;
  /** `file` only. */
  dataDir?: string;
  /** `file`, `postgres`: where the root key that seals the store comes from. */
  rootKey?: RootKeySource;
  /** `postgres` only. */
  postgres?: { url: string; schema?: string };
  /** `dynamodb` only: the state table, and its region. */
  dynamodb?: { table: string; region: string };
  /** `secrets-manager` only. */
  secrets?: {
    prefix: string;
    region: string;
    cacheTtlMs: number;
    writeOnceTtlMs: number;
    staleForMs: number;
    /** KMS_SECRETS_KMS_KEY_ID: the customer-managed AWS KMS key new secrets are encrypted under. */
    kmsKeyId?: string;
    /** KMS_SECRETS_ROLE_PATTERN: only principals whose ARN matches it may use the secrets (a resource policy on each). */
    rolePattern?: string;
  };
  /**
   * Replay protection: `backend` (the state backend's own: postgres, dynamodb), `journal` (the file
   * backend's, shared by the processes on its directory), `dynamodb` (a nonce table, with Secrets
   * Manager) or `memory` (one instance only; never chosen unless asked for).
   */
  nonceStore: NonceStoreKind;
  /** `dynamodb` only. */
  nonceTable?: string;
  logger: 'stdout' | 'powertools';
  logLevel: LogLevel;
  cacheTtlMs: number;
}

/**
 * Reads and checks the backend variables (nothing is built): `KMS_KEY_STORE` (`file` |
 * `secrets-manager`), `KMS_DATA_DIR`, `KMS_SECRETS_PREFIX`, `AWS_REGION`, `KMS_STORE_CACHE_TTL_MS`,
 * `KMS_STORE_STALE_FOR_MS`, `KMS_NONCE_STORE` (`dynamodb` | `journal` | `memory`; by default
 * `dynamodb` when `KMS_NONCE_TABLE` is set, else `journal` with the file store and `memory` with
 * Secrets Manager), `KMS_NONCE_TABLE`, `KMS_LOG_LEVEL`, `KMS_CACHE_TTL_MS`, and
 * `AWS_LAMBDA_FUNCTION_NAME` (set by Lambda: Powertools logging).
 */
export function selectBackends(env: NodeJS.ProcessEnv = process.env): BackendSelection {
  const logLevel = env.KMS_LOG_LEVEL ?? ENV_DEFAULTS.KMS_LOG_LEVEL;
  if (!isLogLevel(logLevel)) throw new Error(`KMS_LOG_LEVEL must be debug, info, warn, error or silent, not "${logLevel}"`);
  const cacheTtlMs = milliseconds(env, 'KMS_CACHE_TTL_MS', DEFAULTS.cacheTtlMs);
  const keyStore = env.KMS_KEY_STORE ?? ENV_DEFAULTS.KMS_KEY_STORE;
  if (!isKeyStoreKind(keyStore)) throw new Error(`KMS_KEY_STORE must be file, postgres, dynamodb or secrets-manager, not "${keyStore}"`);
  const nonceTable = env.KMS_NONCE_TABLE || undefined;
  const ownNonces = keyStore === 'file' ? 'journal' : keyStore === 'secrets-manager' ? undefined : 'backend';
  const nonceStore = env.KMS_NONCE_STORE || (nonceTable ? 'dynamodb' : ownNonces);
  if (nonceStore === undefined) {
    throw new Error('KMS_KEY_STORE=secrets-manager needs a shared replay store: set KMS_NONCE_TABLE (or KMS_NONCE_STORE=memory for one instance only)');
  }
  if (!isNonceStoreKind(nonceStore)) throw new Error(`KMS_NONCE_STORE must be dynamodb, journal, backend or memory, not "${nonceStore}"`);
  if (nonceStore === 'dynamodb' && !nonceTable) throw new Error('KMS_NONCE_STORE=dynamodb needs KMS_NONCE_TABLE');
  if (nonceStore === 'backend' && (keyStore === 'file' || keyStore === 'secrets-manager')) throw new Error(`KMS_NONCE_STORE=backend needs KMS_KEY_STORE=postgres or dynamodb`);
  const dataDir = env.KMS_DATA_DIR ?? ENV_DEFAULTS.KMS_DATA_DIR;
  const rootKey = keyStore === 'file' || keyStore === 'postgres' ? rootKeySourceFromEnvironment(env, dataDir) : undefined;
  refuseInstanceLocalState(env, { keyStore, nonceStore, rootKey });
  const common = {
    nonceStore,
    ...(nonceStore === 'dynamodb' ? { nonceTable } : {}),
    logger: env.AWS_LAMBDA_FUNCTION_NAME ? ('powertools' as const) : ('stdout' as const),
    logLevel,
    cacheTtlMs,
  };
  if (keyStore === 'file') return { keyStore, dataDir, rootKey: rootKey!, ...common };
  if (keyStore === 'postgres') {
    const url = env.KMS_POSTGRES_URL;
    if (!url) throw new Error('KMS_KEY_STORE=postgres needs KMS_POSTGRES_URL (postgres://user:password@host:5432/database)');
    return {
      keyStore,
      postgres: { url, ...(env.KMS_POSTGRES_SCHEMA ? { schema: env.KMS_POSTGRES_SCHEMA } : {}) },
      rootKey: rootKey!,
      ...(nonceStore === 'journal' ? { dataDir } : {}),
      ...common,
    };
  }
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!region) throw new Error(`KMS_KEY_STORE=${keyStore} needs AWS_REGION`);
  const ttl = milliseconds(env, 'KMS_STORE_CACHE_TTL_MS', ENV_DEFAULTS.KMS_STORE_CACHE_TTL_MS);
  const secrets = {
    prefix: env.KMS_SECRETS_PREFIX ?? ENV_DEFAULTS.KMS_SECRETS_PREFIX,
    region,
    cacheTtlMs: ttl,
    // Write-once entries (key material) never change: trusted at least as long as mutable ones.
    writeOnceTtlMs: Math.max(ttl, CACHED_STORE_DEFAULTS.writeOnceTtlMs),
    staleForMs: milliseconds(env, 'KMS_STORE_STALE_FOR_MS', ENV_DEFAULTS.KMS_STORE_STALE_FOR_MS),
    ...(env.KMS_SECRETS_KMS_KEY_ID ? { kmsKeyId: env.KMS_SECRETS_KMS_KEY_ID } : {}),
    ...(env.KMS_SECRETS_ROLE_PATTERN ? { rolePattern: env.KMS_SECRETS_ROLE_PATTERN } : {}),
  };
  if (keyStore === 'dynamodb') {
    const table = env.KMS_STATE_TABLE;
    if (!table) throw new Error('KMS_KEY_STORE=dynamodb needs KMS_STATE_TABLE');
    // Key material in Secrets Manager (one secret per version) when a prefix is given; else in the table.
    return { keyStore, dynamodb: { table, region }, ...(env.KMS_SECRETS_PREFIX ? { secrets } : {}), ...common };
  }
  return {
    keyStore,
    secrets: {
      ...secrets,
    },
    // The journal needs a directory; with Secrets Manager it is per instance (e.g. /tmp in Lambda).
    ...(nonceStore === 'journal' ? { dataDir } : {}),
    ...common,
  };
}

/** The cloud function platform this process runs on, as its runtime announces it; undefined elsewhere. */
export function cloudFunctionPlatform(env: NodeJS.ProcessEnv = process.env): 'AWS Lambda' | 'Function Compute' | undefined {
  if (env.AWS_LAMBDA_FUNCTION_NAME) return 'AWS Lambda';
  if (env.FC_FUNCTION_NAME) return 'Function Compute';
  return undefined;
}

/**
 * On a cloud function every instance has its own disk and memory, and the platform starts as many
 * as it likes: a key store, a replay store or a root key there would be per instance, so a
 * captured request would be accepted once per instance. Such a deployment refuses to start rather
 * than accept replays. `KMS_SINGLE_INSTANCE=true` (and serverless-offline's `IS_OFFLINE=true`)
 * says there is only one instance, as in a local emulation.
 */
function refuseInstanceLocalState(
  env: NodeJS.ProcessEnv,
  chosen: { keyStore: KeyStoreKind; nonceStore: string; rootKey: RootKeySource | undefined },
): void {
  const platform = cloudFunctionPlatform(env);
  if (!platform || env.KMS_SINGLE_INSTANCE === 'true' || env.IS_OFFLINE === 'true') return;
  const shared = platform === 'AWS Lambda' ? 'postgres or dynamodb' : 'postgres (ApsaraDB RDS for PostgreSQL)';
  if (chosen.keyStore === 'file') {
    throw new Error(`KMS_KEY_STORE=file on ${platform} would give every instance its own keys and its own record of used nonces (replays accepted once per instance): use KMS_KEY_STORE=${shared}`);
  }
  if (chosen.nonceStore === 'journal' || chosen.nonceStore === 'memory') {
    throw new Error(`KMS_NONCE_STORE=${chosen.nonceStore} on ${platform} is per instance (replays accepted once per instance): use the state backend's (KMS_KEY_STORE=${shared}) or KMS_NONCE_TABLE`);
  }
  if (chosen.rootKey?.kind === 'file') {
    throw new Error(`a root key file on ${platform} is per instance: set KMS_ROOT_KEY_SOURCE=${platform === 'AWS Lambda' ? 'aws-secrets-manager:<secret-id>' : 'alibaba-kms-secret:<secret-name>'}`);
  }
}

/**
 * The service as configured by environment variables (Lambda, Function Compute, the gateway); see
 * {@link selectBackends} for the backend variables, plus `KMS_REGION` and `KMS_ACCOUNT_ID` (ARNs),
 * `KMS_AUDIT_LOG` and `KMS_ACCESS_LOG` (log files: their directory must exist).
 */
export async function serviceFromEnvironment(env: NodeJS.ProcessEnv = process.env, options: ServiceOptions = {}): Promise<Service> {
  const selection = selectBackends(env);
  const rateLimits = parseRateLimits(env.KMS_RATE_LIMITS);
  const audit = await auditLogFromEnvironment(env.KMS_AUDIT_LOG);
  const accessLog = accessLogFromEnvironment(env.KMS_ACCESS_LOG, selection);
  // The AWS SDK and Powertools are loaded only when selected: the file-store path (gateway, CLI) starts without them.
  const logger: Logger =
    selection.logger === 'powertools'
      ? (await import('./logger-powertools.js')).createPowertoolsLogger({ level: selection.logLevel, serviceName: env.POWERTOOLS_SERVICE_NAME ?? 'kms' })
      : createLogger({ level: selection.logLevel, ...(accessLog ? { accessLog } : {}) });
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  const opened = await openState(selection, region, logger, options.localNonces);
  const { store, nonces } = opened;
  return createService({
    store,
    nonces,
    rateLimits,
    ...(options.rateLimiter ? { rateLimiter: options.rateLimiter(rateLimits) } : {}),
    audit,
    region: env.KMS_REGION ?? DEFAULTS.region,
    ...(env.KMS_AWS_REGIONS ? { awsRegions: env.KMS_AWS_REGIONS.split(',').map((r) => r.trim()).filter(Boolean) } : {}),
    accountId: env.KMS_ACCOUNT_ID ?? DEFAULTS.accountId,
    cacheTtlMs: selection.cacheTtlMs,
    logger,
  });
}

/** `KMS_ACCESS_LOG`: unset or `stdout` (with the other log lines), or a file the access lines go to instead. */
function accessLogFromEnvironment(value: string | undefined, selection: BackendSelection): LineFile | undefined {
  if (value === undefined || value === '' || value === 'stdout') return undefined;
  if (selection.logger === 'powertools') throw new Error('KMS_ACCESS_LOG=<file> is for the gateway: on AWS Lambda the access lines go to CloudWatch with the others');
  return LineFile.open(value, 'KMS_ACCESS_LOG');
}

export interface ServiceOptions {
  /**
   * Replaces a replay store that lives in this process (the journal, memory) — one shared
   * elsewhere (the backend's, DynamoDB) is kept. The gateway's workers pass one that asks the
   * primary, so they share one replay record without taking the journal's lock in turn.
   */
  localNonces?: NonceStore;
  /** Replaces this process's rate-limit buckets (the gateway's workers pass one that asks the primary). */
  rateLimiter?: (limits: RateLimits) => Admission;
}

/** The key store and the replay store the selection names. */
async function openState(selection: BackendSelection, region: string | undefined, logger: Logger, localNonces?: NonceStore): Promise<{ store: KeyStore; nonces: NonceStore }> {
  if (localNonces && (selection.nonceStore === 'journal' || selection.nonceStore === 'memory')) {
    if (selection.keyStore === 'file') {
      await mkdir(selection.dataDir!, { recursive: true, mode: 0o700 });
      return { store: await sealed(await FileKeyStore.open(selection.dataDir!), selection), nonces: localNonces };
    }
    return { store: (await buildKeyStore(selection, logger)).store, nonces: localNonces };
  }
  if (selection.keyStore === 'file' && selection.nonceStore === 'journal') {
    // One data directory: entries and the journal of used nonces, shared by every process on it.
    const backend = await openFileBackend(selection.dataDir!);
    return { store: await sealed(backend.store, selection), nonces: backend.nonces };
  }
  if ((selection.keyStore === 'postgres' || selection.keyStore === 'dynamodb') && selection.nonceStore === 'backend') {
    // Cold start: the state backend and the material store are set up at once.
    const [opened, material] = await Promise.allSettled([
      openSharedBackend(selection, logger, false),
      selection.keyStore === 'dynamodb' && selection.secrets ? secretsManagerStore(selection.secrets, logger) : Promise.resolve(undefined),
    ]);
    if (opened.status === 'rejected') throw opened.reason;
    const backend = opened.value;
    try {
      if (material.status === 'rejected') throw material.reason;
      return { store: await stateStore(backend.store, selection, logger, material.value), nonces: backend.nonces };
    } catch (err) {
      // A build that fails is retried (a cloud function's next request): it must not leave a pool open.
      await backend.close().catch(() => undefined);
      throw err;
    }
  }
  const { store } = await buildKeyStore(selection, logger);
  if (selection.nonceStore === 'dynamodb') {
    // Shared by every instance: a nonce used on one is refused by all.
    return { store, nonces: await dynamoDbNonces(selection.nonceTable!, region, logger) };
  }
  if (selection.nonceStore === 'journal') {
    // Replay protection that survives a restart, shared by every process on the directory: the
    // journal is decided under the directory's lock, whatever holds the keys.
    return { store, nonces: (await openFileBackend(selection.dataDir!)).nonces };
  }
  logger.warn('replay protection is per instance only (in memory): set KMS_NONCE_TABLE to share it across instances');
  return { store, nonces: new MemoryNonceStore() };
}

/** A key store opened for a tool, with what it holds open (a database pool, a client) to close. */
export interface OpenedKeyStore {
  store: KeyStore;
  close(): Promise<void>;
}

/**
 * The key store alone, as the environment selects it, for tools that administer the store
 * directly (`kms access-keys`, `kms store copy`): the file store, PostgreSQL, DynamoDB (with its
 * material in Secrets Manager) or Secrets Manager. Close it when done.
 *
 * With `mustExist`, a store that holds nothing (a data directory that is missing or empty, an empty
 * database, table or prefix) is a {@link NoKeyStoreError}, and nothing is created: no directory, no
 * root key, no seal. A tool pointed at the wrong place must not start a store of its own there.
 */
export async function openKeyStoreFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  logger: Logger = createLogger({ level: 'warn' }),
  options: { mustExist?: boolean } = {},
): Promise<OpenedKeyStore> {
  // Administering the store involves no requests, so no replay store: none is required here, and
  // a tool is one process wherever it runs.
  const noReplays = env.KMS_KEY_STORE === 'secrets-manager' && !env.KMS_NONCE_TABLE && !env.KMS_NONCE_STORE ? { KMS_NONCE_STORE: 'memory' } : {};
  return buildKeyStore(selectBackends({ ...env, ...noReplays, KMS_SINGLE_INSTANCE: 'true' }), logger, options.mustExist === true);
}

/** Where the selection points, as a {@link NoKeyStoreError} names it (never a URL: it may hold a password). */
function storeLocation(selection: BackendSelection): string {
  switch (selection.keyStore) {
    case 'file': {
      const dir = selection.dataDir!;
      return `at ${dir}${isAbsolute(dir) ? '' : ` (${resolve(dir)})`}`;
    }
    case 'postgres':
      return `in the PostgreSQL database of KMS_POSTGRES_URL${selection.postgres?.schema ? `, schema ${selection.postgres.schema}` : ''}`;
    case 'dynamodb':
      return `in the DynamoDB table ${selection.dynamodb!.table}`;
    case 'secrets-manager':
      return `under the Secrets Manager prefix ${selection.secrets!.prefix}`;
  }
}

/** Refuses a store (before sealing) that holds no store of this service; `undefined`: none of the backend's tables. */
async function requireStore(inner: KeyStore | undefined, selection: BackendSelection): Promise<void> {
  if (!inner || !(await holdsKeyStore(inner))) throw new NoKeyStoreError(storeLocation(selection), selection.keyStore === 'file' ? 'the directory holds none' : 'it holds no keys, access keys or seal');
}

/** The file store's directory, which `mustExist` requires to be there already. */
async function requireDirectory(selection: BackendSelection): Promise<void> {
  const found = await stat(selection.dataDir!).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
    throw err;
  });
  if (!found) throw new NoKeyStoreError(storeLocation(selection), 'the directory does not exist');
  if (!found.isDirectory()) throw new NoKeyStoreError(storeLocation(selection), 'it is not a directory');
}

/** {@link openKeyStoreFromEnvironment}'s store, left open for the life of the process. */
export async function keyStoreFromEnvironment(env: NodeJS.ProcessEnv = process.env, logger: Logger = createLogger({ level: 'warn' })): Promise<KeyStore> {
  return (await openKeyStoreFromEnvironment(env, logger)).store;
}

/**
 * The state backend of a deployment of many instances: PostgreSQL or DynamoDB. With `mustExist`, a
 * PostgreSQL schema is looked at before it is created or migrated, and refused as it is.
 */
async function openSharedBackend(selection: BackendSelection, logger: Logger, mustExist: boolean): Promise<StateBackend> {
  if (selection.keyStore === 'postgres') {
    const { openPostgresBackend } = await import('./keystore/postgres/postgres-backend.js');
    return openPostgresBackend({
      connectionString: selection.postgres!.url,
      ...(selection.postgres!.schema ? { schema: selection.postgres!.schema } : {}),
      logger,
      ...(mustExist ? { requireStore: (asItIs: KeyStore | undefined) => requireStore(asItIs, selection) } : {}),
    });
  }
  const { openDynamoDbBackend } = await import('./keystore/dynamodb/dynamodb-backend.js');
  return openDynamoDbBackend({ tableName: selection.dynamodb!.table, region: selection.dynamodb!.region, logger });
}

/**
 * The key store over a shared backend's: sealed under the root key (PostgreSQL), or with key
 * material in Secrets Manager beside the DynamoDB state (when a secrets prefix is set).
 */
async function stateStore(backendStore: KeyStore, selection: BackendSelection, logger: Logger, material?: KeyStore): Promise<KeyStore> {
  if (selection.keyStore === 'postgres') return sealed(backendStore, selection);
  if (!selection.secrets) return backendStore;
  return new SplitKeyStore({ material: material ?? (await secretsManagerStore(selection.secrets, logger)), state: backendStore });
}

async function buildKeyStore(selection: BackendSelection, logger: Logger, mustExist = false): Promise<OpenedKeyStore> {
  if (selection.keyStore === 'file') {
    if (mustExist) {
      await requireDirectory(selection);
      // Looked at before FileKeyStore.open tidies up: a directory that is not a store is left alone.
      await requireStore(new FileKeyStore(selection.dataDir!), selection);
    } else {
      await mkdir(selection.dataDir!, { recursive: true, mode: 0o700 });
    }
    return { store: await sealed(await FileKeyStore.open(selection.dataDir!), selection), close: async () => undefined };
  }
  if (selection.keyStore === 'postgres' || selection.keyStore === 'dynamodb') {
    const backend = await openSharedBackend(selection, logger, mustExist);
    try {
      if (mustExist && selection.keyStore === 'dynamodb') await requireStore(backend.store, selection);
      return { store: await stateStore(backend.store, selection, logger), close: () => backend.close() };
    } catch (err) {
      await backend.close();
      throw err;
    }
  }
  const store = await secretsManagerStore(selection.secrets!, logger);
  if (mustExist) await requireStore(store, selection);
  return { store, close: async () => undefined };
}

async function secretsManagerStore(s: NonNullable<BackendSelection['secrets']>, logger: Logger): Promise<KeyStore> {
  const { SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const { onlyRolesPolicy, SecretsManagerStore } = await import('./keystore/secrets-manager/secrets-manager-store.js');
  const client = new SecretsManagerClient({ region: s.region, ...awsClientConfig() });
  const store = new SecretsManagerStore({
    client,
    prefix: s.prefix,
    logger,
    ...(s.kmsKeyId ? { kmsKeyId: s.kmsKeyId } : {}),
    ...(s.rolePattern ? { resourcePolicy: onlyRolesPolicy(s.rolePattern) } : {}),
  });
  return new CachedKeyStore(store, {
    ttlMs: s.cacheTtlMs,
    writeOnceTtlMs: s.writeOnceTtlMs,
    staleForMs: s.staleForMs,
    logger,
  });
}

async function dynamoDbNonces(tableName: string, region: string | undefined, logger: Logger): Promise<DynamoDbNonceStore> {
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { DynamoDbNonceStore } = await import('./keystore/dynamodb/dynamodb-nonce-store.js');
  const client = new DynamoDBClient({ ...(region ? { region } : {}), ...awsClientConfig() });
  return new DynamoDbNonceStore({ client, tableName, logger });
}

function awsClientConfig() {
  return {
    maxAttempts: AWS_CLIENT_DEFAULTS.maxAttempts,
    requestHandler: { connectionTimeout: AWS_CLIENT_DEFAULTS.connectionTimeoutMs, requestTimeout: AWS_CLIENT_DEFAULTS.requestTimeoutMs },
  };
}

/**
 * A store sealed under the deployment's root key (every value encrypted at rest). The root key
 * file is created on the first start of an unsealed store, never over a sealed one.
 */
async function sealed(inner: KeyStore, selection: BackendSelection): Promise<KeyStore> {
  const source = selection.rootKey!;
  // A managed root key is never created here: it is fetched while the store is read (cold start).
  const [sealedBefore, managed] = await Promise.allSettled([
    SealedKeyStore.isSealed(inner),
    source.kind === 'file' ? Promise.resolve(undefined) : loadRootKey(source, { mayCreate: false }),
  ]);
  if (sealedBefore.status === 'rejected' || managed.status === 'rejected') {
    if (managed.status === 'fulfilled') managed.value?.fill(0);
    throw sealedBefore.status === 'rejected' ? sealedBefore.reason : (managed as PromiseRejectedResult).reason;
  }
  const rootKey = managed.value ?? (await loadRootKey(source, { mayCreate: !sealedBefore.value }));
  try {
    return await SealedKeyStore.open(inner, rootKey);
  } finally {
    rootKey.fill(0);
  }
}

function isNonceStoreKind(value: string): value is NonceStoreKind {
  return value === 'dynamodb' || value === 'journal' || value === 'memory' || value === 'backend';
}

function isKeyStoreKind(value: string): value is KeyStoreKind {
  return value === 'file' || value === 'postgres' || value === 'dynamodb' || value === 'secrets-manager';
}

function milliseconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number of milliseconds`);
  return value;
}
