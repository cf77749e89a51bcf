import type { OperationContext } from '../operation.js';
import { acsSecretArn, parseSecretReference } from '../secrets/names.js';
import type { SecretView } from '../secrets/secret-store.js';

/*
 * What the secrets Actions (functions/*-secret*.ts) share whatever the protocol: authorisation on
 * the secret's acs ARN before the store is read. Their Alibaba parameters and answers are in
 * lib/protocol/alibaba/secrets.ts.
 */

/**
 * Authorises the caller for `action` (default the operation's own) on the secret `ref` names,
 * before anything is read, so a denied caller gets 403 whether or not it exists: on the acs ARN of
 * the name it gives (every candidate name when an AWS ARN may be read two ways: all must be
 * allowed); a reference to another region or account, on what was written.
 */
export function authorizeSecret(ref: string, context: OperationContext, action?: string, parameter = 'SecretName'): void {
  const scope = context.service.secrets.scope;
  const reference = parseSecretReference(ref, scope, parameter);
  if (reference.candidates.length === 0) {
    context.authorize(ref, action);
    return;
  }
  for (const candidate of reference.candidates) context.authorize(acsSecretArn(scope, candidate.name), action);
}

/** The secret's user key, when it has one: the caller must also hold `action` on it (checked after the secret action). */
export function authorizeSecretKey(secret: SecretView, context: OperationContext, action: 'kms:GenerateDataKey' | 'kms:Decrypt'): void {
  if (secret.kmsKeyId !== undefined) context.authorize(context.service.keyring.arnOf(secret.kmsKeyId), action);
}
