import { createHash, hkdfSync } from 'node:crypto';

/**
 * The encrypted-file format of `kms encrypt-file` (version 1). All integers big-endian.
 *
 *     header   magic "KMSF" (4) ‖ format version 0x01 (1) ‖ frame size (u32) ‖ salt (32)
 *              ‖ blob length (u16) ‖ CiphertextBlob (ASCII Base64)
 *              ‖ context length (u32) ‖ EncryptionContext (UTF-8 JSON, keys sorted; "{}" when none)
 *     frames   frame 0 ‖ frame 1 ‖ … ‖ frame n-1, each AES-256-GCM ciphertext ‖ tag (16);
 *              every frame but the last holds exactly `frame size` plaintext bytes, the last
 *              holds 0…frame size (an empty file is one empty final frame)
 *
 *     file key   = HKDF-SHA256(ikm = data key, salt, info = "kms-file-v1")
 *     nonce(i)   = 0x00000000 ‖ u64(i)
 *     AAD(i)     = SHA-256(header) ‖ u64(i) ‖ final flag (1 byte: 1 for the last frame, else 0)
 *
 * The index in the nonce and AAD detects reordering; the final flag detects truncation at a frame
 * boundary (the new last frame was sealed as not final) and appended frames; the header hash
 * binds every frame to this file's header, so frames spliced from another file fail too. The data
 * key is fresh per file (GenerateDataKey) and the salt random, so nonces never repeat under a key.
 */
export const MAGIC = Buffer.from('KMSF', 'ascii');
export const FORMAT_VERSION = 1;
export const DEFAULT_FRAME_SIZE = 64 * 1024;
export const MAX_FRAME_SIZE = 16 * 1024 * 1024;
export const TAG_BYTES = 16;
const SALT_BYTES = 32;
const FIXED_HEADER_BYTES = MAGIC.length + 1 + 4 + SALT_BYTES;

export interface FileHeader {
  frameSize: number;
  salt: Buffer;
  ciphertextBlob: string;
  /** Canonical JSON (sorted keys) of the EncryptionContext. */
  context: string;
}

export class FileFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FileFormatError';
  }
}

/** The context as stored: JSON with sorted keys, so the header is deterministic. */
export function canonicalContextJson(context: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

export function encodeHeader(header: FileHeader): Buffer {
  const blob = Buffer.from(header.ciphertextBlob, 'ascii');
  const context = Buffer.from(header.context, 'utf8');
  if (blob.length > 0xffff) throw new FileFormatError('the CiphertextBlob is too long for the header');
  const out = Buffer.alloc(FIXED_HEADER_BYTES + 2 + blob.length + 4 + context.length);
  let at = MAGIC.copy(out, 0);
  at = out.writeUInt8(FORMAT_VERSION, at);
  at = out.writeUInt32BE(header.frameSize, at);
  at += header.salt.copy(out, at);
  at = out.writeUInt16BE(blob.length, at);
  at += blob.copy(out, at);
  at = out.writeUInt32BE(context.length, at);
  context.copy(out, at);
  return out;
}

/**
 * Reads a header from the start of `bytes`. Returns undefined when more bytes are needed, else
 * the header and its length. Throws {@link FileFormatError} for anything that is not a version-1
 * header.
 */
export function decodeHeader(bytes: Buffer): { header: FileHeader; length: number } | undefined {
  if (bytes.length < MAGIC.length) return undefined;
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new FileFormatError('not a kms encrypted file (bad magic)');
  if (bytes.length < FIXED_HEADER_BYTES + 2) return undefined;
  const version = bytes.readUInt8(4);
  if (version !== FORMAT_VERSION) throw new FileFormatError(`unsupported format version ${version}`);
  const frameSize = bytes.readUInt32BE(5);
  if (frameSize < 1 || frameSize > MAX_FRAME_SIZE) throw new FileFormatError(`invalid frame size ${frameSize}`);
  const salt = Buffer.from(bytes.subarray(9, 9 + SALT_BYTES));
  const blobLength = bytes.readUInt16BE(FIXED_HEADER_BYTES);
  const contextAt = FIXED_HEADER_BYTES + 2 + blobLength;
  if (bytes.length < contextAt + 4) return undefined;
  const contextLength = bytes.readUInt32BE(contextAt);
  if (contextLength > 64 * 1024) throw new FileFormatError('the header context is too long');
  const end = contextAt + 4 + contextLength;
  if (bytes.length < end) return undefined;
  return {
    header: {
      frameSize,
      salt,
      ciphertextBlob: bytes.toString('ascii', FIXED_HEADER_BYTES + 2, contextAt),
      context: bytes.toString('utf8', contextAt + 4, end),
    },
    length: end,
  };
}

export function deriveFileKey(dataKey: Buffer, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', dataKey, salt, 'kms-file-v1', 32));
}

export function headerDigest(encodedHeader: Buffer): Buffer {
  return createHash('sha256').update(encodedHeader).digest();
}

export function frameNonce(index: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(BigInt(index), 4);
  return nonce;
}

export function frameAad(digest: Buffer, index: number, final: boolean): Buffer {
  const aad = Buffer.alloc(digest.length + 9);
  digest.copy(aad, 0);
  aad.writeBigUInt64BE(BigInt(index), digest.length);
  aad.writeUInt8(final ? 1 : 0, digest.length + 8);
  return aad;
}

export const SALT_LENGTH = SALT_BYTES;
