import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { authorizedSecret } from '../lib/operations/secrets.js';
import { taggedResource } from '../lib/operations/tags.js';
import { tagResourceParameters } from '../lib/protocol/alibaba/schema.js';
import { keyId } from '../lib/protocol/aws/fields.js';
import { tagPage } from '../lib/protocol/aws/shapes.js';

type ListResourceTagsOutput = { Tags: { Tag: Array<{ KeyId?: string; TagKey: string; TagValue: string }> } };

/**
 * ListResourceTags: a key's tags, by TagKey, as `Tags.Tag[]{KeyId, TagKey, TagValue}` (an empty
 * list when none), in any key state; or a secret's (`SecretName`, authorised on its acs ARN), as
 * `Tags.Tag[]{TagKey, TagValue}`, also while it is pending deletion. AWS pages them (Limit, Marker); Alibaba lists them all.
 */
export const action = defineAction({
  name: 'ListResourceTags',
  group: 'read',
  store: 'reads',
  alibaba: {
    params: z.pipe(
      z.object(tagResourceParameters),
      z.transform((params) => taggedResource(params)),
    ),
  },
  aws: [
    {
      target: 'ListResourceTags',
      input(body, scope) {
        tagPage(body);
        return { KeyId: keyId(body, scope) };
      },
      output(o: ListResourceTagsOutput, c) {
        const tags = o.Tags.Tag.map((t) => ({ TagKey: t.TagKey, TagValue: t.TagValue }));
        const { offset, limit } = tagPage(c.body);
        const end = offset + limit;
        return end < tags.length ? { Tags: tags.slice(offset, end), Truncated: true, NextMarker: String(end) } : { Tags: tags.slice(offset), Truncated: false };
      },
    },
  ],
  async resolve(input, context) {
    if (input.SecretName !== undefined) return { secret: await authorizedSecret(input.SecretName, context) };
    return { key: await resolveAuthorizedKey(input.KeyId, context) };
  },
  async execute(_input, { key, secret }): Promise<ListResourceTagsOutput> {
    // The secret as resolve read it: no second read.
    if (secret !== undefined) return { Tags: { Tag: secret.tags.map(([TagKey, TagValue]) => ({ TagKey, TagValue })) } };
    return { Tags: { Tag: (key!.tags ?? []).map(([TagKey, TagValue]) => ({ KeyId: key!.keyId, TagKey, TagValue })) } };
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
