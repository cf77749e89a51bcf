import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import type { KeySpecInfo } from './key-spec.js';

type DerPair = { publicKey: Buffer; privateKey: Buffer };
const derPair = (resolve: (pair: DerPair) => void, reject: (error: Error) => void) => (error: Error | null, publicKey: Buffer, privateKey: Buffer) =>
  error ? reject(error) : resolve({ publicKey, privateKey });

/** RSA's public exponent for every key we make (F4), as AWS and Alibaba use. */
const RSA_PUBLIC_EXPONENT = 0x10001;

/**
 * A fresh key pair of an RSA or EC spec (off the event loop): the public half as DER
 * SubjectPublicKeyInfo (RFC 5280, what AWS GetPublicKey returns), the private half as DER PKCS #8
 * PrivateKeyInfo (RFC 5958, what a version stores, sealed). Other specs have no pair: throws.
 */
export async function generateKeyPairDer(spec: KeySpecInfo): Promise<{ publicKeySpki: Buffer; privateKeyPkcs8: Buffer }> {
  const publicKeyEncoding = { type: 'spki', format: 'der' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'der' } as const;
  if (spec.kind === 'rsa' && spec.bits) {
    const options = { modulusLength: spec.bits, publicExponent: RSA_PUBLIC_EXPONENT, publicKeyEncoding, privateKeyEncoding };
    const pair = await new Promise<DerPair>((resolve, reject) => generateKeyPair('rsa', options, derPair(resolve, reject)));
    return { publicKeySpki: pair.publicKey, privateKeyPkcs8: pair.privateKey };
  }
  if (spec.kind === 'ec' && spec.curve) {
    const options = { namedCurve: spec.curve, publicKeyEncoding, privateKeyEncoding };
    const pair = await new Promise<DerPair>((resolve, reject) => generateKeyPair('ec', options, derPair(resolve, reject)));
    return { publicKeySpki: pair.publicKey, privateKeyPkcs8: pair.privateKey };
  }
  throw new Error(`Key spec ${spec.spec} has no key pair`);
}

/** The KeyObjects of a stored private key (DER PKCS #8) and its public half. Parse once per version and keep them. */
export function loadKeyPair(pkcs8: Buffer): { privateKey: KeyObject; publicKey: KeyObject } {
  const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/**
 * The public key as PEM SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`, 64-character lines, a
 * final newline): Alibaba GetPublicKey's `PublicKey`, which `openssl -pubin` reads as it is.
 */
export function publicKeyPem(publicKey: KeyObject): string {
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/** The public key as DER SubjectPublicKeyInfo: AWS GetPublicKey's `PublicKey` (the PEM body decoded). */
export function publicKeyDer(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: 'spki', format: 'der' });
}
