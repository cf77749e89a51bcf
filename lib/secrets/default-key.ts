import { isoSeconds } from '@alibaba-kms-compatible/client/internal/time';
import type { Keyring } from '../keyring/keyring.js';
import { EntryExistsError } from '../keystore/key-store.js';

/**
 * The alias of the key a secret made without `EncryptionKeyId` is sealed under: a symmetric key of
 * this service, made on first use. It is an ordinary key (listed by ListKeys, described by
 * DescribeKey); callers need no `kms:*` grant on it, since the secret store seals with it directly.
 */
export const DEFAULT_SECRETS_KEY_ALIAS = 'alias/kms/secrets';

/**
 * The default secrets key's id, made on first use, race-safely: each racer creates a key and then
 * the alias; the one whose alias landed wins, the others' keys are due for deletion at once (they
 * never sealed anything; the deletion job destroys them), so two concurrent first uses end with one
 * usable key. Remembered once found. Making it creates key material: the Actions that may make it
 * (CreateSecret, PutSecretValue, UpdateSecret) have `creates-material` store access.
 */
export function defaultSecretsKey(keyring: Keyring, now: () => number = Date.now): () => Promise<string> {
  let known: string | undefined;
  let pending: Promise<string> | undefined;
  const find = async (): Promise<string> => {
    const existing = await keyring.readAlias(DEFAULT_SECRETS_KEY_ALIAS);
    if (existing) return existing.keyId;
    const key = await keyring.createKey({ description: 'The default key of secrets made without EncryptionKeyId.', creator: 'kms' });
    try {
      await keyring.createAlias(DEFAULT_SECRETS_KEY_ALIAS, key.keyId);
      return key.keyId;
    } catch (err) {
      if (!(err instanceof EntryExistsError)) throw err;
      // The loser's key never sealed anything: due for deletion now, its material destroyed by the
      // hourly deletion job (a secrets Action may create key material, never delete it).
      const nowIso = isoSeconds(now());
      await keyring.updateKey(key.keyId, (record) => ({ ...record, state: 'PendingDeletion', deleteDate: nowIso }));
      const winner = await keyring.readAlias(DEFAULT_SECRETS_KEY_ALIAS);
      if (!winner) throw err;
      return winner.keyId;
    }
  };
  return async () => {
    if (known) return known;
    pending ??= find().finally(() => {
      pending = undefined;
    });
    known = await pending;
    return known;
  };
}
