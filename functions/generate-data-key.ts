import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { dataKeyOperation } from '../lib/operations/data-key.js';

/** GenerateDataKey: a new data key, returned in plaintext and wrapped under the CMK. */
export const operation = dataKeyOperation('GenerateDataKey', { returnPlaintext: true });
export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
