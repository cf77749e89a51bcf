import { hkdfSync } from 'node:crypto';

/** A root key's length in bytes (AES-256). */
export const ROOT_KEY_BYTES = 32;
/** The HKDF `info` a root key is derived from a seed with: changing it changes every stage's key. */
export const ROOT_KEY_SEED_INFO = 'alibaba-kms-compatible root key v1';
/** The shortest seed accepted: 43 characters of Base64 carry 256 bits; a stack's seed has 64 alphanumerics. */
export const MIN_SEED_CHARS = 43;

/**
 * The root key a stored secret holds, in one of three forms:
 *
 * - `{"seed":"<at least 43 characters>"}` (what the AWS stack's secret is made with:
 *   `GenerateSecretString` writes 64 random alphanumerics under `seed`): the key is
 *   HKDF-SHA256(ikm = the seed as UTF-8, salt = empty, info = {@link ROOT_KEY_SEED_INFO}), 32 bytes;
 * - Base64 of 32 bytes (a root key file; earlier secrets), whitespace around it ignored;
 * - the 32 bytes themselves (a binary secret).
 *
 * Anything else is an Error that names `where` and the expected forms, never the value (nor a
 * parser message, which would quote it).
 */
export function decodeRootKey(value: string | Uint8Array, where: string): Buffer {
  if (typeof value !== 'string') {
    if (value.length !== ROOT_KEY_BYTES) throw malformed(where, `a binary secret of ${value.length} bytes`);
    return Buffer.from(value);
  }
  const text = value.trim();
  if (text.startsWith('{')) return fromSeedDocument(text, where);
  if (!/^[A-Za-z0-9+/]{43}=$/.test(text)) throw malformed(where, 'neither a JSON seed document nor Base64 of 32 bytes');
  return Buffer.from(text, 'base64');
}

function fromSeedDocument(text: string, where: string): Buffer {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw malformed(where, 'JSON that does not parse');
  }
  const seed = typeof document === 'object' && document !== null && !Array.isArray(document) ? (document as { seed?: unknown }).seed : undefined;
  if (typeof seed !== 'string') throw malformed(where, 'a JSON document without a "seed" string');
  if (seed.length < MIN_SEED_CHARS) throw malformed(where, `a seed of ${seed.length} characters (at least ${MIN_SEED_CHARS})`);
  const ikm = Buffer.from(seed, 'utf8');
  try {
    return Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), Buffer.from(ROOT_KEY_SEED_INFO, 'utf8'), ROOT_KEY_BYTES));
  } finally {
    ikm.fill(0);
  }
}

function malformed(where: string, found: string): Error {
  return new Error(
    `the root key in ${where} is malformed (${found}): it must be {"seed":"<at least ${MIN_SEED_CHARS} characters>"}, Base64 of ${ROOT_KEY_BYTES} bytes, or ${ROOT_KEY_BYTES} binary bytes`,
  );
}
