import * as z from '../zod.js';
import { UnsupportedOriginError } from '../errors.js';
import { IMPORT_WRAPPING_ALGORITHMS, type ImportWrappingAlgorithm } from '../crypto/import-wrap.js';
import type { ResolvedKey } from '../keyring/keyring.js';

/** How long an import token (and its public key) may be used: Alibaba's 24 hours. */
export const IMPORT_TOKEN_LIFETIME_MS = 24 * 3_600_000;

/** `WrappingAlgorithm` of GetParametersForImport: the three RSA ones Alibaba lists; SM2PKE is refused. */
export const importWrappingAlgorithmParameter = z.pipe(
  z.string(),
  z.transform((value: string, context): ImportWrappingAlgorithm => {
    if ((IMPORT_WRAPPING_ALGORITHMS as readonly string[]).includes(value)) return value as ImportWrappingAlgorithm;
    return z.refuse(
      context,
      value,
      value === 'SM2PKE'
        ? 'SM2PKE (EC_SM2) is only offered by Alibaba for HSM keys in mainland China; this service supports RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1 and RSAES_PKCS1_V1_5.'
        : 'It must be RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1 or RSAES_PKCS1_V1_5.',
    );
  }),
);

/** `WrappingKeySpec`: RSA_2048 (EC_SM2 is refused). */
export const importWrappingKeySpecParameter = z.string().check(
  z.refine((value) => value === 'RSA_2048', {
    error: (issue) =>
      issue.input === 'EC_SM2' ? 'EC_SM2 is only offered by Alibaba for HSM keys in mainland China; this service supports RSA_2048.' : 'It must be RSA_2048.',
  }),
);

/** The key, when its origin is EXTERNAL; else 400 Unsupported.Origin. */
export function externalKey(key: ResolvedKey): ResolvedKey {
  if (!key.external) throw new UnsupportedOriginError(key.keyId, 'Aliyun_KMS');
  return key;
}
