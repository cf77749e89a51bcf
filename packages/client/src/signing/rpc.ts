import { createHmac } from 'node:crypto';
import { percentEncode } from './percent-encode.js';

/**
 * The RPC (HMAC-SHA1, SignatureVersion 1.0) string-to-sign: every parameter but `Signature`,
 * sorted by its decoded name, then RFC 3986-encoded, joined as a query, then
 * `METHOD & %2F & percentEncode(canonicalQuery)`.
 *
 * Sorting happens before encoding, as in every official client (pop-core, rpc-util, openapi-util
 * sort `Object.keys` and encode afterwards): flattened map keys such as `EncryptionContext.中`
 * or `EncryptionContext.a/b` would otherwise sort differently from how the client signed them.
 *
 * @example
 * ```ts
 * import { rpcSignature, rpcStringToSign } from '@alibaba-kms-compatible/client/signing';
 * const params = new Map([
 *   ['Action', 'DescribeKey'], ['KeyId', 'alias/orders'], ['Version', '2016-01-20'], ['Format', 'JSON'],
 *   ['AccessKeyId', id], ['Timestamp', '2026-11-02T10:00:00Z'], ['SignatureNonce', randomUUID()],
 *   ['SignatureMethod', 'HMAC-SHA1'], ['SignatureVersion', '1.0'],
 * ]);
 * params.set('Signature', rpcSignature(secret, rpcStringToSign('GET', params)));
 * ```
 */
export function rpcStringToSign(method: string, params: Iterable<readonly [string, string]>): string {
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of params) {
    if (name !== 'Signature') pairs.push([name, value]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  // The canonical query `n=v&n=v…`, percent-encoded once more as a whole. Its pieces are encoded
  // already, so that second encoding only turns each piece's `%` into `%25`, each `=` into `%3D`
  // and each `&` into `%26`: written directly, piece by piece (the server runs this on every request).
  let text = `${method.toUpperCase()}&%2F&`;
  for (let i = 0; i < pairs.length; i++) {
    const [name, value] = pairs[i]!;
    text += `${i === 0 ? '' : '%26'}${encodedTwice(name)}%3D${encodedTwice(value)}`;
  }
  return text;
}

function encodedTwice(text: string): string {
  const once = percentEncode(text);
  return once.includes('%') ? once.replaceAll('%', '%25') : once;
}

/** `base64(HMAC-SHA1(AccessKeySecret + "&", stringToSign))`. */
export function rpcSignature(accessKeySecret: string, stringToSign: string): string {
  return createHmac('sha1', `${accessKeySecret}&`).update(stringToSign, 'utf8').digest('base64');
}
