import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { notPendingDeletion } from '../lib/operations/key-state.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { authorizedSecret } from '../lib/operations/secrets.js';
import { parseTagKeys, taggedResource, tagKeysOfList, withoutTags } from '../lib/operations/tags.js';
import { jsonTextParameter, tagResourceParameters } from '../lib/protocol/alibaba/schema.js';
import { keyId, list } from '../lib/protocol/aws/fields.js';
import { secretId, stringList } from '../lib/protocol/aws/secrets.js';

/**
 * UntagResource: removes the tags named in `TagKeys` (a JSON list, or keys separated by commas)
 * from a key (`KeyId`) or a secret (`SecretName`, authorised on its acs ARN); keys it does not
 * carry are ignored. A key or secret pending deletion refuses it.
 */
export const action = defineAction({
  name: 'UntagResource',
  group: 'write',
  store: 'writes-state',
  alibaba: {
    params: z.pipe(
      z.object({ ...tagResourceParameters, TagKeys: jsonTextParameter }),
      z.transform((params) => {
        const keys = parseTagKeys(params.TagKeys);
        return { ...taggedResource(params), keys };
      }),
    ),
  },
  aws: [
    {
      target: 'UntagResource',
      input(body, scope) {
        const keys = list(body, 'TagKeys', true, 'tag keys');
        return { KeyId: keyId(body, scope), keys: tagKeysOfList(keys) };
      },
      output: () => ({}),
    },
    {
      service: 'secretsmanager',
      target: 'UntagResource',
      input: (body) => ({ SecretName: secretId(body), keys: tagKeysOfList(stringList(body, 'TagKeys', 50, true)) }),
      output: () => ({}),
    },
  ],
  // Resolves the key, or the secret (then \`secret\` is the one authorised, which alone is changed).
  async resolve(input, context) {
    if (input.SecretName !== undefined) return { secret: await authorizedSecret(input.SecretName, context) };
    return { key: notPendingDeletion(await resolveAuthorizedKey(input.KeyId, context)) };
  },
  async execute(input, { key, secret }, context) {
    if (secret !== undefined) await context.service.secrets.untag(secret, input.keys);
    else await context.service.keyring.updateKey(key!.keyId, (record) => withoutTags(notPendingDeletion(record), input.keys));
    return {};
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
