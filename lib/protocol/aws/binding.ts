import type { AwsScope } from '../../service.js';

export type { AwsScope } from '../../service.js';

/** The JSON object of an AWS request, read strictly (lib/protocol/aws/wire.ts). */
export type AwsBody = Record<string, unknown>;

/** The AWS services whose JSON protocol is served: AWS KMS and AWS Secrets Manager. */
export type AwsService = 'kms' | 'secretsmanager';

/** X-Amz-Target's prefix for each service (the model's `targetPrefix`, then a dot). */
export const AWS_TARGET_PREFIXES: Readonly<Record<AwsService, string>> = { kms: 'TrentService.', secretsmanager: 'secretsmanager.' };

/** The X-Amz-Target a binding serves. */
export const awsTargetOf = (binding: { service?: AwsService; target: string }): string => AWS_TARGET_PREFIXES[binding.service ?? 'kms'] + binding.target;

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
  /**
   * The AWS service the operation belongs to: `kms` (the default: X-Amz-Target
   * `TrentService.<target>`, SigV4 service `kms`) or `secretsmanager` (`secretsmanager.<target>`,
   * SigV4 service `secretsmanager`).
   */
  service?: AwsService;
  /** The operation's name, after the service's prefix in X-Amz-Target. */
  target: string;
  /**
   * Secrets Manager: the `__type` a key-state refusal (the secret's key Disabled, pending deletion)
   * is answered with: DecryptionFailure for reads, EncryptionFailure (the default) for writes.
   */
  keyStateError?: 'DecryptionFailure' | 'EncryptionFailure';
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
