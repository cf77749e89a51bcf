/**
 * What the keyring keeps in the key store, and under which entry names. Key-version entries are
 * write-once; everything else is mutable through compare-and-swap.
 */

import type { KeySpec, KeyUsage } from '../crypto/key-spec.js';

/** PendingImport: an EXTERNAL (BYOK) key without its material (never imported, deleted or expired). */
export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingImport';

/** Mutable key metadata: `keys/<keyId>`. Dates are UTC ISO-8601 `yyyy-MM-ddTHH:mm:ssZ`. */
export interface KeyRecord {
  keyId: string;
  description: string;
  state: KeyState;
  creationDate: string;
  creator: string;
  /**
   * The version new operations use: for a symmetric key the primary version; for an asymmetric or
   * HMAC key its newest version (what AWS operations, which name no version, use).
   */
  primaryKeyVersion: string;
  /** Absent: `Aliyun_AES_256` (every key made before other specs existed). Fixed for life. */
  keySpec?: KeySpec;
  /** Absent: `ENCRYPT/DECRYPT`. Fixed for life. */
  keyUsage?: KeyUsage;
  automaticRotation?: 'Enabled' | 'Disabled';
  /** Seconds between automatic rotations, when set. */
  rotationInterval?: number;
  lastRotationDate?: string;
  nextRotationDate?: string;
  /** When a PendingDeletion key's material is destroyed. */
  deleteDate?: string;
  /** The state CancelKeyDeletion returns to (PendingImport when the material went while pending deletion). */
  stateBeforeDeletion?: 'Enabled' | 'Disabled' | 'PendingImport';
  /** A scheduled rotation's lease on this key (see lib/operations/scheduled.ts). */
  rotationClaimedUntil?: string;
  /** Set when the scheduled deletion began destroying material; no way back from here. */
  destructionStarted?: string;
  /** SetDeletionProtection: while set, ScheduleKeyDeletion is refused. */
  deletionProtection?: { description: string };
  /** TagResource: `[TagKey, TagValue]` pairs, by TagKey (an array: keys are the caller's text). */
  tags?: Array<[string, string]>;
  /** Set for `Origin=EXTERNAL` (bring your own key): the material comes from ImportKeyMaterial. */
  external?: ExternalMaterial;
}

/**
 * What the key record knows of imported material. Whether the material is there now is the key
 * state (see lib/keyring/external-material.ts); the material itself is the key's one version entry.
 */
export interface ExternalMaterial {
  /**
   * Fingerprint of the first material imported (Base64 HMAC-SHA-256 keyed by the material, over
   * the key id): every later import must match it. Kept when the material is deleted or expires.
   */
  fingerprint?: string;
  /** When the imported material expires (`yyyy-MM-ddTHH:mm:ssZ`); absent: it never does, or there is none. */
  expireTime?: string;
  /** An import, deletion or sweep of the material in progress, until then (epoch ms); see lib/keyring/imported-material.ts. */
  leaseUntilMs?: number;
}

/**
 * Write-once: `key-versions/<keyId>/<keyVersionId>`. `material` is Base64 of the key: 32 bytes for
 * `Aliyun_AES_256` (no `keySpec`), the spec's bits for an HMAC key, the private key as PKCS #8 DER
 * for an RSA or EC key (its public key is derived from it).
 */
export interface KeyVersionRecord {
  keyId: string;
  keyVersionId: string;
  creationDate: string;
  /**
   * Creation time in epoch milliseconds: orders versions created within one second (CreationDate
   * has whole seconds). Absent in records written before it existed.
   */
  createdAtMs?: number;
  /** The key's spec (absent: `Aliyun_AES_256`), so a version read alone is read right. */
  keySpec?: KeySpec;
  material: string;
}

/** Mutable: `aliases/<name after "alias/">`. */
export interface AliasRecord {
  aliasName: string;
  keyId: string;
}

export const entryNames = {
  key: (keyId: string) => `keys/${keyId}`,
  keyVersion: (keyId: string, keyVersionId: string) => `key-versions/${keyId}/${keyVersionId}`,
  /** Write-once index from a version to its key: Decrypt only knows the version. */
  versionOwner: (keyVersionId: string) => `version-index/${keyVersionId}`,
  alias: (aliasName: string) => `aliases/${aliasName.slice('alias/'.length)}`,
  /** What a destroyed key leaves: its id is never used again, and a seed does not bring it back. */
  destroyedKey: (keyId: string) => `destroyed-keys/${keyId}`,
  /** The seed created this alias once: if it is gone later, someone deleted it, and it stays deleted. */
  seededAlias: (aliasName: string) => `seeded-aliases/${aliasName.slice('alias/'.length)}`,
} as const;

export const KEY_MATERIAL_BYTES = 32;

export function encodeRecord(record: object): Buffer {
  return Buffer.from(JSON.stringify(record), 'utf8');
}

/** Parse errors are replaced, not wrapped: V8's message quotes the text, which may hold key material. */
export function decodeRecord<T>(value: Buffer): T {
  try {
    return JSON.parse(value.toString('utf8')) as T;
  } catch {
    throw new Error('a stored record is not valid JSON');
  }
}
