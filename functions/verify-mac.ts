import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import type { MacAlgorithm } from '../lib/crypto/key-spec.js';
import { macMatches } from '../lib/crypto/mac.js';
import { defineAction } from '../lib/action.js';
import { InvalidMacError } from '../lib/errors.js';
import type { KeyVersion, ResolvedKey } from '../lib/keyring/keyring.js';
import { assertMacAlgorithm } from '../lib/operations/key-usage.js';
import { resolveUsableVersion } from '../lib/operations/resolve-key.js';
import { binary, keyId, macAlgorithm } from '../lib/protocol/aws/fields.js';
import { awsKeyArn } from '../lib/protocol/aws/shapes.js';

/** AWS's limit on VerifyMac's Message, in bytes (as GenerateMac's). */
const MAX_MAC_MESSAGE_BYTES = 4096;

/** AWS's limit on VerifyMac's Mac, in bytes (the longest tag is 64). */
const MAX_MAC_BYTES = 6144;

type VerifyMacOutput = { KeyId: string; MacValid: true; MacAlgorithm: MacAlgorithm };

/**
 * VerifyMac (AWS KMS only): whether `Mac` is the HMAC of `Message` under the key's newest version,
 * compared in constant time. A MAC that does not match fails with KMSInvalidMacException; the
 * answer never says `MacValid: false`. Same rules as GenerateMac otherwise.
 */
export const action = defineAction({
  name: 'VerifyMac',
  group: 'crypto',
  store: 'reads',
  aws: [
    {
      target: 'VerifyMac',
      dryRun: true,
      input: (body, scope) => ({
        KeyId: keyId(body, scope),
        Message: binary(body, 'Message', MAX_MAC_MESSAGE_BYTES),
        MacAlgorithm: macAlgorithm(body),
        Mac: binary(body, 'Mac', MAX_MAC_BYTES),
      }),
      output: (o: VerifyMacOutput, c) => ({ KeyId: awsKeyArn(c, o.KeyId), MacValid: o.MacValid, MacAlgorithm: o.MacAlgorithm }),
    },
  ],
  async resolve(input, context): Promise<{ key: ResolvedKey; version: KeyVersion }> {
    const resolved = await resolveUsableVersion({ KeyId: input.KeyId }, 'mac', context);
    assertMacAlgorithm(resolved.key, input.MacAlgorithm);
    return resolved;
  },
  async execute(input, { key, version }): Promise<VerifyMacOutput> {
    try {
      if (!macMatches(input.MacAlgorithm, version.material, input.Message, input.Mac)) throw new InvalidMacError();
      return { KeyId: key.keyId, MacValid: true, MacAlgorithm: input.MacAlgorithm };
    } finally {
      input.Message.fill(0);
    }
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
