import { fcHttpDispatcher } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaForwarderFromEnvironment } from '../lib/adapters/lambda-forward.js';
import { ACTIONS, ACTIONS_IN_AWS_STACK, OPERATIONS } from './actions.js';

/**
 * The dispatcher: in the cloud it sits behind the ALB's lowest-priority rule and receives only what
 * no per-Action rule matched — requests whose Action is only in a form body (pop-core POST), which
 * a listener rule cannot see. (An AWS operation two Actions serve by what the body holds has its
 * rule to the function that serves both: ActionDefinition.alsoServes.)
 *
 * An Action of the table that the AWS stack does not deploy (NOT_IN_AWS_STACK) is answered 400
 * UnsupportedOperation, "not deployed in this stack yet".
 *
 * On AWS Lambda it holds no state and no secret: it reads the Action and forwards the unchanged
 * event to that Action's own function (`kms-<stage>-<function>`, Lambda Invoke), which
 * authenticates it and refuses an Action not its own. On Function Compute, which routes nothing
 * by body either, it serves every Action in process (`fcHandler`), each through its own stack.
 */
export const handler = lambdaForwarderFromEnvironment(
  ACTIONS_IN_AWS_STACK.map((route) => ({ bindings: route.operation, functionName: route.functionName })),
  process.env,
  // Known here, deployed elsewhere only (functions/actions.ts NOT_IN_AWS_STACK): a clear 400, not a failed invoke.
  ACTIONS.filter((route) => !ACTIONS_IN_AWS_STACK.includes(route)).map((route) => route.operation),
);
export const fcHandler = fcHttpDispatcher(OPERATIONS);
