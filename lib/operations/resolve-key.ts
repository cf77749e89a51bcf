import { assertKeyUsable, type ResolvedKey } from '../keyring/keyring.js';
import type { OperationContext } from '../operation.js';

/**
 * The common `resolve` of key Actions: the key the `KeyId` names, with the caller authorised for
 * the operation's Action on its ARN. `usable` also requires an Enabled key (cryptography).
 */
export async function resolveAuthorizedKey(keyId: string, context: OperationContext, options: { usable?: boolean; action?: string } = {}): Promise<ResolvedKey> {
  const key = await context.service.keyring.resolveKey(keyId);
  context.authorize(key.arn, options.action);
  if (options.usable) assertKeyUsable(key);
  return key;
}
