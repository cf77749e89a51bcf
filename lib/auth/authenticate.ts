import {
  AccessKeyInactiveError,
  AccessKeyNotFoundError,
  IllegalTimestampError,
  IncompleteSignatureError,
  InvalidParameterError,
  MissingParameterError,
  SignatureDoesNotMatchError,
  SignatureNonceUsedError,
  TimestampExpiredError,
} from '../errors.js';
import type { RpcParams } from '../rpc/params.js';
import type { RpcRequest } from '../rpc/request.js';
import type { AccessKeyRegistry, Principal } from './access-keys.js';
import { signaturesEqual } from './constant-time.js';
import type { NonceStore } from '../keystore/nonce-store.js';
import { rpcSignature, rpcStringToSign } from './rpc-signature.js';
import { parseV3Authorization, sha256Hex, V3_ALGORITHM, v3CanonicalRequest, v3Signature } from './v3-signature.js';
import { AMZ_DATE_FORMAT, parseAmzDate, parseSigV4Authorization, signedSdkAttempt, sigV4CanonicalRequest, sigV4Signature } from '../aws/sigv4.js';

/** How far a request's timestamp may be from the server clock, either way. */
export const TIMESTAMP_WINDOW_MS = 15 * 60_000;

/**
 * Upper bounds on the signed fields, checked before any other work (before a store read, an HMAC,
 * or a nonce claim): whatever a caller sends, what the service computes on or remembers per
 * request stays small. Real clients send 32 hex digits as a nonce, a 20–30 character access key
 * id, and a 28-character (HMAC-SHA1) or 64-character (V3) signature.
 */
export const SIGNED_FIELD_LIMITS = {
  nonceChars: 128,
  accessKeyIdChars: 64,
  signatureChars: 64,
  timestampChars: 32,
  authorizationChars: 2048,
  signedHeaders: 32,
} as const;

/** A nonce is 1–128 printable ASCII characters (no spaces or control characters). */
const NONCE = new RegExp(`^[\x21-\x7e]{1,${SIGNED_FIELD_LIMITS.nonceChars}}$`);

/** The V3 headers that must be covered by the signature: without them a request could be replayed or re-targeted. */
const V3_REQUIRED_SIGNED = ['x-acs-action', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256'] as const;

export interface AuthenticationDeps {
  accessKeys: AccessKeyRegistry;
  nonces: NonceStore;
  now: () => number;
  /** Admission of a verified request before its nonce is claimed (rate limits): throws or rejects to refuse. */
  admit?: (principal: Principal, action: string) => void | Promise<void>;
  /** The regions an AWS SigV4 credential scope may name (the AWS protocol); none: SigV4 is refused. */
  awsRegions?: ReadonlySet<string>;
  /**
   * Told the access key id the request claims as soon as its signed fields parse (`verified`
   * false), and again once the signature matched that key's secret (`verified` true), so that a
   * request refused later (timestamp, unknown or inactive key, signature, throttling, nonce) is
   * still attributed. The id is at most SIGNED_FIELD_LIMITS.accessKeyIdChars characters.
   */
  attribute?: (accessKeyId: string, verified: boolean) => void;
}

/** The verified caller, and the Action the signature covers. */
export interface Authenticated {
  principal: Principal;
  action: string;
  /** SigV4: the region of the credential scope. */
  region?: string;
}

interface Claim {
  accessKeyId: string;
  /** Epoch ms, when the claim parsed its own timestamp format (SigV4's X-Amz-Date). */
  at?: number;
  /** SigV4: the region of the credential scope. */
  region?: string;
  timestamp: string;
  timestampParameter: string;
  /** What a second use of refuses as a replay; none: only the timestamp window bounds replay (SigV4 without a signed attempt id). */
  nonce: string | undefined;
  action: string;
  verify: (secret: string) => boolean;
}

/**
 * Verifies a request's signature (RPC HMAC-SHA1, or V3 ACS3-HMAC-SHA256 when an `Authorization`
 * header is present), its timestamp window and its nonce (SigV4: see sigV4Claim). There is no unsigned mode.
 *
 * Order: cheap syntactic checks, then the access key, then the signature, then the key's status,
 * and only a verified request consumes its nonce (an unverified one cannot burn a caller's nonce).
 */
export async function authenticate(request: RpcRequest, params: RpcParams, deps: AuthenticationDeps): Promise<Authenticated> {
  const authorization = request.headers['authorization'];
  // Attributed as soon as the id is read: a request refused for any later part of its claim still names it.
  const claimed: Claimed = (accessKeyId) => {
    deps.attribute?.(accessKeyId, false);
    return accessKeyId;
  };
  const claim =
    request.headers['x-amz-target'] !== undefined
      ? sigV4Claim(request, params, authorization, deps.awsRegions ?? new Set(), claimed)
      : authorization !== undefined
        ? v3Claim(request, params, authorization, claimed)
        : rpcClaim(request, params, claimed);

  const at = claim.at ?? parseTimestamp(claim.timestamp, claim.timestampParameter);
  const now = deps.now();
  if (Math.abs(now - at) > TIMESTAMP_WINDOW_MS) throw new TimestampExpiredError(TIMESTAMP_WINDOW_MS / 60_000);

  const principal = await deps.accessKeys.lookup(claim.accessKeyId);
  if (!principal) throw new AccessKeyNotFoundError();
  if (!claim.verify(principal.secret)) throw new SignatureDoesNotMatchError();
  deps.attribute?.(principal.accessKeyId, true);
  if (!principal.enabled) throw new AccessKeyInactiveError();
  // Rate limits, before any write: a refused request costs the backend nothing.
  await deps.admit?.(principal, claim.action);

  if (claim.nonce !== undefined) {
    // Remembered until no timestamp that could carry it is inside the window any more.
    const fresh = await deps.nonces.claim(principal.accessKeyId, claim.nonce, Math.max(at, now) + TIMESTAMP_WINDOW_MS);
    if (!fresh) throw new SignatureNonceUsedError();
  }
  return { principal, action: claim.action, ...(claim.region ? { region: claim.region } : {}) };
}

/** Records the access key id a claim names (bounded, not yet verified) and returns it. */
type Claimed = (accessKeyId: string) => string;

function rpcClaim(request: RpcRequest, params: RpcParams, claimed: Claimed): Claim {
  const p = params.all;
  const required = (name: string): string => {
    const value = p.get(name);
    if (value === undefined || value === '') throw new IncompleteSignatureError(`the parameter "${name}" is missing.`);
    return value;
  };
  const accessKeyId = claimed(bounded('AccessKeyId', required('AccessKeyId'), SIGNED_FIELD_LIMITS.accessKeyIdChars));
  const signature = bounded('Signature', required('Signature'), SIGNED_FIELD_LIMITS.signatureChars);
  const timestamp = bounded('Timestamp', required('Timestamp'), SIGNED_FIELD_LIMITS.timestampChars);
  const nonce = checkedNonce('SignatureNonce', required('SignatureNonce'));
  const method = p.get('SignatureMethod');
  if (method !== undefined && method !== 'HMAC-SHA1') {
    throw new IncompleteSignatureError('SignatureMethod must be HMAC-SHA1 (or use ACS3-HMAC-SHA256 in an Authorization header).');
  }
  const version = p.get('SignatureVersion');
  if (version !== undefined && version !== '1.0') throw new IncompleteSignatureError('SignatureVersion must be 1.0.');
  const action = p.get('Action');
  if (action === undefined || action === '') throw new MissingParameterError('Action');
  const headerAction = request.headers['x-acs-action'];
  if (headerAction !== undefined && headerAction !== action) {
    throw new InvalidParameterError('Action', 'The Action parameter and the x-acs-action header differ.');
  }
  return {
    accessKeyId,
    timestamp,
    timestampParameter: 'Timestamp',
    nonce,
    action,
    verify: (secret) => signaturesEqual(signature, rpcSignature(secret, rpcStringToSign(request.method, p))),
  };
}

function v3Claim(request: RpcRequest, params: RpcParams, header: string, claimed: Claimed): Claim {
  if (!header.startsWith(`${V3_ALGORITHM} `)) {
    throw new IncompleteSignatureError(`the Authorization header must use ${V3_ALGORITHM}.`);
  }
  bounded('Authorization', header, SIGNED_FIELD_LIMITS.authorizationChars);
  const auth = parseV3Authorization(header);
  claimed(bounded('Credential', auth.accessKeyId, SIGNED_FIELD_LIMITS.accessKeyIdChars));
  if (auth.signedHeaders.length > SIGNED_FIELD_LIMITS.signedHeaders) {
    throw new IncompleteSignatureError(`SignedHeaders may name at most ${SIGNED_FIELD_LIMITS.signedHeaders} headers.`);
  }
  if (!request.headers['x-acs-action']) throw new MissingParameterError('Action');
  for (const name of V3_REQUIRED_SIGNED) {
    if (!auth.signedHeaders.includes(name)) throw new IncompleteSignatureError(`the header "${name}" must be signed.`);
    if (!request.headers[name]) throw new IncompleteSignatureError(`the header "${name}" is missing.`);
  }
  const hashedPayload = bounded('x-acs-content-sha256', request.headers['x-acs-content-sha256']!, 64);
  const action = request.headers['x-acs-action']!;
  const queryAction = params.all.get('Action');
  if (queryAction !== undefined && queryAction !== action) {
    throw new InvalidParameterError('Action', 'The Action parameter and the x-acs-action header differ.');
  }
  return {
    accessKeyId: auth.accessKeyId,
    timestamp: bounded('x-acs-date', request.headers['x-acs-date']!, SIGNED_FIELD_LIMITS.timestampChars),
    timestampParameter: 'x-acs-date',
    nonce: checkedNonce('x-acs-signature-nonce', request.headers['x-acs-signature-nonce']!),
    action,
    verify: (secret) => {
      // A body that does not hash to the signed value was altered on the way.
      if (!signaturesEqual(hashedPayload, sha256Hex(request.body))) return false;
      const canonical = v3CanonicalRequest({
        method: request.method,
        path: request.path,
        query: params.query,
        headers: request.headers,
        signedHeaders: auth.signedHeaders,
        hashedPayload,
      });
      return signaturesEqual(auth.signature, v3Signature(secret, canonical));
    },
  };
}

/**
 * The AWS protocol: SigV4 in the Authorization header (nothing else is accepted there), the
 * X-Amz-Target operation as the Action.
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
function sigV4Claim(request: RpcRequest, params: RpcParams, header: string | undefined, regions: ReadonlySet<string>, claimed: Claimed): Claim {
  if (header === undefined) throw new IncompleteSignatureError('the Authorization header is missing (AWS Signature Version 4).');
  bounded('Authorization', header, SIGNED_FIELD_LIMITS.authorizationChars);
  const auth = parseSigV4Authorization(header);
  claimed(bounded('Credential', auth.accessKeyId, SIGNED_FIELD_LIMITS.accessKeyIdChars));
  if (auth.signedHeaders.length > SIGNED_FIELD_LIMITS.signedHeaders) {
    throw new IncompleteSignatureError(`SignedHeaders may name at most ${SIGNED_FIELD_LIMITS.signedHeaders} headers.`);
  }
  if (!regions.has(auth.region)) throw new IncompleteSignatureError(`the credential scope names region "${auth.region.slice(0, 64)}", which this service does not serve.`);
  const amzDate = bounded('X-Amz-Date', request.headers['x-amz-date'] ?? '', SIGNED_FIELD_LIMITS.timestampChars);
  const at = parseAmzDate(amzDate);
  if (at === undefined) throw new IllegalTimestampError('X-Amz-Date', AMZ_DATE_FORMAT);
  if (amzDate.slice(0, 8) !== auth.date) throw new IncompleteSignatureError('the credential scope date differs from X-Amz-Date.');
  const target = request.headers['x-amz-target']!;
  const action = target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : '';
  if (action === '') throw new MissingParameterError('X-Amz-Target');
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
        query: params.query,
        headers: request.headers,
        signedHeaders: auth.signedHeaders,
        payloadHash,
      });
      return signaturesEqual(auth.signature, sigV4Signature(secret, auth, amzDate, canonical));
    },
  };
}

function bounded(name: string, value: string, maxChars: number): string {
  if (value.length > maxChars) throw new IncompleteSignatureError(`"${name}" must be at most ${maxChars} characters.`);
  return value;
}

function checkedNonce(name: string, value: string): string {
  if (!NONCE.test(value)) {
    throw new IncompleteSignatureError(`"${name}" must be 1 to ${SIGNED_FIELD_LIMITS.nonceChars} printable ASCII characters without spaces.`);
  }
  return value;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,3})?Z$/;

/** `yyyy-MM-ddTHH:mm:ssZ` in UTC (milliseconds tolerated); anything else is an IllegalTimestamp. */
function parseTimestamp(value: string, parameter: string): number {
  const m = TIMESTAMP.exec(value);
  if (!m) throw new IllegalTimestampError(parameter);
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new IllegalTimestampError(parameter);
  return at;
}
