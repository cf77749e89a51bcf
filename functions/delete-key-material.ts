import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { externalKey } from '../lib/operations/key-import.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter } from '../lib/protocol/alibaba/schema.js';

/**
 * DeleteKeyMaterial: destroys an EXTERNAL key's imported material, never the key. The key becomes
 * PendingImport (a key pending deletion keeps its state and date, and returns to PendingImport
 * if the deletion is cancelled); its blobs answer 409 until the same material is imported again.
 * Allowed in every state; on a key without material it changes nothing.
 */
export const action = defineAction({
  name: 'DeleteKeyMaterial',
  group: 'write',
  store: 'deletes-material',
  alibaba: { params: z.object({ KeyId: keyIdParameter }) },
  resolve: async (input, context) => externalKey(await resolveAuthorizedKey(input.KeyId, context)),
  async execute(_input, key, context) {
    await context.service.keyring.deleteMaterial(key.keyId);
    return {};
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
