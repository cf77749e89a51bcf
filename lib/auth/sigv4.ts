import { SIGV4_ALGORITHM, sha256Hex, sigV4CanonicalRequest, sigV4Signature, sigV4SignatureWithKey } from '@alibaba-kms-compatible/client/signing';
import { IllegalTimestampError, IncompleteSignatureError } from '../errors.js';
import type { ParamList } from '../rpc/params.js';
import type { RpcRequest } from '../rpc/request.js';
import { bounded, checkedNonce, type Claim, type Claimed, SIGNED_FIELD_LIMITS } from './claim.js';
import { signaturesEqual } from './constant-time.js';
import { SigningKeys } from './sigv4-signing-keys.js';

/**
 * AWS Signature Version 4, as the AWS SDKs sign a KMS request (service `kms`; Secrets Manager's:
 * `secretsmanager`), verified exactly
 * (the canonical request and signature are the client package's, which signs with them):
 *
 *     Authorization: AWS4-HMAC-SHA256 Credential=<id>/<yyyyMMdd>/<region>/kms/aws4_request,
 *                    SignedHeaders=<a;b;…>, Signature=<64 hex>
 *     X-Amz-Date: yyyyMMddTHHmmssZ
 *
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */
export { SIGV4_ALGORITHM, sigV4CanonicalRequest, sigV4Signature };
/** This process's derived signing keys (one per secret, day and region in use). */
const SIGNING_KEYS = new SigningKeys();

/** Headers the signature must cover: without them a request could be re-targeted or replayed later. */
const REQUIRED_SIGNED = ['host', 'x-amz-date', 'x-amz-target'] as const;

export interface SigV4Authorization {
  accessKeyId: string;
  /** yyyyMMdd of the credential scope. */
  date: string;
  region: string;
  /** The credential scope's service (`kms`, `secretsmanager`). */
  service: string;
  signedHeaders: string[];
  signature: string;
}

/**
 * Parses the Authorization header; anything missing or malformed is an IncompleteSignature, and so
 * is a credential scope for another service than `service` (a signature for one AWS service is
 * never accepted for another's operation).
 */
export function parseSigV4Authorization(header: string, service = 'kms'): SigV4Authorization {
  if (!header.startsWith(`${SIGV4_ALGORITHM} `)) throw new IncompleteSignatureError(`the Authorization header must use ${SIGV4_ALGORITHM}.`);
  const fields = new Map<string, string>();
  for (const part of header.slice(SIGV4_ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential')?.split('/');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential?.length !== 5 || credential.some((part) => part === '')) {
    throw new IncompleteSignatureError(`Credential must be <access key id>/<date>/<region>/${service}/aws4_request.`);
  }
  const [accessKeyId, date, region, scopeService, terminator] = credential as [string, string, string, string, string];
  if (scopeService !== service || terminator !== 'aws4_request')
    throw new IncompleteSignatureError(`the credential scope must name the ${service} service and end in aws4_request.`);
  if (!/^\d{8}$/.test(date)) throw new IncompleteSignatureError('the credential scope date must be yyyyMMdd.');
  if (!signedHeaders || !/^[a-z0-9-]+(;[a-z0-9-]+)*$/.test(signedHeaders))
    throw new IncompleteSignatureError('SignedHeaders must be lower-case header names separated by ";".');
  if (!signature || !/^[0-9a-f]{64}$/.test(signature)) throw new IncompleteSignatureError('Signature must be 64 lower-case hex digits.');
  const names = signedHeaders.split(';');
  for (const name of REQUIRED_SIGNED) if (!names.includes(name)) throw new IncompleteSignatureError(`the header "${name}" must be signed.`);
  return { accessKeyId, date, region, service, signedHeaders: names, signature };
}

/** The form of X-Amz-Date, as an error names it. */
export const AMZ_DATE_FORMAT = 'yyyyMMddTHHmmssZ (UTC)';

/** `attempt=N` among the `;`-separated fields of amz-sdk-request (N of at most 9 digits: no real retry loop goes further). */
const ATTEMPT_FIELD = /(?:^|;)\s*attempt=(\d{1,9})\s*(?:;|$)/;

/**
 * The per-attempt id of an AWS SDK call, when the signature covers it: `amz-sdk-invocation-id`
 * (one per call, kept across its retries) and `amz-sdk-request: attempt=N; max=M` (N counts the
 * attempts), both named in SignedHeaders, as the AWS SDK for JavaScript v3 signs them. Undefined
 * when either is unsigned (boto3 sends both unsigned; the AWS CLI v2 sends neither): such a
 * request has no id a replay could be told by. A signed `amz-sdk-request` without `attempt=N` is
 * an IncompleteSignature.
 */
export function signedSdkAttempt(
  headers: Readonly<Record<string, string | undefined>>,
  signedHeaders: readonly string[],
): { invocationId: string; attempt: number } | undefined {
  if (!signedHeaders.includes('amz-sdk-invocation-id') || !signedHeaders.includes('amz-sdk-request')) return undefined;
  const value = (Object.hasOwn(headers, 'amz-sdk-request') ? headers['amz-sdk-request'] : undefined) ?? '';
  const attempt = ATTEMPT_FIELD.exec(value)?.[1];
  if (attempt === undefined) throw new IncompleteSignatureError('the signed header "amz-sdk-request" must hold attempt=<number>.');
  const invocationId = (Object.hasOwn(headers, 'amz-sdk-invocation-id') ? headers['amz-sdk-invocation-id'] : undefined) ?? '';
  return { invocationId: invocationId.trim(), attempt: Number(attempt) };
}

/** `yyyyMMddTHHmmssZ` → epoch milliseconds, or undefined. */
export function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  // Date.UTC rolls day 32 or month 13 over into the next month or year: such a date is no date.
  const at = new Date(ms);
  return Number.isNaN(ms) || at.getUTCDate() !== +m[3]! || at.getUTCMonth() !== +m[2]! - 1 ? undefined : ms;
}

/**
 * The SigV4 scheme's claim: SigV4 in the Authorization header (nothing else is accepted there);
 * `action` is the Action the request serves, as its protocol read it from the signed headers
 * (`host`, `x-amz-date` and `x-amz-target` must be signed), `query` what the signature covers.
 *
 * Replay, as AWS KMS answers it: SigV4 carries no nonce, and two identical calls in one second
 * (X-Amz-Date's granularity; boto3 and the AWS CLI sign no per-request id) are byte-identical, so
 * an identical request is served again within the 15-minute window, which bounds replay (TLS
 * keeps requests from being captured). A client that signs a per-attempt id
 * (`amz-sdk-invocation-id` with `amz-sdk-request: attempt=N`, as the AWS SDK for JavaScript v3
 * does) has each (invocation id, attempt) accepted once per access key, through the shared nonce
 * store, claimed as `amz-sdk <id> <attempt>`: spaces, which no Alibaba nonce may hold, so the two
 * kinds never meet.
 */
export function sigV4Claim(request: RpcRequest, query: ParamList, action: string, regions: ReadonlySet<string>, claimed: Claimed, service = 'kms'): Claim {
  const header = request.headers.authorization;
  if (header === undefined) throw new IncompleteSignatureError('the Authorization header is missing (AWS Signature Version 4).');
  bounded('Authorization', header, SIGNED_FIELD_LIMITS.authorizationChars);
  const auth = parseSigV4Authorization(header, service);
  claimed(bounded('Credential', auth.accessKeyId, SIGNED_FIELD_LIMITS.accessKeyIdChars));
  if (auth.signedHeaders.length > SIGNED_FIELD_LIMITS.signedHeaders) {
    throw new IncompleteSignatureError(`SignedHeaders may name at most ${SIGNED_FIELD_LIMITS.signedHeaders} headers.`);
  }
  if (!regions.has(auth.region))
    throw new IncompleteSignatureError(`the credential scope names region "${auth.region.slice(0, 64)}", which this service does not serve.`);
  const amzDate = bounded('X-Amz-Date', request.headers['x-amz-date'] ?? '', SIGNED_FIELD_LIMITS.timestampChars);
  const at = parseAmzDate(amzDate);
  if (at === undefined) throw new IllegalTimestampError('X-Amz-Date', AMZ_DATE_FORMAT);
  if (amzDate.slice(0, 8) !== auth.date) throw new IncompleteSignatureError('the credential scope date differs from X-Amz-Date.');
  const attempt = signedSdkAttempt(request.headers, auth.signedHeaders);
  return {
    accessKeyId: auth.accessKeyId,
    at,
    region: auth.region,
    timestamp: amzDate,
    timestampParameter: 'X-Amz-Date',
    nonce: attempt === undefined ? undefined : `amz-sdk ${checkedNonce('amz-sdk-invocation-id', attempt.invocationId)} ${attempt.attempt}`,
    action,
    verify: (secret) => {
      const payloadHash = sha256Hex(request.body);
      const declared = request.headers['x-amz-content-sha256'];
      if (declared !== undefined && !signaturesEqual(declared, payloadHash)) return false;
      const canonical = sigV4CanonicalRequest({
        method: request.method,
        path: request.path,
        query,
        headers: request.headers,
        signedHeaders: auth.signedHeaders,
        payloadHash,
      });
      return signaturesEqual(auth.signature, sigV4SignatureWithKey(SIGNING_KEYS.of(secret, auth), auth, amzDate, canonical));
    },
  };
}
