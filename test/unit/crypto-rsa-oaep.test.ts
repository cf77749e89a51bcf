import { constants, type KeyObject, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairDer, loadKeyPair } from '../../lib/crypto/key-pair.js';
import { ASYMMETRIC_ENCRYPTION_ALGORITHMS, hashOf, KEY_SPEC_INFO, maxOaepPlaintextBytes } from '../../lib/crypto/key-spec.js';
import { oaepDecrypt, oaepEncrypt } from '../../lib/crypto/rsa-oaep.js';
import { OpenSsl } from '../helpers/openssl.js';

type Pair = { privateKey: KeyObject; publicKey: KeyObject };

const PLAINTEXT = Buffer.from('a data key, or any short secret: 中文');
let key: Pair;
let otherKey: Pair;
let ecKey: Pair;
let openssl: OpenSsl;

beforeAll(async () => {
  openssl = await OpenSsl.open();
  const pair = async (spec: 'RSA_2048' | 'EC_P256') => loadKeyPair((await generateKeyPairDer(KEY_SPEC_INFO[spec])).privateKeyPkcs8);
  [key, otherKey, ecKey] = await Promise.all([pair('RSA_2048'), pair('RSA_2048'), pair('EC_P256')]);
});
afterAll(() => openssl.close());

const nodeOaep = (k: KeyObject, algorithm: (typeof ASYMMETRIC_ENCRYPTION_ALGORITHMS)[number]) => ({
  key: k,
  padding: constants.RSA_PKCS1_OAEP_PADDING,
  oaepHash: hashOf(algorithm),
});

describe('Module: rsa-oaep', () => {
  describe.each(ASYMMETRIC_ENCRYPTION_ALGORITHMS)('RSA_2048 with %s', (algorithm) => {
    const other = ASYMMETRIC_ENCRYPTION_ALGORITHMS.find((a) => a !== algorithm)!;

    it('when encrypting, the bare 256-byte OAEP output opens with node privateDecrypt and with openssl pkeyutl (MGF1 = OAEP hash, empty label)', async () => {
      const ciphertext = oaepEncrypt(key.publicKey, algorithm, PLAINTEXT);
      expect(ciphertext.length).toBe(256);
      expect(privateDecrypt(nodeOaep(key.privateKey, algorithm), ciphertext)).toEqual(PLAINTEXT);
      expect(await openssl.oaepDecrypt(key.privateKey, hashOf(algorithm), ciphertext)).toEqual(PLAINTEXT);
      expect(oaepEncrypt(key.publicKey, algorithm, PLAINTEXT)).not.toEqual(ciphertext);
    });

    it('when node publicEncrypt or openssl pkeyutl encrypts with the public key, oaepDecrypt opens it', async () => {
      expect(oaepDecrypt(key.privateKey, algorithm, publicEncrypt(nodeOaep(key.publicKey, algorithm), PLAINTEXT))).toEqual(PLAINTEXT);
      expect(oaepDecrypt(key.privateKey, algorithm, await openssl.oaepEncrypt(key.publicKey, hashOf(algorithm), PLAINTEXT))).toEqual(PLAINTEXT);
    });

    it('when the plaintext is empty or exactly at the RFC 8017 limit (190 bytes with SHA-256, 214 with SHA-1), it round-trips; one byte more throws', () => {
      const limit = maxOaepPlaintextBytes(2048, algorithm);
      expect(limit).toBe(algorithm === 'RSAES_OAEP_SHA_256' ? 190 : 214);
      for (const plaintext of [Buffer.alloc(0), randomBytes(limit)]) {
        expect(oaepDecrypt(key.privateKey, algorithm, oaepEncrypt(key.publicKey, algorithm, plaintext))).toEqual(plaintext);
      }
      expect(() => oaepEncrypt(key.publicKey, algorithm, randomBytes(limit + 1))).toThrow(Error);
    });

    it('when the ciphertext was made with the other algorithm or another key, it does not open: undefined', () => {
      const ciphertext = oaepEncrypt(key.publicKey, algorithm, PLAINTEXT);
      expect(oaepDecrypt(key.privateKey, other, ciphertext)).toBeUndefined();
      expect(oaepDecrypt(otherKey.privateKey, algorithm, ciphertext)).toBeUndefined();
    });

    it('when the ciphertext is tampered, truncated, extended, empty or random, it is undefined and never throws', () => {
      const ciphertext = oaepEncrypt(key.publicKey, algorithm, PLAINTEXT);
      const flipped = Buffer.from(ciphertext);
      flipped[100]! ^= 1;
      const broken = [
        flipped,
        ciphertext.subarray(1),
        Buffer.concat([ciphertext, Buffer.from([0])]),
        Buffer.concat([Buffer.from([0]), ciphertext]),
        Buffer.alloc(0),
        Buffer.alloc(256),
        Buffer.alloc(256, 0xff),
      ];
      for (const bytes of broken) expect(oaepDecrypt(key.privateKey, algorithm, bytes)).toBeUndefined();
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({ minLength: 256, maxLength: 256 }), fc.uint8Array({ maxLength: 300 })), (bytes) => {
          expect(oaepDecrypt(key.privateKey, algorithm, Buffer.from(bytes))).toBeUndefined();
        }),
        { numRuns: 60 },
      );
    });
  });

  describe('a key that is not RSA', () => {
    it('when encrypting or decrypting with an EC key, it throws (a caller error, not a ciphertext that fails)', () => {
      expect(() => oaepEncrypt(ecKey.publicKey, 'RSAES_OAEP_SHA_256', PLAINTEXT)).toThrow(Error);
      expect(() => oaepDecrypt(ecKey.privateKey, 'RSAES_OAEP_SHA_256', Buffer.alloc(256))).toThrow(Error);
    });
  });
});
