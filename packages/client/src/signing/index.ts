/**
 * Request signing of the Alibaba Cloud KMS API, as the official SDKs sign and as the server checks
 * (it verifies with these same functions): RPC (HMAC-SHA1, SignatureVersion 1.0), ACS3
 * (ACS3-HMAC-SHA256), and RFC 3986 percent-encoding as both define it; and AWS Signature Version 4
 * for the AWS KMS protocol the server also speaks. Pure functions of their
 * input; `createKmsClient` signs every call with them.
 *
 * @packageDocumentation
 */
export { formDecode, percentEncode } from './percent-encode.js';
export { rpcSignature, rpcStringToSign } from './rpc.js';
export { canonicalQuery, type QueryPairs, sha256Hex, V3_ALGORITHM, v3CanonicalRequest, v3Signature } from './v3.js';
export { amzDateOf, SIGV4_ALGORITHM, type SigV4Scope, sigV4CanonicalRequest, sigV4Signature, sigV4SignatureWithKey, sigV4SigningKey } from './sigv4.js';
