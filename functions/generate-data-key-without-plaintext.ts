import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { dataKeyOperation } from '../lib/operations/data-key.js';

/**
 * GenerateDataKeyWithoutPlaintext: a new data key, returned only wrapped — for a key provider that
 * must never see data keys.
 */
export const operation = dataKeyOperation('GenerateDataKeyWithoutPlaintext', { returnPlaintext: false });
export const handler = lambdaHandler(operation);
export const fcHandler = fcHttpHandler(operation);
