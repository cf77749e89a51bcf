import { randomBytes } from 'node:crypto';
import { EntryExistsError, type KeyStore } from '../keystore/key-store.js';

/**
 * The key import tokens are sealed under (lib/crypto/import-token.ts): 32 random bytes, made by
 * whichever instance first needs it and written once, so every instance of the deployment shares
 * it. It lives with the access keys' secrets in the store (sealed under the root key on the file
 * and PostgreSQL backends) and moves with `kms store copy`.
 */
export const IMPORT_TOKEN_KEY_ENTRY = 'meta/import-token-key';
const KEY_BYTES = 32;

export async function loadImportTokenKey(store: KeyStore): Promise<Buffer> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const entry = await store.get(IMPORT_TOKEN_KEY_ENTRY);
    if (entry) {
      if (entry.value.length !== KEY_BYTES) throw new Error(`${IMPORT_TOKEN_KEY_ENTRY} is not ${KEY_BYTES} bytes`);
      return Buffer.from(entry.value);
    }
    const fresh = randomBytes(KEY_BYTES);
    try {
      await store.create(IMPORT_TOKEN_KEY_ENTRY, fresh, { writeOnce: true });
      return fresh;
    } catch (err) {
      // Another instance made it first: use theirs.
      if (!(err instanceof EntryExistsError)) throw err;
    }
  }
  throw new Error(`${IMPORT_TOKEN_KEY_ENTRY} could not be read or created`);
}
