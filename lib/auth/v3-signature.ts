import { sha256Hex, V3_ALGORITHM, v3CanonicalRequest, v3Signature } from '@alibaba-kms-compatible/client/signing';
import { IncompleteSignatureError, InvalidParameterError, MissingParameterError } from '../errors.js';
import type { RpcParams } from '../rpc/params.js';
import type { RpcRequest } from '../rpc/request.js';
import { bounded, checkedNonce, type Claim, type Claimed, SIGNED_FIELD_LIMITS } from './claim.js';
import { signaturesEqual } from './constant-time.js';

/** The V3 headers that must be covered by the signature: without them a request could be replayed or re-targeted. */
const V3_REQUIRED_SIGNED = ['x-acs-action', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256'] as const;

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
 * The ACS3 scheme's claim: the signed fields are headers, the Action is `x-acs-action`. The
 * canonical request and the HMAC are the client package's, the code clients sign with.
 */
export function v3Claim(request: RpcRequest, params: RpcParams, header: string, claimed: Claimed): Claim {
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
