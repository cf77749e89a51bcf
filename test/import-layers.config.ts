import type { Layer } from './helpers/import-graph.js';

/*
 * The layers of the shipped code, top first, and the imports allowed to break them for now (what
 * a dependency-cruiser config would hold; test/unit/import-layers.test.ts checks it on every
 * `npm test`). A file imports only from its own layer or below; there are no import cycles. Type-
 * only imports and `import()` count: they tie the files together all the same.
 *
 * A new folder is placed here (the test fails for a file no layer covers). An exception names
 * the import, why it is there, and what removes it; one that no longer occurs must be deleted
 * (the test fails), so the list only shrinks.
 */

export const LAYERS: readonly Layer[] = [
  { name: 'infra', holds: 'hosting and deployment: the gateway, the kms command, Function Compute deployment', paths: ['infra/'] },
  { name: 'functions', holds: 'one file per Action (each a cloud function), the Action table', paths: ['functions/'] },
  { name: 'edge', holds: 'platform adapters (Lambda, FC, node:http) and the request stack', paths: ['lib/adapters/', 'lib/http/', 'lib/middleware/'] },
  { name: 'composition', holds: 'the configuration (every variable) and the service built from it', paths: ['lib/config/', 'lib/service-from-env.ts'] },
  {
    name: 'client',
    holds: 'the consumer library: the client, partition keys, the file format, the package root',
    paths: ['lib/client/', 'lib/partitions/', 'lib/file-envelope/', 'lib/index.ts'],
  },
  { name: 'protocol', holds: 'the wire protocols and their authentication schemes', paths: ['lib/protocol/', 'lib/rpc/', 'lib/aws/', 'lib/auth/'] },
  {
    name: 'core',
    holds: 'what the service does, knowing no wire format: operations, keyring, policy, crypto, audit, rate limits, seeding',
    paths: [
      'lib/core/',
      'lib/service.ts',
      'lib/operation.ts',
      'lib/operations/',
      'lib/keyring/',
      'lib/policy/',
      'lib/crypto/',
      'lib/audit/',
      'lib/ratelimit/',
      'lib/readiness.ts',
      'lib/seed.ts',
    ],
  },
  { name: 'keystore', holds: 'state: the store interface, every backend and its wiring, used nonces', paths: ['lib/keystore/'] },
  {
    name: 'util',
    holds: 'no domain: errors, logging, metrics, schemas, files, time, the variable declarations',
    paths: [
      'lib/config/variable.ts',
      'lib/errors.ts',
      'lib/logger.ts',
      'lib/logger-powertools.ts',
      'lib/zod.ts',
      'lib/time.ts',
      'lib/ttl-cache.ts',
      'lib/strict-json.ts',
      'lib/durable-files.ts',
      'lib/log-file.ts',
      'lib/metrics/',
    ],
  },
];

export interface AllowedImport {
  from: string;
  to: string;
  /** Why it is there, and what removes it. */
  reason: string;
}

/** Why the access-key registry's importers run up: it is stored state, kept in lib/auth/. */
const ACCESS_KEYS_IN_AUTH =
  'the access-key registry (records, secrets, policies in the store) is core state like the keyring, but lives in lib/auth/ beside the signature schemes; moving it to the core (e.g. lib/core/access-keys.ts), which authentication reads, removes this';

/** Why the operations run up: their shared field schemas are the Alibaba protocol's. */
const ALIBABA_SCHEMA_IN_CORE =
  'an operation validates its input with the Alibaba schema helpers (lib/rpc/schema.ts: strings to values); with a typed input per Action and the codec at the edge (issue 19, item 1), the operation takes typed values and this goes';

export const ALLOWED_UPWARD_IMPORTS: readonly AllowedImport[] = [
  { from: 'lib/operation.ts', to: 'lib/auth/access-keys.ts', reason: ACCESS_KEYS_IN_AUTH },
  { from: 'lib/seed.ts', to: 'lib/auth/access-keys.ts', reason: ACCESS_KEYS_IN_AUTH },
  { from: 'lib/service.ts', to: 'lib/auth/access-keys.ts', reason: ACCESS_KEYS_IN_AUTH },
  {
    from: 'lib/service.ts',
    to: 'lib/aws/operations.ts',
    reason: 'the service carries the AWS protocol\'s scope (AwsScope: account, regions); the AWS codec should take it from the configuration, not from the core service',
  },
  { from: 'lib/operations/data-key.ts', to: 'lib/rpc/schema.ts', reason: ALIBABA_SCHEMA_IN_CORE },
  { from: 'lib/operations/paging.ts', to: 'lib/rpc/schema.ts', reason: ALIBABA_SCHEMA_IN_CORE },
  { from: 'lib/operations/tags.ts', to: 'lib/rpc/schema.ts', reason: ALIBABA_SCHEMA_IN_CORE },
];

export interface AllowedCycle {
  files: readonly string[];
  reason: string;
}

export const ALLOWED_CYCLES: readonly AllowedCycle[] = [
  {
    files: ['lib/aws/operations.ts', 'lib/operation.ts', 'lib/service.ts'],
    reason:
      'types only: Service names AwsScope (lib/aws/operations.ts), which imports the Operation type, which names Service; goes with the AwsScope import above (the AWS codec owns its scope)',
  },
  {
    files: ['lib/middleware/audited.ts', 'lib/middleware/stack.ts'],
    reason: 'types only: the stack builds the audited step, which names the stack\'s handler type; a types file of the stack (or the protocol codec) removes it',
  },
];
