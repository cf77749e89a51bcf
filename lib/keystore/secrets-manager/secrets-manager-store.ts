import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  ListSecretsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { Logger } from '../../logger.js';
import {
  assertEntryName,
  EntryExistsError,
  EntryNotFoundError,
  type KeyStore,
  RevisionConflictError,
  type StoredEntry,
  WriteOnceViolationError,
} from '../key-store.js';
import { KeyStoreFailureError, KeyStoreUnavailableError } from '../store-errors.js';
import { describeAwsError, isAwsError, isTransientAwsError, translateAwsError } from '../aws-errors.js';

/** The staging label of a version written by a compare-and-swap before it is made current. */
export const PENDING_STAGE = 'KMS_PENDING';
/** The tag every secret of the store carries: `write-once` or `mutable`. */
export const KIND_TAG = 'kms-store:kind';
/** Secrets Manager's limit on a secret name. */
const MAX_SECRET_NAME = 512;
const SECRET_NAME_CHARS = /^[A-Za-z0-9/_+=.@-]*$/;

export interface RetryOptions {
  /** Attempts per AWS call, the first included (default 3). */
  attempts: number;
  /** Full-jitter exponential backoff: attempt n waits random(0, min(maxDelayMs, baseDelayMs·2ⁿ)) (defaults 50 / 1000). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 3, baseDelayMs: 50, maxDelayMs: 1000 };

export interface SecretsManagerStoreOptions {
  client: SecretsManagerClient;
  /** Prepended to every entry name (e.g. `kms/dev/`); letters, digits and `/_+=.@-`. */
  prefix: string;
  /** A customer-managed KMS key for new secrets (default: the account's `aws/secretsmanager` key). */
  kmsKeyId?: string;
  /**
   * A resource policy put on every secret this store creates, before `create` returns (see
   * {@link onlyRolesPolicy}): which principals may use the secret at all, whatever their IAM says.
   */
  resourcePolicy?: string;
  retry?: Partial<RetryOptions>;
  /**
   * How many times `create` waits for a force-deleted secret of the same name to disappear
   * (Secrets Manager deletes asynchronously) before giving up as unavailable (default 6, ≈ 3 s).
   */
  recreateAttempts?: number;
  /** For tests: the pause between retries. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Warnings that do not fail an operation (a tombstone left behind). */
  logger?: Logger;
}

/** The JSON kept as a version's SecretString. */
interface SecretDocument {
  kms: 1;
  revision: number;
  writeOnce: boolean;
  /** Base64 of the entry's bytes; absent on a tombstone. */
  value?: string;
  /** A mutable entry deleted by compare-and-swap, whose secret has not been removed yet. */
  deleted?: true;
}

/** The current (AWSCURRENT) version of one incarnation of a secret. */
interface Current {
  /** Full ARN: names this incarnation only (its random suffix changes when a name is re-created). */
  arn: string;
  versionId: string;
  doc: SecretDocument;
}

/**
 * A {@link KeyStore} over AWS Secrets Manager: one secret per entry, named `${prefix}${name}`,
 * whose current version (staging label `AWSCURRENT`) holds the JSON document
 * `{"kms":1,"revision":n,"writeOnce":bool,"value":"<base64>"}` as its SecretString. Every secret is
 * tagged `kms-store:kind` = `write-once` | `mutable`.
 *
 * **create** is `CreateSecret` with a fresh random `ClientRequestToken` (which becomes the first
 * version's id): Secrets Manager allows one secret per name, so of racing creators exactly one
 * wins and the others get `ResourceExistsException` → {@link EntryExistsError}. If our own earlier
 * attempt landed and only its answer was lost, the current version id is our token: success.
 *
 * **Write-once** entries are only ever written by `CreateSecret`; nothing in this class calls
 * `PutSecretValue` or `UpdateSecretVersionStage` for them (they are checked first), and `destroy`
 * removes them whole. An IAM policy can enforce the same with the tag (deny `PutSecretValue` and
 * `UpdateSecretVersionStage` where `secretsmanager:ResourceTag/kms-store:kind` is `write-once`, and
 * deny `TagResource`/`UntagResource`).
 *
 * **update — compare-and-swap on the AWSCURRENT label.** Secrets Manager has no conditional put,
 * but `UpdateSecretVersionStage` with both `MoveToVersionId` and `RemoveFromVersionId` succeeds only
 * if the label is still on the `RemoveFrom` version. So:
 *
 * 1. `GetSecretValue` (AWSCURRENT): the current version id V and document; check that the entry
 *    exists, is mutable, and is at `expectedRevision` (else the matching error, nothing written);
 * 2. `PutSecretValue` on the secret's ARN with a fresh random token T, the document of revision
 *    `expectedRevision + 1`, and `VersionStages: ["KMS_PENDING"]` (at least one label is required;
 *    not AWSCURRENT, so readers do not see it yet);
 * 3. `UpdateSecretVersionStage(AWSCURRENT, MoveToVersionId: T, RemoveFromVersionId: V)`: the atomic
 *    step. It fails if any writer moved AWSCURRENT away from V since step 1, and exactly one of
 *    several writers that read V can move it. A failure → {@link RevisionConflictError} (the loser's
 *    version keeps no label once another write takes KMS_PENDING, and Secrets Manager removes it
 *    later). Version ids are random UUIDs that are never reused, so there is no ABA.
 *
 * This needs neither a lock service nor deterministic version ids (a deterministic id per revision
 * would let a writer that died between steps 2 and 3 block that revision forever). Retries are
 * safe: step 2 is idempotent on T; if step 3 is retried after an attempt that landed unseen, the
 * label is on T and the store reads it back to report success. When a write's outcome cannot be
 * known (the store became unreachable in step 3), it throws {@link KeyStoreUnavailableError}
 * (`unknown-outcome`), never a false conflict or a false success.
 *
 * **delete** is the same compare-and-swap to a tombstone document (`deleted: true`, which `get`
 * reports as absent), then `DeleteSecret(ForceDeleteWithoutRecovery)` on that incarnation's ARN.
 * A `create` that meets a tombstone (a delete that died half-way) removes it and creates anew; it
 * also waits out the short asynchronous deletion after a force delete. **destroy** (write-once only)
 * is the force delete. A secret scheduled for deletion by other means counts as absent.
 *
 * **list** is `ListSecrets` with a `name` filter (a case-sensitive prefix match), page by page,
 * again filtered by prefix here, without the store prefix, sorted.
 *
 * **Failures**: throttling, 5xx, timeouts and network errors are retried (bounded, full jitter)
 * and then thrown as {@link KeyStoreUnavailableError}; denied access as
 * KeyStoreAccessDeniedError; anything else as KeyStoreFailureError — see ./errors.ts. Construct
 * the client with the SDK's own retries off (`maxAttempts: 1`) so attempts do not multiply.
 *
 * **Limits** (Secrets Manager's, documented for operators): every update or delete creates a
 * version, and Secrets Manager keeps every version of the last 24 hours (quota ≈ 100 per secret),
 * so one mutable entry tolerates on the order of 100 writes a day, losing compare-and-swap attempts
 * included — key metadata, aliases and access keys change far less often. `ListSecrets` is
 * eventually consistent: a name created a moment ago may be missing from `list`, and one deleted
 * (or whose tombstone's removal failed) may still appear; `get` is authoritative. A name ending in
 * `-` and six characters could in theory be read as a partial ARN of another secret.
 */
export class SecretsManagerStore implements KeyStore {
  /** None: Secrets Manager has no consistent read to keep one with (see KeyStore.changes). */
  readonly changes: undefined = undefined;
  readonly #client: SecretsManagerClient;
  readonly #prefix: string;
  readonly #kmsKeyId: string | undefined;
  readonly #resourcePolicy: string | undefined;
  readonly #retry: RetryOptions;
  readonly #recreateAttempts: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #logger: Logger | undefined;

  constructor(options: SecretsManagerStoreOptions) {
    if (!SECRET_NAME_CHARS.test(options.prefix) || options.prefix.length > 256) {
      throw new Error(`the secrets prefix "${options.prefix}" may only hold letters, digits and /_+=.@- (at most 256)`);
    }
    this.#client = options.client;
    this.#prefix = options.prefix;
    this.#kmsKeyId = options.kmsKeyId;
    this.#resourcePolicy = options.resourcePolicy;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    if (!(this.#retry.attempts >= 1)) throw new Error('retry.attempts must be at least 1');
    this.#recreateAttempts = options.recreateAttempts ?? 6;
    this.#sleep = options.sleep ?? ((ms) => delay(ms));
    this.#random = options.random ?? Math.random;
    this.#logger = options.logger;
  }

  /** The secret name of an entry. */
  secretName(name: string): string {
    assertEntryName(name);
    const secretName = `${this.#prefix}${name}`;
    if (secretName.length > MAX_SECRET_NAME) throw new Error(`entry name "${name}" is too long for a secret name`);
    return secretName;
  }

  async create(name: string, value: Uint8Array, options: { writeOnce: boolean }): Promise<void> {
    const secretName = this.secretName(name);
    const token = randomUUID();
    const doc: SecretDocument = { kms: 1, revision: 1, writeOnce: options.writeOnce, value: Buffer.from(value).toString('base64') };
    try {
      for (let round = 1; ; round++) {
        let cause: unknown;
        try {
          await this.#call(() =>
            this.#client.send(
              new CreateSecretCommand({
                Name: secretName,
                ClientRequestToken: token,
                SecretString: encodeDocument(doc),
                Tags: [{ Key: KIND_TAG, Value: options.writeOnce ? 'write-once' : 'mutable' }],
                ...(this.#kmsKeyId ? { KmsKeyId: this.#kmsKeyId } : {}),
              }),
            ),
          );
          await this.#restrict(secretName);
          return;
        } catch (err) {
          if (isAwsError(err, 'ResourceExistsException')) {
            const current = await this.#read(name, secretName, 'create');
            // Our own earlier attempt landed and only its answer was lost.
            if (current?.versionId === token) {
              await this.#restrict(secretName);
              return;
            }
            if (current && !current.doc.deleted) throw new EntryExistsError(name);
            // A tombstone left by a delete that did not finish: remove it and create anew.
            if (current) await this.#forceDelete(current.arn);
          } else if (!isPendingDeletion(err)) {
            throw err;
          }
          cause = err;
        }
        // The name is held by a secret being deleted (asynchronously, after a force delete).
        if (round >= this.#recreateAttempts) {
          throw new KeyStoreUnavailableError('pending-deletion', 'create', name, {
            cause,
            detail: 'a secret of this name is still being deleted',
          });
        }
        await this.#sleep(Math.min(100 * 2 ** (round - 1), 1000));
      }
    } catch (err) {
      throw translateAwsError(err, 'create', name);
    }
  }

  async get(name: string): Promise<StoredEntry | undefined> {
    const secretName = this.secretName(name);
    try {
      const current = await this.#read(name, secretName, 'get');
      if (!current || current.doc.deleted) return undefined;
      return { value: Buffer.from(current.doc.value ?? '', 'base64'), revision: current.doc.revision, writeOnce: current.doc.writeOnce };
    } catch (err) {
      throw translateAwsError(err, 'get', name);
    }
  }

  async update(name: string, expectedRevision: number, value: Uint8Array): Promise<number> {
    const secretName = this.secretName(name);
    try {
      const current = await this.#read(name, secretName, 'update');
      if (!current || current.doc.deleted) throw new EntryNotFoundError(name);
      if (current.doc.writeOnce) throw new WriteOnceViolationError(name);
      if (current.doc.revision !== expectedRevision) throw new RevisionConflictError(name);
      const revision = expectedRevision + 1;
      await this.#swap(name, current, { kms: 1, revision, writeOnce: false, value: Buffer.from(value).toString('base64') }, 'update');
      return revision;
    } catch (err) {
      throw translateAwsError(err, 'update', name);
    }
  }

  async delete(name: string, expectedRevision: number): Promise<void> {
    const secretName = this.secretName(name);
    let arn: string;
    try {
      const current = await this.#read(name, secretName, 'delete');
      if (!current || current.doc.deleted) throw new EntryNotFoundError(name);
      if (current.doc.writeOnce) throw new WriteOnceViolationError(name);
      if (current.doc.revision !== expectedRevision) throw new RevisionConflictError(name);
      await this.#swap(name, current, { kms: 1, revision: expectedRevision + 1, writeOnce: false, deleted: true }, 'delete');
      arn = current.arn;
    } catch (err) {
      throw translateAwsError(err, 'delete', name);
    }
    // The entry is deleted (its tombstone is current). Removing the secret is housekeeping, which a
    // later create of the name finishes if it fails here.
    try {
      await this.#forceDelete(arn);
    } catch (err) {
      this.#logger?.warn('key store: the secret of a deleted entry could not be removed; it stays as a tombstone', {
        entry: name,
        error: describeAwsError(err),
      });
    }
  }

  async destroy(name: string): Promise<void> {
    const secretName = this.secretName(name);
    try {
      const current = await this.#read(name, secretName, 'destroy');
      if (!current || current.doc.deleted) return;
      if (!current.doc.writeOnce) throw new WriteOnceViolationError(name);
      await this.#forceDelete(current.arn);
    } catch (err) {
      throw translateAwsError(err, 'destroy', name);
    }
  }

  /**
   * Schedules an entry's secret for deletion after a recovery window of `recoveryWindowDays`
   * (7–30; `RestoreSecret` brings it back until then), for `kms store migrate-material
   * --delete-secrets`: the material has moved into the table. Idempotent: a secret already gone or
   * scheduled is left as it is.
   */
  async retire(name: string, recoveryWindowDays: number): Promise<void> {
    if (!(Number.isInteger(recoveryWindowDays) && recoveryWindowDays >= 7 && recoveryWindowDays <= 30))
      throw new Error('the recovery window must be 7 to 30 days');
    const secretName = this.secretName(name);
    try {
      await this.#call(() => this.#client.send(new DeleteSecretCommand({ SecretId: secretName, RecoveryWindowInDays: recoveryWindowDays })));
    } catch (err) {
      if (isAwsError(err, 'ResourceNotFoundException') || isPendingDeletion(err)) return;
      throw translateAwsError(err, 'retire', name);
    }
  }

  async list(prefix: string): Promise<string[]> {
    // No entry name holds other characters, so nothing can match such a prefix.
    if (!/^[A-Za-z0-9_\-./]*$/.test(prefix)) return [];
    const full = `${this.#prefix}${prefix}`;
    if (full.length > MAX_SECRET_NAME) return [];
    const names: string[] = [];
    try {
      let nextToken: string | undefined;
      do {
        const token = nextToken;
        const page = await this.#call(() =>
          this.#client.send(
            new ListSecretsCommand({
              ...(full ? { Filters: [{ Key: 'name', Values: [full] }] } : {}),
              MaxResults: 100,
              IncludePlannedDeletion: false,
              ...(token ? { NextToken: token } : {}),
            }),
          ),
        );
        for (const secret of page.SecretList ?? []) {
          if (secret.Name?.startsWith(full) && secret.DeletedDate === undefined) names.push(secret.Name.slice(this.#prefix.length));
        }
        nextToken = page.NextToken;
      } while (nextToken);
    } catch (err) {
      throw translateAwsError(err, 'list', undefined);
    }
    return [...new Set(names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Puts the configured resource policy on a secret just created (a retry puts it again: idempotent). */
  async #restrict(secretName: string): Promise<void> {
    const policy = this.#resourcePolicy;
    if (!policy) return;
    await this.#call(() => this.#client.send(new PutResourcePolicyCommand({ SecretId: secretName, ResourcePolicy: policy, BlockPublicPolicy: true })));
  }

  /**
   * The current version of a secret (by name or ARN), or undefined when there is none or it is
   * scheduled for deletion.
   */
  async #read(name: string, secretId: string, operation: string): Promise<Current | undefined> {
    let out: GetSecretValueCommandOutput;
    try {
      out = await this.#call(() => this.#client.send(new GetSecretValueCommand({ SecretId: secretId })));
    } catch (err) {
      if (isAwsError(err, 'ResourceNotFoundException') || isPendingDeletion(err)) return undefined;
      throw err;
    }
    if (!out.ARN || !out.VersionId || out.SecretString === undefined) {
      throw new KeyStoreFailureError(operation, name, 'the secret has no string value, ARN or version id');
    }
    return { arn: out.ARN, versionId: out.VersionId, doc: decodeDocument(out.SecretString, operation, name) };
  }

  /** Steps 2 and 3 of the compare-and-swap described above: writes `doc` if `current` is still current. */
  async #swap(name: string, current: Current, doc: SecretDocument, operation: string): Promise<void> {
    const token = randomUUID();
    try {
      await this.#call(() =>
        this.#client.send(
          new PutSecretValueCommand({ SecretId: current.arn, ClientRequestToken: token, SecretString: encodeDocument(doc), VersionStages: [PENDING_STAGE] }),
        ),
      );
    } catch (err) {
      // The incarnation we read is gone or going: someone deleted the entry since.
      if (isAwsError(err, 'ResourceNotFoundException') || isPendingDeletion(err)) throw new RevisionConflictError(name);
      throw err;
    }
    const attempts = { count: 0 };
    try {
      await this.#call(
        () =>
          this.#client.send(
            new UpdateSecretVersionStageCommand({
              SecretId: current.arn,
              VersionStage: 'AWSCURRENT',
              MoveToVersionId: token,
              RemoveFromVersionId: current.versionId,
            }),
          ),
        attempts,
      );
    } catch (err) {
      const transient = isTransientAwsError(err);
      const refused = isAwsError(err, 'InvalidParameterException', 'InvalidRequestException', 'ResourceNotFoundException');
      if (!transient && !refused) throw err;
      // Refused at once: AWSCURRENT was not on the version we read, so another writer came first.
      if (refused && attempts.count === 1) throw new RevisionConflictError(name);
      // Otherwise an earlier attempt may have landed unseen: look.
      let after: Current | undefined;
      try {
        after = await this.#read(name, current.arn, operation);
      } catch {
        throw new KeyStoreUnavailableError('unknown-outcome', operation, name, { cause: err });
      }
      if (after?.versionId === token) return;
      // Another writer holds the revision we meant to write, so ours can never become current.
      if (!after || after.doc.revision === doc.revision) throw new RevisionConflictError(name);
      if (refused && after.doc.revision === current.doc.revision) throw new RevisionConflictError(name);
      throw new KeyStoreUnavailableError('unknown-outcome', operation, name, { cause: err });
    }
  }

  /** Removes a secret at once, by ARN so that only the incarnation we read can go. Idempotent. */
  async #forceDelete(arn: string): Promise<void> {
    try {
      await this.#call(() => this.#client.send(new DeleteSecretCommand({ SecretId: arn, ForceDeleteWithoutRecovery: true })));
    } catch (err) {
      if (isAwsError(err, 'ResourceNotFoundException') || isPendingDeletion(err)) return;
      throw err;
    }
  }

  /**
   * One AWS call with bounded retries on throttling, 5xx, timeouts and network errors (full
   * jitter). Throws the last AWS error as it is; the public methods translate it.
   */
  async #call<T>(send: () => Promise<T>, attempts = { count: 0 }): Promise<T> {
    for (;;) {
      attempts.count++;
      try {
        return await send();
      } catch (err) {
        if (attempts.count >= this.#retry.attempts || !isTransientAwsError(err)) throw err;
        const cap = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** attempts.count);
        await this.#sleep(Math.floor(this.#random() * cap));
      }
    }
  }
}

/** `InvalidRequestException` because the secret is scheduled for deletion. */
function isPendingDeletion(err: unknown): boolean {
  return isAwsError(err, 'InvalidRequestException') && /delet/i.test(err instanceof Error ? err.message : '');
}

function encodeDocument(doc: SecretDocument): string {
  return JSON.stringify(doc);
}

function decodeDocument(text: string, operation: string, name: string): SecretDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // Not wrapped: V8's parse message quotes the text, which may hold key material.
    throw new KeyStoreFailureError(operation, name, 'the secret is not a key-store document (not JSON)');
  }
  const d = doc as Partial<SecretDocument> | null;
  if (
    typeof d !== 'object' ||
    d === null ||
    d.kms !== 1 ||
    !Number.isSafeInteger(d.revision) ||
    (d.revision as number) < 1 ||
    typeof d.writeOnce !== 'boolean' ||
    (d.deleted === undefined ? typeof d.value !== 'string' : d.deleted !== true)
  ) {
    throw new KeyStoreFailureError(operation, name, 'the secret is not a key-store document');
  }
  return d as SecretDocument;
}

/**
 * A secret resource policy that admits only the principals whose ARN matches `rolePattern` (e.g.
 * `arn:aws:iam::*:role/kms-prod-*`, one stage's function roles): everyone else is denied reading,
 * changing and deleting the secret, whatever their IAM policies grant. Describing it and managing
 * its policy stay with the account's administrators, so a secret can never be locked away from them.
 */
export function onlyRolesPolicy(rolePattern: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OnlyThisStagesRoles',
        Effect: 'Deny',
        Principal: '*',
        Action: [
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
          'secretsmanager:DeleteSecret',
          'secretsmanager:RestoreSecret',
        ],
        Resource: '*',
        Condition: { ArnNotLike: { 'aws:PrincipalArn': rolePattern } },
      },
    ],
  });
}
