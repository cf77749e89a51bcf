import type { Context } from 'aws-lambda';
import { type ActionDefinition, servedByFunctionOf } from '../action.js';
import { protocolOf, protocolsFor } from '../protocol/protocols.js';
import type { RpcRequest } from '../rpc/request.js';
import type { Service } from '../service.js';
import { buildRpcHandler, buildStack, groupsOf, type RpcHandler } from './stack.js';

/** Answers after authentication: a missing Action, malformed parameters, or InvalidAction.NotFound. */
const UNKNOWN: ActionDefinition = {
  name: '',
  group: 'write',
  store: 'reads',
  resolve: () => Promise.reject(new Error('unreachable')),
  execute: () => Promise.reject(new Error('unreachable')),
};

/**
 * Serves every Action of a table from one entry point (the local gateway; in the cloud, the
 * function behind the lowest-priority rule, for requests whose Action is only in a form body).
 * The request's protocol is chosen once, and names the Action only to pick a stack; each stack
 * authenticates and then insists the signed Action is its own.
 */
export function createDispatcher(service: Service, actions: Iterable<ActionDefinition>): RpcHandler {
  const served = [...actions];
  const protocols = protocolsFor(served, service);
  const groups = groupsOf(served);
  const stacks = new Map(served.map((definition) => [definition.name, buildStack(definition, service, groups)]));
  const unknown = buildStack(UNKNOWN, service, groups);
  return (request: RpcRequest, context?: Context) => {
    const protocol = protocolOf(protocols, request.headers);
    const wire = protocol.open(request);
    const action = protocol.route(request, wire);
    return ((action !== undefined && stacks.get(action)) || unknown)(request, context, protocol, wire);
  };
}

/**
 * The handler of an Action's own function: its stack, or, when it also serves other Actions
 * (ActionDefinition.alsoServes), a dispatcher over exactly those, each through its own stack.
 */
export function createFunctionHandler(service: Service, definition: ActionDefinition): RpcHandler {
  const served = servedByFunctionOf(definition);
  return served.length === 1 ? buildRpcHandler(definition, service) : createDispatcher(service, served);
}
