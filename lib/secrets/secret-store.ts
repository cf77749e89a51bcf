import { randomUUID, timingSafeEqual } from 'node:crypto';
import { isoSeconds } from '@alibaba-kms-compatible/client/internal/time';
import { InvalidParameterError, MissingParameterError, SecretExistsError, SecretInDeleteWindowError, SecretLimitExceededError } from '../errors.js';
import { SecretNotFoundError, SecretNotPendingDeletionError, SecretVersionExistsError, SecretVersionNotFoundError } from '../errors.js';
import type { Keyring } from '../keyring/keyring.js';
import { EntryExistsError, EntryNotFoundError, type KeyStore, RevisionConflictError } from '../keystore/key-store.js';
import { MAX_TAGS, tagKeysOfList, tagsOfList } from '../operations/tags.js';
import {
  acsSecretArn,
  assertSecretName,
  assertStageLabel,
  assertVersionId,
  newArnSuffix,
  parseSecretReference,
  resolveSecretReference,
  type SecretScope,
} from './names.js';
import {
  decodeSecretRecord,
  decodeValueRecord,
  encodeSecretRecord,
  encodeValueRecord,
  type SecretRecord,
  type SecretValueType,
  type SecretVersionRecord,
  secretEntryNames,
} from './records.js';
import { type SealBinding, type SealedValue, SecretSealer } from './seal.js';
import {
  CURRENT,
  PENDING,
  PREVIOUS,
  type StageLimits,
  type StageMap,
  type StageMove,
  storedStage,
  versionsToPrune,
  withNewVersion,
  withStageMove,
} from './stages.js';

export const MAX_DESCRIPTION = 2048;
/** The versions UpdateSecret's new key seals again (AWS: AWSCURRENT, AWSPREVIOUS, AWSPENDING). */
const RESEALED_STAGES: ReadonlySet<string> = new Set([CURRENT, PREVIOUS, PENDING]);
export const MIN_RECOVERY_DAYS = 7;
export const MAX_RECOVERY_DAYS = 30;
export const DEFAULT_RECOVERY_DAYS = 30;

/** A version's value: text (its UTF-8 bytes) or bytes. The store zeroes nothing of the caller's. */
export interface SecretValue {
  type: SecretValueType;
  bytes: Buffer;
}

export interface SecretVersionView {
  versionId: string;
  createdAt: string;
  /** Stored spelling (see lib/secrets/stages.ts `spelledStage`). */
  labels: string[];
  type: SecretValueType;
  keyId: string;
}

/** A secret as the operations answer it: never a value. */
export interface SecretView {
  name: string;
  /** The AWS ARN suffix (see names.ts `awsSecretArn`). */
  suffix: string;
  /** The acs ARN. */
  arn: string;
  description: string;
  /** The user's CMK; absent: the service's default secrets key. */
  kmsKeyId?: string;
  createdAt: string;
  updatedAt: string;
  plannedDeleteAt?: string;
  tags: Array<[string, string]>;
  /** Oldest first. */
  versions: SecretVersionView[];
}

/** GetSecretValue's answer. `value` is the caller's to zero. */
export interface SecretValueView {
  secret: SecretView;
  version: SecretVersionView;
  value: Buffer;
}

/**
 * What names a secret to the store: a reference in any of the four forms of ./names.ts, or a
 * secret already read and authorised (its name and ARN suffix), which names that secret only —
 * never one made again under its name since, nor another an ambiguous ARN could name.
 */
export type SecretRef = string | Pick<SecretView, 'name' | 'suffix'>;

const refText = (ref: SecretRef): string => (typeof ref === 'string' ? ref : ref.name);

export interface SecretStoreOptions {
  scope: SecretScope;
  /** The CMK a secret made without one uses (./default-key.ts: `alias/kms/secrets`, made on first use). */
  defaultKeyId: () => Promise<string>;
  now?: () => number;
}

export interface NewSecret {
  name: string;
  /** Required with a value. */
  versionId?: string;
  /** AWS's CreateSecret may leave it out; Alibaba's always gives one. */
  value?: SecretValue;
  description?: string;
  kmsKeyId?: string;
  tags?: ReadonlyArray<[string, string]>;
  /** The AWS ARN suffix the secret gets (one the caller was authorised on); default: a new one. */
  suffix?: string;
}

/**
 * The protocol-independent secret store over a KeyStore and the keyring: metadata in one mutable
 * entry per secret, changed by compare-and-swap with retry; each version's sealed value in a
 * write-once entry (see ./records.ts). While a secret is scheduled for deletion only describe,
 * list, listVersions, restore and a forced deletion serve it; everything else is
 * SecretInDeleteWindowError. References (`ref`) are any of the four forms of ./names.ts.
 */
export class SecretStore {
  readonly #store: KeyStore;
  readonly #sealer: SecretSealer;
  readonly #scope: SecretScope;
  readonly #defaultKeyId: () => Promise<string>;
  readonly #now: () => number;

  constructor(store: KeyStore, keyring: Keyring, options: SecretStoreOptions) {
    this.#store = store;
    this.#sealer = new SecretSealer(keyring);
    this.#scope = options.scope;
    this.#defaultKeyId = options.defaultKeyId;
    this.#now = options.now ?? Date.now;
  }

  /** Where references resolve: this service's region and account, and its AWS regions. */
  get scope(): SecretScope {
    return this.#scope;
  }

  /** The key a secret made without one is sealed under (made on first use: see SecretStoreOptions.defaultKeyId). */
  defaultKeyId(): Promise<string> {
    return this.#defaultKeyId();
  }

  /**
   * CreateSecret. A name in use is SecretExistsError, unless the call repeats exactly the name,
   * version id and value of an existing version (then it succeeds, `created` false); a name pending
   * deletion is SecretInDeleteWindowError. The key must be usable now.
   */
  async create(input: NewSecret): Promise<{ secret: SecretView; versionId?: string; created: boolean }> {
    assertSecretName(input.name, 'SecretName');
    if (input.value && input.versionId === undefined) throw new MissingParameterError('VersionId');
    if (input.versionId !== undefined) assertVersionId(input.versionId);
    assertDescription(input.description);
    const tags = input.tags?.length ? validTags(input.tags) : [];
    if (tags.length > MAX_TAGS) throw new SecretLimitExceededError(input.name, `a secret carries at most ${MAX_TAGS} tags.`);
    const existing = await this.#read(input.name);
    if (existing) return this.#repeatedCreate(existing.record, input);
    const keyId = input.kmsKeyId ?? (await this.#defaultKeyId());
    await this.#sealer.assertSealable(keyId);
    const nowMs = this.#now();
    const now = isoSeconds(nowMs);
    const record: SecretRecord = {
      name: input.name,
      suffix: input.suffix ?? newArnSuffix(),
      uid: randomUUID(),
      description: input.description ?? '',
      ...(input.kmsKeyId === undefined ? {} : { kmsKeyId: input.kmsKeyId }),
      createdAt: now,
      updatedAt: now,
      ...(tags.length ? { tags: sortTags(tags) } : {}),
      versions: [],
    };
    let written: string | undefined;
    if (input.value) {
      const versionId = input.versionId!;
      written = await this.#writeValue(record, keyId, versionId, input.value);
      record.versions.push({ versionId, createdAt: now, createdAtMs: nowMs, labels: [CURRENT], type: input.value.type, keyId, entry: written });
    }
    try {
      await this.#store.create(secretEntryNames.meta(input.name), encodeSecretRecord(record), { writeOnce: false });
    } catch (err) {
      if (written) await this.#store.destroy(secretEntryNames.value(record.uid, written));
      if (!(err instanceof EntryExistsError)) throw err;
      // Another create of the name landed first: answer as if it had been there.
      const raced = await this.#read(input.name);
      if (!raced) throw new SecretExistsError(input.name);
      return this.#repeatedCreate(raced.record, input);
    }
    return { secret: viewOf(record, this.#scope), ...(input.versionId && input.value ? { versionId: input.versionId } : {}), created: true };
  }

  async #repeatedCreate(record: SecretRecord, input: NewSecret): Promise<{ secret: SecretView; versionId?: string; created: boolean }> {
    if (record.plannedDeleteAt) throw new SecretInDeleteWindowError(input.name);
    const version = input.versionId === undefined ? undefined : record.versions.find((v) => v.versionId === input.versionId);
    if (!input.value || !version || !(await this.#sameValue(record, version, input.value))) throw new SecretExistsError(input.name);
    return { secret: viewOf(record, this.#scope), versionId: version.versionId, created: false };
  }

  /**
   * GetSecretValue: the version named by id or by stage (either spelling); both given: they must
   * name the same version; neither: Current. A key not usable now fails with its key-state error.
   */
  async getValue(ref: SecretRef, select: { versionId?: string; stage?: string } = {}): Promise<SecretValueView> {
    const { record } = await this.#resolve(ref);
    if (record.plannedDeleteAt) throw new SecretInDeleteWindowError(record.name);
    const version = selectVersion(record, select);
    const value = await this.#openVersion(record, version);
    return { secret: viewOf(record, this.#scope), version: versionView(version), value };
  }

  /**
   * PutSecretValue: a new version (stages: see stages.ts `withNewVersion`). A version id the secret
   * has already: the same value and type succeed with no change (`created` false), another is
   * SecretVersionExistsError. Deprecated versions beyond 100 are dropped, the oldest first.
   */
  async putValue(
    ref: SecretRef,
    input: { versionId: string; value: SecretValue; stages?: readonly string[]; limits?: StageLimits },
  ): Promise<{ secret: SecretView; version: SecretVersionView; created: boolean }> {
    assertVersionId(input.versionId);
    for (const stage of input.stages ?? []) assertStageLabel(stage, 'VersionStages');
    const { record: first } = await this.#resolve(ref);
    const name = first.name;
    const repeat = async (record: SecretRecord, version: SecretVersionRecord) => {
      if (!(await this.#sameValue(record, version, input.value))) throw new SecretVersionExistsError(name, input.versionId);
      return { secret: viewOf(record, this.#scope), version: versionView(version), created: false };
    };
    if (first.plannedDeleteAt) throw new SecretInDeleteWindowError(name);
    const known = first.versions.find((v) => v.versionId === input.versionId);
    if (known) return repeat(first, known);
    const keyId = first.kmsKeyId ?? (await this.#defaultKeyId());
    const entry = await this.#writeValue(first, keyId, input.versionId, input.value);
    const ours = secretEntryNames.value(first.uid, entry);
    let landed: { record: SecretRecord; dropped: SecretVersionRecord[] } | undefined;
    try {
      for (;;) {
        const current = await this.#read(name);
        if (!current || current.record.uid !== first.uid) throw new SecretNotFoundError(refText(ref));
        const { record, revision } = current;
        if (record.plannedDeleteAt) throw new SecretInDeleteWindowError(name);
        const raced = record.versions.find((v) => v.versionId === input.versionId);
        if (raced) {
          await this.#store.destroy(ours);
          return repeat(record, raced);
        }
        const nowMs = this.#now();
        const stages = withNewVersion(name, stageMapOf(record), input.versionId, input.stages, input.limits);
        const added: SecretVersionRecord = {
          versionId: input.versionId,
          createdAt: isoSeconds(nowMs),
          createdAtMs: nowMs,
          labels: [],
          type: input.value.type,
          keyId,
          entry,
        };
        const prune = new Set(versionsToPrune(stages));
        const next: SecretRecord = {
          ...record,
          updatedAt: isoSeconds(nowMs),
          versions: [...record.versions, added].filter((v) => !prune.has(v.versionId)).map((v) => ({ ...v, labels: [...stages.get(v.versionId)!] })),
        };
        try {
          await this.#store.update(secretEntryNames.meta(name), revision, encodeSecretRecord(next));
        } catch (err) {
          if (err instanceof RevisionConflictError) continue;
          throw err;
        }
        landed = { record: next, dropped: record.versions.filter((v) => prune.has(v.versionId)) };
        break;
      }
    } catch (err) {
      await this.#store.destroy(ours).catch(() => undefined);
      throw err;
    }
    for (const version of landed.dropped) await this.#store.destroy(secretEntryNames.value(first.uid, version.entry));
    const version = landed.record.versions.find((v) => v.versionId === input.versionId)!;
    return { secret: viewOf(landed.record, this.#scope), version: versionView(version), created: true };
  }

  /** DescribeSecret: served while pending deletion too. */
  async describe(ref: SecretRef): Promise<SecretView> {
    return viewOf((await this.#resolve(ref)).record, this.#scope);
  }

  /** Every secret, by name; those pending deletion too unless `includePlannedDeletion` is false (AWS's default). */
  async list(options: { includePlannedDeletion?: boolean } = {}): Promise<SecretView[]> {
    const views: SecretView[] = [];
    for (const entryName of await this.#store.list(secretEntryNames.metaPrefix)) {
      const entry = await this.#store.get(entryName);
      if (!entry) continue;
      const record = decodeSecretRecord(entry.value);
      if (record.plannedDeleteAt && options.includePlannedDeletion === false) continue;
      views.push(viewOf(record, this.#scope));
    }
    return views.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** ListSecretVersionIds: the labelled versions, or every kept version with `includeDeprecated`; oldest first. */
  async listVersions(ref: SecretRef, options: { includeDeprecated?: boolean } = {}): Promise<{ secret: SecretView; versions: SecretVersionView[] }> {
    const secret = viewOf((await this.#resolve(ref)).record, this.#scope);
    return { secret, versions: secret.versions.filter((v) => options.includeDeprecated || v.labels.length > 0) };
  }

  /** UpdateSecret's Description. */
  async updateDescription(ref: SecretRef, description: string): Promise<SecretView> {
    assertDescription(description);
    return this.#update(ref, (record) => ({ ...record, description }));
  }

  /**
   * UpdateSecret's KmsKeyId (undefined: the default key): versions written from now on are sealed
   * under it, and, as AWS does, the Current, Previous and Pending versions are sealed again under
   * it (new data keys, new value entries; the old entries are destroyed once the metadata names
   * the new ones). Other versions keep their key. The old key must still open them.
   */
  async updateKey(ref: SecretRef, kmsKeyId: string | undefined): Promise<SecretView> {
    const target = kmsKeyId ?? (await this.#defaultKeyId());
    await this.#sealer.assertSealable(target);
    const { record } = await this.#resolve(ref);
    if (record.plannedDeleteAt) throw new SecretInDeleteWindowError(record.name);
    const resealed = new Map<string, { from: string; to: string }>();
    const destroy = (entry: string) => this.#store.destroy(secretEntryNames.value(record.uid, entry));
    let next: SecretRecord;
    try {
      for (const version of record.versions) {
        if (version.keyId === target || !version.labels.some((l) => RESEALED_STAGES.has(l))) continue;
        const plaintext = await this.#openVersion(record, version);
        try {
          const to = await this.#writeValue(record, target, version.versionId, { type: version.type, bytes: plaintext });
          resealed.set(version.versionId, { from: version.entry, to });
        } finally {
          plaintext.fill(0);
        }
      }
      next = await this.#change(ref, ({ kmsKeyId: _old, ...current }) => {
        if (current.uid !== record.uid) throw new SecretNotFoundError(refText(ref));
        return {
          ...current,
          ...(kmsKeyId === undefined ? {} : { kmsKeyId }),
          versions: current.versions.map((v) => {
            const moved = resealed.get(v.versionId);
            // Only the entry that was read: a version changed since keeps what it has.
            return moved && v.entry === moved.from ? { ...v, keyId: target, entry: moved.to } : v;
          }),
        };
      });
    } catch (err) {
      for (const { to } of resealed.values()) await destroy(to).catch(() => undefined);
      throw err;
    }
    for (const [versionId, { from, to }] of resealed) {
      const landed = next.versions.find((v) => v.versionId === versionId)?.entry === to;
      await destroy(landed ? from : to);
    }
    return viewOf(next, this.#scope);
  }

  /** UpdateSecretVersionStage (see stages.ts `withStageMove`). */
  async moveStage(ref: SecretRef, move: StageMove, limits?: StageLimits): Promise<SecretView> {
    assertStageLabel(move.stage, 'VersionStage');
    return this.#update(ref, (record) => {
      const stages = withStageMove(record.name, stageMapOf(record), move, limits);
      return { ...record, versions: record.versions.map((v) => ({ ...v, labels: [...stages.get(v.versionId)!] })) };
    });
  }

  /** TagResource: adds tags (an existing key's value replaced); at most 20. */
  async tag(ref: SecretRef, tags: ReadonlyArray<[string, string]>): Promise<SecretView> {
    const valid = validTags(tags);
    return this.#update(ref, (record) => {
      const merged = new Map(record.tags ?? []);
      for (const [key, value] of valid) merged.set(key, value);
      if (merged.size > MAX_TAGS) throw new SecretLimitExceededError(record.name, `a secret carries at most ${MAX_TAGS} tags.`);
      return { ...record, tags: sortTags([...merged]) };
    });
  }

  /** UntagResource: removes the tags named (keys it does not carry are ignored). */
  async untag(ref: SecretRef, keys: readonly string[]): Promise<SecretView> {
    const drop = new Set(tagKeysOfList([...keys], 'TagKeys'));
    return this.#update(ref, ({ tags, ...record }) => {
      const left = (tags ?? []).filter(([key]) => !drop.has(key));
      return left.length ? { ...record, tags: left } : record;
    });
  }

  /**
   * DeleteSecret. With a window (7–30 days, default 30): scheduled, restorable until then; a
   * secret already pending is SecretInDeleteWindowError. `force`: destroyed now, pending or not.
   */
  async scheduleDeletion(ref: SecretRef, options: { windowDays?: number; force?: boolean } = {}): Promise<{ secret: SecretView; plannedDeleteAt: string }> {
    if (options.force && options.windowDays !== undefined) {
      throw new InvalidParameterError('RecoveryWindowInDays', 'It cannot be given with ForceDeleteWithoutRecovery.');
    }
    if (options.force) {
      const { record } = await this.#resolve(ref);
      const plannedDeleteAt = isoSeconds(this.#now());
      await this.#destroy(record.name, record.uid);
      return { secret: { ...viewOf(record, this.#scope), plannedDeleteAt }, plannedDeleteAt };
    }
    const days = options.windowDays ?? DEFAULT_RECOVERY_DAYS;
    if (!Number.isInteger(days) || days < MIN_RECOVERY_DAYS || days > MAX_RECOVERY_DAYS) {
      throw new InvalidParameterError('RecoveryWindowInDays', `It must be a whole number of days from ${MIN_RECOVERY_DAYS} to ${MAX_RECOVERY_DAYS}.`);
    }
    const plannedDeleteAt = isoSeconds(this.#now() + days * 86_400_000);
    const secret = await this.#update(ref, (record) => ({ ...record, plannedDeleteAt }));
    return { secret, plannedDeleteAt };
  }

  /** RestoreSecret: only while pending deletion and before its time (else SecretNotPendingDeletionError / SecretNotFoundError). */
  async restore(ref: SecretRef): Promise<SecretView> {
    const nowIso = isoSeconds(this.#now());
    return this.#update(
      ref,
      ({ plannedDeleteAt, ...record }) => {
        if (!plannedDeleteAt) throw new SecretNotPendingDeletionError(record.name);
        if (record.destructionStarted || plannedDeleteAt <= nowIso) throw new SecretNotFoundError(refText(ref));
        return record;
      },
      { whilePending: true },
    );
  }

  /**
   * The scheduled job: destroys every secret whose planned deletion time has come (its values,
   * then its metadata). Idempotent; a run that dies half-way is finished by the next. Returns the
   * names destroyed.
   */
  async destroyExpired(): Promise<string[]> {
    const nowIso = isoSeconds(this.#now());
    const destroyed: string[] = [];
    for (const entryName of await this.#store.list(secretEntryNames.metaPrefix)) {
      const entry = await this.#store.get(entryName);
      if (!entry) continue;
      const record = decodeSecretRecord(entry.value);
      if (!record.plannedDeleteAt || record.plannedDeleteAt > nowIso) continue;
      if (await this.#destroy(record.name, record.uid, nowIso)) destroyed.push(record.name);
    }
    return destroyed;
  }

  /**
   * Destroys one incarnation of a secret: claimed first by compare-and-swap (so a racing restore
   * either landed before, and `due` fails, or sees destructionStarted and is refused), then every
   * value entry, then the metadata. With `dueBy`, only if still planned by then. Returns whether
   * anything was destroyed.
   */
  async #destroy(name: string, uid: string, dueBy?: string): Promise<boolean> {
    const metaName = secretEntryNames.meta(name);
    for (;;) {
      const current = await this.#read(name);
      if (!current || current.record.uid !== uid) return false;
      const { record, revision } = current;
      if (dueBy !== undefined && (!record.plannedDeleteAt || record.plannedDeleteAt > dueBy)) return false;
      if (record.destructionStarted) break;
      try {
        await this.#store.update(metaName, revision, encodeSecretRecord({ ...record, destructionStarted: isoSeconds(this.#now()) }));
        break;
      } catch (err) {
        if (!(err instanceof RevisionConflictError)) throw err;
      }
    }
    for (const valueName of await this.#store.list(secretEntryNames.valuesOf(uid))) await this.#store.destroy(valueName);
    for (;;) {
      const current = await this.#read(name);
      if (!current || current.record.uid !== uid) return true;
      try {
        await this.#store.delete(metaName, current.revision);
        return true;
      } catch (err) {
        if (!(err instanceof RevisionConflictError || err instanceof EntryNotFoundError)) throw err;
      }
    }
  }

  // ---- helpers ----

  async #read(name: string): Promise<{ record: SecretRecord; revision: number } | undefined> {
    const entry = await this.#store.get(secretEntryNames.meta(name));
    if (!entry) return undefined;
    const record = decodeSecretRecord(entry.value);
    // The entry is named by a digest: only the secret of exactly this name counts.
    return record.name === name ? { record, revision: entry.revision } : undefined;
  }

  /** The secret a reference names, or SecretNotFoundError. A secret whose destruction began is gone. */
  async #resolve(ref: SecretRef): Promise<{ record: SecretRecord; revision: number }> {
    if (typeof ref !== 'string') {
      const read = await this.#read(ref.name);
      if (!read || read.record.destructionStarted || read.record.suffix !== ref.suffix) throw new SecretNotFoundError(ref.name);
      return read;
    }
    const reference = parseSecretReference(ref, this.#scope);
    const found = await resolveSecretReference(reference, async (name) => {
      const read = await this.#read(name);
      return read && !read.record.destructionStarted ? { ...read, suffix: read.record.suffix } : undefined;
    });
    if (!found) throw new SecretNotFoundError(refText(ref));
    return { record: found.record, revision: found.revision };
  }

  /** {@link #change}, answered as a view. */
  async #update(ref: SecretRef, change: (record: SecretRecord) => SecretRecord, options: { whilePending?: boolean } = {}): Promise<SecretView> {
    return viewOf(await this.#change(ref, change, options), this.#scope);
  }

  /** Changes a secret's metadata by compare-and-swap, retrying on a concurrent writer; refused while pending deletion unless `whilePending`. */
  async #change(ref: SecretRef, change: (record: SecretRecord) => SecretRecord, options: { whilePending?: boolean } = {}): Promise<SecretRecord> {
    const { record: first } = await this.#resolve(ref);
    for (;;) {
      const current = await this.#read(first.name);
      if (!current || current.record.uid !== first.uid || current.record.destructionStarted) throw new SecretNotFoundError(refText(ref));
      if (current.record.plannedDeleteAt && !options.whilePending) throw new SecretInDeleteWindowError(first.name);
      const next = { ...change(current.record), updatedAt: isoSeconds(this.#now()) };
      try {
        await this.#store.update(secretEntryNames.meta(first.name), current.revision, encodeSecretRecord(next));
      } catch (err) {
        if (err instanceof RevisionConflictError) continue;
        throw err;
      }
      return next;
    }
  }

  /** Seals a value and writes its entry; returns the entry id. */
  async #writeValue(record: SecretRecord, keyId: string, versionId: string, value: SecretValue): Promise<string> {
    const sealed = await this.#sealer.seal(keyId, bindingOf(record, versionId, this.#scope), value.bytes);
    const entry = randomUUID();
    await this.#store.create(
      secretEntryNames.value(record.uid, entry),
      encodeValueRecord({ versionId, keyId: sealed.keyId, type: value.type, wrappedKey: sealed.wrappedKey, ciphertext: sealed.ciphertext }),
      { writeOnce: true },
    );
    return entry;
  }

  async #openVersion(record: SecretRecord, version: SecretVersionRecord): Promise<Buffer> {
    const entry = await this.#store.get(secretEntryNames.value(record.uid, version.entry));
    // Pruned or destroyed since the metadata was read.
    if (!entry) throw new SecretVersionNotFoundError(record.name, { versionId: version.versionId });
    const stored = decodeValueRecord(entry.value);
    if (stored.versionId !== version.versionId) throw new Error('a secret value entry belongs to another version');
    const sealed: SealedValue = { keyId: stored.keyId, wrappedKey: stored.wrappedKey, ciphertext: stored.ciphertext };
    return this.#sealer.open(bindingOf(record, version.versionId, this.#scope), sealed);
  }

  /** Whether a stored version holds exactly this value and type (compared in constant time). */
  async #sameValue(record: SecretRecord, version: SecretVersionRecord, value: SecretValue): Promise<boolean> {
    if (version.type !== value.type) return false;
    const stored = await this.#openVersion(record, version);
    try {
      return stored.length === value.bytes.length && timingSafeEqual(stored, value.bytes);
    } finally {
      stored.fill(0);
    }
  }
}

function bindingOf(record: SecretRecord, versionId: string, scope: SecretScope): SealBinding {
  return { arn: acsSecretArn(scope, record.name), suffix: record.suffix, versionId };
}

export function stageMapOf(record: SecretRecord): StageMap {
  return new Map(record.versions.map((v) => [v.versionId, v.labels]));
}

function selectVersion(record: SecretRecord, select: { versionId?: string; stage?: string }): SecretVersionRecord {
  if (select.versionId !== undefined) {
    const version = record.versions.find((v) => v.versionId === select.versionId);
    if (!version) throw new SecretVersionNotFoundError(record.name, { versionId: select.versionId });
    if (select.stage !== undefined && !version.labels.includes(storedStage(select.stage))) {
      throw new SecretVersionNotFoundError(record.name, { stage: select.stage });
    }
    return version;
  }
  const stage = select.stage ?? CURRENT;
  const version = record.versions.find((v) => v.labels.includes(storedStage(stage)));
  if (!version) throw new SecretVersionNotFoundError(record.name, { stage });
  return version;
}

function versionView(version: SecretVersionRecord): SecretVersionView {
  return { versionId: version.versionId, createdAt: version.createdAt, labels: [...version.labels], type: version.type, keyId: version.keyId };
}

function viewOf(record: SecretRecord, scope: SecretScope): SecretView {
  return {
    name: record.name,
    suffix: record.suffix,
    arn: acsSecretArn(scope, record.name),
    description: record.description,
    ...(record.kmsKeyId === undefined ? {} : { kmsKeyId: record.kmsKeyId }),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...(record.plannedDeleteAt === undefined ? {} : { plannedDeleteAt: record.plannedDeleteAt }),
    tags: (record.tags ?? []).map(([k, v]) => [k, v]),
    versions: record.versions.map(versionView),
  };
}

function assertDescription(description: string | undefined): void {
  if (description !== undefined && description.length > MAX_DESCRIPTION) {
    throw new InvalidParameterError('Description', `It has at most ${MAX_DESCRIPTION} characters.`);
  }
}

/** Tags by the project's key-tag rules (lib/operations/tags.ts). */
function validTags(tags: ReadonlyArray<[string, string]>): Array<[string, string]> {
  return tagsOfList(
    tags.map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
    'Tags',
  );
}

function sortTags(tags: Array<[string, string]>): Array<[string, string]> {
  return [...tags].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
