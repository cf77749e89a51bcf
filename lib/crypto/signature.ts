import { constants, createHash, type KeyObject, privateEncrypt, publicDecrypt, randomBytes, sign, timingSafeEqual, verify } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { DIGEST_BYTES, type HashName, hashOf, type SigningAlgorithm } from './key-spec.js';

/**
 * Signatures with RSA and EC keys (AsymmetricSign / AsymmetricVerify, AWS Sign / Verify), bit for
 * bit what AWS KMS and Alibaba KMS make: RSASSA-PKCS1-v1_5 and RSASSA-PSS per RFC 8017 (PSS with
 * MGF1 of the same hash and a salt as long as the digest), ECDSA as DER `ECDSA-Sig-Value`
 * (X9.62, RFC 3279 §2.2.3). A signature of a digest H(m) and a signature of m verify alike.
 *
 * Node's crypto.sign always hashes its input, so signing a precomputed digest is done here: RSA
 * through the raw private-key operation (privateEncrypt) over our own encoding, ECDSA with
 * @noble/curves, which needs the private scalar (derived once per KeyObject, see
 * {@link forgetSigningKey}). Messages go through OpenSSL (crypto.sign / crypto.verify).
 *
 * Contract: the caller has checked that the algorithm fits the key and the digest's length; if
 * not, these functions throw a plain Error rather than sign. Verification never throws over the
 * signature's bytes: any malformed, short, long or foreign signature is `false`.
 */

type Ecdsa = typeof p256;

/** The curves by node's name, each with the one algorithm the key-spec catalogue gives it. */
const CURVES: Readonly<Record<string, { ecdsa: Ecdsa; algorithm: SigningAlgorithm }>> = {
  prime256v1: { ecdsa: p256, algorithm: 'ECDSA_SHA_256' },
  secp256k1: { ecdsa: secp256k1, algorithm: 'ECDSA_SHA_256' },
  secp384r1: { ecdsa: p384, algorithm: 'ECDSA_SHA_384' },
  secp521r1: { ecdsa: p521, algorithm: 'ECDSA_SHA_512' },
};

type Scheme =
  | { kind: 'pkcs1'; hash: HashName; modulusBits: number }
  | { kind: 'pss'; hash: HashName; modulusBits: number }
  | { kind: 'ecdsa'; hash: HashName; ecdsa: Ecdsa };

/** How `algorithm` signs with `key`; throws when it does not fit the key. */
function schemeOf(key: KeyObject, algorithm: SigningAlgorithm): Scheme {
  const hash = hashOf(algorithm);
  if (algorithm.startsWith('RSASSA_')) {
    const modulusBits = key.asymmetricKeyType === 'rsa' ? key.asymmetricKeyDetails?.modulusLength : undefined;
    if (!modulusBits) throw new Error(`${algorithm} needs an RSA key`);
    return { kind: algorithm.startsWith('RSASSA_PSS_') ? 'pss' : 'pkcs1', hash, modulusBits };
  }
  const curve = key.asymmetricKeyType === 'ec' ? CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''] : undefined;
  if (curve?.algorithm !== algorithm) throw new Error(`${algorithm} does not fit this key`);
  return { kind: 'ecdsa', hash, ecdsa: curve.ecdsa };
}

function checkDigest(scheme: Scheme, digest: Buffer): void {
  if (digest.length !== DIGEST_BYTES[scheme.hash]) throw new Error(`A ${scheme.hash} digest is ${DIGEST_BYTES[scheme.hash]} bytes`);
}

function checkPrivate(key: KeyObject): void {
  if (key.type !== 'private') throw new Error('Signing needs a private key');
}

// ---- RSASSA-PKCS1-v1_5 (RFC 8017 §8.2, §9.2) ----

/** DER of DigestInfo up to the digest's bytes (RFC 8017 §9.2 note 1). */
const DIGEST_INFO_PREFIX: Readonly<Partial<Record<HashName, Buffer>>> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

function digestInfo(hash: HashName, digest: Buffer): Buffer {
  const prefix = DIGEST_INFO_PREFIX[hash];
  if (!prefix) throw new Error(`No RSASSA-PKCS1-v1_5 with ${hash}`);
  return Buffer.concat([prefix, digest]);
}

/** EMSA-PKCS1-v1_5 of a digest into `length` bytes: 00 01 FF… 00 ‖ DigestInfo. */
function emsaPkcs1(hash: HashName, digest: Buffer, length: number): Buffer {
  const t = digestInfo(hash, digest);
  const em = Buffer.alloc(length, 0xff);
  em[0] = 0;
  em[1] = 1;
  em[length - t.length - 1] = 0;
  t.copy(em, length - t.length);
  return em;
}

// ---- RSASSA-PSS (RFC 8017 §8.1, §9.1) ----

function mgf1(hash: HashName, seed: Buffer, length: number): Buffer {
  const mask = Buffer.alloc(length);
  const counter = Buffer.alloc(4);
  for (let i = 0, done = 0; done < length; i++, done += DIGEST_BYTES[hash]) {
    counter.writeUInt32BE(i);
    createHash(hash).update(seed).update(counter).digest().copy(mask, done);
  }
  return mask;
}

/** H = Hash(00×8 ‖ mHash ‖ salt). */
const pssHash = (hash: HashName, digest: Buffer, salt: Buffer) => createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest();

/** EMSA-PSS-ENCODE with emBits = modBits − 1, zero-padded on the left to the modulus' bytes. */
function emsaPssEncode(hash: HashName, digest: Buffer, modulusBits: number): Buffer {
  const emBits = modulusBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const hLen = digest.length;
  const salt = randomBytes(hLen);
  if (emLen < hLen + salt.length + 2) throw new Error('RSA key too small for RSASSA-PSS with this hash');
  const h = pssHash(hash, digest, salt);
  const db = Buffer.alloc(emLen - hLen - 1);
  db[emLen - salt.length - hLen - 2] = 1;
  salt.copy(db, emLen - salt.length - hLen - 1);
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  const em = Buffer.concat([db, h, Buffer.from([0xbc])]);
  const k = Math.ceil(modulusBits / 8);
  return k > emLen ? Buffer.concat([Buffer.alloc(k - emLen), em]) : em;
}

/** EMSA-PSS-VERIFY with sLen = hLen, over m = s^e mod n (k bytes). */
function emsaPssVerify(hash: HashName, digest: Buffer, m: Buffer, modulusBits: number): boolean {
  const emBits = modulusBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const hLen = digest.length;
  const sLen = hLen;
  if (m.length < emLen || m.subarray(0, m.length - emLen).some((byte) => byte !== 0)) return false;
  const em = m.subarray(m.length - emLen);
  if (emLen < hLen + sLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const topMask = 0xff >> (8 * emLen - emBits);
  if ((em[0]! & ~topMask) !== 0) return false;
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const db = mgf1(hash, h, emLen - hLen - 1);
  for (let i = 0; i < db.length; i++) db[i]! ^= em[i]!;
  db[0]! &= topMask;
  const separator = emLen - hLen - sLen - 2;
  if (db.subarray(0, separator).some((byte) => byte !== 0) || db[separator] !== 1) return false;
  return timingSafeEqual(h, pssHash(hash, digest, db.subarray(db.length - sLen)));
}

// ---- ECDSA (noble, prehash off: the input is the digest) ----

/** Private scalars by key, derived on first use; {@link forgetSigningKey} wipes one. */
const scalars = new WeakMap<KeyObject, Uint8Array>();
/** Uncompressed public points by key (public, nothing to wipe). */
const points = new WeakMap<KeyObject, Uint8Array>();

interface EcJwk {
  d?: string;
  x: string;
  y: string;
}

const fixed = (value: string, length: number): Uint8Array => {
  const decoded = Buffer.from(value, 'base64url');
  const out = new Uint8Array(length);
  out.set(decoded, length - decoded.length);
  decoded.fill(0);
  return out;
};

function scalarOf(key: KeyObject, ecdsa: Ecdsa): Uint8Array {
  let scalar = scalars.get(key);
  if (!scalar) {
    scalar = fixed((key.export({ format: 'jwk' }) as EcJwk).d!, ecdsa.lengths.secretKey!);
    scalars.set(key, scalar);
  }
  return scalar;
}

function pointOf(key: KeyObject, ecdsa: Ecdsa): Uint8Array {
  let point = points.get(key);
  if (!point) {
    const jwk = key.export({ format: 'jwk' }) as EcJwk;
    const coordinate = (ecdsa.lengths.publicKeyUncompressed! - 1) / 2;
    point = Buffer.concat([Buffer.from([4]), fixed(jwk.x, coordinate), fixed(jwk.y, coordinate)]);
    points.set(key, point);
  }
  return point;
}

/**
 * Wipes and drops the private scalar derived from `privateKey` for ECDSA (the version cache calls
 * this when it evicts a version). A no-op for a key that never signed a digest.
 */
export function forgetSigningKey(privateKey: KeyObject): void {
  scalars.get(privateKey)?.fill(0);
  scalars.delete(privateKey);
}

// ---- the four operations ----

/**
 * Signs a precomputed digest without hashing it again (Alibaba AsymmetricSign's `Digest`, AWS
 * Sign with MessageType=DIGEST). The digest must be the algorithm's hash length.
 * ECDSA signatures are hedged RFC 6979 and low-S (what secp256k1 verifiers require; valid for all).
 */
export function signDigest(privateKey: KeyObject, algorithm: SigningAlgorithm, digest: Buffer): Buffer {
  checkPrivate(privateKey);
  const scheme = schemeOf(privateKey, algorithm);
  checkDigest(scheme, digest);
  switch (scheme.kind) {
    case 'pkcs1':
      return privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, digestInfo(scheme.hash, digest));
    case 'pss':
      return privateEncrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, emsaPssEncode(scheme.hash, digest, scheme.modulusBits));
    case 'ecdsa': {
      const options = { prehash: false, lowS: true, format: 'der', extraEntropy: true } as const;
      return Buffer.from(scheme.ecdsa.sign(digest, scalarOf(privateKey, scheme.ecdsa), options));
    }
  }
}

/** node:crypto's options for a message signature (OpenSSL's EVP_DigestSign). */
function nodeOptions(key: KeyObject, scheme: Scheme) {
  if (scheme.kind === 'pss') return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
  if (scheme.kind === 'pkcs1') return { key, padding: constants.RSA_PKCS1_PADDING };
  return { key, dsaEncoding: 'der' as const };
}

/** Signs a message, hashing it with the algorithm's hash (AWS Sign with MessageType=RAW). */
export function signMessage(privateKey: KeyObject, algorithm: SigningAlgorithm, message: Buffer): Buffer {
  checkPrivate(privateKey);
  const scheme = schemeOf(privateKey, algorithm);
  return sign(scheme.hash, message, nodeOptions(privateKey, scheme));
}

/**
 * Whether `signature` is the algorithm's signature of `digest` (a precomputed hash) under
 * `publicKey` (a private key works too). False for any signature that is not, whatever its bytes;
 * PSS needs a salt as long as the digest, ECDSA accepts high-S.
 */
export function verifyDigest(publicKey: KeyObject, algorithm: SigningAlgorithm, digest: Buffer, signature: Buffer): boolean {
  const scheme = schemeOf(publicKey, algorithm);
  checkDigest(scheme, digest);
  try {
    if (scheme.kind === 'ecdsa') {
      const options = { prehash: false, lowS: false, format: 'der' } as const;
      return scheme.ecdsa.verify(signature, digest, pointOf(publicKey, scheme.ecdsa), options);
    }
    const k = Math.ceil(scheme.modulusBits / 8);
    if (signature.length !== k) return false;
    const m = publicDecrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, signature);
    if (scheme.kind === 'pss') return emsaPssVerify(scheme.hash, digest, m, scheme.modulusBits);
    const expected = emsaPkcs1(scheme.hash, digest, k);
    return m.length === k && timingSafeEqual(m, expected);
  } catch {
    return false;
  }
}

/** Whether `signature` is the algorithm's signature of `message` (hashed here) under `publicKey`. Never throws over the signature. */
export function verifyMessage(publicKey: KeyObject, algorithm: SigningAlgorithm, message: Buffer, signature: Buffer): boolean {
  const scheme = schemeOf(publicKey, algorithm);
  // RFC 8017 (RSASSA-PSS-VERIFY and RSASSA-PKCS1-V1_5-VERIFY, step 1): a signature is exactly k
  // octets. OpenSSL also takes a shorter encoding of the same integer, so a valid signature with a
  // leading zero octet would verify with it stripped too (one signature in 256).
  if (scheme.kind !== 'ecdsa' && signature.length !== Math.ceil(scheme.modulusBits / 8)) return false;
  try {
    return verify(scheme.hash, message, nodeOptions(publicKey, scheme), signature);
  } catch {
    return false;
  }
}
