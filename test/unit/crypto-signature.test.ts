import { constants, createHash, type KeyObject, sign, verify } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairDer, loadKeyPair } from '../../lib/crypto/key-pair.js';
import { DIGEST_BYTES, hashOf, KEY_SPEC_INFO, type KeySpec, SIGNING_ALGORITHMS, type SigningAlgorithm } from '../../lib/crypto/key-spec.js';
import { forgetSigningKey, signDigest, signMessage, verifyDigest, verifyMessage } from '../../lib/crypto/signature.js';
import { OpenSsl } from '../helpers/openssl.js';

type Pair = { privateKey: KeyObject; publicKey: KeyObject };

const SPECS = ['RSA_2048', 'RSA_3072', 'EC_P256', 'EC_P256K', 'EC_P384', 'EC_P521'] as const satisfies readonly KeySpec[];
const CASES = SPECS.flatMap((spec) => KEY_SPEC_INFO[spec].signingAlgorithms.map((algorithm) => ({ spec, algorithm })));

const MESSAGE = Buffer.from('Pay 100 to Alice, 中文 too');
const keys = new Map<KeySpec, Pair>();
/** A second pair of the same spec, for "signed by another key". */
const others = new Map<KeySpec, Pair>();
let openssl: OpenSsl;

const newPair = async (spec: KeySpec) => loadKeyPair((await generateKeyPairDer(KEY_SPEC_INFO[spec])).privateKeyPkcs8);

beforeAll(async () => {
  openssl = await OpenSsl.open();
  await Promise.all(SPECS.map(async (spec) => keys.set(spec, await newPair(spec))));
  await Promise.all((['RSA_2048', 'EC_P256K'] as const).map(async (spec) => others.set(spec, await newPair(spec))));
});
afterAll(() => openssl.close());

const hash = (algorithm: SigningAlgorithm) => hashOf(algorithm);
const digestOf = (algorithm: SigningAlgorithm, message: Buffer = MESSAGE) => createHash(hash(algorithm)).update(message).digest();
const isPss = (algorithm: SigningAlgorithm) => algorithm.startsWith('RSASSA_PSS_');
const isEcdsa = (algorithm: SigningAlgorithm) => algorithm.startsWith('ECDSA_');
/** node:crypto's options for the algorithm (PSS: salt as long as the digest). */
function nodeKey(key: KeyObject, algorithm: SigningAlgorithm, saltLength: number = constants.RSA_PSS_SALTLEN_DIGEST) {
  if (isPss(algorithm)) return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength };
  if (isEcdsa(algorithm)) return { key, dsaEncoding: 'der' as const };
  return { key, padding: constants.RSA_PKCS1_PADDING };
}
const flipBit = (bytes: Buffer, bit: number) => {
  const copy = Buffer.from(bytes);
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
};

describe('Module: signature', () => {
  describe.each(CASES)('$spec with $algorithm', ({ spec, algorithm }) => {
    const pair = () => keys.get(spec)!;
    const digestBytes = () => DIGEST_BYTES[hash(algorithm)];

    it('when signing the digest H(m), node crypto.verify, openssl dgst -verify, verifyDigest and verifyMessage all accept it over m', async () => {
      const { privateKey, publicKey } = pair();
      const signature = signDigest(privateKey, algorithm, digestOf(algorithm));
      expect(verify(hash(algorithm), MESSAGE, nodeKey(publicKey, algorithm), signature)).toBe(true);
      expect(await openssl.verify(publicKey, hash(algorithm), MESSAGE, signature, isPss(algorithm))).toBe(true);
      expect(verifyDigest(publicKey, algorithm, digestOf(algorithm), signature)).toBe(true);
      expect(verifyMessage(publicKey, algorithm, MESSAGE, signature)).toBe(true);
    });

    it('when signing the message (signMessage), it verifies as a message, as a digest and with openssl', async () => {
      const { privateKey, publicKey } = pair();
      const signature = signMessage(privateKey, algorithm, MESSAGE);
      expect(verifyMessage(publicKey, algorithm, MESSAGE, signature)).toBe(true);
      expect(verifyDigest(publicKey, algorithm, digestOf(algorithm), signature)).toBe(true);
      expect(await openssl.verify(publicKey, hash(algorithm), MESSAGE, signature, isPss(algorithm))).toBe(true);
    });

    it('when openssl dgst -sign or node crypto.sign signs m, verifyDigest(H(m)) and verifyMessage(m) accept it', async () => {
      const { privateKey, publicKey } = pair();
      const signatures = [
        await openssl.sign(privateKey, hash(algorithm), MESSAGE, isPss(algorithm)),
        sign(hash(algorithm), MESSAGE, nodeKey(privateKey, algorithm)),
      ];
      for (const signature of signatures) {
        expect(verifyDigest(publicKey, algorithm, digestOf(algorithm), signature)).toBe(true);
        expect(verifyMessage(publicKey, algorithm, MESSAGE, signature)).toBe(true);
      }
    });

    it('when signing, the signature has the standard form: RSA k bytes (PKCS#1 v1.5 byte-identical to OpenSSL), ECDSA DER, PSS and ECDSA randomized', () => {
      const { privateKey, publicKey } = pair();
      const first = signDigest(privateKey, algorithm, digestOf(algorithm));
      const second = signDigest(privateKey, algorithm, digestOf(algorithm));
      if (isEcdsa(algorithm)) {
        // SEQUENCE { INTEGER r, INTEGER s } (X9.62 / RFC 3279 §2.2.3), never raw r‖s.
        expect(first[0]).toBe(0x30);
        expect(first.includes(0x02)).toBe(true);
        expect(first).not.toEqual(second);
      } else {
        expect(first.length).toBe(publicKey.asymmetricKeyDetails!.modulusLength! / 8);
        if (isPss(algorithm)) expect(first).not.toEqual(second);
        else expect(first).toEqual(sign(hash(algorithm), MESSAGE, nodeKey(privateKey, algorithm)));
      }
    });

    it('when the signature, the digest, the message or the key differ, verification is false', () => {
      const { privateKey, publicKey } = pair();
      const digest = digestOf(algorithm);
      const signature = signDigest(privateKey, algorithm, digest);
      for (const bit of [0, 7, signature.length * 4, signature.length * 8 - 1]) {
        expect(verifyDigest(publicKey, algorithm, digest, flipBit(signature, bit))).toBe(false);
        expect(verifyMessage(publicKey, algorithm, MESSAGE, flipBit(signature, bit))).toBe(false);
      }
      for (const bit of [0, digest.length * 8 - 1]) expect(verifyDigest(publicKey, algorithm, flipBit(digest, bit), signature)).toBe(false);
      expect(verifyMessage(publicKey, algorithm, Buffer.concat([MESSAGE, Buffer.from('!')]), signature)).toBe(false);
      const other = others.get(spec);
      if (other) {
        expect(verifyDigest(other.publicKey, algorithm, digest, signature)).toBe(false);
        expect(verifyMessage(other.publicKey, algorithm, MESSAGE, signature)).toBe(false);
      }
    });

    it('when the signature is garbage (empty, truncated, padded, out of range, random bytes), verification is false and never throws', () => {
      const { privateKey, publicKey } = pair();
      const digest = digestOf(algorithm);
      const signature = signDigest(privateKey, algorithm, digest);
      const garbage = [
        Buffer.alloc(0),
        signature.subarray(0, signature.length - 1),
        signature.subarray(1),
        Buffer.concat([signature, Buffer.from([0])]),
        Buffer.concat([Buffer.from([0]), signature]),
        Buffer.concat([signature, signature]),
        Buffer.alloc(signature.length),
        Buffer.alloc(signature.length, 0xff),
        Buffer.from([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00]),
        Buffer.from([0x30, 0x80, 0x02]),
      ];
      for (const bytes of garbage) {
        expect(verifyDigest(publicKey, algorithm, digest, bytes)).toBe(false);
        expect(verifyMessage(publicKey, algorithm, MESSAGE, bytes)).toBe(false);
      }
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: signature.length + 16 }), (bytes) => {
          const candidate = Buffer.from(bytes);
          expect(verifyDigest(publicKey, algorithm, digest, candidate)).toBe(false);
          expect(verifyMessage(publicKey, algorithm, MESSAGE, candidate)).toBe(false);
        }),
        { numRuns: 60 },
      );
    });

    it('when the digest is not the hash length, or the key is a public key, signing throws rather than sign', () => {
      const { privateKey, publicKey } = pair();
      const digest = digestOf(algorithm);
      for (const wrong of [Buffer.alloc(0), digest.subarray(1), Buffer.concat([digest, Buffer.from([0])]), Buffer.alloc(digestBytes() === 32 ? 64 : 32)]) {
        expect(() => signDigest(privateKey, algorithm, wrong)).toThrow(Error);
        expect(() => verifyDigest(publicKey, algorithm, wrong, Buffer.alloc(8))).toThrow(Error);
      }
      expect(() => signDigest(publicKey, algorithm, digest)).toThrow(Error);
      expect(() => signMessage(publicKey, algorithm, MESSAGE)).toThrow(Error);
    });
  });

  describe.each(SPECS)('a %s key with an algorithm that does not fit it', (spec) => {
    const unfit = SIGNING_ALGORITHMS.filter((algorithm) => !KEY_SPEC_INFO[spec].signingAlgorithms.includes(algorithm));

    it('when signing or verifying with it, it throws a plain Error', () => {
      const { privateKey, publicKey } = keys.get(spec)!;
      for (const algorithm of unfit) {
        const digest = digestOf(algorithm);
        expect(() => signDigest(privateKey, algorithm, digest)).toThrow(Error);
        expect(() => signMessage(privateKey, algorithm, MESSAGE)).toThrow(Error);
        expect(() => verifyDigest(publicKey, algorithm, digest, Buffer.alloc(64))).toThrow(Error);
        expect(() => verifyMessage(publicKey, algorithm, MESSAGE, Buffer.alloc(64))).toThrow(Error);
      }
    });
  });

  describe('RSASSA-PSS salt length', () => {
    it('when a PSS signature has a salt other than the digest length, both verifications are false (AWS and Alibaba salt = hLen)', () => {
      const { privateKey, publicKey } = keys.get('RSA_2048')!;
      const algorithm = 'RSASSA_PSS_SHA_256';
      for (const saltLength of [0, 20, 33, constants.RSA_PSS_SALTLEN_MAX_SIGN]) {
        const signature = sign('sha256', MESSAGE, nodeKey(privateKey, algorithm, saltLength));
        expect(
          verify('sha256', MESSAGE, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, signature),
        ).toBe(true);
        expect(verifyDigest(publicKey, algorithm, digestOf(algorithm), signature)).toBe(false);
        expect(verifyMessage(publicKey, algorithm, MESSAGE, signature)).toBe(false);
      }
    });
  });

  describe('RSA signature length (RFC 8017: exactly k octets)', () => {
    it.each(['RSASSA_PSS_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_256'] as const)(
      'when a valid %s signature starts with a zero octet, the same integer without it (k − 1 octets) verifies false, as a message and as a digest',
      (algorithm) => {
        const { privateKey, publicKey } = keys.get('RSA_2048')!;
        // One signature in 256 starts with 0x00: PSS is randomized, PKCS #1 v1.5 is not (vary the message).
        let found: { message: Buffer; signature: Buffer<ArrayBufferLike> } | undefined;
        for (let i = 0; i < 20_000 && !found; i++) {
          const message = isPss(algorithm) ? MESSAGE : Buffer.concat([MESSAGE, Buffer.from(String(i))]);
          const signature = signDigest(privateKey, algorithm, digestOf(algorithm, message));
          if (signature[0] === 0) found = { message, signature };
        }
        expect(found, 'a signature with a leading zero octet').toBeDefined();
        const { message, signature } = found!;
        expect(verifyMessage(publicKey, algorithm, message, signature)).toBe(true);
        expect(verifyDigest(publicKey, algorithm, digestOf(algorithm, message), signature)).toBe(true);
        const stripped = signature.subarray(1);
        // OpenSSL alone accepts the short form under PSS (PKCS #1 v1.5 checks the length itself): the check is ours.
        expect(verify('sha256', message, nodeKey(publicKey, algorithm), stripped)).toBe(isPss(algorithm));
        expect(verifyMessage(publicKey, algorithm, message, stripped)).toBe(false);
        expect(verifyDigest(publicKey, algorithm, digestOf(algorithm, message), stripped)).toBe(false);
      },
    );
  });

  describe('ECDSA low and high S', () => {
    const N = p256.Point.Fn.ORDER;

    it('when a P-256 signature carries the high S (n − s), verifyDigest and openssl accept it; signDigest itself always makes low S', async () => {
      const { privateKey, publicKey } = keys.get('EC_P256')!;
      const digest = digestOf('ECDSA_SHA_256');
      for (let i = 0; i < 4; i++) {
        const signature = signDigest(privateKey, 'ECDSA_SHA_256', digest);
        const parsed = p256.Signature.fromBytes(signature, 'der');
        expect(parsed.hasHighS()).toBe(false);
        const high = Buffer.from(new p256.Signature(parsed.r, N - parsed.s).toBytes('der'));
        expect(verifyDigest(publicKey, 'ECDSA_SHA_256', digest, high)).toBe(true);
        expect(verifyMessage(publicKey, 'ECDSA_SHA_256', MESSAGE, high)).toBe(true);
        if (i === 0) expect(await openssl.verify(publicKey, 'sha256', MESSAGE, high, false)).toBe(true);
      }
    });

    it('when given the raw r‖s form instead of DER, verification is false', () => {
      const { privateKey, publicKey } = keys.get('EC_P256')!;
      const digest = digestOf('ECDSA_SHA_256');
      const raw = Buffer.from(p256.Signature.fromBytes(signDigest(privateKey, 'ECDSA_SHA_256', digest), 'der').toBytes('compact'));
      expect(verifyDigest(publicKey, 'ECDSA_SHA_256', digest, raw)).toBe(false);
      expect(verifyMessage(publicKey, 'ECDSA_SHA_256', MESSAGE, raw)).toBe(false);
    });
  });

  describe('function forgetSigningKey', () => {
    it('when a key is forgotten, the next digest signature derives it again and still verifies; forgetting an unused or RSA key is harmless', () => {
      const { privateKey, publicKey } = keys.get('EC_P384')!;
      const digest = digestOf('ECDSA_SHA_384');
      expect(verifyDigest(publicKey, 'ECDSA_SHA_384', digest, signDigest(privateKey, 'ECDSA_SHA_384', digest))).toBe(true);
      forgetSigningKey(privateKey);
      forgetSigningKey(privateKey);
      expect(verifyDigest(publicKey, 'ECDSA_SHA_384', digest, signDigest(privateKey, 'ECDSA_SHA_384', digest))).toBe(true);
      forgetSigningKey(keys.get('RSA_2048')!.privateKey);
      forgetSigningKey(others.get('EC_P256K')!.privateKey);
    });
  });
});
