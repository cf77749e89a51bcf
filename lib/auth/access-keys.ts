import { randomBytes } from 'node:crypto';
import { decodeRecord } from '../keyring/records.js';
import type { KeyStore } from '../keystore/key-store.js';
import { type CompiledPolicy, compilePolicy, type PolicyDocument, policyDocumentSchema } from '../policy/policy.js';
import { TtlCache } from '../ttl-cache.js';

/** Stored under `access-keys/<accessKeyId>` (mutable). */
export interface AccessKeyRecord {
  accessKeyId: string;
  accessKeySecret: string;
  status: 'Enabled' | 'Disabled';
  policy: PolicyDocument;
  createdAt: string;
}

/** The caller of a request, once its signature verified. */
export interface Principal {
  accessKeyId: string;
  enabled: boolean;
  policy: CompiledPolicy;
  /** Used only to verify signatures; never logged or returned. */
  secret: string;
}

const ACCESS_KEY_ID = /^[A-Za-z0-9]{8,64}$/;

export function isAccessKeyId(value: string): boolean {
  return ACCESS_KEY_ID.test(value);
}

/** A new access key id (`LTAI` + 20 alphanumerics, as Alibaba's look) and a 30-character secret. */
export function generateAccessKey(): { accessKeyId: string; accessKeySecret: string } {
  const alnum = (n: number) => randomBytes(n * 2).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, n);
  return { accessKeyId: `LTAI${alnum(20)}`, accessKeySecret: alnum(30) };
}

const entryName = (accessKeyId: string) => `access-keys/${accessKeyId}`;

/**
 * Access keys and their policies, read from the key store and cached (policy compiled once per
 * load, not per request).
 */
export class AccessKeyRegistry {
  readonly #store: KeyStore;
  readonly #cache: TtlCache<string, Principal | undefined>;

  constructor(store: KeyStore, options: { cacheTtlMs: number; now?: () => number }) {
    this.#store = store;
    this.#cache = new TtlCache({ ttlMs: options.cacheTtlMs, maxEntries: 10_000, now: options.now });
  }

  /** The principal for an access key id, or undefined when there is none. */
  lookup(accessKeyId: string): Promise<Principal | undefined> {
    if (!isAccessKeyId(accessKeyId)) return Promise.resolve(undefined);
    return this.#cache.get(accessKeyId, async () => {
      const record = await this.get(accessKeyId);
      return record && {
        accessKeyId: record.accessKeyId,
        enabled: record.status === 'Enabled',
        policy: compilePolicy(record.policy),
        secret: record.accessKeySecret,
      };
    });
  }

  async get(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    const entry = await this.#store.get(entryName(accessKeyId));
    if (!entry) return undefined;
    const record = decodeRecord<AccessKeyRecord>(entry.value);
    record.policy = policyDocumentSchema.parse(record.policy);
    return record;
  }

  /** Stores a new access key. Throws EntryExistsError when the id is taken. */
  async create(record: AccessKeyRecord): Promise<void> {
    if (!isAccessKeyId(record.accessKeyId)) throw new Error(`access key id "${record.accessKeyId}" must be 8–64 letters and digits`);
    const policy = policyDocumentSchema.parse(record.policy);
    await this.#store.create(entryName(record.accessKeyId), Buffer.from(JSON.stringify({ ...record, policy })), { writeOnce: false });
    this.#cache.delete(record.accessKeyId);
  }

  async list(): Promise<string[]> {
    return (await this.#store.list('access-keys/')).map((name) => name.slice('access-keys/'.length));
  }
}
