import { setTimeout as delay } from 'node:timers/promises';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { awsErrorName, classifyAwsError } from '../../internal/aws-errors.js';
import { entryFileName, type PartitionEntry } from '../entry.js';
import { PartitionKeysError, RegistryUnavailableError } from '../errors.js';
import { describeOperation, idsOfNames, normalisePrefix, parseStoredEntry, serializeEntry } from './file-registry.js';
import type { PartitionRegistry } from './registry.js';

export interface S3RegistryOptions {
  client: S3Client;
  bucket: string;
  /** Prepended to every object key; normalised to end with `/` when not empty (default ''). */
  prefix?: string;
  /** What messages name (default `s3://<bucket>/<prefix>`). */
  url?: string;
  /** How many times create tries again after a 409 ConditionalRequestConflict (default 4). */
  conflictRetries?: number;
  /** For tests: the pause before such a retry. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * A {@link PartitionRegistry} in an S3 bucket: one object per partition, its key
 * `<prefix><entryFileName(partitionId)>`, its body the entry's JSON (`application/json`).
 *
 * **create** is `PutObject` with `If-None-Match: *`, S3's conditional write: it fails with 412
 * PreconditionFailed when the key exists → `existing`, so an entry is never replaced and of
 * concurrent creators exactly one succeeds. While another conditional write to the key is in
 * flight S3 may answer 409 ConditionalRequestConflict instead: then the object is looked up
 * (`HeadObject`) — there now → `existing`, else the put is tried again, a few times. If the SDK
 * retried a put whose first answer was lost, our own write may come back as `existing`; the entry
 * is ours either way. S3-compatible stores that ignore `If-None-Match` would overwrite: use this
 * only with stores that implement conditional writes (AWS S3 since 2024, MinIO).
 *
 * **get** is `GetObject` (NoSuchKey → `undefined`; a NoSuchBucket is a failure, not a missing
 * entry); the body is validated as in every backend. **list** is `ListObjectsV2` under the prefix,
 * page by page, keeping the keys that decode to an id. The role needs s3:PutObject, s3:GetObject
 * and s3:ListBucket (without ListBucket S3 answers a missing key with 403, which fails).
 *
 * **Failures**: every error S3 or the transport answers with — throttling, 5xx, timeouts, network
 * errors, missing or expired credentials, access denied, a missing bucket — is
 * {@link RegistryUnavailableError}, whose message names the AWS error and HTTP status only (see
 * translateS3Error), with the AWS error as `cause`.
 */
export class S3Registry implements PartitionRegistry {
  readonly url: string;
  readonly client: S3Client;
  readonly bucket: string;
  /** The key prefix, ending with `/` unless empty. */
  readonly prefix: string;
  readonly #conflictRetries: number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: S3RegistryOptions) {
    if (!options.bucket) throw new TypeError('S3Registry needs a bucket');
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = normalisePrefix(options.prefix ?? '');
    this.url = options.url ?? `s3://${this.bucket}/${this.prefix}`;
    this.#conflictRetries = options.conflictRetries ?? 4;
    this.#sleep = options.sleep ?? ((ms) => delay(ms));
  }

  /** See {@link PartitionRegistry.create}. Throws RegistryUnavailableError; an entry that is not valid throws InvalidPartitionEventError (nothing written). */
  async create(entry: PartitionEntry): Promise<'created' | 'existing'> {
    const body = serializeEntry(entry);
    const key = this.#key(entry.partitionId);
    try {
      for (let retry = 0; ; retry++) {
        try {
          await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/json', IfNoneMatch: '*' }));
          return 'created';
        } catch (err) {
          if (isS3Error(err, 'PreconditionFailed', 412)) return 'existing';
          if (!isS3Error(err, 'ConditionalRequestConflict', 409)) throw err;
          // Another conditional write to this key was in flight: if it landed, the entry exists.
          if (await this.#exists(key)) return 'existing';
          if (retry >= this.#conflictRetries) throw err;
          await this.#sleep(Math.floor((0.5 + Math.random() / 2) * 20 * 2 ** retry));
        }
      }
    } catch (err) {
      throw translateS3Error(err, this.url, 'create', entry.partitionId);
    }
  }

  /** See {@link PartitionRegistry.get}. Throws RegistryUnavailableError, InvalidRegistryEntryError. */
  async get(partitionId: string): Promise<PartitionEntry | undefined> {
    try {
      let text: string;
      try {
        const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.#key(partitionId) }));
        text = (await out.Body?.transformToString('utf-8')) ?? '';
      } catch (err) {
        if (isMissingKey(err)) return undefined;
        throw err;
      }
      return parseStoredEntry(text, partitionId, this.url);
    } catch (err) {
      throw translateS3Error(err, this.url, 'get', partitionId);
    }
  }

  /** See {@link PartitionRegistry.list}. Throws RegistryUnavailableError. */
  async list(): Promise<string[]> {
    const names: string[] = [];
    try {
      let token: string | undefined;
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, ...(this.prefix ? { Prefix: this.prefix } : {}), ...(token ? { ContinuationToken: token } : {}) }),
        );
        for (const object of page.Contents ?? []) {
          if (object.Key?.startsWith(this.prefix)) names.push(object.Key.slice(this.prefix.length));
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      throw translateS3Error(err, this.url, 'list', undefined);
    }
    return idsOfNames(names);
  }

  #key(partitionId: string): string {
    return `${this.prefix}${entryFileName(partitionId)}`;
  }

  async #exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (err) {
      if (isMissingKey(err)) return false;
      throw err;
    }
  }
}

/**
 * The registry's error for anything `S3Client.send` (or reading a body) threw, in this one place:
 * an error S3 or the transport answered with becomes {@link RegistryUnavailableError} (throttled,
 * timeout, network, server, access denied — credentials included — or refused), with the AWS
 * error as `cause`. The message names the AWS error and the HTTP status, not the AWS message
 * (which may quote request details). The library's own errors, and programming errors, pass as they are.
 */
export function translateS3Error(err: unknown, registryUrl: string, operation: string, partitionId: string | undefined): unknown {
  if (err instanceof PartitionKeysError) return err;
  const status = httpStatusOf(err);
  const kind = classifyAwsError(err);
  let reason: string;
  if (kind.kind === 'unavailable') reason = kind.reason;
  else if (kind.kind === 'access-denied' || status === 401 || status === 403) reason = 'access denied';
  else if (isAwsShaped(err)) reason = 'refused';
  else return err;
  const name = awsErrorName(err) ?? 'Error';
  const code = typeof (err as { code?: unknown }).code === 'string' ? ` ${(err as { code: string }).code}` : '';
  const detail = `${name}${code}${status === undefined ? '' : `, HTTP ${status}`}`;
  return new RegistryUnavailableError(`${describeOperation(registryUrl, operation, partitionId)} failed: ${reason} (${detail})`, { cause: err });
}

function httpStatusOf(err: unknown): number | undefined {
  const status = (err as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The S3 error `name`, or (a store that names it otherwise) any S3 answer with its HTTP status. */
function isS3Error(err: unknown, name: string, status: number): boolean {
  return awsErrorName(err) === name || (isAwsShaped(err) && httpStatusOf(err) === status);
}

/** NoSuchKey (GetObject) or NotFound (HeadObject, which has no body to say more); never NoSuchBucket. */
function isMissingKey(err: unknown): boolean {
  const name = awsErrorName(err);
  if (name === 'NoSuchKey' || name === 'NotFound') return true;
  return isAwsShaped(err) && httpStatusOf(err) === 404 && name !== 'NoSuchBucket';
}

/** An answer from S3 (an SDK service exception), as opposed to our own or a programming error. */
function isAwsShaped(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  return '$metadata' in err || '$fault' in err;
}
