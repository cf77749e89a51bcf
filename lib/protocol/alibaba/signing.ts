import * as z from '../../zod.js';
import { DIGEST_BYTES, hashOf, type SigningAlgorithm } from '../../crypto/key-spec.js';
import type { SigningInput } from '../../operations/signing.js';
import { base64BytesParameter, booleanParameter, keyIdParameter, keyVersionIdParameter, signingAlgorithmParameter } from './schema.js';

/** The most bytes a Digest may hold before its length is checked against the algorithm (SHA-512's). */
const MAX_DIGEST_BYTES = 64;

/**
 * AsymmetricSign's parameters (AsymmetricVerify adds `Value`): a key, the version (required: an
 * asymmetric key has no primary version for Alibaba), the algorithm, and the Base64 `Digest`, which
 * must be as long as the algorithm's hash (32 bytes for the `*_SHA_256` algorithms), else a 400
 * naming Digest.
 */
export const signingParameters = {
  KeyId: keyIdParameter,
  KeyVersionId: keyVersionIdParameter,
  Algorithm: signingAlgorithmParameter,
  Digest: base64BytesParameter(MAX_DIGEST_BYTES),
  DryRun: z.optional(booleanParameter),
};

/** The digest is as long as the algorithm's hash (reported on Digest). */
export const digestFitsAlgorithm = z.refine<{ Algorithm: SigningAlgorithm; Digest: Buffer }>((p) => p.Digest.length === DIGEST_BYTES[hashOf(p.Algorithm)], {
  path: ['Digest'],
  error: 'It must be the Base64 of a digest made with the algorithm’s hash (32 bytes for the *_SHA_256 algorithms).',
});

/** The typed input of the parameters above. */
export const signingInput = (p: { KeyId: string; KeyVersionId: string; Algorithm: SigningAlgorithm; Digest: Buffer<ArrayBuffer> }): SigningInput => ({
  KeyId: p.KeyId,
  KeyVersionId: p.KeyVersionId,
  SigningAlgorithm: p.Algorithm,
  Digest: p.Digest,
});
