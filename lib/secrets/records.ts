import { createHash } from 'node:crypto';
import { decodeRecord, encodeRecord } from '../keyring/records.js';

/*
 * What the secret store keeps in the key store, all under the `secrets` namespace (one DynamoDB
 * partition, `entry#secrets`, outside the material partitions the IAM grants guard: a secret's
 * value is ciphertext under a CMK, never key material):
 *
 * | entry                                   | kind       | holds                                   |
 * |-----------------------------------------|------------|-----------------------------------------|
 * | `secrets/meta/<name digest>`            | mutable    | {@link SecretRecord} (JSON)             |
 * | `secrets/value/<uid>/<entry id>`        | write-once | {@link SecretValueRecord} (JSON)        |
 *
 * The name digest is the lowercase hex SHA-256 of the UTF-8 name: names hold characters entry
 * names may not (`+ = @`, `..`), are case-sensitive where a file system may not be, and may be too
 * long for a file name once escaped. The record holds the name itself; a read checks it. `uid` is
 * random per secret incarnation, so a re-created name never meets the values of the secret it
 * replaces; the entry id is random per write, and a version names its entry: two concurrent puts
 * of one version id write two entries, the metadata's compare-and-swap keeps one, and the other is
 * destroyed (version ids, which may hold any character, never become entry names).
 */

export const SECRETS_NAMESPACE = 'secrets';
const META_PREFIX = `${SECRETS_NAMESPACE}/meta/`;
const VALUE_PREFIX = `${SECRETS_NAMESPACE}/value/`;

export type SecretValueType = 'text' | 'binary';

/** One version in a secret's metadata. Dates are UTC `yyyy-MM-ddTHH:mm:ssZ`. */
export interface SecretVersionRecord {
  versionId: string;
  createdAt: string;
  /** Orders versions made within one second. */
  createdAtMs: number;
  /** Stage labels, stored spelling (lib/secrets/stages.ts); empty: deprecated. */
  labels: string[];
  type: SecretValueType;
  /** The CMK the version's data key is wrapped under. */
  keyId: string;
  /** The value entry: `secrets/value/<uid>/<entry>`. */
  entry: string;
}

/** Mutable: `secrets/meta/<name digest>`. */
export interface SecretRecord {
  name: string;
  /** The six characters ending the AWS ARN, fixed at creation. */
  suffix: string;
  /** Random per incarnation: names the value entries. */
  uid: string;
  description: string;
  /** The user's CMK; absent: the service's default secrets key. */
  kmsKeyId?: string;
  createdAt: string;
  updatedAt: string;
  /** Set while the secret is scheduled for deletion. */
  plannedDeleteAt?: string;
  /** Set when the scheduled destruction began; no way back from here. */
  destructionStarted?: string;
  /** `[key, value]` pairs, sorted by key. */
  tags?: Array<[string, string]>;
  /** In creation order. */
  versions: SecretVersionRecord[];
}

/**
 * Write-once: `secrets/value/<uid>/<entry id>`. Only the wrapped data key and the
 * ciphertext, each a Base64 envelope (lib/crypto/envelope.ts layout); see lib/secrets/seal.ts.
 */
export interface SecretValueRecord {
  versionId: string;
  keyId: string;
  type: SecretValueType;
  /** The 32-byte data key, sealed under the CMK version it names. */
  wrappedKey: string;
  /** The value, sealed under the data key. */
  ciphertext: string;
}

export function digestOf(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export const secretEntryNames = {
  metaPrefix: META_PREFIX,
  meta: (name: string) => `${META_PREFIX}${digestOf(name)}`,
  valuesOf: (uid: string) => `${VALUE_PREFIX}${uid}/`,
  value: (uid: string, entry: string) => `${VALUE_PREFIX}${uid}/${entry}`,
  valuePrefix: VALUE_PREFIX,
} as const;

export function encodeSecretRecord(record: SecretRecord): Buffer {
  return encodeRecord(record);
}

/** Throws unless the stored record has the shape of a secret. */
export function decodeSecretRecord(value: Buffer): SecretRecord {
  const record = decodeRecord<SecretRecord>(value);
  if (typeof record?.name !== 'string' || typeof record.suffix !== 'string' || typeof record.uid !== 'string' || !Array.isArray(record.versions)) {
    throw new Error('a stored record is not a secret');
  }
  return record;
}

export function encodeValueRecord(record: SecretValueRecord): Buffer {
  return encodeRecord(record);
}

export function decodeValueRecord(value: Buffer): SecretValueRecord {
  const record = decodeRecord<SecretValueRecord>(value);
  if (typeof record?.versionId !== 'string' || typeof record.wrappedKey !== 'string' || typeof record.ciphertext !== 'string') {
    throw new Error('a stored record is not a secret value');
  }
  return record;
}
