import type { AwsScope } from '../../service.js';

export type { AwsScope } from '../../service.js';

/** The JSON object of an AWS request, read strictly (lib/protocol/aws/wire.ts). */
export type AwsBody = Record<string, unknown>;

/** What an AWS operation's output translation reads besides the Action's output. */
export interface AwsOutputContext extends AwsScope {
  /** The region of the request's signature: ARNs in answers name it. */
  region: string;
  /** The request's JSON body. */
  body: AwsBody;
  /** The id of the key the operation was authorised on (the key a KeyId, alias or ARN named). */
  authorizedKeyId: string | undefined;
  now: number;
}

/**
 * How an Action speaks one AWS KMS operation: the operation's JSON becomes the Action's typed
 * input, the Action's output becomes the operation's JSON. Policies name the Action (AWS's
 * EnableKeyRotation is `kms:UpdateRotationPolicy`).
 */
export interface AwsBinding<Input, Output> {
  /** The name after `TrentService.` in X-Amz-Target. */
  target: string;
  /**
   * When several Actions serve one operation, which requests this one serves (ListAliases with a
   * KeyId is ListAliasesByKeyId's); such an operation has no listener rule of its own (the
   * dispatcher serves it).
   */
  when?(body: AwsBody): boolean;
  /** Whether the operation takes DryRun. */
  dryRun?: boolean;
  /** The typed input; a field that cannot be read is a 400 naming it. */
  input(body: AwsBody, scope: AwsScope): Input;
  output(output: Output, context: AwsOutputContext): Record<string, unknown> | Promise<Record<string, unknown>>;
}
