import { constants, createPrivateKey, createPublicKey, privateDecrypt } from 'node:crypto';

/**
 * A fixed RSA-2048 pair for tests of ExportDataKey and GenerateAndExportDataKey (a test key, never
 * used for anything else): the public half as the PublicKeyBlob those Actions take (Base64 DER
 * SubjectPublicKeyInfo), the private half to open what they return.
 */
export const TEST_RSA_PUBLIC_KEY_BLOB =
  'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0UevKzK8u28b9yO+BLygUTeNack2vmgHzR3QlmRkGX22o1R58whJk+x5AgKEK2lehVFCijcZ5d4fTgVV2CLRniHMsc6s9NgcoEo6CnZdUIRiD4DkOA1W+e2b0IO4iblf4I8DM4q0X9wuAmCYuF3vJWc4MyC6c9o3ZYcKSntktbRLPLW2l3WxDu4EVafDuIuwmFpqqxhPFLVMfgAxlmqLLzBCTX0FBzZBxHY89HJGgGvTzKrbgHaEl5+nY3GYpu3RRCvQR9f7v0gAYVX+qykk743ya7YE1QDTNBAcAFep+7WsxAj4FznN26EtrGvhr2zWAfpNSZPWHMXJ8eOdYTH8jwIDAQAB';

const PRIVATE_KEY = createPrivateKey(`-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDRR68rMry7bxv3
I74EvKBRN41pyTa+aAfNHdCWZGQZfbajVHnzCEmT7HkCAoQraV6FUUKKNxnl3h9O
BVXYItGeIcyxzqz02BygSjoKdl1QhGIPgOQ4DVb57ZvQg7iJuV/gjwMzirRf3C4C
YJi4Xe8lZzgzILpz2jdlhwpKe2S1tEs8tbaXdbEO7gRVp8O4i7CYWmqrGE8UtUx+
ADGWaosvMEJNfQUHNkHEdjz0ckaAa9PMqtuAdoSXn6djcZim7dFEK9BH1/u/SABh
Vf6rKSTvjfJrtgTVANM0EBwAV6n7tazECPgXOc3boS2sa+GvbNYB+k1Jk9Ycxcnx
451hMfyPAgMBAAECggEAWvaK8z5G3Tsyjw2IipuIHTUFsLzGICWsemGip7Oz9IZ5
S22s4c8w1+xZPl/knc/bRxwmTVgc2BZfSfS0ttCPhumPBJvd/kAu1RbeOmzvK0+X
JcDysVBPBSvbZVrTa31Y6IyQqib4NpBHqT3eM4iUqQ+/1C0+DZwEJwt2lCAlCnqs
7zNAtyb631o+EY/YBnSv20+21ycptiQe2O3ZrvcqybPqS7ssam38wXlh1rBHLPHf
06TF9dQv+1zIoyk8h+l4AZnnAhgVQcGCqU/mX+FGjSwa6bm7ReCKJdAlmBHM4102
u4oHCq0hbk9sEV7AAwFdAgwE0voKz4sLyx7MxiVa/QKBgQD3Unb/jGfQuDwttiu/
EGxXnbKqTUnV7/ZJFBi4cSDoQzzBWt7RIt54QUQ0QyFRVp2BK8y9Rc5n0XgDxViN
mll8S1RM77qsd0VEmbr+sKfmT1iiHEGHiYVajS0y81ra915od0qTlxpKrGF32aYV
x0SKF0aVTd7I/p1GrVsSA8ukUwKBgQDYn4L8WPYD+mx/6dSWzRRnLuH8a0BIG4pa
nCGD0usapL/nmcpb8RU5GtGglhWhip9tDx/FmkXZlQLp5GLyPlzyEtsKG/WAw+vi
fjCcG4/yseOKO7kD+lzSIMnMBCUu6oLhRiB+h5JhEgGjT9nrZkzrJ36aHWjn84Cr
AcEh1cw/VQKBgGaSQOADLxsVDYA3yTTYbtZ3hJ20qCad+pqcRxRXdrpdCFl4gmhh
+boN92dlX/AH6BKmQ6dLyCquaQPHWM6BcRNnenLeCaF1ZbjpuO/f/AI8bhntdg/s
LO49Fr3Gx6uAZBsXPkqvpCvMCjBWh9cIaZiLxq4tOXRKhJfHVbnG8TIZAoGALzDI
szqaFZHHczI4asWwbS4McxXWQh8ly8l5j6MyLnK3j7e0GsVxTyhlhGtNuQxe4L5L
uJt8HgNVSCjF2Wn2i5HJ//DJUczcpVHCOy/R8xgHrsSF8LTo5anY7EX257qU2oiR
aZ8VJ2ppyu8JVTvLA+ttrBs+EFG+tQJD1aAix6UCgYEAt/pBDv7BzUDElT5cQ0pC
vr/uHKxQj/tSOuMcNdlBxe4CMKZOhLgLipZI+ITglD0IsrnLbEGcm5mk2ztZvDty
mB8VweaQQYi3QmnpWvRIde1cXZqpGiYBPtbCKnOTf/VIkfOPX/ZTQL7NolOVV/Lg
biH9HVWdJUXhBSBKINKFQ3k=
-----END PRIVATE KEY-----`);

/** Opens an ExportedDataKey: RSA-OAEP with the hash the WrappingAlgorithm names (MGF1 with the same hash). */
export function openExportedDataKey(exported: string, algorithm: 'RSAES_OAEP_SHA_256' | 'RSAES_OAEP_SHA_1' = 'RSAES_OAEP_SHA_256'): Buffer {
  const oaepHash = algorithm === 'RSAES_OAEP_SHA_1' ? 'sha1' : 'sha256';
  return privateDecrypt({ key: PRIVATE_KEY, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, Buffer.from(exported, 'base64'));
}

const derLength = (n: number) => {
  if (n < 128) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest >>= 8) bytes.unshift(rest & 255);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
};
const tlv = (tag: number, body: Buffer) => Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
const derInteger = (value: Buffer) => tlv(0x02, value[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value);

/** A PublicKeyBlob (Base64 DER SubjectPublicKeyInfo) of an RSA key with any modulus and exponent: for keys no generator makes. */
export function rsaPublicKeyBlob(modulus: Buffer, exponent: Buffer): string {
  const rsaEncryption = Buffer.from('300d06092a864886f70d0101010500', 'hex');
  const key = tlv(0x30, Buffer.concat([derInteger(modulus), derInteger(exponent)]));
  return tlv(0x30, Buffer.concat([rsaEncryption, tlv(0x03, Buffer.concat([Buffer.from([0]), key]))])).toString('base64');
}

/** The modulus of TEST_RSA_PUBLIC_KEY_BLOB. */
export const TEST_RSA_MODULUS = Buffer.from(
  (createPublicKey({ key: Buffer.from(TEST_RSA_PUBLIC_KEY_BLOB, 'base64'), format: 'der', type: 'spki' }).export({ format: 'jwk' }) as { n: string }).n,
  'base64url',
);
