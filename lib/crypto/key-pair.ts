import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { KeySpecInfo } from './key-spec.js';

const generate = promisify(generateKeyPair);

/** A new RSA or EC key pair of this spec: the public key as DER SubjectPublicKeyInfo, the private as DER PKCS #8. */
export async function generateKeyPairDer(spec: KeySpecInfo): Promise<{ publicKeySpki: Buffer; privateKeyPkcs8: Buffer }> {
  const publicKeyEncoding = { type: 'spki', format: 'der' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'der' } as const;
  if (spec.kind === 'rsa') {
    const pair = await generate('rsa', { modulusLength: spec.bits!, publicExponent: 0x10001, publicKeyEncoding, privateKeyEncoding });
    return { publicKeySpki: pair.publicKey, privateKeyPkcs8: pair.privateKey };
  }
  if (spec.kind === 'ec') {
    const pair = await generate('ec', { namedCurve: spec.curve!, publicKeyEncoding, privateKeyEncoding });
    return { publicKeySpki: pair.publicKey, privateKeyPkcs8: pair.privateKey };
  }
  throw new Error(`keys of spec ${spec.spec} are not key pairs`);
}

/** The key pair of a PKCS #8 DER private key. */
export function loadKeyPair(pkcs8: Buffer): { privateKey: KeyObject; publicKey: KeyObject } {
  const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`, 64-character lines), as Alibaba's GetPublicKey returns it. */
export function publicKeyPem(publicKey: KeyObject): string {
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/** SubjectPublicKeyInfo DER, as AWS's GetPublicKey returns it. */
export function publicKeyDer(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: 'spki', format: 'der' });
}
