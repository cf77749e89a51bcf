import { InvalidParameterError } from '../errors.js';

/** Where keys live in ARNs: every ARN this service issues or accepts names this region and account. */
export interface ArnScope {
  region: string;
  accountId: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NEW_KEY_ID = /^key-[A-Za-z0-9]{4,64}$/;
const ALIAS = /^alias\/[A-Za-z0-9_\-/]{1,255}$/;

/** A key id in either Alibaba form: the legacy UUID, or `key-<region><random>`. */
export function isKeyId(value: string): boolean {
  return UUID.test(value) || NEW_KEY_ID.test(value);
}

/** A key version id: always a UUID (the ciphertext blob stores it in 36 ASCII bytes). */
export function isKeyVersionId(value: string): boolean {
  return UUID.test(value);
}

/** `alias/` followed by 1–255 of `A-Z a-z 0-9 _ - /`. Says nothing about reserved names. */
export function isAliasName(value: string): boolean {
  return ALIAS.test(value);
}

/** `alias/acs` and everything under `alias/acs/` belong to the cloud provider. */
export function isReservedAlias(value: string): boolean {
  return value === 'alias/acs' || value.startsWith('alias/acs/');
}

export function keyArn(scope: ArnScope, keyId: string): string {
  return `acs:kms:${scope.region}:${scope.accountId}:key/${keyId}`;
}

/** Every key ARN of this scope: `acs:kms:<region>:<account>:key/` and the characters of a key id. */
export function anyKeyScope(scope: ArnScope): { resource: string; suffix: RegExp } {
  return { resource: keyArn(scope, ''), suffix: KEY_ID_CHARACTER };
}

/** What a key id, in either form, is made of. */
const KEY_ID_CHARACTER = /^[A-Za-z0-9-]$/;

export function aliasArn(scope: ArnScope, aliasName: string): string {
  return `acs:kms:${scope.region}:${scope.accountId}:${aliasName}`;
}

/** What a `KeyId` parameter names. */
export type KeyReference = { kind: 'key'; keyId: string } | { kind: 'alias'; aliasName: string } | { kind: 'foreign'; text: string };

const ARN_FORM = 'An ARN has the form acs:kms:<region>:<account>:key/<id> or acs:kms:<region>:<account>:alias/<name>.';
const ALIAS_FORM = 'An alias is alias/ followed by 1 to 255 of A-Z a-z 0-9 _ - /.';

/**
 * Why a `KeyId`-style value cannot name anything, or undefined when it is well-formed: ARNs must
 * have their five parts and name a key or an alias; aliases (bare or in an ARN) must be valid alias
 * names. Checked when parameters are validated, so a malformed reference is a 400 before any
 * lookup, whatever else the request names.
 */
export function keyReferenceProblem(value: string): string | undefined {
  let resource = value;
  if (value.startsWith('acs:')) {
    const parts = value.split(':');
    if (parts.length !== 5 || parts[1] !== 'kms' || !parts[2] || !parts[3]) return ARN_FORM;
    resource = parts[4] ?? '';
    if (!resource.startsWith('alias/') && !resource.startsWith('key/')) return 'An ARN must name a key/<id> or an alias/<name>.';
  }
  if (resource.startsWith('alias/') && !isAliasName(resource)) return ALIAS_FORM;
  return undefined;
}

/**
 * Reads a `KeyId` parameter: a key id, `alias/<name>`, or an ARN
 * `acs:kms:<region>:<account>:key/<id>` / `…:alias/<name>`. An ARN of another region or account
 * names nothing here (`foreign`): the caller gets "key not found", as from any other region.
 * Throws InvalidParameterError for a malformed reference (see {@link keyReferenceProblem}).
 */
export function parseKeyReference(value: string, scope: ArnScope, parameter = 'KeyId'): KeyReference {
  const problem = keyReferenceProblem(value);
  if (problem) throw new InvalidParameterError(parameter, problem);
  if (value.startsWith('acs:')) {
    const [, , region, accountId, resource = ''] = value.split(':');
    if (region !== scope.region || accountId !== scope.accountId) return { kind: 'foreign', text: value };
    return resource.startsWith('alias/') ? { kind: 'alias', aliasName: resource } : { kind: 'key', keyId: resource.slice('key/'.length) };
  }
  return value.startsWith('alias/') ? { kind: 'alias', aliasName: value } : { kind: 'key', keyId: value };
}
