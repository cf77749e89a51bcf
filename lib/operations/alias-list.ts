import type { Keyring } from '../keyring/keyring.js';
import { aliasArn } from '../keyring/key-id.js';
import type { AliasRecord } from '../keyring/records.js';

/** The `Aliases.Alias[]` body of ListAliases and ListAliasesByKeyId, for one page of aliases. */
export function aliasPage(keyring: Keyring, items: readonly AliasRecord[], paging: { TotalCount: number; PageNumber: number; PageSize: number }) {
  return {
    Aliases: { Alias: items.map((a) => ({ AliasName: a.aliasName, KeyId: a.keyId, AliasArn: aliasArn(keyring.scope, a.aliasName) })) },
    ...paging,
  };
}

export type AliasPage = ReturnType<typeof aliasPage>;
