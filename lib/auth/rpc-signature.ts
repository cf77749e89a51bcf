import { createHmac } from 'node:crypto';
import { percentEncode } from '../rpc/percent-encode.js';

/**
 * The RPC (HMAC-SHA1, SignatureVersion 1.0) string-to-sign: every parameter but `Signature`,
 * sorted by name, RFC 3986-encoded, joined as a query, then
 * `METHOD & %2F & percentEncode(canonicalQuery)`.
 */
export function rpcStringToSign(method: string, params: Iterable<readonly [string, string]>): string {
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of params) {
    if (name !== 'Signature') pairs.push([percentEncode(name), percentEncode(value)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const canonicalQuery = pairs.map(([n, v]) => `${n}=${v}`).join('&');
  return `${method.toUpperCase()}&%2F&${percentEncode(canonicalQuery)}`;
}

/** `base64(HMAC-SHA1(AccessKeySecret + "&", stringToSign))`. */
export function rpcSignature(accessKeySecret: string, stringToSign: string): string {
  return createHmac('sha1', `${accessKeySecret}&`).update(stringToSign, 'utf8').digest('base64');
}
