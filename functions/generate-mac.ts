import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import type { MacAlgorithm } from '../lib/crypto/key-spec.js';
import { macOf } from '../lib/crypto/mac.js';
import { defineAction } from '../lib/action.js';
import type { KeyVersion, ResolvedKey } from '../lib/keyring/keyring.js';
import { assertMacAlgorithm } from '../lib/operations/key-usage.js';
import { resolveUsableVersion } from '../lib/operations/resolve-key.js';
import { binary, keyId, macAlgorithm } from '../lib/protocol/aws/fields.js';
import { awsKeyArn } from '../lib/protocol/aws/shapes.js';

/** AWS's limit on GenerateMac's and VerifyMac's Message, in bytes. */
export const MAX_MAC_MESSAGE_BYTES = 4096;

type GenerateMacOutput = { KeyId: string; Mac: string; MacAlgorithm: MacAlgorithm };

/**
 * GenerateMac (AWS KMS only; Alibaba's API has no MAC Action): the RFC 2104 HMAC of `Message`
 * (1–4096 bytes, hashed by nobody first) under an HMAC key's newest version, the raw tag in `Mac`.
 * Deterministic: the same key, message and algorithm give the same tag. `MacAlgorithm` must be
 * the key's one algorithm (else InvalidKeyUsageException, as for a key that is not an HMAC key).
 * `GrantTokens` are accepted and ignored (this service has no grants).
 */
export const action = defineAction({
  name: 'GenerateMac',
  group: 'crypto',
  store: 'reads',
  aws: [
    {
      target: 'GenerateMac',
      dryRun: true,
      input: (body, scope) => ({
        KeyId: keyId(body, scope),
        Message: binary(body, 'Message', MAX_MAC_MESSAGE_BYTES),
        MacAlgorithm: macAlgorithm(body),
      }),
      output: (o: GenerateMacOutput, c) => ({ Mac: o.Mac, MacAlgorithm: o.MacAlgorithm, KeyId: awsKeyArn(c, o.KeyId) }),
    },
  ],
  async resolve(input, context): Promise<{ key: ResolvedKey; version: KeyVersion }> {
    const resolved = await resolveUsableVersion({ KeyId: input.KeyId }, 'mac', context);
    assertMacAlgorithm(resolved.key, input.MacAlgorithm);
    return resolved;
  },
  async execute(input, { key, version }): Promise<GenerateMacOutput> {
    try {
      const mac = macOf(input.MacAlgorithm, version.material, input.Message);
      return { KeyId: key.keyId, Mac: mac.toString('base64'), MacAlgorithm: input.MacAlgorithm };
    } finally {
      input.Message.fill(0);
    }
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
