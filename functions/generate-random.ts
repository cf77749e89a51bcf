import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { randomBytesFromPool } from '../lib/crypto/random-pool.js';
import { defineAction } from '../lib/action.js';
import { integerParameter } from '../lib/protocol/alibaba/schema.js';
import { integer, refuse } from '../lib/protocol/aws/fields.js';

/**
 * GenerateRandom (AWS KMS; also served as an RPC Action): `NumberOfBytes` (1–1024, default 32)
 * random bytes from the CSPRNG, Base64 in `Plaintext`. Authorised as `kms:GenerateRandom` on `*`.
 */
export const action = defineAction({
  name: 'GenerateRandom',
  group: 'write',
  store: 'reads',
  alibaba: { params: z.object({ NumberOfBytes: z.optional(integerParameter(1, 1024)) }) },
  aws: [
    {
      target: 'GenerateRandom',
      input(body) {
        refuse(body, ['Recipient', 'CustomKeyStoreId']);
        return { NumberOfBytes: integer(body, 'NumberOfBytes', 1, 1024) };
      },
      output: (o: { Plaintext: string }) => ({ Plaintext: o.Plaintext }),
    },
  ],
  async resolve(_input, context) {
    context.authorize('*');
  },
  async execute(input): Promise<{ Plaintext: string }> {
    const bytes = randomBytesFromPool(input.NumberOfBytes ?? 32);
    try {
      return { Plaintext: bytes.toString('base64') };
    } finally {
      bytes.fill(0);
    }
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
