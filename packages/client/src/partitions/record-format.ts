import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { PARTITION_ID } from './entry.js';
import { InvalidRecordError } from './errors.js';

/**
 * A record encrypted under a partition's data key (version 1):
 *
 *     "KPR" ‖ 0x01 ‖ u8 n ‖ partitionId (n ASCII bytes) ‖ salt (16) ‖ nonce (12) ‖ ciphertext ‖ tag (16)
 *
 * The record key is HKDF-SHA256(data key, salt, "kms partition record v1"), fresh for every record
 * (so one partition key can protect any number of records without approaching AES-GCM's
 * random-nonce limit), and the cipher is AES-256-GCM with a fresh random nonce. The additional
 * data is the whole header (magic to nonce) followed by the caller's `aad`: a record whose header
 * names another partition, or whose header or `aad` was changed in any byte, does not authenticate.
 */
export const RECORD_MAGIC = Buffer.from('KPR', 'ascii');
export const RECORD_VERSION = 1;
const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const HKDF_INFO = Buffer.from('kms partition record v1', 'ascii');

/** The parts of a record, as read from its header. */
export interface RecordHeader {
  partitionId: string;
  /** Bytes from the magic to the end of the nonce: authenticated with the ciphertext. */
  header: Buffer;
  salt: Buffer;
  nonce: Buffer;
  /** Offset of the ciphertext in the record. */
  bodyOffset: number;
}

/**
 * Encrypts `plaintext` for `partitionId` under its 32-byte data key (what
 * `openPartitionKeys().encryptRecord` does with the partition's key from the registry).
 *
 * @example
 * ```ts
 * import { openRecord, readRecordHeader, sealRecord } from '@alibaba-kms-compatible/client';
 * const record = sealRecord(dataKey, 'orders-2026-11', Buffer.from('order 17'));
 * const header = readRecordHeader(record);   // header.partitionId === 'orders-2026-11'
 * const plaintext = openRecord(dataKey, record, header);
 * ```
 */
export function sealRecord(dataKey: Buffer, partitionId: string, plaintext: Uint8Array, aad: Uint8Array = EMPTY): Buffer {
  const id = Buffer.from(partitionId, 'ascii');
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const header = Buffer.concat([RECORD_MAGIC, Buffer.from([RECORD_VERSION, id.length]), id, salt, nonce]);
  const key = recordKey(dataKey, salt);
  try {
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(Buffer.concat([header, aad]));
    return Buffer.concat([header, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  } finally {
    key.fill(0);
  }
}

/** Reads a record's header. Throws {@link InvalidRecordError} for anything that is not a version-1 record. */
export function readRecordHeader(record: Uint8Array): RecordHeader {
  const bytes = Buffer.from(record.buffer, record.byteOffset, record.byteLength);
  if (bytes.length < RECORD_MAGIC.length + 2 || !bytes.subarray(0, RECORD_MAGIC.length).equals(RECORD_MAGIC)) {
    throw new InvalidRecordError('not a partition record (the magic bytes "KPR" are missing)');
  }
  const version = bytes[RECORD_MAGIC.length]!;
  if (version !== RECORD_VERSION) throw new InvalidRecordError(`record version ${version} is not supported (this library reads version ${RECORD_VERSION})`);
  const idLength = bytes[RECORD_MAGIC.length + 1]!;
  const idStart = RECORD_MAGIC.length + 2;
  const saltStart = idStart + idLength;
  const bodyOffset = saltStart + SALT_BYTES + NONCE_BYTES;
  if (bytes.length < bodyOffset + TAG_BYTES) throw new InvalidRecordError('the record is truncated');
  const partitionId = bytes.toString('latin1', idStart, saltStart);
  if (!PARTITION_ID.test(partitionId)) throw new InvalidRecordError('the record header does not name a valid partition');
  return {
    partitionId,
    header: Buffer.from(bytes.subarray(0, bodyOffset)),
    salt: Buffer.from(bytes.subarray(saltStart, saltStart + SALT_BYTES)),
    nonce: Buffer.from(bytes.subarray(saltStart + SALT_BYTES, bodyOffset)),
    bodyOffset,
  };
}

/**
 * Decrypts a record whose header was read with {@link readRecordHeader}, under its partition's
 * data key. Throws {@link InvalidRecordError} when it does not authenticate; no partial plaintext
 * is ever returned.
 */
export function openRecord(dataKey: Buffer, record: Uint8Array, parsed: RecordHeader, aad: Uint8Array = EMPTY): Buffer {
  const bytes = Buffer.from(record.buffer, record.byteOffset, record.byteLength);
  const key = recordKey(dataKey, parsed.salt);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, parsed.nonce);
    decipher.setAAD(Buffer.concat([parsed.header, aad]));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    const plaintext = decipher.update(bytes.subarray(parsed.bodyOffset, bytes.length - TAG_BYTES));
    try {
      return Buffer.concat([plaintext, decipher.final()]);
    } catch {
      plaintext.fill(0);
      throw new InvalidRecordError(`the record for partition "${parsed.partitionId}" does not authenticate: it was changed, moved, or the aad differs`);
    }
  } finally {
    key.fill(0);
  }
}

function recordKey(dataKey: Buffer, salt: Buffer): Buffer {
  if (dataKey.length !== KEY_BYTES) throw new InvalidRecordError(`a partition data key must be ${KEY_BYTES} bytes`);
  return Buffer.from(hkdfSync('sha256', dataKey, salt, HKDF_INFO, KEY_BYTES));
}

const EMPTY = new Uint8Array(0);
