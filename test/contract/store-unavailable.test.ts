import { describe, expect, it } from 'vitest';
import type { NonceStore } from '../../lib/keystore/nonce-store.js';
import { ServiceUnavailableError } from '../../lib/errors.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import { KeyStoreUnavailableError } from '../../lib/keystore/store-errors.js';
import { ADMIN, createTestService, KEY_ID } from '../helpers/service.js';
import { signedRpcRequest } from '../helpers/sign.js';
import { expectError } from './support.js';

/** A store whose disk refuses writes from some point on (full, read-only), as the file store reports it. */
class RefusingStore extends MemoryKeyStore {
  refuse: string | undefined;
  override async create(name: string, value: Uint8Array, options: { writeOnce: boolean }) {
    if (this.refuse) throw new KeyStoreUnavailableError('io', 'create', name, { detail: this.refuse });
    return super.create(name, value, options);
  }
  override async update(name: string, expectedRevision: number, value: Uint8Array) {
    if (this.refuse) throw new KeyStoreUnavailableError('io', 'update', name, { detail: this.refuse });
    return super.update(name, expectedRevision, value);
  }
}

describe('An unavailable store is a 503, never a 500', () => {
  it.each(['ENOSPC', 'EROFS', 'EACCES', 'EIO'])(
    'when the disk refuses writes (%s), key changes answer 503 ServiceUnavailableTemporary and reads still work',
    async (code) => {
      const store = new RefusingStore();
      const lines: string[] = [];
      const t = await createTestService({ store, logLines: lines });
      store.refuse = code;
      expectError(await t.call(signedRpcRequest(ADMIN, 'CreateKey', {})), 503, 'ServiceUnavailableTemporary');
      expectError(await t.call(signedRpcRequest(ADMIN, 'CreateKeyVersion', { KeyId: KEY_ID })), 503, 'ServiceUnavailableTemporary');
      expectError(await t.call(signedRpcRequest(ADMIN, 'DisableKey', { KeyId: KEY_ID })), 503, 'ServiceUnavailableTemporary');
      expect((await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }))).status).toBe(200);
      expect(lines.join('')).toContain('key store unavailable');
      expect(lines.join('')).not.toContain('internal failure');
    },
  );

  it('when a lock is held too long (busy), the answer is 503', async () => {
    const store = new RefusingStore();
    const t = await createTestService({ store });
    store.update = async (name) => {
      throw new KeyStoreUnavailableError('busy', 'update', name);
    };
    expectError(await t.call(signedRpcRequest(ADMIN, 'DisableKey', { KeyId: KEY_ID })), 503, 'ServiceUnavailableTemporary');
  });

  it('when the replay store cannot remember a nonce, the request fails closed with 503 and does nothing', async () => {
    const t = await createTestService();
    const failing: NonceStore = { claim: async () => Promise.reject(new ServiceUnavailableError()) };
    t.service.nonces = failing;
    const before = await t.service.keyring.listKeyIds();
    expectError(await t.call(signedRpcRequest(ADMIN, 'CreateKey', {})), 503, 'ServiceUnavailableTemporary');
    expect(await t.service.keyring.listKeyIds()).toEqual(before);
  });
});
