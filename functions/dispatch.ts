import { fcHttpDispatcher } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaForwarderFromEnvironment } from '../lib/adapters/lambda-forward.js';
import { ACTIONS_IN_AWS_STACK, OPERATIONS } from './actions.js';

/**
 * The dispatcher: in the cloud it sits behind the ALB's lowest-priority rule and receives only what
 * no per-Action rule matched — requests whose Action is only in a form body (pop-core POST), which
 * a listener rule cannot see. (An AWS operation two Actions serve by what the body holds has its
 * rule to the function that serves both: ActionDefinition.alsoServes.)
 *
 * On AWS Lambda it holds no state and no secret: it reads the Action (Alibaba RPC, or the
 * X-Amz-Target of AWS KMS and AWS Secrets Manager) and forwards the unchanged event to that
 * Action's own function (`kms-<stage>-<function>`, Lambda Invoke), which authenticates it and
 * refuses an Action not its own. The AWS stack deploys every Action, the secrets Actions too. On
 * Function Compute, which routes nothing by body either, it serves every Action in process
 * (`fcHandler`), each through its own stack.
 */
export const handler = lambdaForwarderFromEnvironment(
  ACTIONS_IN_AWS_STACK.map((route) => ({ bindings: route.operation, functionName: route.functionName })),
  process.env,
);
export const fcHandler = fcHttpDispatcher(OPERATIONS);
