import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { notPendingDeletion } from '../lib/operations/key-state.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { authorizedSecret } from '../lib/operations/secrets.js';
import { parseTags, taggedResource, tagsOfList, withTags } from '../lib/operations/tags.js';
import { jsonTextParameter, tagResourceParameters } from '../lib/protocol/alibaba/schema.js';
import { keyId, list } from '../lib/protocol/aws/fields.js';
import { awsTags, secretId } from '../lib/protocol/aws/secrets.js';

/**
 * TagResource: adds tags to a key (`KeyId`) or a secret (`SecretName`, authorised as
 * kms:TagResource on its acs ARN) (`Tags`, a JSON list of {TagKey, TagValue}); a key it already
 * carries gets the new value. At most 20 per resource (400 Rejected.LimitExceeded). A key or
 * secret pending deletion refuses it. Certificates are not served (404).
 */
export const action = defineAction({
  name: 'TagResource',
  group: 'write',
  store: 'writes-state',
  alibaba: {
    params: z.pipe(
      z.object({ ...tagResourceParameters, Tags: jsonTextParameter }),
      z.transform((params) => {
        const tags = parseTags(params.Tags);
        return { ...taggedResource(params), tags };
      }),
    ),
  },
  aws: [
    {
      target: 'TagResource',
      input: (body, scope) => ({ KeyId: keyId(body, scope), tags: tagsOfList(list(body, 'Tags', true, '{"TagKey", "TagValue"}')) }),
      output: () => ({}),
    },
    {
      service: 'secretsmanager',
      target: 'TagResource',
      input: (body) => ({ SecretName: secretId(body), tags: awsTags(body, true)! }),
      output: () => ({}),
    },
  ],
  // Resolves the key, or the secret (then \`secret\` is the one authorised, which alone is changed).
  async resolve(input, context) {
    if (input.SecretName !== undefined) return { secret: await authorizedSecret(input.SecretName, context) };
    return { key: notPendingDeletion(await resolveAuthorizedKey(input.KeyId, context)) };
  },
  async execute(input, { key, secret }, context) {
    if (secret !== undefined) await context.service.secrets.tag(secret, input.tags);
    else await context.service.keyring.updateKey(key!.keyId, (record) => withTags(notPendingDeletion(record), input.tags));
    return {};
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
