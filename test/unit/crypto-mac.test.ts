import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAC_ALGORITHMS, type MacAlgorithm } from '../../lib/crypto/key-spec.js';
import { macMatches, macOf } from '../../lib/crypto/mac.js';

const LONG_KEY = Buffer.alloc(131, 0xaa);

/** RFC 4231 §4.2–4.8 (test case 5, a truncated tag, is left out: AWS returns the whole tag). */
const RFC_4231: { name: string; key: Buffer; data: Buffer; tags: Record<MacAlgorithm, string> }[] = [
  {
    name: 'test case 1',
    key: Buffer.alloc(20, 0x0b),
    data: Buffer.from('Hi There'),
    tags: {
      HMAC_SHA_224: '896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22',
      HMAC_SHA_256: 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
      HMAC_SHA_384: 'afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6',
      HMAC_SHA_512: '87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854',
    },
  },
  {
    name: 'test case 2 (a key shorter than the tag)',
    key: Buffer.from('Jefe'),
    data: Buffer.from('what do ya want for nothing?'),
    tags: {
      HMAC_SHA_224: 'a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44',
      HMAC_SHA_256: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
      HMAC_SHA_384: 'af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649',
      HMAC_SHA_512: '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
    },
  },
  {
    name: 'test case 3',
    key: Buffer.alloc(20, 0xaa),
    data: Buffer.alloc(50, 0xdd),
    tags: {
      HMAC_SHA_224: '7fb3cb3588c6c1f6ffa9694d7d6ad2649365b0c1f65d69d1ec8333ea',
      HMAC_SHA_256: '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe',
      HMAC_SHA_384: '88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27',
      HMAC_SHA_512: 'fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb',
    },
  },
  {
    name: 'test case 4',
    key: Buffer.from(Array.from({ length: 25 }, (_, i) => i + 1)),
    data: Buffer.alloc(50, 0xcd),
    tags: {
      HMAC_SHA_224: '6c11506874013cac6a2abc1bb382627cec6a90d86efc012de7afec5a',
      HMAC_SHA_256: '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b',
      HMAC_SHA_384: '3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb',
      HMAC_SHA_512: 'b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3dba91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd',
    },
  },
  {
    name: 'test case 6 (a key longer than the block)',
    key: LONG_KEY,
    data: Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First'),
    tags: {
      HMAC_SHA_224: '95e9a0db962095adaebe9b2d6f0dbce2d499f112f2d2b7273fa6870e',
      HMAC_SHA_256: '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
      HMAC_SHA_384: '4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952',
      HMAC_SHA_512: '80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598',
    },
  },
  {
    name: 'test case 7 (key and data longer than the block)',
    key: LONG_KEY,
    data: Buffer.from(
      'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
    ),
    tags: {
      HMAC_SHA_224: '3a854166ac5d9f023f54d517d0b39dbd946770db9c2b95c9f6f565d1',
      HMAC_SHA_256: '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
      HMAC_SHA_384: '6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e',
      HMAC_SHA_512: 'e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58',
    },
  },
];

const CASES = RFC_4231.flatMap(({ name, key, data, tags }) => MAC_ALGORITHMS.map((algorithm) => ({ name, algorithm, key, data, tag: tags[algorithm] })));

describe('Module: mac', () => {
  describe.each(CASES)('RFC 4231 $name with $algorithm', ({ algorithm, key, data, tag }) => {
    it('when computing the MAC, it is the RFC tag, whole', () => {
      expect(macOf(algorithm, key, data).toString('hex')).toBe(tag);
    });

    it('when verifying the RFC tag, it matches; a flipped bit, another message or another key does not', () => {
      const mac = Buffer.from(tag, 'hex');
      expect(macMatches(algorithm, key, data, mac)).toBe(true);
      const flipped = Buffer.from(mac);
      flipped[flipped.length - 1]! ^= 1;
      expect(macMatches(algorithm, key, data, flipped)).toBe(false);
      expect(macMatches(algorithm, key, Buffer.concat([data, Buffer.from([0])]), mac)).toBe(false);
      expect(macMatches(algorithm, Buffer.concat([key, Buffer.from([1])]), data, mac)).toBe(false);
    });
  });

  describe.each(MAC_ALGORITHMS)('function macMatches with %s', (algorithm) => {
    const key = Buffer.alloc(32, 9);
    const message = Buffer.from('message');

    it('when the MAC has the wrong length (empty, truncated, extended) or is random bytes, it is false and never throws', () => {
      const mac = macOf(algorithm, key, message);
      for (const wrong of [Buffer.alloc(0), mac.subarray(0, mac.length - 1), mac.subarray(0, 16), Buffer.concat([mac, Buffer.from([0])])]) {
        expect(macMatches(algorithm, key, message, wrong)).toBe(false);
      }
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
          expect(macMatches(algorithm, key, message, Buffer.from(bytes))).toBe(false);
        }),
        { numRuns: 50 },
      );
    });

    it('when the same key and message are MACed twice, the tags are equal (deterministic, as AWS GenerateMac)', () => {
      expect(macOf(algorithm, key, message)).toEqual(macOf(algorithm, key, message));
      expect(macOf(algorithm, key, Buffer.alloc(0)).length).toBe(Number(algorithm.slice(-3)) / 8);
    });
  });
});
