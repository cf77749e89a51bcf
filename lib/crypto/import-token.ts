import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { BASE64_TEXT } from './base64.js';
import type { ImportWrappingAlgorithm } from './import-wrap.js';

/**
 * Import tokens (GetParametersForImport → ImportKeyMaterial) are self-contained: the wrapping
 * private key travels inside the token, sealed with AES-256-GCM under the service's import-token
 * key (lib/keyring/import-token-key.ts), so any instance can unwrap and no per-token state is kept.
 * The token is bound to one key, one algorithm and an expiry; forging or altering it fails the tag.
 *
 * Layout (then Base64): "KIT1" | IV (12) | ciphertext | tag (16), with "KIT1" as additional data.
 */

export interface ImportTokenContents {
  keyId: string;
  algorithm: ImportWrappingAlgorithm;
  /** Epoch milliseconds after which the token is refused. */
  expiresAtMs: number;
  /** PKCS#8 DER of the wrapping private key. */
  privateKey: Buffer;
}

const MAGIC = Buffer.from('KIT1', 'latin1');
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function sealImportToken(tokenKey: Buffer, contents: ImportTokenContents): string {
  const plaintext = Buffer.from(
    JSON.stringify({ k: contents.keyId, a: contents.algorithm, e: contents.expiresAtMs, p: contents.privateKey.toString('base64') }),
    'utf8',
  );
  try {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', tokenKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(MAGIC);
    const sealed = Buffer.concat([MAGIC, iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return sealed.toString('base64');
  } finally {
    plaintext.fill(0);
  }
}

/** The token's contents, or undefined when it is not a token this service sealed (malformed, altered, forged). */
export function openImportToken(tokenKey: Buffer, token: string): ImportTokenContents | undefined {
  if (!BASE64_TEXT.test(token)) return undefined;
  const bytes = Buffer.from(token, 'base64');
  if (bytes.length < MAGIC.length + IV_BYTES + TAG_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', tokenKey, bytes.subarray(MAGIC.length, MAGIC.length + IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(MAGIC);
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  const plaintext = decipher.update(bytes.subarray(MAGIC.length + IV_BYTES, bytes.length - TAG_BYTES));
  try {
    decipher.final();
  } catch {
    plaintext.fill(0);
    return undefined;
  }
  try {
    const parsed = JSON.parse(plaintext.toString('utf8')) as { k: string; a: ImportWrappingAlgorithm; e: number; p: string };
    return { keyId: parsed.k, algorithm: parsed.a, expiresAtMs: parsed.e, privateKey: Buffer.from(parsed.p, 'base64') };
  } finally {
    plaintext.fill(0);
  }
}
