import { NoPermissionError, SecretNotFoundError } from '../errors.js';
import type { OperationContext } from '../operation.js';
import { ARN_SUFFIX_LENGTH, acsSecretArn, awsSecretArn, parseSecretReference, type SecretScope } from '../secrets/names.js';
import type { SecretView } from '../secrets/secret-store.js';

/*
 * What the secrets Actions (functions/*-secret*.ts) share whatever the protocol: authorisation on
 * the secret's ARNs. Their Alibaba parameters and answers are in lib/protocol/alibaba/secrets.ts,
 * their AWS Secrets Manager ones in lib/protocol/aws/secrets.ts.
 *
 * A secret has two names a policy may use: the acs ARN (`acs:kms:<region>:<account>:secret/<name>`)
 * and AWS's (`arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>`, one per AWS region
 * served), whose 6-character suffix is the secret's own, fixed at creation. So a secret is
 * authorised twice: before anything is read, on every secret the reference could name whatever its
 * suffix (a caller no such secret is allowed to gets 403 whether or not it exists); then, once read,
 * on its exact ARNs.
 */

const NO_TAGS = { resourceTags: new Map<string, string>() } as const;

/** The characters of an AWS ARN suffix (names.ts `newArnSuffix`). */
const SUFFIX_CHARACTER = /[A-Za-z0-9]/;

/** The AWS ARNs of a secret (with its suffix), or their prefixes (`…:secret:<name>-`, without). */
function awsArnsOf(scope: SecretScope, name: string, suffix = ''): string[] {
  const regions = new Set([scope.region, ...(scope.awsRegions ?? [])]);
  // Without a suffix: `…:secret:<name>-`, the prefix every ARN of the name starts with.
  return [...regions].map((region) => awsSecretArn({ region, accountId: scope.accountId }, name, suffix));
}

/**
 * Before the store is read: refuses the caller unless `action` (default the operation's own) may be
 * allowed on a secret `ref` could name. A full AWS ARN may name two secrets (`…:secret:a-AbCdEf` is
 * `a` with that suffix, or `a-AbCdEf` with any): one the caller may be allowed is enough here (the
 * secret read is authorised on its exact ARNs next); the refusal of the other is returned, for
 * {@link authorizedSecret} to answer when no secret is found (so a caller learns nothing of a
 * secret it may not see). A reference to another region or account is authorised on what was
 * written (and names nothing here).
 */
export function authorizeSecretScope(ref: string, context: OperationContext, action?: string, parameter = 'SecretName'): NoPermissionError | undefined {
  const scope = context.service.secrets.scope;
  const reference = parseSecretReference(ref, scope, parameter);
  if (reference.candidates.length === 0) {
    context.authorize(ref, action);
    return undefined;
  }
  let refusal: NoPermissionError | undefined;
  let allowable = false;
  for (const candidate of reference.candidates) {
    try {
      context.authorizeAny(
        {
          resource: acsSecretArn(scope, candidate.name),
          suffix: SUFFIX_CHARACTER,
          suffixLength: ARN_SUFFIX_LENGTH,
          awsArnPrefixes: awsArnsOf(scope, candidate.name),
        },
        action,
        undefined,
        // A secret's tags are not what `kms:tag/<TagKey>` conditions read (they see none, before and after the read).
        NO_TAGS,
      );
      allowable = true;
    } catch (err) {
      if (!(err instanceof NoPermissionError)) throw err;
      refusal ??= err;
    }
  }
  if (!allowable) throw refusal!;
  return refusal;
}

/** A secret's AWS ARNs (one per AWS region served), for `authorize`'s `awsArns`. */
export const awsArnsOfSecret = (scope: SecretScope, secret: SecretView): string[] => awsArnsOf(scope, secret.name, secret.suffix);

const HIDDEN = new Error('hidden');

/**
 * Whether the caller may `kms:DescribeSecret` a secret that was read: a listing (ListSecrets,
 * BatchGetSecretValue's Filters) shows only those, and filters only over those, so a caller learns
 * nothing of the others, not even by what a filter on their descriptions or tags matches.
 */
export function mayDescribeSecret(secret: SecretView, context: OperationContext): boolean {
  try {
    context.authorize(secret.arn, 'kms:DescribeSecret', () => HIDDEN, { awsArns: awsArnsOfSecret(context.service.secrets.scope, secret) });
    return true;
  } catch (err) {
    if (err === HIDDEN) return false;
    throw err;
  }
}

/** Authorises `action` on a secret that was read: its acs ARN and its AWS ARNs, suffix included. */
export function authorizeSecretView(secret: SecretView, context: OperationContext, action?: string): void {
  context.authorize(secret.arn, action, undefined, { awsArns: awsArnsOfSecret(context.service.secrets.scope, secret) });
}

/**
 * The secret `ref` names, authorised for `action` (default the operation's own) on both its ARNs:
 * 403 before the store is read when no such secret could be allowed, 404 when there is none.
 */
export async function authorizedSecret(ref: string, context: OperationContext, action?: string, parameter = 'SecretName'): Promise<SecretView> {
  const refusal = authorizeSecretScope(ref, context, action, parameter);
  let secret: SecretView;
  try {
    secret = await context.service.secrets.describe(ref);
  } catch (err) {
    // Not found, but the reference could also name a secret the caller may not see: refused as if it were there.
    throw refusal && err instanceof SecretNotFoundError ? refusal : err;
  }
  authorizeSecretView(secret, context, action);
  return secret;
}

/** CreateSecret: authorises the secret about to be made, named by `name` and the ARN suffix it will get. */
export function authorizeNewSecret(name: string, suffix: string, context: OperationContext): void {
  const scope = context.service.secrets.scope;
  context.authorize(acsSecretArn(scope, name), undefined, undefined, { awsArns: awsArnsOf(scope, name, suffix) });
}

/** The secret's user key, when it has one: the caller must also hold `action` on it (checked after the secret action). */
export function authorizeSecretKey(secret: SecretView, context: OperationContext, action: 'kms:GenerateDataKey' | 'kms:Decrypt'): void {
  if (secret.kmsKeyId !== undefined) context.authorize(context.service.keyring.arnOf(secret.kmsKeyId), action);
}
