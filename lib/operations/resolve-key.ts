import { AliasNotFoundError, IncorrectKeyError, KeyNotFoundError, KeyPendingImportError, KeyVersionNotFoundError, NoPermissionError } from '../errors.js';
import type { SealedBlob } from '../crypto/envelope.js';
import type { EncryptionContext } from '../crypto/encryption-context.js';
import { anyKeyScope, parseKeyReference } from '../keyring/key-id.js';
import { assertKeyUsable, type KeyVersion, type ResolvedKey } from '../keyring/keyring.js';
import type { AliasRecord } from '../keyring/records.js';
import type { OperationContext } from '../operation.js';
import { assertKeyPurpose, type KeyPurpose } from './key-usage.js';
import { permissionOf } from '../operation.js';

/*
 * Authorise before revealing. A caller who may not use a key learns nothing from trying:
 * - nothing is read before the policy says the caller could act on a resource of the kind the
 *   request names (OperationContext.authorizeAny): the key ARN written, or any key of this
 *   service for an alias or a ciphertext. A caller who cannot gets the same answer, on the same
 *   path, whether or not the resource exists: not even the time of a store read tells them apart;
 * - a key id or ARN is authorised on the ARN the caller wrote, before the store is read, so a
 *   denied caller gets 403 whether or not the key exists. Only a caller whose policy has
 *   `kms:tag/<TagKey>` conditions has the key read first, for its tags: a missing key has none,
 *   exactly as an existing key without the tag, and answers 403 even where the policy let it
 *   through (so a Deny on a tag does not tell a missing key from a denied one);
 * - an alias the caller may not use answers exactly as an alias that does not exist (404
 *   Forbidden.AliasNotFound, "not found, or this access key may not use it"), so neither its
 *   existence nor the key it names leaks;
 * - a ciphertext's key is never named in a 403.
 */

const NO_TAGS: ReadonlyMap<string, string> = new Map();

/** The tags `kms:tag/<TagKey>` conditions see for a key (none for a key that does not exist). */
export function tagsOf(key: { tags?: Array<[string, string]> } | undefined): ReadonlyMap<string, string> {
  return key?.tags?.length ? new Map(key.tags) : NO_TAGS;
}

/** The key, read before the policy check only when the caller's policy reads tags (else undefined: read after). */
async function keyForTags(context: OperationContext, keyId: string): Promise<ResolvedKey | undefined> {
  return context.principal.policy.readsResourceTags ? context.service.keyring.findKey(keyId) : undefined;
}

export interface ResolveOptions {
  /**
   * Also require an Enabled key fit for this purpose (cryptography); `true` is symmetric
   * encryption, what every Action that uses a key's material did before other specs existed.
   */
  usable?: true | KeyPurpose;
  /** The RAM action to check; default the operation's own. */
  action?: string;
  /** The parameter that carried the reference, for messages. */
  parameter?: string;
  /**
   * The EncryptionContext policy conditions see; default the input's `EncryptionContext` (see
   * OperationContext.authorize). For an operation with several contexts, the one for this key.
   */
  encryptionContext?: EncryptionContext;
}

/** What {@link resolveAuthorizedVersion} and {@link resolveAuthorizedAlias} take. */
export interface AuthorizeAsOptions {
  /** The RAM action to check; default the operation's own. */
  action?: string;
  /** As {@link ResolveOptions.encryptionContext}. */
  encryptionContext?: EncryptionContext;
}

/** The key a `KeyId`-style parameter names (id, alias or ARN), with the caller authorised on it. */
export async function resolveAuthorizedKey(keyId: string, context: OperationContext, options: ResolveOptions = {}): Promise<ResolvedKey> {
  const { keyring } = context.service;
  const reference = parseKeyReference(keyId, keyring.scope, options.parameter);
  let key: ResolvedKey | undefined;
  if (reference.kind === 'alias') {
    const hidden = () => new AliasNotFoundError(reference.aliasName, options.action ?? permissionOf(context.action));
    context.authorizeAny(anyKeyScope(keyring.scope), options.action, hidden, { encryptionContext: options.encryptionContext });
    const alias = await keyring.getAlias(reference.aliasName);
    // Exactly the alias named: a store on a case-insensitive file system may find another spelling.
    if (!alias || alias.aliasName !== reference.aliasName) throw hidden();
    const tagged = await keyForTags(context, alias.keyId);
    context.authorize(keyring.arnOf(alias.keyId), options.action, hidden, { encryptionContext: options.encryptionContext, resourceTags: tagsOf(tagged) });
    key = tagged ?? (await keyring.findKey(alias.keyId));
    if (!key) throw hidden();
  } else {
    const arn = reference.kind === 'foreign' ? reference.text : keyring.arnOf(reference.keyId);
    // Only a policy that reads tags has the key read before `authorize`: first, whether it could allow at all.
    const readsFirst = reference.kind === 'key' && context.principal.policy.readsResourceTags;
    if (readsFirst) context.authorizeAny({ resource: arn }, options.action, undefined, { encryptionContext: options.encryptionContext });
    const tagged = readsFirst ? await keyForTags(context, reference.keyId) : undefined;
    context.authorize(arn, options.action, undefined, { encryptionContext: options.encryptionContext, resourceTags: tagsOf(tagged) });
    key = tagged ?? (reference.kind === 'key' ? await keyring.findKey(reference.keyId) : undefined);
    // A tag-conditioned policy that let a missing key through (a Deny on a tag it lacks) must not
    // tell it from a key the policy denies: the answer is the same 403.
    if (!key && context.principal.policy.readsResourceTags) {
      const action = options.action ?? permissionOf(context.action);
      throw new NoPermissionError(action, arn);
    }
    // Exactly the key authorised: on a case-insensitive file system another spelling of the id
    // would find the key while the policy was checked on a different ARN.
    if (!key || (reference.kind === 'key' && key.keyId !== reference.keyId)) {
      throw new KeyNotFoundError(reference.kind === 'key' ? reference.keyId : reference.text);
    }
  }
  if (options.usable) {
    assertKeyUsable(key);
    assertKeyPurpose(key, options.usable === true ? 'symmetric-encryption' : options.usable);
  }
  return key;
}

/**
 * The key and version a ciphertext names, with the caller authorised on that key. A denied
 * caller is not told which key it is. Conditions see the EncryptionContext the caller sent with
 * the blob (which must equal the bound one for decryption to succeed anyway).
 */
export async function resolveAuthorizedVersion(
  blob: SealedBlob,
  context: OperationContext,
  options: AuthorizeAsOptions = {},
): Promise<{ key: ResolvedKey; version: KeyVersion }> {
  const { keyring } = context.service;
  const action = options.action ?? permissionOf(context.action);
  const denied = () => new NoPermissionError(action, { keyVersionId: blob.keyVersionId });
  context.authorizeAny(anyKeyScope(keyring.scope), action, denied, { encryptionContext: options.encryptionContext });
  // The index names the version's key; its material (an imported key's may not be there now) is
  // read beside the key, after the caller is authorised on it: one round trip less when cold.
  const keyId = await keyring.versionOwner(blob.keyVersionId);
  if (!keyId) throw new KeyVersionNotFoundError(blob.keyVersionId);
  const material = keyring.versions.findOfKey(keyId, blob.keyVersionId);
  // Awaited below; never left unhandled when the caller is refused first.
  material.catch(() => undefined);
  const tagged = await keyForTags(context, keyId);
  // Authorised before the key is read (or anything about it told): a denied caller learns nothing, not even that the key is gone.
  context.authorize(keyring.arnOf(keyId), action, denied, {
    encryptionContext: options.encryptionContext,
    resourceTags: tagsOf(tagged),
  });
  const [key, version] = await Promise.all([tagged ?? keyring.findKey(keyId), material]);
  // A version whose key was destroyed (another instance may still cache the version).
  if (!key) throw new KeyVersionNotFoundError(blob.keyVersionId);
  if (!version) {
    if (!key.external) throw new KeyVersionNotFoundError(blob.keyVersionId);
    assertKeyUsable(key);
    throw new KeyPendingImportError(key.keyId);
  }
  // A blob names a version id, and an RSA or HMAC key's version ids are listed too: only a
  // symmetric key's version opens a blob.
  assertKeyPurpose(key, 'symmetric-encryption');
  return { key, version };
}

/**
 * An alias as the store has it now (past the cache), with the caller authorised on the key it
 * names: for changes that must be authorised on the key the alias really names. An alias the
 * caller may not touch answers as one that does not exist.
 */
export async function resolveAuthorizedAlias(aliasName: string, context: OperationContext, options: AuthorizeAsOptions = {}): Promise<AliasRecord> {
  const { keyring } = context.service;
  const action = options.action ?? permissionOf(context.action);
  const hidden = () => new AliasNotFoundError(aliasName, action);
  context.authorizeAny(anyKeyScope(keyring.scope), action, hidden, { encryptionContext: options.encryptionContext });
  const alias = await keyring.readAlias(aliasName);
  if (!alias) throw hidden();
  context.authorize(keyring.arnOf(alias.keyId), action, hidden, {
    encryptionContext: options.encryptionContext,
    resourceTags: tagsOf(await keyForTags(context, alias.keyId)),
  });
  return alias;
}

/**
 * Decrypt's resolution, shared with ExportDataKey: the caller authorised on the key of a blob (its
 * layout read by the protocol), the key Enabled. Returns what `openEnvelope` needs.
 */
export async function resolveUsableBlob(
  blob: SealedBlob,
  context: OperationContext,
  expected?: { keyId: string; parameter: string },
): Promise<{ blob: SealedBlob; key: ResolvedKey; version: KeyVersion }> {
  const { key, version } = await resolveAuthorizedVersion(blob, context);
  await expectBlobKey(key, context, expected);
  assertKeyUsable(key);
  return { blob, key, version };
}

/**
 * When the caller named the key it expects the blob to be under (AWS's Decrypt `KeyId`, ReEncrypt
 * `SourceKeyId`): that reference is resolved and authorised like any other (so it tells nothing
 * about a key or alias the caller may not use), and must be the blob's key, before anything is
 * decrypted. Else 400 IncorrectKey.
 */
export async function expectBlobKey(key: ResolvedKey, context: OperationContext, expected: { keyId: string; parameter: string } | undefined): Promise<void> {
  if (expected === undefined) return;
  const named = await resolveAuthorizedKey(expected.keyId, context, { parameter: expected.parameter });
  if (named.keyId !== key.keyId) throw new IncorrectKeyError(expected.parameter);
}

/**
 * The key and version an asymmetric or HMAC Action uses, with the caller authorised on the key,
 * the key Enabled and fit for `purpose`: the version named (Alibaba's asymmetric Actions name one
 * every time; a version of another key is 404 Forbidden.KeyVersionNotFound), or the key's newest
 * (AWS's operations name none).
 */
export async function resolveUsableVersion(
  reference: { KeyId: string; KeyVersionId?: string | undefined },
  purpose: KeyPurpose,
  context: OperationContext,
): Promise<{ key: ResolvedKey; version: KeyVersion }> {
  const key = await resolveAuthorizedKey(reference.KeyId, context, { usable: purpose });
  const { keyring } = context.service;
  if (reference.KeyVersionId === undefined) return { key, version: await keyring.primaryVersion(key) };
  const version = await keyring.versions.findOfKey(key.keyId, reference.KeyVersionId);
  if (!version) throw new KeyVersionNotFoundError(reference.KeyVersionId);
  return { key, version };
}
