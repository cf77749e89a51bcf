import { createHmac } from 'node:crypto';
import { IncompleteSignatureError, InvalidParameterError, MissingParameterError } from '../errors.js';
import type { RpcParams } from '../rpc/params.js';
import { percentEncode } from '../rpc/percent-encode.js';
import type { RpcRequest } from '../rpc/request.js';
import { bounded, checkedNonce, type Claim, type Claimed, SIGNED_FIELD_LIMITS } from './claim.js';
import { signaturesEqual } from './constant-time.js';

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
  // The canonical query `n=v&n=v…`, percent-encoded once more as a whole. Its pieces are encoded
  // already, so that second encoding only turns each piece's `%` into `%25`, each `=` into `%3D`
  // and each `&` into `%26`: written directly, piece by piece (this runs on every request).
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

/** The RPC scheme's claim: the signed fields are parameters (query or form body), the Action among them. */
export function rpcClaim(request: RpcRequest, params: RpcParams, claimed: Claimed): Claim {
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
