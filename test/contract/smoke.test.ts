import { describe, expect, it } from 'vitest';
import { ADMIN, ALIAS, createTestService, KEY_ID, KEY_VERSION_ID } from '../helpers/service.js';
import { signedRpcRequest, signedV3Request } from '../helpers/sign.js';

describe('harness', () => {
  it('when a signed GenerateDataKey is dispatched, it returns a data key that Decrypt returns unchanged', async () => {
    const t = await createTestService();
    const g = await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS }));
    expect(g.status).toBe(200);
    expect(g.body.KeyId).toBe(KEY_ID);
    expect(g.body.KeyVersionId).toBe(KEY_VERSION_ID);
    const d = await t.call(signedV3Request(ADMIN, 'Decrypt', { CiphertextBlob: g.body.CiphertextBlob }));
    expect(d.status).toBe(200);
    expect(d.body.Plaintext).toBe(g.body.Plaintext);
  });
});
