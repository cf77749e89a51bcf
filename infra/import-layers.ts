/*
 * The layers of the shipped code, top first. A file imports only from its own layer or below, and
 * there are no import cycles; type-only imports and `import()` count, as they tie the files
 * together all the same. `npm run generate` writes these rules as .dependency-cruiser.json, and
 * `npm test` runs dependency-cruiser with it (`npm run lint:imports`); test/unit/import-layers.test.ts
 * checks the same with its own reading of the imports, and that every shipped file is in a layer
 * (a new folder is placed here).
 */

/** A layer: the files under its paths (a folder ends with `/`); a file belongs to the layer of its most specific path. */
export interface Layer {
  name: string;
  /** What lives there, for the reader of the table. */
  holds: string;
  paths: readonly string[];
}

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
    holds: 'what the service does, knowing no wire format: operations, keyring, secrets, policy, crypto, audit, rate limits, seeding',
    paths: [
      'lib/core/',
      'lib/service.ts',
      'lib/operation.ts',
      'lib/access-keys.ts',
      'lib/operations/',
      'lib/keyring/',
      'lib/secrets/',
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
    holds: 'no domain: errors, logging (and its JSON lines and timestamps), metrics, schemas, the log file, the variable declarations',
    paths: [
      'lib/config/variable.ts',
      'lib/errors.ts',
      'lib/logger.ts',
      'lib/logger-powertools.ts',
      'lib/json-line.ts',
      'lib/iso-time.ts',
      'lib/zod.ts',
      'lib/ttl-cache.ts',
      'lib/strict-json.ts',
      'lib/log-file.ts',
      'lib/file-descriptor.ts',
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

/** The folders dependency-cruiser reads: every layer's files. */
export const CRUISED = ['lib', 'functions', 'infra', 'packages/client/src'] as const;

const pattern = (path: string) => `^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${path.endsWith('/') ? '' : '$'}`;
const covers = (outer: string, inner: string) => outer !== inner && outer.endsWith('/') && inner.startsWith(outer);

/**
 * The files of `layers[index]` as a dependency-cruiser `path` / `pathNot` pair: its paths, less
 * the more specific paths under them that belong to another layer.
 */
function filesOf(layers: readonly Layer[], index: number): { path: string[]; pathNot?: string[] } {
  const own = layers[index]!.paths;
  const carvedOut = layers.flatMap((layer, i) => (i === index ? [] : layer.paths.filter((p) => own.some((o) => covers(o, p)))));
  return carvedOut.length ? { path: own.map(pattern), pathNot: carvedOut.map(pattern) } : { path: own.map(pattern) };
}

/** The dependency-cruiser configuration that holds the layers: no cycle, and one rule per layer that forbids imports from it into any layer above. */
export function dependencyCruiserConfig(layers: readonly Layer[] = LAYERS): Record<string, unknown> {
  const upward = layers.slice(1).map((layer, i) => {
    const index = i + 1;
    const above = layers.slice(0, index).map((_, j) => filesOf(layers, j));
    // A file under a path of a layer above but carved out for this layer or one below is no target.
    const abovePaths = layers.slice(0, index).flatMap((l) => l.paths);
    const at = layers
      .slice(index)
      .flatMap((l) => l.paths)
      .filter((p) => abovePaths.some((o) => covers(o, p)));
    return {
      name: `no-upward-from-${layer.name.replace(/\W+/g, '-')}`,
      comment: `${layer.name} (${layer.holds}) imports only from its own layer or below`,
      severity: 'error',
      from: filesOf(layers, index),
      to: at.length ? { path: above.flatMap((a) => a.path), pathNot: at.map(pattern) } : { path: above.flatMap((a) => a.path) },
    };
  });
  return {
    $schema: 'https://raw.githubusercontent.com/sverweij/dependency-cruiser/main/src/schema/configuration.schema.json',
    forbidden: [
      { name: 'no-circular', comment: 'no import cycles, type-only imports included', severity: 'error', from: {}, to: { circular: true } },
      ...upward,
    ],
    options: {
      doNotFollow: { path: ['node_modules'] },
      tsPreCompilationDeps: true,
      tsConfig: { fileName: 'tsconfig.json' },
      // The server imports the client package by name; its source is what the layers are about.
      enhancedResolveOptions: { conditionNames: ['@alibaba-kms-compatible/source', 'import', 'node', 'default'], exportsFields: ['exports'] },
    },
  };
}
