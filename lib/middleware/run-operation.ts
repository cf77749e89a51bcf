import { ActionNotFoundError, DryRunOperationError, InternalFailureError, InvalidParameterError, NoPermissionError } from '../errors.js';
import { type AuthorizeOptions, type Operation, type OperationContext, permissionOf } from '../operation.js';
import type { ConditionContext } from '../policy/policy.js';
import { operationInput } from '../rpc/params.js';
import type { RpcRequest, RpcResponse } from '../rpc/request.js';
import { validateInput } from '../rpc/schema.js';
import { successResponse } from '../rpc/serialize.js';
import type { Service } from '../service.js';
import { type RequestState, stateOf } from './state.js';
import type { AwsOutputContext } from '../aws/operations.js';
import { awsSuccessResponse } from '../aws/protocol.js';
import { awsBodyOf } from './aws-parameters.js';

const NO_ENCRYPTION_CONTEXT: ReadonlyMap<string, string> = new Map();

/**
 * The stack's handler for one operation: validate the input, resolve and authorise, then execute
 * (unless DryRun: then DryRunOperationError, the documented answer of a request that would have
 * succeeded). A request whose signed Action is not this operation's was routed here by
 * mistake and is refused, so a signature for one Action can never run another.
 */
export function runOperation<I, R>(operation: Operation<I, R>, service: Service) {
  const ownPermission = permissionOf(operation.action);
  return async (event: RpcRequest): Promise<RpcResponse> => {
    const state = stateOf(event);
    if (state.inputError !== undefined) throw state.inputError;
    if (state.action !== operation.action) throw new ActionNotFoundError(state.action ?? '');
    const principal = state.principal!;
    const input = validateInput(operation.input, operationInput(state.params!.all));
    // Every Action honours DryRun, also those whose schema does not name it: a caller who asks
    // for a dry run of ScheduleKeyDeletion or DeleteKeyMaterial must never get the real thing.
    const dryRun = dryRunOf(state.params!.all.get('DryRun'));

    // The context conditions on kms:EncryptionContext:<key> read by default: the operation's own
    // EncryptionContext parameter, as validated (always a Map; absent means empty).
    const inputContext = (input as { EncryptionContext?: unknown }).EncryptionContext;
    const defaultEncryptionContext: ReadonlyMap<string, string> = inputContext instanceof Map ? inputContext : NO_ENCRYPTION_CONTEXT;
    if (defaultEncryptionContext.size > 0) state.encryptionContextKeys = [...defaultEncryptionContext.keys()];
    if (dryRun) state.dryRun = true;

    const conditionsOf = (options: AuthorizeOptions | undefined): ConditionContext => ({
      encryptionContext: options?.encryptionContext ?? defaultEncryptionContext,
      ...(options?.resourceTags ? { resourceTags: options.resourceTags } : {}),
      sourceIp: event.sourceIp,
      secureTransport: event.secureTransport === true,
      now: service.now(),
    });
    const namesOf = (resource: string): string[] => (principal.policy.namesAwsArns ? [resource, ...awsFormsOf(resource, service)] : [resource]);
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
      action: operation.action,
      protocol: state.protocol,
      authorize(resource, action = ownPermission, denied, options) {
        state.keyArn ??= resource;
        if (!principal.policy.isAllowed(action, namesOf(resource), conditionsOf(options))) throw refuse(action, resource, denied);
        authorized = true;
      },
      authorizeAny({ resource, suffix }, action = ownPermission, denied, options) {
        if (!principal.policy.mayAllow(action, { names: namesOf(resource), suffix }, conditionsOf(options))) throw refuse(action, resource, denied);
      },
    };
    const resolved = await operation.resolve(input, context);
    if (!authorized) throw new InternalFailureError();

    if (dryRun) throw new DryRunOperationError();
    const output = await operation.execute(input, resolved, context);
    const { KeyVersionId: keyVersionId, KeyMetadata: metadata } = (output ?? {}) as { KeyVersionId?: unknown; KeyMetadata?: { Arn?: unknown } };
    if (typeof keyVersionId === 'string') state.keyVersionId = keyVersionId;
    // A key made by this request (CreateKey) is named by its own ARN, not the scope it was authorised on.
    if (typeof metadata?.Arn === 'string') state.keyArn = metadata.Arn;
    if (state.aws) return awsSuccessResponse(state.requestId, await state.aws.operation.output(output, awsOutputContext(state, event, service)));
    return successResponse(state.format, state.requestId, output);
  };
}

/** The DryRun parameter: `true` or `false` in any case, absent is false; anything else is a 400 naming it. */
function dryRunOf(value: string | undefined): boolean {
  if (value === undefined) return false;
  if (!/^(true|false)$/i.test(value)) throw new InvalidParameterError('DryRun', 'It must be true or false.');
  return value.toLowerCase() === 'true';
}

/** What an AWS operation's output translation reads: the request's region, its body, key lookups. */
function awsOutputContext(state: RequestState, event: RpcRequest, service: Service): AwsOutputContext {
  return {
    ...service.aws,
    region: state.aws?.region ?? service.aws.alibabaRegion,
    body: awsBodyOf(event),
    now: service.now(),
    authorizedKeyId: state.keyArn?.includes(':key/') ? state.keyArn.slice(state.keyArn.indexOf(':key/') + ':key/'.length) : undefined,
  };
}

/** The AWS ARNs of a key or alias ARN of this service, one per AWS region served (`*` has none). */
function awsFormsOf(resource: string, service: Service): string[] {
  if (!resource.startsWith('acs:kms:')) return [];
  const [, , region, accountId, name] = resource.split(':');
  // Only this deployment's own resources have AWS names; a foreign reference is matched as written.
  if (region !== service.aws.alibabaRegion || accountId !== service.aws.accountId) return [];
  return [...service.aws.regions].map((awsRegion) => `arn:aws:kms:${awsRegion}:${accountId}:${name}`);
}
