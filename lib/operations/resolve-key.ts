import { AliasNotFoundError, KeyNotFoundError, NoPermissionError } from '../errors.js';
import type { SealedBlob } from '../crypto/envelope.js';
import { parseKeyReference } from '../keyring/key-id.js';
import { assertKeyUsable, type KeyVersion, type ResolvedKey } from '../keyring/keyring.js';
import type { AliasRecord } from '../keyring/records.js';
import type { OperationContext } from '../operation.js';
import { permissionOf } from '../operation.js';

/*
 * Authorise before revealing. A caller who may not use a key learns nothing from trying:
 * - a key id or ARN is authorised on the ARN the caller wrote, before the store is read, so a
 *   denied caller gets 403 whether or not the key exists;
 * - an alias the caller may not use answers exactly as an alias that does not exist (404
 *   Forbidden.AliasNotFound, "not found, or this access key may not use it"), so neither its
 *   existence nor the key it names leaks;
 * - a ciphertext's key is never named in a 403.
 */

export interface ResolveOptions {
  /** Also require an Enabled key (cryptography). */
  usable?: boolean;
  /** The RAM action to check; default the operation's own. */
  action?: string;
  /** The parameter that carried the reference, for messages. */
  parameter?: string;
}

/** The key a `KeyId`-style parameter names (id, alias or ARN), with the caller authorised on it. */
export async function resolveAuthorizedKey(keyId: string, context: OperationContext, options: ResolveOptions = {}): Promise<ResolvedKey> {
  const { keyring } = context.service;
  const reference = parseKeyReference(keyId, keyring.scope, options.parameter);
  let key: ResolvedKey | undefined;
  if (reference.kind === 'alias') {
    const alias = await keyring.getAlias(reference.aliasName);
    const hidden = () => new AliasNotFoundError(reference.aliasName, options.action ?? permissionOf(context.action));
    if (!alias) throw hidden();
    context.authorize(keyring.arnOf(alias.keyId), options.action, hidden);
    key = await keyring.findKey(alias.keyId);
    if (!key) throw hidden();
  } else {
    const arn = reference.kind === 'foreign' ? reference.text : keyring.arnOf(reference.keyId);
    context.authorize(arn, options.action);
    key = reference.kind === 'key' ? await keyring.findKey(reference.keyId) : undefined;
    if (!key) throw new KeyNotFoundError(reference.kind === 'key' ? reference.keyId : reference.text);
  }
  if (options.usable) assertKeyUsable(key);
  return key;
}

/**
 * The key and version a ciphertext names, with the caller authorised on that key. A denied
 * caller is not told which key it is.
 */
export async function resolveAuthorizedVersion(blob: SealedBlob, context: OperationContext, options: { action?: string } = {}): Promise<{ key: ResolvedKey; version: KeyVersion }> {
  const resolved = await context.service.keyring.resolveVersion(blob.keyVersionId);
  const action = options.action ?? permissionOf(context.action);
  context.authorize(resolved.key.arn, action, () => new NoPermissionError(action, { keyVersionId: blob.keyVersionId }));
  return resolved;
}

/**
 * An alias as the store has it now (past the cache), with the caller authorised on the key it
 * names: for changes that must be authorised on the key the alias really names. An alias the
 * caller may not touch answers as one that does not exist.
 */
export async function resolveAuthorizedAlias(aliasName: string, context: OperationContext): Promise<AliasRecord> {
  const { keyring } = context.service;
  const hidden = () => new AliasNotFoundError(aliasName, permissionOf(context.action));
  const alias = await keyring.readAlias(aliasName);
  if (!alias) throw hidden();
  context.authorize(keyring.arnOf(alias.keyId), undefined, hidden);
  return alias;
}
