import { createHmac } from 'node:crypto';
import { percentEncode } from '../rpc/percent-encode.js';

const ENCODED: Record<string, string> = { '%': '%25', '=': '%3D', '&': '%26' };

/**
 * The RPC (HMAC-SHA1, SignatureVersion 1.0) string-to-sign: every parameter but `Signature`,
 * sorted by its decoded name, then RFC 3986-encoded, joined as a query, then
 * `METHOD & %2F & percentEncode(canonicalQuery)`.
 *
 * Sorting happens before encoding, as in every official client (pop-core, rpc-util, openapi-util
 * sort `Object.keys` and encode afterwards): flattened map keys such as `EncryptionContext.中`
 * or `EncryptionContext.a/b` would otherwise sort differently from how the client signed them.
 */
export function rpcStringToSign(method: string, params: Iterable<readonly [string, string]>): string {
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of params) {
    if (name !== 'Signature') pairs.push([name, value]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const canonicalQuery = pairs.map(([n, v]) => `${percentEncode(n)}=${percentEncode(v)}`).join('&');
  // The canonical query is encoded already: encoding it again only touches `%`, `=` and `&`.
  return `${method.toUpperCase()}&%2F&${canonicalQuery.replace(/[%=&]/g, (c) => ENCODED[c]!)}`;
}

/** `base64(HMAC-SHA1(AccessKeySecret + "&", stringToSign))`. */
export function rpcSignature(accessKeySecret: string, stringToSign: string): string {
  return createHmac('sha1', `${accessKeySecret}&`).update(stringToSign, 'utf8').digest('base64');
}
