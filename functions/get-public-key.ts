import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { publicKeyPem } from '../lib/crypto/key-pair.js';
import { usageOf } from '../lib/crypto/key-spec.js';
import { resolveUsableVersion } from '../lib/operations/resolve-key.js';
import { booleanParameter, keyIdParameter, keyVersionIdParameter } from '../lib/protocol/alibaba/schema.js';
import { keyId } from '../lib/protocol/aws/fields.js';
import { awsKeyArn, awsKeySpecFields } from '../lib/protocol/aws/shapes.js';

/** `withKeySpec`: AWS's answer also carries the key's spec, usage and algorithms (Alibaba's does not). */
type GetPublicKeyInput = { KeyId: string; KeyVersionId?: string; withKeySpec?: true };
type GetPublicKeyOutput = { KeyId: string; KeyVersionId: string; PublicKey: string; KeySpec?: string; KeyUsage?: string };

/**
 * GetPublicKey: the public half of an RSA or EC key version (either usage), as SubjectPublicKeyInfo:
 * PEM for Alibaba (the version named), DER (Base64 on the wire) for AWS (the newest version), the
 * same key bytes. A symmetric or HMAC key has none: 400 UnsupportedOperation
 * (UnsupportedOperationException). Refused like the crypto Actions for a Disabled key or one
 * pending deletion.
 */
export const action = defineAction<GetPublicKeyInput, Awaited<ReturnType<typeof resolveUsableVersion>>, GetPublicKeyOutput>({
  name: 'GetPublicKey',
  group: 'read',
  store: 'reads',
  alibaba: {
    params: z.object({ KeyId: keyIdParameter, KeyVersionId: keyVersionIdParameter, DryRun: z.optional(booleanParameter) }),
  },
  aws: [
    {
      // AWS's GetPublicKey takes no DryRun (its request is KeyId and GrantTokens).
      target: 'GetPublicKey',
      input: (body, scope): GetPublicKeyInput => ({ KeyId: keyId(body, scope), withKeySpec: true }),
      output: (o: GetPublicKeyOutput, c) => ({
        KeyId: awsKeyArn(c, o.KeyId),
        // The PEM's body is the Base64 of the DER SubjectPublicKeyInfo: AWS's PublicKey on the wire.
        PublicKey: o.PublicKey.replace(/-----[A-Z ]+-----|\s/g, ''),
        ...awsKeySpecFields(o.KeySpec!, o.KeyUsage!),
      }),
    },
  ],
  resolve: (input, context) => resolveUsableVersion(input, 'public-key', context),
  async execute(input, { key, version }): Promise<GetPublicKeyOutput> {
    return {
      KeyId: key.keyId,
      KeyVersionId: version.keyVersionId,
      PublicKey: publicKeyPem(version.publicKey!),
      ...(input.withKeySpec ? { KeySpec: version.spec.spec, KeyUsage: usageOf(key) } : {}),
    };
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
