import { constants } from 'node:fs';
import { link, open, readFile, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import type { KeyStore } from './key-store.js';
import { decodeRootKey, ROOT_KEY_BYTES } from './root-key-format.js';
import { type SealInPlace, type SealState, SealedKeyStore } from './sealed-store.js';
import { alibabaSecretReader } from './alibaba-secrets.js';

export { alibabaSecretReader };

/** The root key's file in a data directory when nothing else is configured. */
export const DEFAULT_ROOT_KEY_FILE = 'root.key';

/**
 * Where the root key comes from (the seal, as Vault calls it; ./config.ts reads it): a file
 * (`KMS_ROOT_KEY_FILE`, default `<KMS_DATA_DIR>/root.key`), or a managed secret store through
 * `KMS_ROOT_KEY_SOURCE`: `aws-secrets-manager:<secret-id>` or `alibaba-kms-secret:<secret-name>`.
 * A file holds the key as Base64; a secret holds it as `{"seed":"…"}` (the key derived from the seed),
 * as Base64 text, or (in AWS) as a 32-byte binary secret: see ./root-key-format.ts.
 */
export type RootKeySource =
  | { kind: 'file'; path: string }
  | { kind: 'aws-secrets-manager'; secretId: string }
  | { kind: 'alibaba-kms-secret'; secretName: string };

/** Clients the managed sources use; built from the environment when absent (tests inject fakes). */
export interface RootKeyClients {
  /** Returns the secret's text or bytes. */
  awsSecret?: (secretId: string) => Promise<string | Uint8Array>;
  alibabaSecret?: (secretName: string) => Promise<string>;
}

/**
 * The root key (32 bytes). A file that does not exist is created (random, 0600, exclusively, so
 * instances starting at once agree) only when `mayCreate` — never over a store already sealed with
 * some key: then the missing file is an error that says so. A managed secret is never created here.
 */
export async function loadRootKey(
  source: RootKeySource,
  options: { mayCreate: boolean; sharedStore?: boolean; env?: NodeJS.ProcessEnv; clients?: RootKeyClients },
): Promise<Buffer> {
  switch (source.kind) {
    case 'file':
      return rootKeyFile(source.path, options.mayCreate, options.sharedStore === true);
    case 'aws-secrets-manager': {
      const read = options.clients?.awsSecret ?? (await import('./aws-secret-reader.js')).awsSecretReader(options.env ?? process.env, ROOT_KEY_FETCH_TIMEOUTS);
      return decodeRootKey(await read(source.secretId), `AWS Secrets Manager secret ${source.secretId}`);
    }
    case 'alibaba-kms-secret': {
      const read = options.clients?.alibabaSecret ?? (await alibabaSecretReader(options.env ?? process.env, { timeouts: ROOT_KEY_FETCH_TIMEOUTS }));
      return decodeRootKey(await read(source.secretName), `Alibaba Cloud KMS secret ${source.secretName}`);
    }
  }
}

/**
 * `inner` sealed under the root key `source` names (every value encrypted at rest). A root key
 * file is created on the first start of an unsealed store, never over a sealed one — and never
 * with `createFile: 'never'` (a store shared beyond one machine, such as a DynamoDB table: a key
 * made on whichever machine opens it first, a workstation running the CLI say, would lock every
 * other instance out). A managed root key is never created here. A cold start waits for one round
 * trip: the managed root key and the seal's entries are fetched at once
 * (test/unit/cold-start-rounds.test.ts counts it).
 */
export async function sealWithRootKey(
  inner: KeyStore,
  source: RootKeySource,
  options: { createFile?: 'unsealed-store' | 'never'; sealInPlace?: SealInPlace; clients?: RootKeyClients } = {},
): Promise<KeyStore> {
  const [seal, managed] = await Promise.allSettled([
    SealedKeyStore.readSeal(inner),
    source.kind === 'file' ? Promise.resolve(undefined) : loadRootKey(source, { mayCreate: false, ...(options.clients ? { clients: options.clients } : {}) }),
  ]);
  if (seal.status === 'rejected' || managed.status === 'rejected') {
    if (managed.status === 'fulfilled') managed.value?.fill(0);
    if (seal.status === 'fulfilled') forget(seal.value);
    throw seal.status === 'rejected' ? seal.reason : (managed as PromiseRejectedResult).reason;
  }
  const never = options.createFile === 'never';
  const rootKey =
    managed.value ?? (await loadRootKey(source, { mayCreate: !never && seal.value.check === undefined, ...(never ? { sharedStore: true } : {}) }));
  try {
    return await SealedKeyStore.open(inner, rootKey, seal.value, options.sealInPlace ? { sealInPlace: options.sealInPlace } : {});
  } finally {
    rootKey.fill(0);
    forget(seal.value);
  }
}

const forget = (seal: SealState) => {
  seal.check?.value.fill(0);
  seal.allSealed?.value.fill(0);
};

async function rootKeyFile(path: string, mayCreate: boolean, sharedStore = false): Promise<Buffer> {
  try {
    return decodeRootKey(await readFile(path, 'utf8'), path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (sharedStore) {
    throw new Error(
      `the root key file ${path} does not exist, and none is made for a store shared beyond this machine (its other instances would not have it): set KMS_ROOT_KEY_SOURCE to the deployment's root-key secret, or create the file for a local table (openssl rand -base64 32 > ${path}; chmod 600)`,
    );
  }
  if (!mayCreate) {
    throw new Error(
      `the root key file ${path} does not exist, but the store is sealed with a root key: restore that file (or set KMS_ROOT_KEY_FILE / KMS_ROOT_KEY_SOURCE to it); a new key would not open the store`,
    );
  }
  const key = randomBytes(ROOT_KEY_BYTES);
  // Written whole beside it, then linked into place (link fails if the name exists): an instance
  // that finds the file finds all of it, never one half-written by another starting at once.
  const staged = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  try {
    const handle = await open(staged, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
    try {
      await handle.writeFile(`${key.toString('base64')}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(staged, path);
    return key;
  } catch (err) {
    key.fill(0);
    // Another instance created it a moment ago: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return rootKeyFile(path, false);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(`the root key file ${path} cannot be created: its directory does not exist (create it, or set KMS_ROOT_KEY_FILE / KMS_ROOT_KEY_SOURCE)`);
    throw err;
  } finally {
    await unlink(staged).catch(() => undefined);
  }
}

/** How long fetching a managed root key may take: a connection, then an answer. */
export const ROOT_KEY_FETCH_TIMEOUTS = { connectMs: 1_000, readMs: 3_000 } as const;
