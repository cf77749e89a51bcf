import { createHash, createHmac } from 'node:crypto';
import { percentEncode } from './percent-encode.js';

/** The ACS3 signature's algorithm name, the first word of its `Authorization` header. */
export const V3_ALGORITHM = 'ACS3-HMAC-SHA256';

/** Query parameters, decoded, in order: a name may repeat (the canonical query sorts them). */
export type QueryPairs = ReadonlyArray<readonly [name: string, value: string]>;

/**
 * CanonicalRequest = METHOD \n URI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n HashedPayload.
 * Query values are decoded already; they are re-encoded here, because the SDK builds its URL with
 * `querystring.stringify`, which leaves `!'()*` unencoded while it signs them encoded.
 */
export function v3CanonicalRequest(input: {
  method: string;
  path: string;
  query: QueryPairs;
  headers: Readonly<Record<string, string | undefined>>;
  signedHeaders: readonly string[];
  hashedPayload: string;
}): string {
  const query = canonicalQuery(input.query);
  const sorted = [...input.signedHeaders].sort();
  // Own properties only: a signed header named "constructor" must not find Object.prototype's.
  const headers = sorted.map((name) => `${name}:${(Object.hasOwn(input.headers, name) ? (input.headers[name] ?? '') : '').trim()}\n`).join('');
  const uri = input.path.split('/').map(percentEncode).join('/');
  return `${input.method.toUpperCase()}\n${uri}\n${query}\n${headers}\n${sorted.join(';')}\n${input.hashedPayload}`;
}

/** The query as both V3 and AWS SigV4 canonicalise it: RFC 3986-encoded pairs, sorted by name, then value. */
export function canonicalQuery(query: QueryPairs): string {
  return query
    .map(([name, value]) => [percentEncode(name), percentEncode(value)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/**
 * `hex(HMAC-SHA256(AccessKeySecret, "ACS3-HMAC-SHA256\n" + hex(SHA-256(canonicalRequest))))`.
 *
 * @example
 * ```ts
 * import { sha256Hex, V3_ALGORITHM, v3CanonicalRequest, v3Signature } from '@alibaba-kms-compatible/client/signing';
 * const canonical = v3CanonicalRequest({ method: 'POST', path: '/', query, headers, signedHeaders, hashedPayload: sha256Hex('') });
 * headers.authorization = `${V3_ALGORITHM} Credential=${id},SignedHeaders=${signedHeaders.join(';')},Signature=${v3Signature(secret, canonical)}`;
 * ```
 */
export function v3Signature(accessKeySecret: string, canonicalRequest: string): string {
  const stringToSign = `${V3_ALGORITHM}\n${sha256Hex(canonicalRequest)}`;
  return createHmac('sha256', accessKeySecret).update(stringToSign, 'utf8').digest('hex');
}

/** Lower-case hex of SHA-256: the V3 `x-acs-content-sha256` header, and the hash in both string-to-signs. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
