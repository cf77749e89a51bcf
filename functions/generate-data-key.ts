import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { dataKeyWork, withDataKeyLength } from '../lib/operations/data-key.js';
import { dataKeyParameters } from '../lib/protocol/alibaba/schema.js';
import { dataKeyRequest } from '../lib/protocol/aws/fields.js';
import { awsKeyArn } from '../lib/protocol/aws/shapes.js';

/** GenerateDataKey: a new data key, returned in plaintext and wrapped under the CMK. */
export const action = defineAction({
  name: 'GenerateDataKey',
  group: 'crypto',
  store: 'reads',
  alibaba: { params: z.pipe(z.object(dataKeyParameters), z.transform(withDataKeyLength)) },
  aws: [
    {
      target: 'GenerateDataKey',
      dryRun: true,
      input: dataKeyRequest,
      output: (o, c) => ({ CiphertextBlob: o.CiphertextBlob, Plaintext: o.Plaintext, KeyId: awsKeyArn(c, o.KeyId) }),
    },
  ],
  ...dataKeyWork({ returnPlaintext: true }),
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
