import { AWS_REGION, DATA_DIR } from '../keystore/config.js';
import type { RootKeySource } from '../keystore/root-key.js';
import type { LogLevel } from '../logger.js';
import { parseRateLimits, type RateLimits } from '../ratelimit/limits.js';
import { DEFAULT_AWS_REGIONS, DEFAULTS } from '../service.js';
import * as z from '../zod.js';
import { BACKENDS, type BackendChoice, KEY_STORE, sharedNonceBackends, wiringOf } from './backends.js';
import { ConfigurationError, type Environment, flag, oneOf, optionalText, text, variable, wholeNumber } from './variable.js';

/*
 * The service's own variables (every deployment: the gateway, the functions, the CLI's store
 * commands), and how a configuration is read from them: the backend through its wiring
 * (./backends.ts), the replay store, and the rules that hold across them.
 */

export const LOG_LEVEL = oneOf('KMS_LOG_LEVEL', ['debug', 'info', 'warn', 'error', 'silent'] satisfies LogLevel[], {
  default: 'info',
  doc: '`debug`, `info`, `warn`, `error` or `silent`; the one access line per request is written at every level but `silent`',
});

export const CACHE_TTL_MS = wholeNumber('KMS_CACHE_TTL_MS', {
  default: DEFAULTS.cacheTtlMs,
  what: 'a whole number of milliseconds',
  doc: "how long key metadata, aliases, access keys and the listings of keys and aliases read from the store are kept at most; each request checks the store's change marker first, so a change made anywhere is seen at once; `0`: no cache, every request reads the store (version material is immutable and cached until evicted)",
});

export const REGION = text('KMS_REGION', { default: DEFAULTS.region, doc: 'region in key ARNs' });

export const ACCOUNT_ID = text('KMS_ACCOUNT_ID', { default: DEFAULTS.accountId, doc: 'account in key ARNs' });

export const AWS_REGIONS = variable(
  'KMS_AWS_REGIONS',
  z.pipe(
    z.optional(z.string()),
    z.transform((list) =>
      list === undefined
        ? undefined
        : list
            .split(',')
            .map((r) => r.trim())
            .filter(Boolean),
    ),
  ),
  {
    shownDefault: `\`${DEFAULT_AWS_REGIONS.join(',')}\``,
    doc: "the regions AWS-protocol requests may be signed for, comma-separated (`KMS_REGION` is always one); AWS ARNs in answers name the request's region",
  },
);

export const RATE_LIMITS = variable(
  'KMS_RATE_LIMITS',
  z.pipe(
    z.optional(z.string()),
    z.transform((json, context) => {
      try {
        return parseRateLimits(json);
      } catch (err) {
        return z.refuse(context, json, (err as Error).message);
      }
    }),
  ),
  {
    doc: 'per-key, per-group limits (JSON: `{"default": {"crypto": 1000, "read": 50, "write": 30}, "<AccessKeyId>": {…}}`); groups `crypto`, `read`, `write`, and for secrets `secrets-read`, `secrets-write`, `secrets-lifecycle`, `secrets-list` ([secrets.md](secrets.md#rate-limits))',
  },
);

export const AUDIT_LOG = optionalText('KMS_AUDIT_LOG', {
  shownDefault: '`stdout`',
  doc: 'the audit log: `stdout`, a file (in a directory that exists), or `none`',
});

export const ACCESS_LOG = optionalText('KMS_ACCESS_LOG', {
  shownDefault: '`stdout`',
  doc: 'the one access line per request: `stdout` (with the other log lines), or a file (in a directory that exists; not on AWS Lambda)',
});

export const NONCE_STORE = oneOf('KMS_NONCE_STORE', ['dynamodb', 'journal', 'backend', 'memory'], {
  shownDefault: '`journal` (file), `backend` (postgres, dynamodb), `dynamodb` (with `KMS_NONCE_TABLE`)',
  doc: 'where used nonces are recorded; `memory` (one process only) only when asked for',
});

export const NONCE_TABLE = optionalText('KMS_NONCE_TABLE', {
  doc: 'a DynamoDB table of used nonces (partition key `pk`, String; TTL attribute `expiresAt`), for a store that keeps none shared (`secrets-manager`)',
});

export const SINGLE_INSTANCE = flag('KMS_SINGLE_INSTANCE', {
  doc: "`true` lets a cloud function use state kept per instance (file store, journal, memory, root key file); for emulations (serverless-offline's `IS_OFFLINE=true` counts too)",
});

/** The AWS dispatcher's: how the Actions' functions are named, so that it can forward to them. */
export const FUNCTION_NAME_PREFIX = optionalText('KMS_FUNCTION_NAME_PREFIX', {
  shownDefault: '— (serverless.yml sets it on the dispatcher)',
  doc: "AWS Lambda, the dispatcher only: the deployed functions' name prefix (`kms-<stage>-`); it forwards each request to the function `<prefix><function>` of its Action (Lambda Invoke), and answers 503 when this is unset",
});

/** Set by the platforms, read to know where the service runs. */
export const PLATFORM_VARIABLES = [
  optionalText('AWS_LAMBDA_FUNCTION_NAME', {
    shownDefault: 'set by Lambda',
    doc: 'an AWS Lambda function: the service is built during init; state kept per instance is refused; logs go through Powertools Logger; 5xx answers add to the `ServerErrors` metric (`POWERTOOLS_METRICS_NAMESPACE`)',
  }),
  optionalText('FC_FUNCTION_NAME', {
    shownDefault: 'set by Function Compute',
    doc: 'a Function Compute function: the service is built during init; state kept per instance is refused',
  }),
  text('POWERTOOLS_SERVICE_NAME', { default: 'kms', doc: 'on AWS Lambda, the `service` of every log line' }),
] as const;

const [LAMBDA_FUNCTION, FC_FUNCTION, POWERTOOLS_SERVICE_NAME] = PLATFORM_VARIABLES;

/** Where used nonces are recorded (`KMS_NONCE_STORE`, or its default for the backend). */
export type NonceConfig =
  | { kind: 'backend' }
  | { kind: 'journal'; dataDir: string }
  | { kind: 'dynamodb'; table: string; region?: string }
  | { kind: 'memory' };

/** The state of a deployment: its key store and its replay store. */
export type StateConfig = BackendChoice & { nonces: NonceConfig };

/** Everything the environment configures for the service, checked (nothing is built). */
export interface ServiceConfig {
  state: StateConfig;
  logging: { logger: 'stdout' | 'powertools'; level: LogLevel; serviceName: string; accessLog?: string };
  region: string;
  accountId: string;
  awsRegions?: string[];
  cacheTtlMs: number;
  rateLimits: RateLimits;
  auditLog?: string;
}

/** The cloud function platform this process runs on, as its runtime announces it; undefined elsewhere. */
export function cloudFunctionPlatform(env: Environment = process.env): 'AWS Lambda' | 'Function Compute' | undefined {
  if (LAMBDA_FUNCTION.read(env)) return 'AWS Lambda';
  if (FC_FUNCTION.read(env)) return 'Function Compute';
  return undefined;
}

/**
 * Reads and checks the key store and the replay store: `KMS_KEY_STORE` and the chosen backend's
 * variables, `KMS_NONCE_STORE` (by default the backend's own replay store, or `dynamodb` when
 * `KMS_NONCE_TABLE` is set) and `KMS_NONCE_TABLE`. Throws a ConfigurationError naming what is wrong.
 */
export function readStateConfig(env: Environment = process.env): StateConfig {
  const keyStore = KEY_STORE.read(env);
  const choice = { keyStore, backend: BACKENDS[keyStore].fromEnvironment(env) } as BackendChoice;
  const wiring = wiringOf(choice);
  const table = NONCE_TABLE.read(env);
  const own = wiring.ownNonces === 'journal' ? 'journal' : wiring.ownNonces === 'shared' ? 'backend' : undefined;
  const kind = NONCE_STORE.read(env) ?? (table ? 'dynamodb' : own);
  if (kind === undefined) {
    throw new ConfigurationError(
      `KMS_KEY_STORE=${keyStore} needs a shared replay store: set KMS_NONCE_TABLE (or KMS_NONCE_STORE=memory for one instance only)`,
    );
  }
  if (kind === 'dynamodb' && !table) throw new ConfigurationError('KMS_NONCE_STORE=dynamodb needs KMS_NONCE_TABLE');
  if (kind === 'backend' && wiring.ownNonces !== 'shared') throw new ConfigurationError(`KMS_NONCE_STORE=backend needs KMS_KEY_STORE=${sharedNonceBackends()}`);
  refuseInstanceLocalState(env, { keyStore, perInstance: wiring.perInstance, nonces: kind, rootKey: wiring.rootKey(choice.backend) });
  const region = AWS_REGION.read(env) ?? (env.AWS_DEFAULT_REGION || undefined);
  const nonces: NonceConfig =
    kind === 'journal' ? { kind, dataDir: DATA_DIR.read(env) } : kind === 'dynamodb' ? { kind, table: table!, ...(region ? { region } : {}) } : { kind };
  return { ...choice, nonces };
}

/**
 * Reads and checks every variable of the service: {@link readStateConfig}'s, `KMS_LOG_LEVEL`,
 * `KMS_CACHE_TTL_MS`, `KMS_REGION` and `KMS_ACCOUNT_ID` (ARNs), `KMS_AWS_REGIONS`,
 * `KMS_RATE_LIMITS`, `KMS_AUDIT_LOG` and `KMS_ACCESS_LOG`, and the platform's
 * (`AWS_LAMBDA_FUNCTION_NAME`: Powertools logging).
 */
export function readServiceConfig(env: Environment = process.env): ServiceConfig {
  const level = LOG_LEVEL.read(env);
  const cacheTtlMs = CACHE_TTL_MS.read(env);
  const state = readStateConfig(env);
  const logger = LAMBDA_FUNCTION.read(env) ? 'powertools' : 'stdout';
  const accessLog = ACCESS_LOG.read(env);
  const accessLogFile = accessLog !== undefined && accessLog !== 'stdout' ? accessLog : undefined;
  if (accessLogFile && logger === 'powertools')
    throw new ConfigurationError('KMS_ACCESS_LOG=<file> is for the gateway: on AWS Lambda the access lines go to CloudWatch with the others');
  const awsRegions = AWS_REGIONS.read(env);
  const auditLog = AUDIT_LOG.read(env);
  return {
    state,
    logging: { logger, level, serviceName: POWERTOOLS_SERVICE_NAME.read(env), ...(accessLogFile ? { accessLog: accessLogFile } : {}) },
    region: REGION.read(env),
    accountId: ACCOUNT_ID.read(env),
    ...(awsRegions ? { awsRegions } : {}),
    cacheTtlMs,
    rateLimits: RATE_LIMITS.read(env),
    ...(auditLog ? { auditLog } : {}),
  };
}

/**
 * On a cloud function every instance has its own disk and memory, and the platform starts as many
 * as it likes: a key store, a replay store or a root key there would be per instance, so a
 * captured request would be accepted once per instance. Such a deployment refuses to start rather
 * than accept replays. `KMS_SINGLE_INSTANCE=true` (and serverless-offline's `IS_OFFLINE=true`)
 * says there is only one instance, as in a local emulation.
 */
function refuseInstanceLocalState(
  env: Environment,
  chosen: { keyStore: string; perInstance: boolean; nonces: NonceConfig['kind']; rootKey: RootKeySource | undefined },
): void {
  const singleInstance = SINGLE_INSTANCE.read(env);
  const platform = cloudFunctionPlatform(env);
  if (!platform || singleInstance || env.IS_OFFLINE === 'true') return;
  const shared = platform === 'AWS Lambda' ? sharedNonceBackends() : 'postgres (ApsaraDB RDS for PostgreSQL)';
  if (chosen.perInstance) {
    throw new ConfigurationError(
      `KMS_KEY_STORE=${chosen.keyStore} on ${platform} would give every instance its own keys and its own record of used nonces (replays accepted once per instance): use KMS_KEY_STORE=${shared}`,
    );
  }
  if (chosen.nonces === 'journal' || chosen.nonces === 'memory') {
    throw new ConfigurationError(
      `KMS_NONCE_STORE=${chosen.nonces} on ${platform} is per instance (replays accepted once per instance): use the state backend's (KMS_KEY_STORE=${shared}) or KMS_NONCE_TABLE`,
    );
  }
  if (chosen.rootKey?.kind === 'file') {
    throw new ConfigurationError(
      `a root key file on ${platform} is per instance (each instance would make its own, and KMS_KEY_STORE=${chosen.keyStore} would be sealed under one the others do not have): set KMS_ROOT_KEY_SOURCE=${platform === 'AWS Lambda' ? 'aws-secrets-manager:<secret-id>' : 'alibaba-kms-secret:<secret-name>'}`,
    );
  }
}
