import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { sealImportToken } from '../lib/crypto/import-token.js';
import { newWrappingKeyPair } from '../lib/crypto/import-wrap.js';
import { defineAction } from '../lib/action.js';
import { externalKey, IMPORT_TOKEN_LIFETIME_MS, importWrappingAlgorithmParameter, importWrappingKeySpecParameter } from '../lib/operations/key-import.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter } from '../lib/protocol/alibaba/schema.js';
import { isoSeconds } from '@alibaba-kms-compatible/client/internal/time';

/**
 * GetParametersForImport: a fresh RSA-2048 public key and an import token for an EXTERNAL key,
 * in any state. The token carries the private key sealed (lib/crypto/import-token.ts), is bound to
 * this key and this WrappingAlgorithm, and may be used for 24 hours, as often as needed; earlier
 * tokens stay valid until their own expiry.
 */
export const action = defineAction({
  name: 'GetParametersForImport',
  group: 'write',
  store: 'writes-state',
  alibaba: {
    params: z.object({ KeyId: keyIdParameter, WrappingAlgorithm: importWrappingAlgorithmParameter, WrappingKeySpec: importWrappingKeySpecParameter }),
  },
  resolve: async (input, context) => externalKey(await resolveAuthorizedKey(input.KeyId, context)),
  async execute(input, key, context) {
    const tokenKey = await context.service.keyring.importTokenKey();
    const { publicKey, privateKey } = await newWrappingKeyPair();
    const expiresAtMs = context.service.now() + IMPORT_TOKEN_LIFETIME_MS;
    try {
      const token = sealImportToken(tokenKey, { keyId: key.keyId, algorithm: input.WrappingAlgorithm, expiresAtMs, privateKey });
      return { KeyId: key.keyId, ImportToken: token, PublicKey: publicKey, TokenExpireTime: isoSeconds(expiresAtMs) };
    } finally {
      privateKey.fill(0);
    }
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
