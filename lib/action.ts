import type { OperationContext, OperationOutput } from './operation.js';
import type { AlibabaBinding } from './protocol/alibaba/binding.js';
import type { AwsBinding } from './protocol/aws/binding.js';
import type { ActionGroup } from './ratelimit/action-groups.js';

/**
 * What an Action may do to the key store. Every Action reads key state and material and claims
 * nonces; `writes-state` also changes key state (records, aliases, tags); `creates-material` also
 * creates key material (a new version, imported material), written once and never updated;
 * `deletes-material` also destroys it. The AWS deployment grants each function exactly this.
 */
export type StoreAccess = 'reads' | 'writes-state' | 'creates-material' | 'deletes-material';

/**
 * One Action, its whole contract in one place (as a Vault path): its name (its RAM action is
 * `kms:<name>`), its rate-limit group, what it may do to the key store, how each protocol it
 * speaks reads its typed input and writes its output, and the work. `resolve` finds what the
 * request names (keys, versions), authorises the caller on it and checks preconditions such as key
 * state; `execute` does the work. A dry run stops after `resolve` with DryRunOperationError.
 * Neither knows which protocol the request came through.
 *
 * The Action table (functions/actions.ts) lists the definitions; everything else that lists
 * Actions is derived from them.
 */
export interface ActionDefinition<Input = unknown, Resolved = unknown, Output extends OperationOutput = OperationOutput> {
  name: string;
  /**
   * Its function's name in the deployments, when not the Action's name in lower camel case:
   * Lambda names a function `kms-<stage>-<function>` in at most 64 characters (an Action's
   * function shares its role, infra/serverless/roles.ts; a function with a role of its own has it
   * named `kms-<stage>-<function>-<region>-lambdaRole`, also in at most 64), so a long function
   * name would shorten every stage name a deployment may use.
   */
  functionName?: string;
  /** The rate-limit bucket it draws from (lib/ratelimit/). */
  group: ActionGroup;
  store: StoreAccess;
  /** Alibaba's RPC API (2016-01-20). */
  alibaba?: AlibabaBinding<Input>;
  /** The AWS KMS operations it serves. */
  aws?: readonly AwsBinding<Input, Output>[];
  /**
   * Actions its function also serves, in process: Actions that serve one of its AWS operations
   * (the body chooses which, as AWS's Encrypt with an RSAES_* algorithm is AsymmetricEncrypt's)
   * with the same `store` access, so its function's IAM is theirs. The AWS deployment then routes
   * such an operation (X-Amz-Target) to this Action's function instead of the dispatcher, saving
   * a Lambda invoke; each Action still authorises with its own RAM action, and the function still
   * refuses every other Action. infra/serverless/functions.ts refuses a table that breaks this.
   */
  alsoServes?: readonly ActionDefinition[];
  resolve(input: Input, context: OperationContext): Promise<Resolved>;
  execute(input: Input, resolved: Resolved, context: OperationContext): Promise<Output>;
}

export function defineAction<Input, Resolved, Output extends OperationOutput>(
  definition: ActionDefinition<Input, Resolved, Output>,
): ActionDefinition<Input, Resolved, Output> {
  return definition;
}

/** The Actions an Action's function serves: its own, then those it {@link ActionDefinition.alsoServes}. */
export function servedByFunctionOf(definition: ActionDefinition): readonly ActionDefinition[] {
  return [definition, ...(definition.alsoServes ?? [])];
}
