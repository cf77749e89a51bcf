import { type GroupRates, groupRatesSchema } from './ratelimit/limits.js';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AccessKeyNotFoundError } from './errors.js';
import { decodeRecord } from './keyring/records.js';
import { EntryNotFoundError, type KeyStore, RevisionConflictError } from './keystore/key-store.js';
import {
  type CompiledPolicy,
  compilePolicy,
  DENY_ALL_POLICY,
  describePolicyIssues,
  parsePolicyDocument,
  type PolicyDocument,
  policyDocumentSchema,
} from './policy/policy.js';
import { TtlCache } from './ttl-cache.js';

/** Stored under `access-keys/<accessKeyId>` (mutable). */
export interface AccessKeyRecord {
  accessKeyId: string;
  accessKeySecret: string;
  status: 'Enabled' | 'Disabled';
  policy: PolicyDocument;
  createdAt: string;
  /**
   * Set only on a record read from the store whose policy no longer validates (say, one stored
   * before unknown actions were refused, naming `kms:Decrpyt`): why, by place in the document.
   * `policy` is then the document as stored, unvalidated, and the key is denied everything until
   * its policy is replaced. Never stored; every write refuses such a policy.
   */
  policyError?: string;
  /** Requests per second by Action group (see lib/ratelimit/), over KMS_RATE_LIMITS for this key. */
  rateLimits?: GroupRates;
}

/**
 * What a deleted access key leaves in the store: its id, no secret, and when. Ids are never reused
 * (as with cloud access keys), so a write that read the key before its deletion can never land on
 * a new key of the same id and bring the old secret back.
 */
interface DeletedAccessKey {
  accessKeyId: string;
  deletedAt: string;
}

const DENY_ALL = compilePolicy(DENY_ALL_POLICY);

/** The caller of a request, once its signature verified. */
export interface Principal {
  accessKeyId: string;
  enabled: boolean;
  policy: CompiledPolicy;
  /**
   * True when the stored policy no longer validates and `policy` therefore denies everything
   * (see {@link AccessKeyRecord.policyError}); the stack logs it on a denial.
   */
  policyInvalid?: boolean;
  /** Used only to verify signatures; never logged or returned. */
  secret: string;
  /** The key's own rate limits, when its record sets any. */
  rateLimits?: GroupRates;
}

const ACCESS_KEY_ID = /^[A-Za-z0-9]{8,64}$/;

export function isAccessKeyId(value: string): boolean {
  return ACCESS_KEY_ID.test(value);
}

/** A new access key id (`LTAI` + 20 alphanumerics, as Alibaba's look) and a 30-character secret. */
export function generateAccessKey(): { accessKeyId: string; accessKeySecret: string } {
  const alnum = (n: number) =>
    randomBytes(n * 2)
      .toString('base64')
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, n);
  return { accessKeyId: `LTAI${alnum(20)}`, accessKeySecret: alnum(30) };
}

const entryName = (accessKeyId: string) => `access-keys/${accessKeyId}`;

/** How often a compare-and-swap write is retried when other writers keep coming first. */
const MAX_CAS_ATTEMPTS = 100;

function principalOf(record: AccessKeyRecord): Principal {
  const invalid = record.policyError !== undefined;
  return {
    accessKeyId: record.accessKeyId,
    enabled: record.status === 'Enabled',
    policy: invalid ? DENY_ALL : compilePolicy(record.policy),
    ...(invalid ? { policyInvalid: true } : {}),
    secret: record.accessKeySecret,
    ...(record.rateLimits ? { rateLimits: record.rateLimits } : {}),
  };
}

/**
 * The record, or undefined for a deleted key's tombstone. A stored policy that no longer validates
 * does not make the key unreadable (that would fail every request signed with it, and the CLI's
 * listing, with an internal error): the record carries `policyError` and the key denies everything.
 */
function decodeAccessKey(value: Buffer): AccessKeyRecord | undefined {
  const record = decodeRecord<AccessKeyRecord & Partial<DeletedAccessKey>>(value);
  if (record.deletedAt !== undefined) return undefined;
  delete record.policyError;
  const parsed = policyDocumentSchema.safeParse(record.policy);
  if (parsed.success) record.policy = parsed.data;
  else record.policyError = describePolicyIssues(parsed.error);
  // Limits that do not validate (a hand-edited store) are not applied rather than failing the key.
  if (record.rateLimits !== undefined && !groupRatesSchema.safeParse(record.rateLimits).success) delete record.rateLimits;
  return record;
}

/** What a write stores: the record without read-only annotations, its policy validated (InvalidPolicyError otherwise). */
function toStored(record: AccessKeyRecord): AccessKeyRecord {
  const { policyError: _ignored, ...stored } = record;
  return { ...stored, policy: parsePolicyDocument(stored.policy) };
}

/**
 * Access keys and their policies, read from the key store and cached (policy compiled once per
 * load, not per request).
 */
export class AccessKeyRegistry {
  readonly #store: KeyStore;
  readonly #cache: TtlCache<string, Principal | undefined>;

  constructor(store: KeyStore, options: { cacheTtlMs: number; now?: () => number }) {
    this.#store = store;
    this.#cache = new TtlCache({ ttlMs: options.cacheTtlMs, maxEntries: 10_000, now: options.now, name: 'access-keys' });
  }

  /** Drops every cached principal: the store's change marker moved, so another process may have changed any key. */
  dropCache(): void {
    this.#cache.clear();
  }

  /** The principal for an access key id, or undefined when there is none. */
  lookup(accessKeyId: string): Promise<Principal | undefined> {
    if (!isAccessKeyId(accessKeyId)) return Promise.resolve(undefined);
    return this.#cache.get(accessKeyId, async () => {
      const record = await this.get(accessKeyId);
      return record && principalOf(record);
    });
  }

  /**
   * {@link lookup} for a request whose caches are being validated (`validated`: its
   * `Service.validateCaches()`). A principal held in the cache is trusted only once `validated`
   * resolves; one not held is read at once, beside the validation, which saves a cold instance a
   * round trip. That read started after the request arrived, so it sees every change acknowledged
   * before; if the change marker had never been read, or moved, the validation drops it from the
   * cache again (ChangeWatch), so no later request trusts a read it did not validate.
   */
  async lookupValidating(accessKeyId: string, validated: Promise<void>): Promise<Principal | undefined> {
    if (this.#cache.has(accessKeyId)) {
      await validated;
      return this.lookup(accessKeyId);
    }
    const [principal] = await Promise.all([this.lookup(accessKeyId), validated]);
    return principal;
  }

  async get(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    if (!isAccessKeyId(accessKeyId)) return undefined;
    const entry = await this.#store.get(entryName(accessKeyId));
    return entry && decodeAccessKey(entry.value);
  }

  /** Whether the id belonged to an access key that was deleted (its tombstone is there). */
  async wasDeleted(accessKeyId: string): Promise<boolean> {
    if (!isAccessKeyId(accessKeyId)) return false;
    const entry = await this.#store.get(entryName(accessKeyId));
    return entry !== undefined && decodeAccessKey(entry.value) === undefined;
  }

  /**
   * Stores a new access key. Throws InvalidPolicyError when its policy does not validate, and
   * EntryExistsError when the id is taken, or was ever used.
   */
  async create(record: AccessKeyRecord): Promise<void> {
    if (!isAccessKeyId(record.accessKeyId)) throw new Error(`access key id "${record.accessKeyId}" must be 8–64 letters and digits`);
    await this.#store.create(entryName(record.accessKeyId), Buffer.from(JSON.stringify(toStored(record))), { writeOnce: false });
    this.#cache.delete(record.accessKeyId);
  }

  /**
   * Changes an access key by compare-and-swap on its store revision: `change` gets the current
   * record and returns the new one; when another writer (another process on the same store, the
   * gateway) came first, the record is read again and `change` re-applied, so no update is lost.
   * The id and the secret cannot change. Throws AccessKeyNotFoundError when there is no such key,
   * InvalidPolicyError when the resulting policy does not validate.
   */
  async update(accessKeyId: string, change: (record: AccessKeyRecord) => AccessKeyRecord): Promise<AccessKeyRecord> {
    return this.#replace(accessKeyId, (current) => {
      const next = change(structuredClone(current));
      if (next.accessKeyId !== current.accessKeyId || next.accessKeySecret !== current.accessKeySecret) {
        throw new Error('an access key update cannot change its id or secret');
      }
      if (next.status !== 'Enabled' && next.status !== 'Disabled')
        throw new Error(`access key status must be Enabled or Disabled, not "${String(next.status)}"`);
      // A stored policy that no longer validates is refused here too (even for a status change):
      // nothing writes an invalid policy; set-policy replaces it.
      const record = toStored(next);
      return { value: record, result: record };
    });
  }

  /**
   * The compare-and-swap both {@link update} and {@link delete} make: `next` turns the stored
   * record into what is written (and what to return); when another writer came first, the record
   * is read again and `next` re-applied (bounded, with jitter). The cached record is dropped, not
   * set (see TtlCache): the next lookup loads the key as the store holds it then.
   */
  async #replace<T>(accessKeyId: string, next: (current: AccessKeyRecord) => { value: unknown; result: T }): Promise<T> {
    if (!isAccessKeyId(accessKeyId)) throw new AccessKeyNotFoundError();
    const name = entryName(accessKeyId);
    for (let attempt = 1; ; attempt++) {
      const entry = await this.#store.get(name);
      const current = entry && decodeAccessKey(entry.value);
      if (!entry || !current) throw new AccessKeyNotFoundError();
      const { value, result } = next(current);
      try {
        await this.#store.update(name, entry.revision, Buffer.from(JSON.stringify(value)));
      } catch (err) {
        if (err instanceof EntryNotFoundError) throw new AccessKeyNotFoundError();
        if (!(err instanceof RevisionConflictError) || attempt >= MAX_CAS_ATTEMPTS) throw err;
        await sleep(Math.random() * Math.min(2 ** attempt, 50));
        continue;
      }
      this.#cache.delete(accessKeyId);
      return result;
    }
  }

  /** Replaces an access key's policy (validated first: InvalidPolicyError). */
  async setPolicy(accessKeyId: string, policy: PolicyDocument): Promise<AccessKeyRecord> {
    const validated = parsePolicyDocument(policy);
    return this.update(accessKeyId, (record) => ({ ...record, policy: validated }));
  }

  /** Sets an access key's own rate limits (requests per second by group), or removes them (undefined). */
  async setRateLimits(accessKeyId: string, rateLimits: GroupRates | undefined): Promise<AccessKeyRecord> {
    const validated = rateLimits === undefined ? undefined : (groupRatesSchema.parse(rateLimits) as GroupRates);
    return this.update(accessKeyId, (record) => {
      const { rateLimits: _previous, ...rest } = record;
      return validated && Object.keys(validated).length > 0 ? { ...rest, rateLimits: validated } : rest;
    });
  }

  /** Enables or disables an access key; a disabled key's requests get InvalidAccessKeyId.Inactive. */
  setStatus(accessKeyId: string, status: AccessKeyRecord['status']): Promise<AccessKeyRecord> {
    return this.update(accessKeyId, (record) => ({ ...record, status }));
  }

  /**
   * Deletes an access key: its record becomes a tombstone (compare-and-swap), with no secret and a
   * policy that denies everything, so its id is never reused. Throws AccessKeyNotFoundError when
   * there is no such key.
   */
  async delete(accessKeyId: string): Promise<void> {
    await this.#replace(accessKeyId, () => ({
      value: { accessKeyId, accessKeySecret: '', status: 'Disabled', policy: DENY_ALL_POLICY, deletedAt: new Date().toISOString() },
      result: undefined,
    }));
  }

  /** Whether the store has ever held an access key (a deleted one leaves its tombstone). */
  async anyEverCreated(): Promise<boolean> {
    return (await this.#store.list('access-keys/')).length > 0;
  }

  /** The ids of the access keys that exist (deleted ones are left out). */
  async list(): Promise<string[]> {
    const ids: string[] = [];
    for (const name of await this.#store.list('access-keys/')) {
      const entry = await this.#store.get(name);
      if (entry && decodeAccessKey(entry.value)) ids.push(name.slice('access-keys/'.length));
    }
    return ids;
  }
}
