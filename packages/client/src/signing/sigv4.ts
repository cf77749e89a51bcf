import { createHmac } from 'node:crypto';
import { percentEncode } from './percent-encode.js';
import { canonicalQuery, type QueryPairs, sha256Hex } from './v3.js';

/**
 * AWS Signature Version 4 for the KMS service (`kms`), as the AWS SDKs sign a request and as the
 * server verifies it (with these same functions):
 *
 *     Authorization: AWS4-HMAC-SHA256 Credential=<id>/<yyyyMMdd>/<region>/kms/aws4_request,
 *                    SignedHeaders=<a;b;…>, Signature=<64 hex>
 *
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */
export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

/** The canonical request: METHOD, URI, query, headers, signed headers, payload hash. */
export function sigV4CanonicalRequest(input: {
  method: string;
  path: string;
  query: QueryPairs;
  headers: Readonly<Record<string, string | undefined>>;
  signedHeaders: readonly string[];
  payloadHash: string;
}): string {
  const query = canonicalQuery(input.query);
  const sorted = [...input.signedHeaders].sort();
  // Own properties only (a header named "constructor" finds nothing); values trimmed, inner runs of spaces made one.
  let headers = '';
  for (const name of sorted) headers += `${name}:${canonicalHeaderValue(Object.hasOwn(input.headers, name) ? (input.headers[name] ?? '') : '')}\n`;
  // Every path segment URI-encoded twice, as for every AWS service but S3 (KMS is served on "/",
  // which stays "/": the path of every request, spared the split).
  const uri =
    input.path === '/'
      ? '/'
      : input.path
          .split('/')
          .map((segment) => percentEncode(percentEncode(decodeSegment(segment))))
          .join('/');
  return `${input.method.toUpperCase()}\n${uri}\n${query}\n${headers}\n${sorted.join(';')}\n${input.payloadHash}`;
}

/** Trimmed, each run of spaces and tabs made one space (the pattern runs only where there is such a run or a tab). */
function canonicalHeaderValue(value: string): string {
  const trimmed = value.trim();
  return trimmed.includes('\t') || trimmed.includes('  ') ? trimmed.replace(/[ \t]+/g, ' ') : trimmed;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * hex(HMAC(signing key, string to sign)), the signing key derived from the secret and the scope
 * (`date` yyyyMMdd, `region`, `service`: default `kms`); `amzDate` is X-Amz-Date (yyyyMMddTHHmmssZ).
 *
 * @example
 * ```ts
 * import { amzDateOf, sha256Hex, SIGV4_ALGORITHM, sigV4CanonicalRequest, sigV4Signature } from '@alibaba-kms-compatible/client/signing';
 * const amzDate = amzDateOf(Date.now());
 * const signedHeaders = ['content-type', 'host', 'x-amz-date', 'x-amz-target'];
 * const canonical = sigV4CanonicalRequest({ method: 'POST', path: '/', query: [], headers, signedHeaders, payloadHash: sha256Hex(body) });
 * const signature = sigV4Signature(secret, { date: amzDate.slice(0, 8), region: 'us-east-1' }, amzDate, canonical);
 * headers.authorization = `${SIGV4_ALGORITHM} Credential=${id}/${amzDate.slice(0, 8)}/us-east-1/kms/aws4_request, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`;
 * ```
 */
export function sigV4Signature(secret: string, scope: SigV4Scope, amzDate: string, canonicalRequest: string): string {
  return sigV4SignatureWithKey(sigV4SigningKey(secret, scope), scope, amzDate, canonicalRequest);
}

/** A SigV4 credential scope: `date` yyyyMMdd, `region`, and the service (default `kms`; AWS Secrets Manager's is `secretsmanager`). */
export interface SigV4Scope {
  date: string;
  region: string;
  service?: string;
}

/**
 * The SigV4 signing key of a secret for one day, region and service: four HMACs, the same for
 * every request of that day, so a verifier may keep it (it grants signing for that scope only).
 */
export function sigV4SigningKey(secret: string, scope: SigV4Scope): Buffer {
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, scope.date), scope.region), scope.service ?? 'kms'), 'aws4_request');
}

/** {@link sigV4Signature} with the signing key {@link sigV4SigningKey} derived already. */
export function sigV4SignatureWithKey(signingKey: Buffer, scope: SigV4Scope, amzDate: string, canonicalRequest: string): string {
  const credentialScope = `${scope.date}/${scope.region}/${scope.service ?? 'kms'}/aws4_request`;
  const stringToSign = `${SIGV4_ALGORITHM}\n${amzDate}\n${credentialScope}\n${sha256Hex(canonicalRequest)}`;
  return createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
}

/** X-Amz-Date of an epoch-ms time: yyyyMMddTHHmmssZ. */
export function amzDateOf(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}
