import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { InvalidSignatureError } from '../lib/errors.js';
import { assertSigningAlgorithm } from '../lib/operations/key-usage.js';
import { resolveUsableVersion } from '../lib/operations/resolve-key.js';
import { type SigningInput, verifyWith } from '../lib/operations/signing.js';
import { base64BytesParameter } from '../lib/protocol/alibaba/schema.js';
import { digestFitsAlgorithm, signingInput, signingParameters } from '../lib/protocol/alibaba/signing.js';
import { binary } from '../lib/protocol/aws/fields.js';
import { signingRequest } from '../lib/protocol/aws/signing.js';
import { awsKeyArn } from '../lib/protocol/aws/shapes.js';

/** The most bytes a signature may hold (AWS's limit on Verify's Signature); longer is a 400, shorter garbage just does not verify. */
const MAX_SIGNATURE_BYTES = 6144;

type VerifyInput = SigningInput & { Signature: Buffer };
type AsymmetricVerifyOutput = { KeyId: string; KeyVersionId: string; Value: boolean };

/**
 * AsymmetricVerify (AWS Verify): whether a signature is the key version's signature of a digest
 * (Alibaba; AWS DIGEST) or of a message (AWS RAW). Each protocol answers a signature that does not
 * verify in its own words: Alibaba 200 with `Value: false` (a JSON boolean), AWS
 * KMSInvalidSignatureException (it never answers `SignatureValid: false`). Signature bytes that
 * are not a signature at all (wrong length, bad DER) are simply not valid.
 */
export const action = defineAction({
  name: 'AsymmetricVerify',
  group: 'crypto',
  store: 'reads',
  alibaba: {
    params: z.pipe(
      z.object({ ...signingParameters, Value: base64BytesParameter(MAX_SIGNATURE_BYTES) }).check(digestFitsAlgorithm),
      z.transform((p): VerifyInput => ({ ...signingInput(p), Signature: p.Value })),
    ),
  },
  aws: [
    {
      target: 'Verify',
      dryRun: true,
      input: (body, scope): VerifyInput => ({ ...signingRequest(body, scope), Signature: binary(body, 'Signature', MAX_SIGNATURE_BYTES) }),
      output(o: AsymmetricVerifyOutput, c) {
        if (!o.Value) throw new InvalidSignatureError();
        return { KeyId: awsKeyArn(c, o.KeyId), SignatureValid: true, SigningAlgorithm: c.body.SigningAlgorithm };
      },
    },
  ],
  async resolve(input: VerifyInput, context) {
    const resolved = await resolveUsableVersion(input, 'signing', context);
    assertSigningAlgorithm(resolved.key, input.SigningAlgorithm);
    return resolved;
  },
  async execute(input, { key, version }): Promise<AsymmetricVerifyOutput> {
    return { KeyId: key.keyId, KeyVersionId: version.keyVersionId, Value: verifyWith(version, input.SigningAlgorithm, input, input.Signature) };
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
