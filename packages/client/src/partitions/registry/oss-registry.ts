import { SOCKET_ERROR_CODES } from '../../internal/socket-errors.js';
import { entryFileName, type PartitionEntry } from '../entry.js';
import { PartitionKeysError, RegistryUnavailableError } from '../errors.js';
import { describeOperation, idsOfNames, normalisePrefix, parseStoredEntry, serializeEntry } from './file-registry.js';
import type { PartitionRegistry } from './registry.js';

/** One page of an ali-oss listing (only what the registry reads). */
interface OssListPage {
  objects?: ReadonlyArray<{ name: string }> | null;
  isTruncated?: boolean;
  /** listV2 */
  nextContinuationToken?: string | null;
  /** list (v1) */
  nextMarker?: string | null;
}

/**
 * The few methods of an `ali-oss` client the registry calls (`new OSS({ …, bucket })` is one).
 * With `listV2` the listing pages by continuation token, else `list` pages by marker.
 */
export interface OssClient {
  put(name: string, file: Buffer, options?: { mime?: string; headers?: Record<string, string> }): Promise<unknown>;
  get(name: string): Promise<{ content?: unknown }>;
  listV2?(query: { prefix?: string; 'continuation-token'?: string; 'max-keys'?: number }, options?: object): Promise<OssListPage>;
  list?(query: { prefix?: string; marker?: string; 'max-keys': number }, options?: object): Promise<OssListPage>;
}

export interface OssRegistryOptions {
  /** An ali-oss client bound to `bucket` (ali-oss clients address one bucket, the one in their options). */
  client: OssClient;
  bucket: string;
  /** Prepended to every object name; normalised to end with `/` when not empty (default ''). */
  prefix?: string;
  /** What messages name (default `oss://<bucket>/<prefix>`). */
  url?: string;
}

/** The header that makes an OSS PutObject fail with 409 FileAlreadyExists instead of overwriting. */
export const FORBID_OVERWRITE_HEADER = 'x-oss-forbid-overwrite';

/**
 * A {@link PartitionRegistry} in an Alibaba Cloud OSS bucket: one object per partition, named
 * `<prefix><entryFileName(partitionId)>`, its content the entry's JSON (`application/json`).
 *
 * **create** is `put` with `x-oss-forbid-overwrite: true`: OSS refuses to replace an existing
 * object with 409 FileAlreadyExists → `existing`, atomically, so of concurrent creators exactly
 * one succeeds. OSS ignores that header in a bucket with versioning enabled or suspended, where a
 * second put would add a version: keep versioning off on the registry's bucket.
 *
 * **get** is `get` (NoSuchKey → `undefined`; a NoSuchBucket is a failure, not a missing entry),
 * validated as in every backend. **list** is `listV2` (or `list`) under the prefix, page by page,
 * keeping the names that decode to an id. The RAM policy needs oss:PutObject, oss:GetObject and
 * oss:ListObjects.
 *
 * **Failures**: every error OSS or the transport answers with (throttling, 5xx, timeouts, network
 * errors, access denied, expired STS tokens, a missing bucket) is {@link RegistryUnavailableError}
 * naming the OSS code and HTTP status only (see translateOssError), with the error as `cause`.
 */
export class OssRegistry implements PartitionRegistry {
  readonly url: string;
  readonly client: OssClient;
  readonly bucket: string;
  /** The object-name prefix, ending with `/` unless empty. */
  readonly prefix: string;

  /** Throws TypeError when the client is bound to another bucket than `bucket` (its writes would go there). */
  constructor(options: OssRegistryOptions) {
    if (!options.bucket) throw new TypeError('OssRegistry needs a bucket');
    const bound = (options.client as { options?: { bucket?: unknown } }).options?.bucket;
    if (typeof bound === 'string' && bound !== options.bucket) {
      throw new TypeError(`the OSS client is bound to bucket "${bound}", not "${options.bucket}"`);
    }
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = normalisePrefix(options.prefix ?? '');
    this.url = options.url ?? `oss://${this.bucket}/${this.prefix}`;
  }

  /** See {@link PartitionRegistry.create}. Throws RegistryUnavailableError; an entry that is not valid throws InvalidPartitionEventError (nothing written). */
  async create(entry: PartitionEntry): Promise<'created' | 'existing'> {
    const body = Buffer.from(serializeEntry(entry), 'utf8');
    try {
      await this.client.put(this.#name(entry.partitionId), body, { mime: 'application/json', headers: { [FORBID_OVERWRITE_HEADER]: 'true' } });
      return 'created';
    } catch (err) {
      if (ossCodeOf(err) === 'FileAlreadyExists') return 'existing';
      throw translateOssError(err, this.url, 'create', entry.partitionId);
    }
  }

  /** See {@link PartitionRegistry.get}. Throws RegistryUnavailableError, InvalidRegistryEntryError. */
  async get(partitionId: string): Promise<PartitionEntry | undefined> {
    let content: unknown;
    try {
      content = (await this.client.get(this.#name(partitionId))).content;
    } catch (err) {
      const code = ossCodeOf(err);
      if (code === 'NoSuchKey' || (code !== 'NoSuchBucket' && statusOf(err) === 404)) return undefined;
      throw translateOssError(err, this.url, 'get', partitionId);
    }
    const text = Buffer.isBuffer(content) ? content.toString('utf8') : typeof content === 'string' ? content : '';
    return parseStoredEntry(text, partitionId, this.url);
  }

  /** See {@link PartitionRegistry.list}. Throws RegistryUnavailableError. */
  async list(): Promise<string[]> {
    const names: string[] = [];
    const keep = (page: OssListPage) => {
      for (const object of page.objects ?? []) if (object.name.startsWith(this.prefix)) names.push(object.name.slice(this.prefix.length));
    };
    const prefix = this.prefix ? { prefix: this.prefix } : {};
    try {
      if (this.client.listV2) {
        let token: string | undefined;
        do {
          const page = await this.client.listV2({ ...prefix, 'max-keys': 1000, ...(token ? { 'continuation-token': token } : {}) });
          keep(page);
          token = (page.isTruncated && page.nextContinuationToken) || undefined;
        } while (token);
      } else if (this.client.list) {
        let marker: string | undefined;
        do {
          const page = await this.client.list({ ...prefix, 'max-keys': 1000, ...(marker ? { marker } : {}) }, {});
          keep(page);
          marker = (page.isTruncated && page.nextMarker) || undefined;
        } while (marker);
      } else {
        throw new TypeError('the OSS client has neither listV2 nor list');
      }
    } catch (err) {
      throw translateOssError(err, this.url, 'list', undefined);
    }
    return idsOfNames(names);
  }

  #name(partitionId: string): string {
    return `${this.prefix}${entryFileName(partitionId)}`;
  }
}

const OSS_THROTTLING = new Set(['QpsLimitExceeded', 'TooManyRequests', 'Throttling', 'DownloadTrafficRateLimitExceeded', 'UploadTrafficRateLimitExceeded']);
const OSS_ACCESS_DENIED = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'SecurityTokenExpired',
  'InvalidSecurityToken',
  'UserDisable',
]);
const TIMEOUT_NAMES = new Set(['ConnectionTimeoutError', 'ResponseTimeoutError', 'RequestTimeoutError', 'TimeoutError']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT']);
const NETWORK_CODES = SOCKET_ERROR_CODES;

/**
 * The registry's error for anything an ali-oss call threw, in this one place. ali-oss errors carry
 * `status` (the HTTP status; -1 a network failure, -2 a timeout), `code` (OSS's error code, or the
 * transport's) and `name` (`<code>Error`). Any of those becomes {@link RegistryUnavailableError}:
 * throttled, timeout, network, server, access denied, or refused; the message names the code and
 * status, not OSS's message. The library's own errors, and programming errors, pass as they are.
 */
export function translateOssError(err: unknown, registryUrl: string, operation: string, partitionId: string | undefined): unknown {
  if (err instanceof PartitionKeysError || typeof err !== 'object' || err === null) return err;
  const status = statusOf(err);
  const code = ossCodeOf(err);
  const name = typeof (err as { name?: unknown }).name === 'string' ? (err as { name: string }).name : 'Error';
  let reason: string;
  if (status === -2 || TIMEOUT_NAMES.has(name) || (code !== undefined && TIMEOUT_CODES.has(code))) reason = 'timeout';
  else if (status === -1 || (code !== undefined && NETWORK_CODES.has(code))) reason = 'network';
  else if (status === 429 || (code !== undefined && OSS_THROTTLING.has(code))) reason = 'throttled';
  else if (status !== undefined && status >= 500) reason = 'server';
  else if (status === 401 || status === 403 || (code !== undefined && OSS_ACCESS_DENIED.has(code))) reason = 'access denied';
  else if (status !== undefined) reason = 'refused';
  else return err;
  const detail = `${code ?? name}${status === undefined || status < 0 ? '' : `, HTTP ${status}`}`;
  return new RegistryUnavailableError(`${describeOperation(registryUrl, operation, partitionId)} failed: ${reason} (${detail})`, { cause: err });
}

function ossCodeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function statusOf(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}
