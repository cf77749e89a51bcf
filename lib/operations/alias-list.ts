import type { Keyring } from '../keyring/keyring.js';
import { aliasArn } from '../keyring/key-id.js';
import type { AliasRecord } from '../keyring/records.js';
import { page, type PagingInput } from './paging.js';

/** The `Aliases.Alias[]` page of ListAliases and ListAliasesByKeyId. */
export function aliasPage(keyring: Keyring, aliases: readonly AliasRecord[], input: PagingInput) {
  const { items, ...paging } = page(aliases, input);
  return {
    Aliases: { Alias: items.map((a) => ({ AliasName: a.aliasName, KeyId: a.keyId, AliasArn: aliasArn(keyring.scope, a.aliasName) })) },
    ...paging,
  };
}
