import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { KeyPendingDeletionError, UnsupportedOriginError } from '../lib/errors.js';
import { rotatedAt } from '../lib/keyring/rotation.js';
import { defineAction } from '../lib/action.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter } from '../lib/protocol/alibaba/schema.js';

/**
 * CreateKeyVersion: a new random version that becomes primary; older versions keep decrypting.
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
    return key;
  },
  async execute(_input, key, context) {
    const version = await context.service.keyring.createVersion(key.keyId, rotatedAt);
    return { KeyVersion: { KeyId: version.keyId, KeyVersionId: version.keyVersionId, CreationDate: version.creationDate } };
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
