/**
 * The kinds of key this service makes, and what each may do. One key is one spec for life; its
 * versions all have it. Names are Alibaba's where Alibaba has the spec (`EC_P256`), else AWS's
 * (`HMAC_256`), and our own in Alibaba's pattern for the curves only AWS lists (`EC_P384`,
 * `EC_P521`). Algorithm names are AWS's (a superset); the Alibaba protocol maps its three signing
 * names onto them at the edge.
 */

export const KEY_SPECS = [
  'Aliyun_AES_256',
  'RSA_2048',
  'RSA_3072',
  'RSA_4096',
  'EC_P256',
  'EC_P256K',
  'EC_P384',
  'EC_P521',
  'HMAC_224',
  'HMAC_256',
  'HMAC_384',
  'HMAC_512',
] as const;
export type KeySpec = (typeof KEY_SPECS)[number];

/** What a key does, fixed at creation (Alibaba's spelling; HMAC keys take AWS's, as Alibaba has none). */
export type KeyUsage = 'ENCRYPT/DECRYPT' | 'SIGN/VERIFY' | 'GENERATE_VERIFY_MAC';

export const SIGNING_ALGORITHMS = [
  'RSASSA_PSS_SHA_256',
  'RSASSA_PSS_SHA_384',
  'RSASSA_PSS_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256',
  'RSASSA_PKCS1_V1_5_SHA_384',
  'RSASSA_PKCS1_V1_5_SHA_512',
  'ECDSA_SHA_256',
  'ECDSA_SHA_384',
  'ECDSA_SHA_512',
] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

export const ASYMMETRIC_ENCRYPTION_ALGORITHMS = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] as const;
export type AsymmetricEncryptionAlgorithm = (typeof ASYMMETRIC_ENCRYPTION_ALGORITHMS)[number];

export const MAC_ALGORITHMS = ['HMAC_SHA_224', 'HMAC_SHA_256', 'HMAC_SHA_384', 'HMAC_SHA_512'] as const;
export type MacAlgorithm = (typeof MAC_ALGORITHMS)[number];

/** The hash an algorithm uses, as node:crypto names it. */
export type HashName = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

export type KeyKind = 'symmetric' | 'rsa' | 'ec' | 'hmac';

export interface KeySpecInfo {
  spec: KeySpec;
  /** The name AWS gives it (KeySpec, CustomerMasterKeySpec, KeyPairSpec). */
  awsName: string;
  kind: KeyKind;
  /** RSA modulus bits; HMAC key bits; AES key bits. */
  bits?: number;
  /** node:crypto's (OpenSSL's) curve name. */
  curve?: string;
  /** The usages it can be created with, the default first per protocol (see {@link defaultUsage}). */
  usages: readonly KeyUsage[];
  signingAlgorithms: readonly SigningAlgorithm[];
  encryptionAlgorithms: readonly AsymmetricEncryptionAlgorithm[];
  macAlgorithm?: MacAlgorithm;
}

const RSA_SIGNING: readonly SigningAlgorithm[] = SIGNING_ALGORITHMS.filter((a) => a.startsWith('RSASSA_'));
const rsa = (bits: number): Omit<KeySpecInfo, 'spec' | 'awsName'> => ({
  kind: 'rsa',
  bits,
  usages: ['SIGN/VERIFY', 'ENCRYPT/DECRYPT'],
  signingAlgorithms: RSA_SIGNING,
  encryptionAlgorithms: ASYMMETRIC_ENCRYPTION_ALGORITHMS,
});
const ec = (curve: string, algorithm: SigningAlgorithm): Omit<KeySpecInfo, 'spec' | 'awsName'> => ({
  kind: 'ec',
  curve,
  usages: ['SIGN/VERIFY'],
  signingAlgorithms: [algorithm],
  encryptionAlgorithms: [],
});
const hmac = (bits: number): Omit<KeySpecInfo, 'spec' | 'awsName'> => ({
  kind: 'hmac',
  bits,
  usages: ['GENERATE_VERIFY_MAC'],
  signingAlgorithms: [],
  encryptionAlgorithms: [],
  macAlgorithm: `HMAC_SHA_${bits}` as MacAlgorithm,
});

export const KEY_SPEC_INFO: Readonly<Record<KeySpec, KeySpecInfo>> = {
  Aliyun_AES_256: {
    spec: 'Aliyun_AES_256',
    awsName: 'SYMMETRIC_DEFAULT',
    kind: 'symmetric',
    bits: 256,
    usages: ['ENCRYPT/DECRYPT'],
    signingAlgorithms: [],
    encryptionAlgorithms: [],
  },
  RSA_2048: { spec: 'RSA_2048', awsName: 'RSA_2048', ...rsa(2048) },
  RSA_3072: { spec: 'RSA_3072', awsName: 'RSA_3072', ...rsa(3072) },
  RSA_4096: { spec: 'RSA_4096', awsName: 'RSA_4096', ...rsa(4096) },
  EC_P256: { spec: 'EC_P256', awsName: 'ECC_NIST_P256', ...ec('prime256v1', 'ECDSA_SHA_256') },
  EC_P256K: { spec: 'EC_P256K', awsName: 'ECC_SECG_P256K1', ...ec('secp256k1', 'ECDSA_SHA_256') },
  EC_P384: { spec: 'EC_P384', awsName: 'ECC_NIST_P384', ...ec('secp384r1', 'ECDSA_SHA_384') },
  EC_P521: { spec: 'EC_P521', awsName: 'ECC_NIST_P521', ...ec('secp521r1', 'ECDSA_SHA_512') },
  HMAC_224: { spec: 'HMAC_224', awsName: 'HMAC_224', ...hmac(224) },
  HMAC_256: { spec: 'HMAC_256', awsName: 'HMAC_256', ...hmac(256) },
  HMAC_384: { spec: 'HMAC_384', awsName: 'HMAC_384', ...hmac(384) },
  HMAC_512: { spec: 'HMAC_512', awsName: 'HMAC_512', ...hmac(512) },
};

/** The spec of a key or version record: records written before specs existed are AES keys. */
export function specOf(record: { keySpec?: KeySpec }): KeySpecInfo {
  return KEY_SPEC_INFO[record.keySpec ?? 'Aliyun_AES_256'];
}

/** The usage of a key record (absent: a symmetric key's). */
export function usageOf(record: { keyUsage?: KeyUsage }): KeyUsage {
  return record.keyUsage ?? 'ENCRYPT/DECRYPT';
}

/** The spec AWS names `name`, or undefined. */
export function specOfAwsName(name: string): KeySpec | undefined {
  return KEY_SPECS.find((spec) => KEY_SPEC_INFO[spec].awsName === name);
}

/** Whether keys of this spec hold a key pair. */
export const isAsymmetric = (info: KeySpecInfo) => info.kind === 'rsa' || info.kind === 'ec';

/** The hash of a signing or encryption algorithm. */
export function hashOf(algorithm: SigningAlgorithm | AsymmetricEncryptionAlgorithm | MacAlgorithm): HashName {
  const bits = /SHA_(1|224|256|384|512)$/.exec(algorithm)![1];
  return `sha${bits}` as HashName;
}

/** Bytes of a digest of this hash. */
export const DIGEST_BYTES: Readonly<Record<HashName, number>> = { sha1: 20, sha224: 28, sha256: 32, sha384: 48, sha512: 64 };

/**
 * The most bytes RSAES-OAEP with this algorithm encrypts under a key of `bits` (RFC 8017 §7.1.1:
 * k − 2·hLen − 2): RSA_2048 with SHA-256 190, with SHA-1 214.
 */
export function maxOaepPlaintextBytes(bits: number, algorithm: AsymmetricEncryptionAlgorithm): number {
  return bits / 8 - 2 * DIGEST_BYTES[hashOf(algorithm)] - 2;
}

/** Bytes of an HMAC key of this spec (the spec's bits, as AWS makes them). */
export function hmacKeyBytes(info: KeySpecInfo): number {
  return info.bits! / 8;
}
