import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { KeyPendingDeletionError, UnsupportedKeyOperationError, UnsupportedOriginError } from '../lib/errors.js';
import { specOf } from '../lib/crypto/key-spec.js';
import { rotatedAt } from '../lib/keyring/rotation.js';
import { defineAction } from '../lib/action.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter } from '../lib/protocol/alibaba/schema.js';

/**
 * CreateKeyVersion: a new random version (for an RSA or EC key, a new key pair) that becomes
 * primary; older versions keep decrypting (and verifying, with their own public key).
 * No minimum interval between versions. Refused for a key pending deletion, and for an imported
 * (EXTERNAL) key, whose one version holds the caller's material.
 */
export const action = defineAction({
  name: 'CreateKeyVersion',
  group: 'write',
  store: 'creates-material',
  alibaba: { params: z.object({ KeyId: keyIdParameter }) },
  async resolve(input, context) {
    const key = await resolveAuthorizedKey(input.KeyId, context);
    if (key.state === 'PendingDeletion') throw new KeyPendingDeletionError(key.keyId);
    if (key.external) throw new UnsupportedOriginError(key.keyId, 'EXTERNAL');
    // A MAC names no version: a new one would make every MAC made before fail to verify.
    if (specOf(key).kind === 'hmac') throw new UnsupportedKeyOperationError(key.keyId, 'an HMAC key keeps its one version for life.');
    return key;
  },
  async execute(_input, key, context) {
    const version = await context.service.keyring.createVersion(key, rotatedAt);
    return { KeyVersion: { KeyId: version.keyId, KeyVersionId: version.keyVersionId, CreationDate: version.creationDate } };
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
