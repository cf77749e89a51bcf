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
  {
    name: 'edge',
    holds: 'platform adapters (Lambda, FC, node:http), the request stack, and the Action contract that joins an operation to its protocol bindings',
    paths: ['lib/adapters/', 'lib/http/', 'lib/middleware/', 'lib/action.ts'],
  },
  {
    name: 'composition',
    holds: "the configuration (every variable), the service built from it, the partition-key provisioner function's wiring, the package root",
    paths: ['lib/config/', 'lib/service-from-env.ts', 'lib/provisioner/', 'lib/index.ts'],
  },
  { name: 'protocol', holds: 'the wire protocols and their authentication schemes', paths: ['lib/protocol/', 'lib/rpc/', 'lib/auth/'] },
  {
    name: 'core',
    holds: 'what the service does, knowing no wire format: operations, keyring, policy, crypto, audit, rate limits, seeding',
    paths: [
      'lib/core/',
      'lib/service.ts',
      'lib/operation.ts',
      'lib/access-keys.ts',
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
    holds: 'no domain: errors, logging, metrics, schemas, the log file, the variable declarations',
    paths: [
      'lib/config/variable.ts',
      'lib/errors.ts',
      'lib/logger.ts',
      'lib/logger-powertools.ts',
      'lib/zod.ts',
      'lib/ttl-cache.ts',
      'lib/strict-json.ts',
      'lib/log-file.ts',
      'lib/metrics/',
    ],
  },
  {
    name: 'client package',
    holds:
      'packages/client (@alibaba-kms-compatible/client), which the server depends on: the API client, partition keys, the record and file formats, the request signing, and what both share (durable files, AWS error classes, zod); it imports nothing of the server',
    paths: ['packages/client/src/'],
  },
];

export interface AllowedImport {
  from: string;
  to: string;
  /** Why it is there, and what removes it. */
  reason: string;
}

export const ALLOWED_UPWARD_IMPORTS: readonly AllowedImport[] = [];

export interface AllowedCycle {
  files: readonly string[];
  reason: string;
}

export const ALLOWED_CYCLES: readonly AllowedCycle[] = [];
