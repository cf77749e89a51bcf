import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { FileRegistry, normalisePrefix } from './file-registry.js';
import type { OssClient } from './oss-registry.js';
import type { PartitionRegistry } from './registry.js';

/** Where partition entries live when nothing else is said: `.kms-partitions` under the working directory. */
export const DEFAULT_REGISTRY_URL = 'file:./.kms-partitions';

/** The forms {@link parseRegistryUrl} accepts, for messages. */
const ACCEPTED_FORMS = 'file:<dir> (relative to the working directory, or absolute), file:///<absolute dir>, s3://<bucket>/<prefix> or oss://<bucket>/<prefix>';

/** A registry URL, parsed: a directory (absolute), or a bucket and a key prefix (ending with `/` unless empty). */
export type RegistryLocation = { scheme: 'file'; dir: string } | { scheme: 's3' | 'oss'; bucket: string; prefix: string };

/** What {@link openRegistry} uses instead of building from the environment (tests, shared or custom clients). */
export interface OpenRegistryDeps {
  /** For `s3://`; default: an S3Client with the SDK's credential chain, region from AWS_REGION. */
  s3Client?: S3Client;
  /** For `oss://`; default: an ali-oss client from ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET (/ _SECURITY_TOKEN), OSS_REGION or OSS_ENDPOINT. */
  ossClient?: OssClient;
  /** Where those variables are read (default process.env). */
  env?: Record<string, string | undefined>;
}

const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const OSS_BUCKET = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
/** Taken literally, so no percent-encoding, query or fragment; no empty folder (`//`). */
const OBJECT_PREFIX = /^(?:[^/%?#\\\s\p{Cc}]+\/)*[^/%?#\\\s\p{Cc}]*$/u;

/**
 * Parses a registry URL: `file:<dir>` (a relative dir is resolved against the working directory
 * now), `file:///<absolute dir>` or `file://localhost/<dir>` (percent-decoded, as file URLs are),
 * `s3://<bucket>/<prefix>`, `oss://<bucket>/<prefix>` (the prefix taken literally, `/` appended
 * when missing; none means the bucket's root). Throws TypeError naming the accepted forms for
 * anything else; the message repeats no more of the URL than its scheme.
 */
export function parseRegistryUrl(url: string): RegistryLocation {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):([\s\S]*)$/.exec(url);
  if (!match) throw invalidUrl('it has no scheme');
  const scheme = match[1]!.toLowerCase();
  const rest = match[2]!;
  if (scheme === 'file') return { scheme, dir: fileDirectory(rest) };
  if (scheme !== 's3' && scheme !== 'oss') throw invalidUrl(`the scheme "${scheme.slice(0, 16)}" is not one of file, s3, oss`);
  if (!rest.startsWith('//')) throw invalidUrl(`${scheme}: must be followed by //<bucket>`);
  const path = rest.slice(2);
  const slash = path.indexOf('/');
  const bucket = slash === -1 ? path : path.slice(0, slash);
  const prefix = slash === -1 ? '' : path.slice(slash + 1);
  if (!(scheme === 's3' ? S3_BUCKET : OSS_BUCKET).test(bucket)) {
    throw invalidUrl(`the bucket name is not a valid ${scheme === 's3' ? 'S3' : 'OSS'} bucket name (3-63 of a-z 0-9 -${scheme === 's3' ? ' .' : ''})`);
  }
  if (!OBJECT_PREFIX.test(prefix)) throw invalidUrl('the prefix holds %, ?, #, \\, whitespace, a control character or an empty folder (//)');
  return { scheme, bucket, prefix: normalisePrefix(prefix) };
}

/**
 * Opens the registry a URL names (see {@link parseRegistryUrl}): a {@link FileRegistry}, an
 * S3Registry or an OssRegistry. The cloud SDKs are imported only when their scheme is used, so
 * `file:` users never load them; clients are built from the environment unless `deps` injects
 * them. Nothing is contacted yet: an unreachable backend fails at the first call.
 * Throws TypeError for a URL it does not accept, Error when `oss://` lacks its variables or the
 * scheme's SDK (`@aws-sdk/client-s3`, `ali-oss`: optional peer dependencies) is not installed.
 *
 * @example
 * ```ts
 * import { openRegistry } from '@alibaba-kms-compatible/client';
 * const registry = await openRegistry('s3://my-bucket/partitions/');
 * const entry = await registry.get('orders-2026-11');   // { partitionId, keyId, ciphertextBlob, … } or undefined
 * ```
 */
export async function openRegistry(url: string, deps: OpenRegistryDeps = {}): Promise<PartitionRegistry> {
  const location = parseRegistryUrl(url);
  const env = deps.env ?? process.env;
  switch (location.scheme) {
    case 'file':
      return new FileRegistry(location.dir, { url });
    case 's3': {
      const { S3Registry } = await optionalPeer('s3', '@aws-sdk/client-s3', () => import('./s3-registry.js'));
      const client = deps.s3Client ?? (await s3ClientFromEnvironment(env));
      return new S3Registry({ client, bucket: location.bucket, prefix: location.prefix, url });
    }
    case 'oss': {
      const { OssRegistry } = await import('./oss-registry.js');
      const client = deps.ossClient ?? (await ossClientFromEnvironment(location.bucket, env));
      return new OssRegistry({ client, bucket: location.bucket, prefix: location.prefix, url });
    }
  }
}

/**
 * Loads what a cloud registry needs; its SDK is an optional peer dependency of this package, so
 * when it is not installed the error says which one to install (as `import()` would only say that
 * a module was not found).
 */
async function optionalPeer<T>(scheme: 's3' | 'oss', peer: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException | null)?.code;
    // ESM import() or, in a CommonJS bundle, require().
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((err as Error).message).includes(`'${peer}'`)) {
      throw new Error(`an ${scheme}:// partition registry needs the package ${peer}, an optional peer dependency of this library: npm install ${peer}`, {
        cause: err,
      });
    }
    throw err;
  }
}

function fileDirectory(rest: string): string {
  let dir: string;
  if (rest.startsWith('//')) {
    if (rest === '//' || rest === '///') throw invalidUrl('file:// names no directory');
    try {
      // Rejects a host other than localhost, and an encoded "/".
      dir = fileURLToPath(`file:${rest}`);
    } catch {
      throw invalidUrl('a file:// URL must be file:///<absolute dir> (or file://localhost/<absolute dir>)');
    }
  } else {
    if (rest === '') throw invalidUrl('file: names no directory');
    dir = resolve(rest);
  }
  if (dir.includes('\0')) throw invalidUrl('the directory holds a NUL character');
  return dir;
}

function invalidUrl(why: string): TypeError {
  return new TypeError(`invalid partition registry URL: ${why}; expected ${ACCEPTED_FORMS}`);
}

async function s3ClientFromEnvironment(env: Record<string, string | undefined>): Promise<S3Client> {
  const { S3Client } = await optionalPeer('s3', '@aws-sdk/client-s3', () => import('@aws-sdk/client-s3'));
  // Without AWS_REGION the SDK looks further (AWS_DEFAULT_REGION is not among its sources; the shared config is).
  return new S3Client(env.AWS_REGION ? { region: env.AWS_REGION } : {});
}

/**
 * OSS credentials: `OSS_ACCESS_KEY_ID` / `OSS_ACCESS_KEY_SECRET` (/ `OSS_SECURITY_TOKEN`) when set,
 * else the runtime's `ALIBABA_CLOUD_*` ones (a Function Compute role's). Callers whose
 * `ALIBABA_CLOUD_*` variables are something else (the `kms` command's KMS credentials) pass an
 * environment without them, so those are never sent to OSS.
 */
function ossCredentials(env: Record<string, string | undefined>): { accessKeyId?: string; accessKeySecret?: string; stsToken?: string; names: string } {
  if (env.OSS_ACCESS_KEY_ID || env.OSS_ACCESS_KEY_SECRET) {
    return {
      accessKeyId: env.OSS_ACCESS_KEY_ID,
      accessKeySecret: env.OSS_ACCESS_KEY_SECRET,
      stsToken: env.OSS_SECURITY_TOKEN,
      names: 'OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET',
    };
  }
  return {
    accessKeyId: env.ALIBABA_CLOUD_ACCESS_KEY_ID,
    accessKeySecret: env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
    stsToken: env.ALIBABA_CLOUD_SECURITY_TOKEN,
    names: 'OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET (or, in Function Compute, its ALIBABA_CLOUD_* role credentials)',
  };
}

async function ossClientFromEnvironment(bucket: string, env: Record<string, string | undefined>): Promise<OssClient> {
  const found = ossCredentials(env);
  const missing = found.accessKeyId && found.accessKeySecret ? [] : [found.names];
  if (!env.OSS_REGION && !env.OSS_ENDPOINT) missing.push('OSS_REGION or OSS_ENDPOINT');
  if (missing.length > 0) throw new Error(`an oss:// partition registry needs ${missing.join(', ')} in the environment (or an injected OSS client)`);
  if (env.OSS_ENDPOINT && /^http:\/\//i.test(env.OSS_ENDPOINT))
    throw new Error('OSS_ENDPOINT must be https: registry entries are encrypted data keys, and the request is signed with the OSS credentials');
  const credentials = () => {
    const now = ossCredentials(env);
    return { accessKeyId: now.accessKeyId!, accessKeySecret: now.accessKeySecret!, stsToken: now.stsToken ?? '' };
  };
  const { default: OSS } = await optionalPeer('oss', 'ali-oss', () => import('ali-oss'));
  return new OSS({
    accessKeyId: credentials().accessKeyId,
    accessKeySecret: credentials().accessKeySecret,
    // STS credentials (Function Compute's role) expire; ali-oss asks for fresh ones periodically,
    // and the environment is where the runtime puts them.
    ...(found.stsToken ? { stsToken: found.stsToken, refreshSTSToken: async () => credentials() } : {}),
    bucket,
    ...(env.OSS_ENDPOINT ? { endpoint: env.OSS_ENDPOINT } : { region: env.OSS_REGION! }),
    // Entries hold encrypted data keys; ali-oss would otherwise speak plain HTTP.
    secure: true,
  });
}
