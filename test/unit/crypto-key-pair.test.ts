import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairDer, loadKeyPair, publicKeyDer, publicKeyPem } from '../../lib/crypto/key-pair.js';
import { isAsymmetric, KEY_SPEC_INFO, KEY_SPECS, type KeySpec } from '../../lib/crypto/key-spec.js';

const ASYMMETRIC = KEY_SPECS.filter((spec) => isAsymmetric(KEY_SPEC_INFO[spec]));
const generated = new Map<KeySpec, { publicKeySpki: Buffer; privateKeyPkcs8: Buffer }>();

// One pair per spec (RSA_4096 included, made once), in parallel on the thread pool.
beforeAll(async () => {
  await Promise.all(ASYMMETRIC.map(async (spec) => generated.set(spec, await generateKeyPairDer(KEY_SPEC_INFO[spec]))));
});

function describeKey(key: KeyObject) {
  return { type: key.asymmetricKeyType, ...key.asymmetricKeyDetails };
}

describe('Module: key-pair', () => {
  describe.each(ASYMMETRIC)('spec %s', (spec) => {
    const info = KEY_SPEC_INFO[spec];

    it('when generating, the public half is DER SubjectPublicKeyInfo and the private half unencrypted DER PKCS #8 of the spec (RSA e = 65537, EC named curve)', () => {
      const { publicKeySpki, privateKeyPkcs8 } = generated.get(spec)!;
      const publicKey = createPublicKey({ key: publicKeySpki, format: 'der', type: 'spki' });
      const privateKey = createPrivateKey({ key: privateKeyPkcs8, format: 'der', type: 'pkcs8' });
      const expected = info.kind === 'rsa' ? { type: 'rsa', modulusLength: info.bits, publicExponent: 65537n } : { type: 'ec', namedCurve: info.curve };
      expect(describeKey(publicKey)).toMatchObject(expected);
      expect(describeKey(privateKey)).toMatchObject(expected);
      expect(publicKeySpki[0]).toBe(0x30);
      expect(privateKeyPkcs8[0]).toBe(0x30);
    });

    it('when loading the PKCS #8, it gives the private KeyObject and its public half, whose DER is the generated SPKI', () => {
      const { publicKeySpki, privateKeyPkcs8 } = generated.get(spec)!;
      const { privateKey, publicKey } = loadKeyPair(privateKeyPkcs8);
      expect(privateKey.type).toBe('private');
      expect(publicKey.type).toBe('public');
      expect(publicKeyDer(publicKey)).toEqual(publicKeySpki);
    });

    it('when writing the public key as PEM, it is SPKI armour with 64-character lines and a final newline, and its body is the DER', () => {
      const { publicKeySpki, privateKeyPkcs8 } = generated.get(spec)!;
      const pem = publicKeyPem(loadKeyPair(privateKeyPkcs8).publicKey);
      const lines = pem.split('\n');
      expect(lines[0]).toBe('-----BEGIN PUBLIC KEY-----');
      expect(lines.at(-2)).toBe('-----END PUBLIC KEY-----');
      expect(lines.at(-1)).toBe('');
      const body = lines.slice(1, -2);
      for (const line of body.slice(0, -1)) expect(line).toHaveLength(64);
      expect(body.at(-1)!.length).toBeLessThanOrEqual(64);
      expect(Buffer.from(body.join(''), 'base64')).toEqual(publicKeySpki);
    });
  });

  describe('function generateKeyPairDer', () => {
    it('when called twice for a spec, the pairs differ', async () => {
      const again = await generateKeyPairDer(KEY_SPEC_INFO.EC_P256);
      expect(again.publicKeySpki).not.toEqual(generated.get('EC_P256')!.publicKeySpki);
    });

    it('when the spec has no key pair (AES, HMAC), it rejects', async () => {
      for (const spec of ['Aliyun_AES_256', 'HMAC_256'] as const) await expect(generateKeyPairDer(KEY_SPEC_INFO[spec])).rejects.toThrow(Error);
    });
  });

  describe('function loadKeyPair', () => {
    it('when the bytes are not a PKCS #8 private key (an SPKI, garbage, empty), it throws', () => {
      for (const bytes of [generated.get('RSA_2048')!.publicKeySpki, Buffer.from('not a key'), Buffer.alloc(0)]) {
        expect(() => loadKeyPair(bytes)).toThrow();
      }
    });
  });
});
