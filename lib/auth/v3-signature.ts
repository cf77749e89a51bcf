import { createHash, createHmac } from 'node:crypto';
import { IncompleteSignatureError } from '../errors.js';
import type { ParamList } from '../rpc/params.js';
import { percentEncode } from '../rpc/percent-encode.js';

export const V3_ALGORITHM = 'ACS3-HMAC-SHA256';

/** The parts of `Authorization: ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…`. */
export interface V3Authorization {
  accessKeyId: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses the Authorization header; anything missing or malformed is an IncompleteSignature. */
export function parseV3Authorization(header: string): V3Authorization {
  if (!header.startsWith(`${V3_ALGORITHM} `)) {
    throw new IncompleteSignatureError(`only the ${V3_ALGORITHM} algorithm is supported.`);
  }
  const fields = new Map<string, string>();
  for (const part of header.slice(V3_ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const accessKeyId = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!accessKeyId) throw new IncompleteSignatureError('Credential is missing from the Authorization header.');
  if (!signedHeaders) throw new IncompleteSignatureError('SignedHeaders is missing from the Authorization header.');
  if (!signature || !/^[0-9a-f]{64}$/.test(signature)) {
    throw new IncompleteSignatureError('Signature in the Authorization header must be 64 lower-case hex digits.');
  }
  return { accessKeyId, signedHeaders: signedHeaders.split(';'), signature };
}

/**
 * CanonicalRequest = METHOD \n URI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n HashedPayload.
 * Query values are decoded already; they are re-encoded here, because the SDK builds its URL with
 * `querystring.stringify`, which leaves `!'()*` unencoded while it signs them encoded.
 */
export function v3CanonicalRequest(input: {
  method: string;
  path: string;
  query: ParamList;
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
export function canonicalQuery(query: ParamList): string {
  return query
    .map(([name, value]) => [percentEncode(name), percentEncode(value)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/** `hex(HMAC-SHA256(AccessKeySecret, "ACS3-HMAC-SHA256\n" + hex(SHA-256(canonicalRequest))))`. */
export function v3Signature(accessKeySecret: string, canonicalRequest: string): string {
  const stringToSign = `${V3_ALGORITHM}\n${sha256Hex(canonicalRequest)}`;
  return createHmac('sha256', accessKeySecret).update(stringToSign, 'utf8').digest('hex');
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
