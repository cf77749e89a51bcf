import { randomUUID } from 'node:crypto';
import type { OssClient } from '../../packages/client/src/partitions/registry/oss-registry.js';

export interface FakeOssOptions {
  /** The bucket the client is bound to (as `new OSS({ bucket })`), default 'registry'. */
  bucket?: string;
  /** Listing page size, to exercise pagination (default 1000, the API's maximum). */
  pageSize?: number;
  /** Each call waits a few event-loop turns before it runs, so concurrent calls interleave (default true). */
  interleave?: boolean;
  /** Seed of the interleaving, for a reproducible run. */
  seed?: number;
}

/**
 * An error as ali-oss throws it for an OSS answer: `name` `<Code>Error`, `code`, HTTP `status`,
 * `requestId`; for a transport failure status is -1 (network) or -2 (timeout).
 */
export function ossError(status: number, code: string, message: string): Error {
  return Object.assign(new Error(message), {
    name: `${code}Error`,
    status,
    code,
    requestId: 'test-request-id',
    hostId: 'registry.oss-cn-hangzhou.aliyuncs.com',
  });
}

export const ossErrors = {
  forbidOverwrite: () => ossError(409, 'FileAlreadyExists', 'The object you specified already exists and can not be overwritten.'),
  noSuchKey: () => ossError(404, 'NoSuchKey', 'The specified key does not exist.'),
  noSuchBucket: () => ossError(404, 'NoSuchBucket', 'The specified bucket does not exist.'),
  accessDenied: () => ossError(403, 'AccessDenied', 'You have no right to access this object because of bucket acl.'),
  tokenExpired: () => ossError(403, 'SecurityTokenExpired', 'The security token you provided has expired.'),
  throttled: () => ossError(503, 'QpsLimitExceeded', 'Please reduce your request rate.'),
  internal: () => ossError(500, 'InternalError', 'We encountered an internal error. Please try again.'),
  network: () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { name: 'RequestError', status: -1, code: 'RequestError' }),
  timeout: () => Object.assign(new Error('Response timeout for 60000ms'), { name: 'ResponseTimeoutError' }),
};

interface FakeObject {
  content: Buffer;
  mime: string | undefined;
}

/**
 * A stateful, in-memory OSS bucket with the ali-oss client's methods the registry calls, with
 * OSS's rules as documented: `put` with the header `x-oss-forbid-overwrite: true` fails with 409
 * FileAlreadyExists when the object exists (without it, it overwrites); `get` of a missing object
 * is 404 NoSuchKey; `listV2` pages by continuation token and `list` by marker (exclusive), both in
 * UTF-8 name order under a prefix. Every call runs atomically, at a random point after it was made.
 */
export class FakeOss implements OssClient {
  readonly #objects = new Map<string, FakeObject>();
  readonly #pageSize: number;
  readonly #interleave: boolean;
  #seed: number;

  /** As on an ali-oss client: the bucket it is bound to. */
  readonly options: { bucket: string };
  /** When it returns an error, the call fails with it instead of running. */
  failure: ((method: string, args: unknown[]) => Error | undefined) | undefined;
  /** Every call, in order (failed ones included). */
  readonly calls: Array<{ method: string; args: unknown[] }> = [];

  constructor(options: FakeOssOptions = {}) {
    this.options = { bucket: options.bucket ?? 'registry' };
    this.#pageSize = options.pageSize ?? 1000;
    this.#interleave = options.interleave ?? true;
    this.#seed = options.seed ?? 0x1b873593;
  }

  // ---- inspection and tampering, for tests ----

  names(): string[] {
    return sortedNames(this.#objects);
  }

  object(name: string): { content: string; mime: string | undefined } | undefined {
    const object = this.#objects.get(name);
    return object && { content: object.content.toString('utf8'), mime: object.mime };
  }

  /** Stores an object behind the API (a damaged entry, a stranger's object). */
  putRaw(name: string, content: string): void {
    this.#objects.set(name, { content: Buffer.from(content, 'utf8'), mime: undefined });
  }

  count(method: string): number {
    return this.calls.filter((call) => call.method === method).length;
  }

  // ---- the client ----

  put(name: string, file: Buffer, options: { mime?: string; headers?: Record<string, string> } = {}): Promise<unknown> {
    return this.#run('put', [name, file, options], () => {
      if (!Buffer.isBuffer(file)) throw new TypeError('Must provide String/Buffer/ReadableStream for put.');
      const forbid = Object.entries(options.headers ?? {}).find(([header]) => header.toLowerCase() === 'x-oss-forbid-overwrite')?.[1];
      if (String(forbid).toLowerCase() === 'true' && this.#objects.has(name)) throw ossErrors.forbidOverwrite();
      this.#objects.set(name, { content: Buffer.from(file), mime: options.mime });
      return { name, url: `https://${this.options.bucket}.oss-cn-hangzhou.aliyuncs.com/${name}`, res: { status: 200 } };
    });
  }

  get(name: string): Promise<{ content?: unknown }> {
    return this.#run('get', [name], () => {
      const object = this.#objects.get(name);
      if (!object) throw ossErrors.noSuchKey();
      return { content: Buffer.from(object.content), res: { status: 200 } };
    });
  }

  listV2(query: { prefix?: string; 'continuation-token'?: string; 'max-keys'?: number }): Promise<{
    objects: Array<{ name: string }>;
    isTruncated: boolean;
    nextContinuationToken: string | null;
  }> {
    return this.#run('listV2', [{ ...query }], () => {
      const token = query['continuation-token'];
      const after = token === undefined ? undefined : Buffer.from(token, 'base64url').toString('utf8');
      const { last, ...page } = this.#page(query.prefix ?? '', after, query['max-keys']);
      return { ...page, nextContinuationToken: page.isTruncated ? Buffer.from(last!).toString('base64url') : null };
    });
  }

  list(query: { prefix?: string; marker?: string; 'max-keys': number }): Promise<{
    objects: Array<{ name: string }>;
    isTruncated: boolean;
    nextMarker: string | null;
  }> {
    return this.#run('list', [{ ...query }], () => {
      const { last, ...page } = this.#page(query.prefix ?? '', query.marker, query['max-keys']);
      return { ...page, nextMarker: page.isTruncated ? last! : null };
    });
  }

  // ---- internals ----

  /** Names under `prefix` strictly after `after`, at most one page. */
  #page(prefix: string, after: string | undefined, maxKeys: number | undefined) {
    const max = Math.min(maxKeys ?? 100, this.#pageSize);
    const names = sortedNames(this.#objects).filter(
      (name) => name.startsWith(prefix) && (after === undefined || Buffer.compare(Buffer.from(name), Buffer.from(after)) > 0),
    );
    const page = names.slice(0, max);
    return {
      objects: page.map((name) => ({
        name,
        size: this.#objects.get(name)!.content.length,
        lastModified: new Date(0).toISOString(),
        etag: `"${randomUUID()}"`,
      })),
      isTruncated: names.length > max,
      last: page.at(-1),
    };
  }

  async #run<T>(method: string, args: unknown[], handle: () => T): Promise<T> {
    this.calls.push({ method, args });
    if (this.#interleave) {
      for (let turns = this.#next() % 3; turns > 0; turns--) await new Promise((resolve) => setImmediate(resolve));
    }
    const failure = this.failure?.(method, args);
    if (failure) throw failure;
    return handle();
  }

  /** xorshift32: a reproducible interleaving. */
  #next(): number {
    let x = this.#seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#seed = x >>> 0;
    return this.#seed;
  }
}

function sortedNames(objects: Map<string, FakeObject>): string[] {
  return [...objects.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}
