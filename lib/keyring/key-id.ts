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

export function aliasArn(scope: ArnScope, aliasName: string): string {
  return `acs:kms:${scope.region}:${scope.accountId}:${aliasName}`;
}

/** What a `KeyId` parameter names. */
export type KeyReference = { kind: 'key'; keyId: string } | { kind: 'alias'; aliasName: string } | { kind: 'foreign'; text: string };

/**
 * Reads a `KeyId` parameter: a key id, `alias/<name>`, or an ARN
 * `acs:kms:<region>:<account>:key/<id>` / `…:alias/<name>`. An ARN of another region or account
 * names nothing here (`foreign`): the caller gets "key not found", as from any other region.
 */
export function parseKeyReference(value: string, scope: ArnScope, parameter = 'KeyId'): KeyReference {
  if (value.startsWith('acs:')) {
    const parts = value.split(':');
    if (parts.length !== 5 || parts[1] !== 'kms' || !parts[2] || !parts[3]) {
      throw new InvalidParameterError(parameter, 'An ARN has the form acs:kms:<region>:<account>:key/<id> or acs:kms:<region>:<account>:alias/<name>.');
    }
    const resource = parts[4] ?? '';
    const alias = resource.startsWith('alias/') ? checkedAlias(resource, parameter) : undefined;
    if (alias === undefined && !resource.startsWith('key/')) throw new InvalidParameterError(parameter, 'An ARN must name a key/<id> or an alias/<name>.');
    if (parts[2] !== scope.region || parts[3] !== scope.accountId) return { kind: 'foreign', text: value };
    return alias === undefined ? { kind: 'key', keyId: resource.slice(4) } : { kind: 'alias', aliasName: alias };
  }
  if (value.startsWith('alias/')) return { kind: 'alias', aliasName: checkedAlias(value, parameter) };
  return { kind: 'key', keyId: value };
}

/** An alias in a key reference must be well-formed before it names anything (an entry, a log line, a message). */
function checkedAlias(aliasName: string, parameter: string): string {
  if (!isAliasName(aliasName)) throw new InvalidParameterError(parameter, 'An alias is alias/ followed by 1 to 255 of A-Z a-z 0-9 _ - /.');
  return aliasName;
}
