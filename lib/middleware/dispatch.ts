import type { Context } from 'aws-lambda';
import type { Operation } from '../operation.js';
import { rpcParams } from '../rpc/params.js';
import type { RpcRequest } from '../rpc/request.js';
import type { Service } from '../service.js';
import { awsOperationOf, servingAction } from '../aws/operations.js';
import { awsBodyOf } from './aws-parameters.js';
import { buildRpcHandler, type RpcHandler } from './stack.js';

/**
 * Serves every Action of a table from one entry point (the local gateway; in the cloud, the
 * function behind the lowest-priority rule, for requests whose Action is only in a form body).
 * The Action is read from `x-acs-action` or the `Action` parameter only to pick a stack; each
 * stack authenticates and then insists the signed Action is its own.
 */
export function createDispatcher(service: Service, operations: Iterable<Operation<any, any>>): RpcHandler {
  const stacks = new Map<string, RpcHandler>();
  for (const operation of operations) stacks.set(operation.action, buildRpcHandler(operation, service));
  // Answers after authentication: missing Action, malformed parameters, or InvalidAction.NotFound.
  const unknown = buildRpcHandler(
    {
      action: '',
      input: undefined as never,
      resolve: () => Promise.reject(new Error('unreachable')),
      execute: () => Promise.reject(new Error('unreachable')),
    },
    service,
  );
  return (request: RpcRequest, context?: Context) => {
    const target = request.headers['x-amz-target'];
    if (target !== undefined) {
      // The AWS protocol: the stack of the Alibaba Action that serves the operation; an unknown
      // operation or an unreadable body is answered by the fallback stack, in AWS's form.
      const operation = awsOperationOf(target);
      let action: string | undefined;
      try {
        action = operation && servingAction(operation, awsBodyOf(request));
      } catch {
        action = undefined;
      }
      return ((action !== undefined && stacks.get(action)) || unknown)(request, context);
    }
    let action: string | undefined = request.headers['x-acs-action'];
    if (action === undefined) {
      try {
        action = rpcParams(request).all.get('Action');
      } catch {
        action = undefined;
      }
    }
    const stack = (action !== undefined && stacks.get(action)) || unknown;
    return stack(request, context);
  };
}
