import { randomUUID } from 'node:crypto';
import {
  GetObjectCommand,
  type GetObjectCommandInput,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  type HeadObjectCommandInput,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandInput,
  type ListObjectsV2CommandOutput,
  NoSuchBucket,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  type PutObjectCommandInput,
  type PutObjectCommandOutput,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { AwsClientStub } from 'aws-sdk-client-mock';

export interface FakeS3Options {
  /** Buckets that exist (default ['registry']); any other answers NoSuchBucket. */
  buckets?: string[];
  /** ListObjectsV2 page size, to exercise pagination (default 1000, the API's maximum). */
  pageSize?: number;
  /** Each call waits a few event-loop turns before it runs, so concurrent calls interleave (default true). */
  interleave?: boolean;
  /**
   * Like S3 under contention: a conditional PutObject sent while another one on the same key is in
   * flight fails with 409 ConditionalRequestConflict (default false).
   */
  conflictOnConcurrentWrites?: boolean;
  /** Seed of the interleaving, for a reproducible run. */
  seed?: number;
}

interface FakeObject {
  body: string;
  contentType: string | undefined;
  etag: string;
}

const meta = (httpStatusCode: number) => ({ httpStatusCode, requestId: randomUUID(), attempts: 1, totalRetryDelay: 0 });

/**
 * A stateful, in-memory S3 behind aws-sdk-client-mock, for the commands the registry uses, with
 * the real API's rules as documented: PutObject with `IfNoneMatch: '*'` fails with 412
 * PreconditionFailed when the key exists (any other IfNoneMatch value is 501 NotImplemented, as on
 * S3 for PutObject); GetObject NoSuchKey, HeadObject NotFound (no body, so no code); a missing
 * bucket is NoSuchBucket; ListObjectsV2 in UTF-8 key order under a Prefix, paginated by an opaque
 * ContinuationToken. Every command runs atomically, at a random point after it was sent.
 */
export class FakeS3 {
  readonly #buckets = new Map<string, Map<string, FakeObject>>();
  readonly #pageSize: number;
  readonly #interleave: boolean;
  readonly #conflicts: boolean;
  readonly #inFlight = new Map<string, number>();
  #seed: number;

  /** When it returns an error, the call fails with it instead of running (an outage, a throttle, a conflict). */
  failure: ((command: string, input: Record<string, unknown>) => Error | undefined) | undefined;
  /** Every command received, in order (failed ones included). */
  readonly calls: Array<{ command: string; input: Record<string, unknown> }> = [];

  constructor(options: FakeS3Options = {}) {
    for (const bucket of options.buckets ?? ['registry']) this.#buckets.set(bucket, new Map());
    this.#pageSize = options.pageSize ?? 1000;
    this.#interleave = options.interleave ?? true;
    this.#conflicts = options.conflictOnConcurrentWrites ?? false;
    this.#seed = options.seed ?? 0x2545f491;
  }

  /** Routes the stub's commands to this fake (call again after `stub.reset()`). */
  install(stub: AwsClientStub<S3Client>): this {
    stub.on(PutObjectCommand).callsFake((input: PutObjectCommandInput) => this.#put(input));
    stub.on(GetObjectCommand).callsFake((input: GetObjectCommandInput) => this.#run('GetObject', input, () => this.getObject(input)));
    stub.on(HeadObjectCommand).callsFake((input: HeadObjectCommandInput) => this.#run('HeadObject', input, () => this.headObject(input)));
    stub.on(ListObjectsV2Command).callsFake((input: ListObjectsV2CommandInput) => this.#run('ListObjectsV2', input, () => this.listObjectsV2(input)));
    return this;
  }

  // ---- inspection and tampering, for tests ----

  /** The keys of a bucket, in S3's order. */
  keys(bucket = 'registry'): string[] {
    return sortedKeys(this.#bucket(bucket));
  }

  /** An object's body and content type, or undefined. */
  object(key: string, bucket = 'registry'): { body: string; contentType: string | undefined } | undefined {
    const object = this.#bucket(bucket).get(key);
    return object && { body: object.body, contentType: object.contentType };
  }

  /** Stores an object behind the API (a damaged entry, a stranger's object). */
  putRaw(key: string, body: string, bucket = 'registry'): void {
    this.#bucket(bucket).set(key, { body, contentType: undefined, etag: randomUUID() });
  }

  /** How many times a command was received. */
  count(command: string): number {
    return this.calls.filter((call) => call.command === command).length;
  }

  // ---- the API ----

  putObject(input: PutObjectCommandInput): PutObjectCommandOutput {
    const objects = this.#bucket(input.Bucket);
    const key = requireKey(input.Key);
    if (input.IfNoneMatch !== undefined && input.IfNoneMatch !== '*') {
      throw new S3ServiceException({
        name: 'NotImplemented',
        $fault: 'server',
        $metadata: meta(501),
        message: 'A header you provided implies functionality that is not implemented',
      });
    }
    if (input.IfNoneMatch === '*' && objects.has(key)) {
      throw new S3ServiceException({
        name: 'PreconditionFailed',
        $fault: 'client',
        $metadata: meta(412),
        message: 'At least one of the pre-conditions you specified did not hold',
      });
    }
    const body = input.Body;
    const text = typeof body === 'string' ? body : body instanceof Uint8Array ? Buffer.from(body).toString('utf8') : String(body ?? '');
    const etag = `"${randomUUID()}"`;
    objects.set(key, { body: text, contentType: input.ContentType, etag });
    return { ETag: etag, $metadata: meta(200) };
  }

  getObject(input: GetObjectCommandInput): GetObjectCommandOutput {
    const object = this.#bucket(input.Bucket).get(requireKey(input.Key));
    if (!object) throw new NoSuchKey({ $metadata: meta(404), message: 'The specified key does not exist.' });
    const bytes = Buffer.from(object.body, 'utf8');
    // The SDK's body is a stream with these helpers mixed in; the registry reads it as a string.
    const body = {
      transformToString: async (encoding?: string) => bytes.toString((encoding ?? 'utf8') as BufferEncoding),
      transformToByteArray: async () => new Uint8Array(bytes),
      transformToWebStream: () => new Blob([bytes]).stream(),
    };
    return {
      Body: body as unknown as GetObjectCommandOutput['Body'],
      ContentType: object.contentType,
      ContentLength: bytes.length,
      ETag: object.etag,
      $metadata: meta(200),
    };
  }

  headObject(input: HeadObjectCommandInput): HeadObjectCommandOutput {
    const object = this.#bucket(input.Bucket).get(requireKey(input.Key));
    if (!object) throw new NotFound({ $metadata: meta(404), message: 'Not Found' });
    return { ContentType: object.contentType, ContentLength: Buffer.byteLength(object.body), ETag: object.etag, $metadata: meta(200) };
  }

  listObjectsV2(input: ListObjectsV2CommandInput): ListObjectsV2CommandOutput {
    const objects = this.#bucket(input.Bucket);
    const prefix = input.Prefix ?? '';
    const max = Math.min(input.MaxKeys ?? 1000, this.#pageSize);
    const keys = sortedKeys(objects).filter((key) => key.startsWith(prefix));
    let start = 0;
    if (input.ContinuationToken !== undefined) {
      const after = Buffer.from(input.ContinuationToken, 'base64url').toString('utf8');
      if (!input.ContinuationToken || !after.startsWith('after:')) {
        throw new S3ServiceException({
          name: 'InvalidArgument',
          $fault: 'client',
          $metadata: meta(400),
          message: 'The continuation token provided is incorrect',
        });
      }
      // Keys after the last one returned, so that keys created meanwhile are not skipped or repeated.
      const last = after.slice('after:'.length);
      start = keys.findIndex((key) => Buffer.compare(Buffer.from(key), Buffer.from(last)) > 0);
      if (start === -1) start = keys.length;
    }
    const page = keys.slice(start, start + max);
    const truncated = start + max < keys.length;
    return {
      Contents: page.map((key) => ({ Key: key, Size: Buffer.byteLength(objects.get(key)!.body), ETag: objects.get(key)!.etag })),
      KeyCount: page.length,
      IsTruncated: truncated,
      ...(truncated ? { NextContinuationToken: Buffer.from(`after:${page.at(-1)!}`).toString('base64url') } : {}),
      ...(prefix ? { Prefix: prefix } : {}),
      $metadata: meta(200),
    };
  }

  // ---- internals ----

  /** A conditional put is "in flight" from send to completion, which is when S3 may see a conflict. */
  async #put(input: PutObjectCommandInput): Promise<PutObjectCommandOutput> {
    const slot = `${input.Bucket}/${input.Key}`;
    const contended = this.#conflicts && input.IfNoneMatch === '*' && (this.#inFlight.get(slot) ?? 0) > 0;
    if (input.IfNoneMatch === '*') this.#inFlight.set(slot, (this.#inFlight.get(slot) ?? 0) + 1);
    try {
      return await this.#run('PutObject', input, () => {
        if (contended) {
          throw new S3ServiceException({
            name: 'ConditionalRequestConflict',
            $fault: 'client',
            $metadata: meta(409),
            message: 'A conflicting operation occurred. If using PutObject you can retry the request.',
          });
        }
        return this.putObject(input);
      });
    } finally {
      if (input.IfNoneMatch === '*') this.#inFlight.set(slot, this.#inFlight.get(slot)! - 1);
    }
  }

  async #run<T>(command: string, input: object, handle: () => T): Promise<T> {
    this.calls.push({ command, input: { ...input } as Record<string, unknown> });
    if (this.#interleave) {
      for (let turns = this.#next() % 3; turns > 0; turns--) await new Promise((resolve) => setImmediate(resolve));
    }
    const failure = this.failure?.(command, input as Record<string, unknown>);
    if (failure) throw failure;
    return handle();
  }

  #bucket(name: string | undefined): Map<string, FakeObject> {
    const bucket = name === undefined ? undefined : this.#buckets.get(name);
    if (!bucket) throw new NoSuchBucket({ $metadata: meta(404), message: 'The specified bucket does not exist' });
    return bucket;
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

function requireKey(key: string | undefined): string {
  if (!key) throw new S3ServiceException({ name: 'InvalidArgument', $fault: 'client', $metadata: meta(400), message: 'Key is required' });
  return key;
}

/** Keys in S3's listing order: UTF-8 binary. */
function sortedKeys(objects: Map<string, FakeObject>): string[] {
  return [...objects.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}
