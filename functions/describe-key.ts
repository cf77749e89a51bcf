import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { keyMetadata, type KeyMetadataView } from '../lib/operations/key-metadata.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter } from '../lib/protocol/alibaba/schema.js';
import { keyId } from '../lib/protocol/aws/fields.js';
import { awsKeyArn, awsKeyMetadata, epochSeconds } from '../lib/protocol/aws/shapes.js';

type DescribeKeyOutput = { KeyMetadata: KeyMetadataView };

/**
 * DescribeKey: the full KeyMetadata of a key named by id, alias or ARN, in any state. It also
 * serves AWS's GetKeyRotationStatus (authorised as `kms:DescribeKey`).
 */
export const action = defineAction({
  name: 'DescribeKey',
  group: 'read',
  store: 'reads',
  alibaba: { params: z.object({ KeyId: keyIdParameter }) },
  aws: [
    {
      target: 'DescribeKey',
      input: (body, scope) => ({ KeyId: keyId(body, scope) }),
      output: (o: DescribeKeyOutput, c) => ({ KeyMetadata: awsKeyMetadata(o.KeyMetadata, c) }),
    },
    {
      target: 'GetKeyRotationStatus',
      input: (body, scope) => ({ KeyId: keyId(body, scope) }),
      output(o: DescribeKeyOutput, c) {
        const m = o.KeyMetadata;
        const enabled = m.AutomaticRotation === 'Enabled';
        const seconds = /^(\d+)s$/.exec(m.RotationInterval ?? '')?.[1];
        return {
          KeyId: awsKeyArn(c, m.KeyId!),
          KeyRotationEnabled: enabled,
          ...(enabled && seconds ? { RotationPeriodInDays: Math.round(Number(seconds) / 86_400) } : {}),
          ...(enabled && m.NextRotationDate ? { NextRotationDate: epochSeconds(m.NextRotationDate) } : {}),
        };
      },
    },
  ],
  resolve: (input, context) => resolveAuthorizedKey(input.KeyId, context),
  async execute(_input, key): Promise<DescribeKeyOutput> {
    return { KeyMetadata: keyMetadata(key) };
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
