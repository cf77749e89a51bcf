import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { openImportToken } from '../lib/crypto/import-token.js';
import { unwrapMaterial } from '../lib/crypto/import-wrap.js';
import { ExpiredImportTokenError, InvalidImportTokenError, InvalidKeyMaterialError, InvalidParameterError, StateModifiedFailedError } from '../lib/errors.js';
import { KEY_MATERIAL_BYTES } from '../lib/keyring/records.js';
import { defineAction } from '../lib/action.js';
import { externalKey } from '../lib/operations/key-import.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter } from '../lib/protocol/alibaba/schema.js';
import { BASE64_TEXT } from '../lib/crypto/base64.js';
import { isoSeconds } from '@alibaba-kms-compatible/client/internal/time';

/** The latest expiry a date can hold (9999-12-31T23:59:59Z). */
const MAX_EXPIRE_UNIX = 253_402_300_799;

/**
 * ImportKeyMaterial: 32 bytes of key material, wrapped under the public key of an import token
 * for this key, become the key's material: PendingImport → Enabled (Enabled and Disabled stay).
 * The first material imported binds the key for life; a later import must be the same material
 * (after DeleteKeyMaterial, after expiry, or to change the expiry). `KeyMaterialExpireUnix`
 * (seconds; absent or 0: never) must not be in the past. Every unwrap failure is the same 400
 * InvalidKeyMaterial.
 */
export const action = defineAction({
  name: 'ImportKeyMaterial',
  group: 'write',
  store: 'creates-material',
  alibaba: {
    params: z.object({
      KeyId: keyIdParameter,
      EncryptedKeyMaterial: z
        .string()
        .check(
          z.maxLength(1_024, { error: 'It must be at most 1,024 characters.' }),
          z.regex(BASE64_TEXT, { error: 'It must be the Base64 of the material encrypted under the public key.' }),
        ),
      ImportToken: z.string().check(z.minLength(1, { error: 'It must not be empty.' }), z.maxLength(8_192, { error: 'It must be at most 8,192 characters.' })),
      KeyMaterialExpireUnix: z.optional(
        z.pipe(
          z.string().check(z.regex(/^\d{1,12}$/, { error: 'It must be a Unix time in seconds (0: never expires).' })),
          z.pipe(
            z.transform(Number),
            z.number().check(z.refine((n) => n <= MAX_EXPIRE_UNIX, { error: 'It must be a Unix time in seconds (0: never expires).' })),
          ),
        ),
      ),
    }),
  },
  async resolve(input, context) {
    const key = externalKey(await resolveAuthorizedKey(input.KeyId, context));
    if (key.state === 'PendingDeletion') throw new StateModifiedFailedError(key.keyId, key.state);
    const now = context.service.now();
    const expireUnix = input.KeyMaterialExpireUnix ?? 0;
    if (expireUnix !== 0 && expireUnix * 1000 <= now)
      throw new InvalidParameterError('KeyMaterialExpireUnix', 'It must be later than the current time (0: never expires).');
    const token = openImportToken(await context.service.keyring.importTokenKey(), input.ImportToken);
    if (!token || token.keyId !== key.keyId) {
      token?.privateKey.fill(0);
      throw new InvalidImportTokenError();
    }
    if (token.expiresAtMs <= now) {
      token.privateKey.fill(0);
      throw new ExpiredImportTokenError();
    }
    return { key, token, expireTime: expireUnix === 0 ? undefined : isoSeconds(expireUnix * 1000) };
  },
  async execute(input, { key, token, expireTime }, context) {
    const material = unwrapMaterial(token.privateKey, token.algorithm, Buffer.from(input.EncryptedKeyMaterial, 'base64'), KEY_MATERIAL_BYTES);
    token.privateKey.fill(0);
    if (!material) throw new InvalidKeyMaterialError();
    try {
      await context.service.keyring.importMaterial(key.keyId, material, expireTime);
      return {};
    } finally {
      material.fill(0);
    }
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
