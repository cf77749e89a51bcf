import { IncompleteSignatureError } from '../errors.js';

/**
 * Upper bounds on the signed fields, checked before any other work (before a store read, an HMAC,
 * or a nonce claim): whatever a caller sends, what the service computes on or remembers per
 * request stays small. Real clients send 32 hex digits as a nonce, a 20–30 character access key
 * id, and a 28-character (HMAC-SHA1) or 64-character (V3, SigV4) signature.
 */
export const SIGNED_FIELD_LIMITS = {
  nonceChars: 128,
  accessKeyIdChars: 64,
  signatureChars: 64,
  timestampChars: 32,
  authorizationChars: 2048,
  signedHeaders: 32,
} as const;

/**
 * What a signature scheme read from a request, before anything is verified: whose key it claims,
 * when it was signed, what a second use of it is (its nonce), the Action it serves, and how to
 * check it against that key's secret. Every scheme (RPC, ACS3, SigV4) produces one; authenticate()
 * judges them all alike.
 */
export interface Claim {
  accessKeyId: string;
  /** Epoch ms, when the scheme parsed its own timestamp format (SigV4's X-Amz-Date). */
  at?: number;
  /** The region of the credential scope (SigV4). */
  region?: string;
  timestamp: string;
  timestampParameter: string;
  /** What a second use of refuses as a replay; none: only the timestamp window bounds replay (SigV4 without a signed attempt id). */
  nonce: string | undefined;
  /** The Action the signed request asks for. */
  action: string;
  verify: (secret: string) => boolean;
}

/** Records the access key id a claim names (bounded, not yet verified) and returns it. */
export type Claimed = (accessKeyId: string) => string;

/** A nonce is 1–128 printable ASCII characters (no spaces or control characters). */
const NONCE = new RegExp(`^[\x21-\x7e]{1,${SIGNED_FIELD_LIMITS.nonceChars}}$`);

export function bounded(name: string, value: string, maxChars: number): string {
  if (value.length > maxChars) throw new IncompleteSignatureError(`"${name}" must be at most ${maxChars} characters.`);
  return value;
}

export function checkedNonce(name: string, value: string): string {
  if (!NONCE.test(value)) {
    throw new IncompleteSignatureError(`"${name}" must be 1 to ${SIGNED_FIELD_LIMITS.nonceChars} printable ASCII characters without spaces.`);
  }
  return value;
}
