import { createHash, randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  type CreateSecretCommandInput,
  type CreateSecretCommandOutput,
  DeleteSecretCommand,
  type DeleteSecretCommandInput,
  type DeleteSecretCommandOutput,
  DescribeSecretCommand,
  type DescribeSecretCommandInput,
  type DescribeSecretCommandOutput,
  GetSecretValueCommand,
  type GetSecretValueCommandInput,
  type GetSecretValueCommandOutput,
  InvalidNextTokenException,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretsCommand,
  type ListSecretsCommandInput,
  type ListSecretsCommandOutput,
  PutResourcePolicyCommand,
  type PutResourcePolicyCommandInput,
  type PutResourcePolicyCommandOutput,
  PutSecretValueCommand,
  type PutSecretValueCommandInput,
  type PutSecretValueCommandOutput,
  ResourceExistsException,
  ResourceNotFoundException,
  type SecretsManagerClient,
  type Tag,
  UpdateSecretVersionStageCommand,
  type UpdateSecretVersionStageCommandInput,
  type UpdateSecretVersionStageCommandOutput,
} from '@aws-sdk/client-secrets-manager';
import type { AwsClientStub } from 'aws-sdk-client-mock';

interface FakeVersion {
  id: string;
  secretString?: string;
  secretBinary?: Buffer;
  stages: Set<string>;
  createdAt: number;
}

interface FakeSecret {
  name: string;
  arn: string;
  versions: Map<string, FakeVersion>;
  tags: Tag[];
  kmsKeyId?: string;
  resourcePolicy?: string;
  createdAt: number;
  /** Set once scheduled for deletion (with a recovery window, or a force delete still in progress). */
  deletedAt?: number;
  /** A force-deleted secret still visible as "scheduled for deletion" for this many more calls on its name. */
  lingerCalls?: number;
}

export interface FakeSecretsManagerOptions {
  region?: string;
  accountId?: string;
  /** ListSecrets page size, to exercise pagination (default 100, the API's maximum). */
  pageSize?: number;
  /**
   * Secrets Manager deletes asynchronously: after a force delete, the name stays "scheduled for
   * deletion" for this many further calls on it (default 0: gone at once).
   */
  forceDeleteLag?: number;
  /** Each call waits a few event-loop turns before it runs, so concurrent calls interleave (default true). */
  interleave?: boolean;
  /** Seed of the interleaving, for a reproducible run. */
  seed?: number;
}

const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const STAGE = /^[A-Za-z0-9_+=.@-]{1,256}$/;
const FILTER_VALUE = /^[a-zA-Z0-9 :_@/+=.-]*$/;
const metadata = () => ({ httpStatusCode: 400, requestId: randomUUID(), attempts: 1, totalRetryDelay: 0 });

/**
 * A stateful, in-memory AWS Secrets Manager behind aws-sdk-client-mock, for the commands the key
 * store uses, with the real API's rules as documented: one secret per name; ClientRequestToken
 * idempotency (same token and data: no-op; same token, other data: ResourceExistsException);
 * staging labels that live on one version at a time, AWSPREVIOUS following AWSCURRENT;
 * UpdateSecretVersionStage that fails unless the label is on RemoveFromVersionId; ARNs with a random
 * suffix per incarnation; secrets scheduled for deletion (InvalidRequestException on use, hidden
 * from ListSecrets); force deletes that may linger; `name` filters as case-sensitive prefixes;
 * paginated listing. Every command runs atomically, at a random point after it was sent.
 */
export class FakeSecretsManager {
  readonly #secrets = new Map<string, FakeSecret>();
  readonly #region: string;
  readonly #accountId: string;
  readonly #pageSize: number;
  readonly #forceDeleteLag: number;
  readonly #interleave: boolean;
  #seed: number;
  #clock = 0;

  /** When it returns an error, the call fails with it instead of running (an outage, a throttle). */
  failure: ((command: string, input: Record<string, unknown>) => Error | undefined) | undefined;
  /** Commands handled, by name (including failed ones). */
  readonly counts = new Map<string, number>();

  constructor(options: FakeSecretsManagerOptions = {}) {
    this.#region = options.region ?? 'us-east-1';
    this.#accountId = options.accountId ?? '123456789012';
    this.#pageSize = options.pageSize ?? 100;
    this.#forceDeleteLag = options.forceDeleteLag ?? 0;
    this.#interleave = options.interleave ?? true;
    this.#seed = options.seed ?? 0x2545f491;
  }

  /** Routes the stub's commands to this fake (call again after `stub.reset()`). */
  install(stub: AwsClientStub<SecretsManagerClient>): this {
    stub.on(CreateSecretCommand).callsFake((input: CreateSecretCommandInput) => this.#run('CreateSecret', input, () => this.createSecret(input)));
    stub.on(GetSecretValueCommand).callsFake((input: GetSecretValueCommandInput) => this.#run('GetSecretValue', input, () => this.getSecretValue(input)));
    stub.on(PutSecretValueCommand).callsFake((input: PutSecretValueCommandInput) => this.#run('PutSecretValue', input, () => this.putSecretValue(input)));
    stub
      .on(UpdateSecretVersionStageCommand)
      .callsFake((input: UpdateSecretVersionStageCommandInput) => this.#run('UpdateSecretVersionStage', input, () => this.updateSecretVersionStage(input)));
    stub.on(DeleteSecretCommand).callsFake((input: DeleteSecretCommandInput) => this.#run('DeleteSecret', input, () => this.deleteSecret(input)));
    stub.on(ListSecretsCommand).callsFake((input: ListSecretsCommandInput) => this.#run('ListSecrets', input, () => this.listSecrets(input)));
    stub.on(DescribeSecretCommand).callsFake((input: DescribeSecretCommandInput) => this.#run('DescribeSecret', input, () => this.describeSecret(input)));
    stub
      .on(PutResourcePolicyCommand)
      .callsFake((input: PutResourcePolicyCommandInput) => this.#run('PutResourcePolicy', input, () => this.putResourcePolicy(input)));
    return this;
  }

  // ---- inspection, for tests ----

  /** Names of the secrets that exist (scheduled for deletion included). */
  names(): string[] {
    return [...this.#secrets.keys()].sort();
  }

  /** A secret's versions: id → labels and SecretString. */
  versions(name: string): Array<{ id: string; stages: string[]; secretString?: string }> {
    const secret = this.#secrets.get(name);
    if (!secret) return [];
    return [...secret.versions.values()].map((v) => ({ id: v.id, stages: [...v.stages].sort(), secretString: v.secretString }));
  }

  /** The resource policy on a secret, if one was put. */
  resourcePolicy(name: string): string | undefined {
    return this.#secrets.get(name)?.resourcePolicy;
  }

  /** The KMS key a secret was created with, if one was named. */
  kmsKeyOf(name: string): string | undefined {
    return this.#secrets.get(name)?.kmsKeyId;
  }

  tags(name: string): Tag[] {
    return this.#secrets.get(name)?.tags ?? [];
  }

  /** Replaces the current version's SecretString behind the API (a corrupt or foreign secret). */
  overwriteCurrent(name: string, secretString: string): void {
    const secret = this.#secrets.get(name);
    const current = secret && [...secret.versions.values()].find((v) => v.stages.has('AWSCURRENT'));
    if (!current) throw new Error(`no secret ${name}`);
    current.secretString = secretString;
  }

  // ---- the API ----

  createSecret(input: CreateSecretCommandInput): CreateSecretCommandOutput {
    const name = input.Name ?? '';
    if (!NAME.test(name)) throw invalidParameter(`Invalid name: ${name}`);
    assertOneValue(input);
    const token = input.ClientRequestToken ?? randomUUID();
    assertToken(token);
    const existing = this.#lookupName(name);
    if (existing?.deletedAt !== undefined) {
      throw new InvalidRequestException({
        $metadata: metadata(),
        message: "You can't create this secret because a secret with this name is already scheduled for deletion.",
      });
    }
    if (existing) {
      const version = existing.versions.get(token);
      if (version && sameData(version, input)) return { ARN: existing.arn, Name: existing.name, VersionId: version.id, $metadata: ok() };
      throw new ResourceExistsException({ $metadata: metadata(), message: `The operation failed because the secret ${name} already exists.` });
    }
    const secret: FakeSecret = {
      name,
      arn: `arn:aws:secretsmanager:${this.#region}:${this.#accountId}:secret:${name}-${this.#suffix()}`,
      versions: new Map(),
      tags: [...(input.Tags ?? [])],
      ...(input.KmsKeyId ? { kmsKeyId: input.KmsKeyId } : {}),
      createdAt: ++this.#clock,
    };
    secret.versions.set(token, { id: token, ...dataOf(input), stages: new Set(['AWSCURRENT']), createdAt: ++this.#clock });
    this.#secrets.set(name, secret);
    return { ARN: secret.arn, Name: name, VersionId: token, $metadata: ok() };
  }

  putResourcePolicy(input: PutResourcePolicyCommandInput): PutResourcePolicyCommandOutput {
    const secret = this.#usable(input.SecretId);
    JSON.parse(input.ResourcePolicy ?? '');
    secret.resourcePolicy = input.ResourcePolicy;
    return { ARN: secret.arn, Name: secret.name, $metadata: ok() };
  }

  getSecretValue(input: GetSecretValueCommandInput): GetSecretValueCommandOutput {
    const secret = this.#usable(input.SecretId);
    let version: FakeVersion | undefined;
    if (input.VersionId !== undefined) {
      version = secret.versions.get(input.VersionId);
      if (version && input.VersionStage !== undefined && !version.stages.has(input.VersionStage)) version = undefined;
    } else {
      const stage = input.VersionStage ?? 'AWSCURRENT';
      version = [...secret.versions.values()].find((v) => v.stages.has(stage));
    }
    if (!version) {
      throw new ResourceNotFoundException({
        $metadata: metadata(),
        message: "Secrets Manager can't find the specified secret value for the requested version or staging label.",
      });
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.id,
      ...(version.secretString !== undefined ? { SecretString: version.secretString } : {}),
      ...(version.secretBinary !== undefined ? { SecretBinary: new Uint8Array(version.secretBinary) } : {}),
      VersionStages: [...version.stages],
      CreatedDate: new Date(version.createdAt),
      $metadata: ok(),
    };
  }

  putSecretValue(input: PutSecretValueCommandInput): PutSecretValueCommandOutput {
    const secret = this.#usable(input.SecretId);
    assertOneValue(input);
    const token = input.ClientRequestToken ?? randomUUID();
    assertToken(token);
    if (input.VersionStages !== undefined) {
      if (input.VersionStages.length < 1 || input.VersionStages.length > 20) throw invalidParameter('VersionStages must hold 1 to 20 labels.');
      for (const stage of input.VersionStages) if (!STAGE.test(stage)) throw invalidParameter(`Invalid staging label ${stage}.`);
    }
    const existing = secret.versions.get(token);
    if (existing) {
      if (sameData(existing, input)) return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...existing.stages], $metadata: ok() };
      throw new ResourceExistsException({ $metadata: metadata(), message: "You can't modify an existing version, you can only create a new version." });
    }
    const version: FakeVersion = { id: token, ...dataOf(input), stages: new Set(), createdAt: ++this.#clock };
    secret.versions.set(token, version);
    for (const stage of input.VersionStages ?? ['AWSCURRENT']) moveStage(secret, stage, version);
    return { ARN: secret.arn, Name: secret.name, VersionId: token, VersionStages: [...version.stages], $metadata: ok() };
  }

  updateSecretVersionStage(input: UpdateSecretVersionStageCommandInput): UpdateSecretVersionStageCommandOutput {
    const secret = this.#usable(input.SecretId);
    const stage = input.VersionStage ?? '';
    if (!STAGE.test(stage)) throw invalidParameter(`Invalid staging label ${stage}.`);
    const holder = [...secret.versions.values()].find((v) => v.stages.has(stage));
    const moveTo = input.MoveToVersionId === undefined ? undefined : secret.versions.get(input.MoveToVersionId);
    if (input.MoveToVersionId !== undefined && !moveTo) throw invalidParameter(`The version ${input.MoveToVersionId} does not exist.`);
    if (input.RemoveFromVersionId !== undefined) {
      if (!holder || holder.id !== input.RemoveFromVersionId) {
        throw invalidParameter(`The staging label ${stage} is not attached to version ${input.RemoveFromVersionId}.`);
      }
    } else if (moveTo && holder && holder !== moveTo) {
      throw invalidParameter(`The staging label ${stage} is attached to another version; specify RemoveFromVersionId.`);
    }
    if (!moveTo) {
      if (stage === 'AWSCURRENT') throw invalidParameter('You can only move AWSCURRENT to another version, not remove it.');
      holder?.stages.delete(stage);
    } else {
      moveStage(secret, stage, moveTo);
    }
    return { ARN: secret.arn, Name: secret.name, $metadata: ok() };
  }

  deleteSecret(input: DeleteSecretCommandInput): DeleteSecretCommandOutput {
    if (input.ForceDeleteWithoutRecovery && input.RecoveryWindowInDays !== undefined) {
      throw invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
    }
    const secret = this.#resolve(input.SecretId);
    if (!secret) {
      // Documented: a force delete of a deleted or nonexistent secret is not ResourceNotFoundException.
      if (input.ForceDeleteWithoutRecovery)
        return { ...(input.SecretId?.startsWith('arn:') ? { ARN: input.SecretId } : { Name: input.SecretId }), DeletionDate: new Date(), $metadata: ok() };
      throw notFound();
    }
    if (input.ForceDeleteWithoutRecovery) {
      if (this.#forceDeleteLag > 0 && secret.lingerCalls === undefined) {
        secret.deletedAt = ++this.#clock;
        secret.lingerCalls = this.#forceDeleteLag;
      } else if (secret.lingerCalls === undefined) {
        this.#secrets.delete(secret.name);
      }
      return { ARN: secret.arn, Name: secret.name, DeletionDate: new Date(), $metadata: ok() };
    }
    if (secret.deletedAt !== undefined) {
      throw new InvalidRequestException({ $metadata: metadata(), message: "You tried to perform the operation on a secret that's currently marked deleted." });
    }
    secret.deletedAt = ++this.#clock;
    return { ARN: secret.arn, Name: secret.name, DeletionDate: new Date(Date.now() + 30 * 86_400_000), $metadata: ok() };
  }

  listSecrets(input: ListSecretsCommandInput): ListSecretsCommandOutput {
    const prefixes: string[] = [];
    for (const filter of input.Filters ?? []) {
      if (filter.Key !== 'name') throw invalidParameter(`the fake supports only the name filter, not ${filter.Key}`);
      const values = filter.Values ?? [];
      if (values.length < 1 || values.length > 10) throw invalidParameter('Filter values must hold 1 to 10 items.');
      for (const v of values) {
        if (v.length > 512 || !FILTER_VALUE.test(v)) throw invalidParameter(`Invalid filter value ${v}.`);
        prefixes.push(v);
      }
    }
    const max = Math.min(input.MaxResults ?? 100, this.#pageSize);
    if (input.MaxResults !== undefined && (input.MaxResults < 1 || input.MaxResults > 100)) throw invalidParameter('MaxResults must be 1 to 100.');
    const all = [...this.#secrets.values()]
      .filter((s) => input.IncludePlannedDeletion || s.deletedAt === undefined)
      .filter((s) => prefixes.length === 0 || prefixes.some((p) => s.name.startsWith(p)))
      .sort((a, b) => a.createdAt - b.createdAt);
    let offset = 0;
    if (input.NextToken !== undefined) {
      const decoded = Number(
        Buffer.from(input.NextToken, 'base64')
          .toString('utf8')
          .replace(/^page:/, ''),
      );
      if (!Number.isInteger(decoded) || decoded < 0) throw new InvalidNextTokenException({ $metadata: metadata(), message: 'The NextToken value is invalid.' });
      offset = decoded;
    }
    const page = all.slice(offset, offset + max);
    const next = offset + max < all.length ? Buffer.from(`page:${offset + max}`).toString('base64') : undefined;
    return {
      SecretList: page.map((s) => ({
        ARN: s.arn,
        Name: s.name,
        Tags: s.tags,
        CreatedDate: new Date(s.createdAt),
        ...(s.deletedAt !== undefined ? { DeletedDate: new Date(s.deletedAt) } : {}),
      })),
      ...(next ? { NextToken: next } : {}),
      $metadata: ok(),
    };
  }

  describeSecret(input: DescribeSecretCommandInput): DescribeSecretCommandOutput {
    const secret = this.#resolve(input.SecretId);
    if (!secret) throw notFound();
    return {
      ARN: secret.arn,
      Name: secret.name,
      Tags: secret.tags,
      VersionIdsToStages: Object.fromEntries([...secret.versions.values()].map((v) => [v.id, [...v.stages]])),
      ...(secret.deletedAt !== undefined ? { DeletedDate: new Date(secret.deletedAt) } : {}),
      $metadata: ok(),
    };
  }

  // ---- internals ----

  async #run<T>(command: string, input: object, handle: () => T): Promise<T> {
    this.counts.set(command, (this.counts.get(command) ?? 0) + 1);
    if (this.#interleave) {
      for (let turns = this.#next() % 3; turns > 0; turns--) await new Promise((resolve) => setImmediate(resolve));
    }
    const failure = this.failure?.(command, input as Record<string, unknown>);
    if (failure) throw failure;
    return handle();
  }

  /** The secret named by a name or a full ARN, if it exists (a lingering force delete counts down). */
  #resolve(secretId: string | undefined): FakeSecret | undefined {
    if (!secretId) throw invalidParameter('SecretId is required.');
    const secret = secretId.startsWith('arn:') ? [...this.#secrets.values()].find((s) => s.arn === secretId) : this.#secrets.get(secretId);
    if (!secret) return undefined;
    return this.#lookupName(secret.name);
  }

  #lookupName(name: string): FakeSecret | undefined {
    const secret = this.#secrets.get(name);
    if (secret?.lingerCalls !== undefined) {
      if (secret.lingerCalls <= 0) {
        this.#secrets.delete(name);
        return undefined;
      }
      secret.lingerCalls--;
    }
    return secret;
  }

  /** A secret that exists and is not scheduled for deletion. */
  #usable(secretId: string | undefined): FakeSecret {
    const secret = this.#resolve(secretId);
    if (!secret) throw notFound();
    if (secret.deletedAt !== undefined) {
      throw new InvalidRequestException({
        $metadata: metadata(),
        message: "You can't perform this operation on the secret because it was marked for deletion.",
      });
    }
    return secret;
  }

  #suffix(): string {
    const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    let out = '';
    for (let i = 0; i < 6; i++) out += chars[this.#next() % chars.length];
    return out;
  }

  /** xorshift32: a reproducible sequence for interleavings and ARN suffixes. */
  #next(): number {
    let x = this.#seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#seed = x >>> 0;
    return this.#seed;
  }
}

/** Moves a label to `version`; moving AWSCURRENT also moves AWSPREVIOUS to where AWSCURRENT was. */
function moveStage(secret: FakeSecret, stage: string, version: FakeVersion): void {
  const holder = [...secret.versions.values()].find((v) => v.stages.has(stage));
  if (holder === version) return;
  holder?.stages.delete(stage);
  version.stages.add(stage);
  if (stage === 'AWSCURRENT' && holder) {
    for (const v of secret.versions.values()) v.stages.delete('AWSPREVIOUS');
    holder.stages.add('AWSPREVIOUS');
  }
}

function dataOf(input: { SecretString?: string; SecretBinary?: Uint8Array }): Pick<FakeVersion, 'secretString' | 'secretBinary'> {
  return input.SecretString !== undefined ? { secretString: input.SecretString } : { secretBinary: Buffer.from(input.SecretBinary!) };
}

function sameData(version: FakeVersion, input: { SecretString?: string; SecretBinary?: Uint8Array }): boolean {
  if (input.SecretString !== undefined) return version.secretString === input.SecretString;
  return version.secretBinary !== undefined && input.SecretBinary !== undefined && version.secretBinary.equals(Buffer.from(input.SecretBinary));
}

function assertOneValue(input: { SecretString?: string; SecretBinary?: Uint8Array }): void {
  if ((input.SecretString === undefined) === (input.SecretBinary === undefined)) {
    throw invalidParameter('You must provide either SecretString or SecretBinary, but not both.');
  }
  const size = input.SecretString !== undefined ? Buffer.byteLength(input.SecretString) : input.SecretBinary!.length;
  if (size > 65_536) throw invalidParameter('The secret value is larger than 65536 bytes.');
}

function assertToken(token: string): void {
  if (token.length < 32 || token.length > 64) throw invalidParameter('ClientRequestToken must be 32 to 64 characters.');
}

function invalidParameter(message: string): InvalidParameterException {
  return new InvalidParameterException({ $metadata: metadata(), message });
}

function notFound(): ResourceNotFoundException {
  return new ResourceNotFoundException({ $metadata: metadata(), message: "Secrets Manager can't find the specified secret." });
}

function ok() {
  return { httpStatusCode: 200, requestId: randomUUID(), attempts: 1, totalRetryDelay: 0 };
}

/** A stable fingerprint of a secret's versions, to show that a failed write changed nothing. */
export function fingerprint(fake: FakeSecretsManager, name: string): string {
  return createHash('sha256')
    .update(JSON.stringify(fake.versions(name)))
    .digest('hex');
}
