import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { assertSigningAlgorithm } from '../lib/operations/key-usage.js';
import { resolveUsableVersion } from '../lib/operations/resolve-key.js';
import { type SigningInput, signWith } from '../lib/operations/signing.js';
import { digestFitsAlgorithm, signingInput, signingParameters } from '../lib/protocol/alibaba/signing.js';
import { signingRequest } from '../lib/protocol/aws/signing.js';
import { awsKeyArn } from '../lib/protocol/aws/shapes.js';

type AsymmetricSignOutput = { KeyId: string; KeyVersionId: string; Value: string };

/**
 * AsymmetricSign (AWS Sign): a signature with an RSA or EC key whose usage is SIGN/VERIFY. Alibaba
 * names the version and sends a digest (signed as it is); AWS uses the key's newest version and
 * sends a message (RAW, hashed here, ≤ 4 KiB) or its digest (DIGEST). RSA signatures per PKCS #1,
 * ECDSA as DER; either verifies over the message with any standard verifier and the public key of
 * GetPublicKey. The private key never leaves the version cache.
 */
export const action = defineAction({
  name: 'AsymmetricSign',
  group: 'crypto',
  store: 'reads',
  alibaba: { params: z.pipe(z.object(signingParameters).check(digestFitsAlgorithm), z.transform(signingInput)) },
  aws: [
    {
      target: 'Sign',
      dryRun: true,
      input: (body, scope): SigningInput => signingRequest(body, scope),
      output: (o: AsymmetricSignOutput, c) => ({ KeyId: awsKeyArn(c, o.KeyId), Signature: o.Value, SigningAlgorithm: c.body.SigningAlgorithm }),
    },
  ],
  async resolve(input: SigningInput, context) {
    const resolved = await resolveUsableVersion(input, 'signing', context);
    assertSigningAlgorithm(resolved.key, input.SigningAlgorithm);
    return resolved;
  },
  async execute(input, { key, version }): Promise<AsymmetricSignOutput> {
    const signature = signWith(version, input.SigningAlgorithm, input);
    return { KeyId: key.keyId, KeyVersionId: version.keyVersionId, Value: signature.toString('base64') };
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
