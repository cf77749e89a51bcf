import { ActionNotFoundError, DryRunOperationError, InternalFailureError, NoPermissionError } from '../errors.js';
import type { ActionDefinition } from '../action.js';
import { type AuthorizeOptions, type OperationContext, permissionOf } from '../operation.js';
import type { ConditionContext } from '../policy/policy.js';
import type { RpcRequest, RpcResponse } from '../rpc/request.js';
import type { Service } from '../service.js';
import { stateOf } from './state.js';

const NO_ENCRYPTION_CONTEXT: ReadonlyMap<string, string> = new Map();

/**
 * The stack's handler for one operation: read the input in the request's protocol, resolve and
 * authorise, then execute (unless DryRun: then DryRunOperationError, the documented answer of a
 * request that would have succeeded), and answer in the protocol. A request whose signed Action
 * is not this operation's was routed here by mistake and is refused, so a signature for one
 * Action can never run another.
 */
export function runOperation<I, R>(definition: ActionDefinition<I, R>, service: Service) {
  const run = operationOf(definition, service);
  return async (event: RpcRequest): Promise<RpcResponse> => {
    const { nonceClaimed } = stateOf(event);
    if (!nonceClaimed) return run(event);
    // The claim ran beside an operation that changes nothing: a replay (or a replay store that
    // cannot answer) is the answer, whatever the operation found; its output is dropped unsent.
    const [outcome] = await Promise.allSettled([run(event)]);
    await nonceClaimed;
    if (outcome.status === 'rejected') throw outcome.reason;
    return outcome.value;
  };
}

function operationOf<I, R>(definition: ActionDefinition<I, R>, service: Service) {
  const ownPermission = permissionOf(definition.name);
  return async (event: RpcRequest): Promise<RpcResponse> => {
    const state = stateOf(event);
    const { protocol } = state;
    if (state.action !== definition.name) throw new ActionNotFoundError(state.action ?? '');
    const principal = state.principal!;
    const { input: read, dryRun } = protocol.input(event, state.wire, definition.name);
    const input = read as I;

    try {
      // The context conditions on kms:EncryptionContext:<key> read by default: the operation's own
      // EncryptionContext parameter, as validated (always a Map; absent means empty).
      const inputContext = (input as { EncryptionContext?: unknown }).EncryptionContext;
      const defaultEncryptionContext: ReadonlyMap<string, string> = inputContext instanceof Map ? inputContext : NO_ENCRYPTION_CONTEXT;
      if (defaultEncryptionContext.size > 0) state.encryptionContextKeys = [...defaultEncryptionContext.keys()];
      if (dryRun) state.dryRun = true;

      const conditionsOf = (options: AuthorizeOptions | undefined): ConditionContext => {
        // Members assigned, not a spread of a conditional object: this runs for every request.
        const conditions: ConditionContext = {
          encryptionContext: options?.encryptionContext ?? defaultEncryptionContext,
          sourceIp: event.sourceIp,
          secureTransport: event.secureTransport === true,
          now: service.now(),
        };
        if (options?.resourceTags) conditions.resourceTags = options.resourceTags;
        return conditions;
      };
      const namesOf = (resource: string, awsArns?: readonly string[]): string[] =>
        principal.policy.namesAwsArns ? [resource, ...(awsArns ?? awsFormsOf(resource, service))] : [resource];
      const refuse = (action: string, resource: string, denied: (() => Error) | undefined): Error => {
        // Says why every request of this key is denied, without the policy's text.
        if (principal.policyInvalid) {
          service.logger.warn('access key policy is not valid; the key is denied everything until its policy is replaced', {
            requestId: state.requestId,
            accessKeyId: principal.accessKeyId,
          });
        }
        return denied ? denied() : new NoPermissionError(action, resource);
      };

      let authorized = false;
      const context: OperationContext = {
        service,
        principal,
        requestId: state.requestId,
        action: definition.name,
        blobForm: protocol.blobForm,
        authorize(resource, action = ownPermission, denied, options) {
          state.keyArn ??= resource;
          if (!principal.policy.isAllowed(action, namesOf(resource, options?.awsArns), conditionsOf(options))) throw refuse(action, resource, denied);
          authorized = true;
        },
        authorizeAny({ resource, suffix, suffixLength, awsArnPrefixes }, action = ownPermission, denied, options) {
          const suffixed = suffix ? { suffix, ...(suffixLength === undefined ? {} : { suffixLength }) } : {};
          const scope = awsArnPrefixes
            ? { exactNames: [resource], names: principal.policy.namesAwsArns ? awsArnPrefixes : [], ...suffixed }
            : { names: namesOf(resource), ...suffixed };
          if (!principal.policy.mayAllow(action, scope, conditionsOf(options))) throw refuse(action, resource, denied);
        },
      };
      const resolved = await definition.resolve(input, context);
      if (!authorized) throw new InternalFailureError();

      if (dryRun) throw new DryRunOperationError();
      const output = await definition.execute(input, resolved, context);
      const { KeyVersionId: keyVersionId, KeyMetadata: metadata } = (output ?? {}) as { KeyVersionId?: unknown; KeyMetadata?: { Arn?: unknown } };
      if (typeof keyVersionId === 'string') state.keyVersionId = keyVersionId;
      // A secret's Actions: the record's resource is the secret's ARN and its version the secret version (never the value).
      const secretVersionId = (output as { VersionId?: unknown } | undefined)?.VersionId;
      if (typeof secretVersionId === 'string' && state.keyArn?.includes(':secret/')) state.keyVersionId = secretVersionId;
      // A key made by this request (CreateKey) is named by its own ARN, not the scope it was authorised on.
      if (typeof metadata?.Arn === 'string') state.keyArn = metadata.Arn;
      return await protocol.ok(state, output);
    } finally {
      wipeBuffers(input);
    }
  };
}

/** The AWS ARNs of a key or alias ARN of this service, one per AWS region served (`*` has none). */
function awsFormsOf(resource: string, service: Service): string[] {
  if (!resource.startsWith('acs:kms:')) return [];
  const [, , region, accountId, name] = resource.split(':');
  // A secret's AWS ARN carries a suffix its acs ARN does not: the secret's operations give it (AuthorizeOptions.awsArns).
  if (name?.startsWith('secret/')) return [];
  // Only this deployment's own resources have AWS names; a foreign reference is matched as written.
  if (region !== service.aws.alibabaRegion || accountId !== service.aws.accountId) return [];
  return [...service.aws.regions].map((awsRegion) => `arn:aws:kms:${awsRegion}:${accountId}:${name}`);
}

/** Zeroes the input's own buffers (a plaintext the protocol decoded): nothing a caller sent outlives its request. */
function wipeBuffers(input: unknown): void {
  if (typeof input !== 'object' || input === null) return;
  for (const name in input) {
    const value = (input as Record<string, unknown>)[name];
    if (Buffer.isBuffer(value)) value.fill(0);
  }
}
