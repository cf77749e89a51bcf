import { rpcSignature, rpcStringToSign } from '@alibaba-kms-compatible/client/signing';
import { IncompleteSignatureError, InvalidParameterError, MissingParameterError } from '../errors.js';
import type { RpcParams } from '../rpc/params.js';
import type { RpcRequest } from '../rpc/request.js';
import { bounded, checkedNonce, type Claim, type Claimed, SIGNED_FIELD_LIMITS } from './claim.js';
import { signaturesEqual } from './constant-time.js';

/**
 * The RPC scheme's claim: the signed fields are parameters (query or form body), the Action among
 * them. The string-to-sign and the HMAC are the client package's, the code clients sign with.
 */
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
