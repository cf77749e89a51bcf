import { fcHttpDispatcher } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaDispatcher } from '../lib/adapters/aws-lambda.js';
import { OPERATIONS } from './actions.js';

/**
 * The dispatcher: serves every Action from one function. In the cloud it sits behind the ALB's
 * lowest-priority rule and receives only what no per-Action rule matched — requests whose Action
 * is only in a form body (pop-core POST), which a listener rule cannot see. Each Action still runs
 * its own stack, which checks that the signed Action is its own.
 */
export const handler = lambdaDispatcher(OPERATIONS);
export const fcHandler = fcHttpDispatcher(OPERATIONS);
