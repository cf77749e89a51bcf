import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import { AccessKeyNotFoundError } from '../lib/errors.js';
import { isoSeconds } from '@alibaba-kms-compatible/client/internal/time';

type DescribeAccessKeyOutput = { AccessKey: { AccessKeyId: string; Status: string; CreationDate: string; Policy: string } };

/** The ARN a policy names an access key by: `acs:kms:<region>:<account>:accesskey/<id>`. */
export function accessKeyArn(scope: { region: string; accountId: string }, accessKeyId: string): string {
  return `acs:kms:${scope.region}:${scope.accountId}:accesskey/${accessKeyId}`;
}

/**
 * DescribeAccessKey: an access key's id, status, creation date and policy (a JSON string), never
 * its secret. `AccessKeyId` defaults to the caller's own; with the RPC signature (v1) it is always
 * the caller's, as that signature sends the signer's id under this name; the V3 signature
 * (ACS3-HMAC-SHA256) names the signer in its header and leaves `AccessKeyId` free to name another
 * key. Authorised on the key's ARN (`acs:kms:<region>:<account>:accesskey/<id>`) before the store
 * is read, so a caller who may not describe it learns nothing of whether it exists.
 */
export const action = defineAction({
  name: 'DescribeAccessKey',
  group: 'read',
  store: 'reads',
  alibaba: {
    params: z.object({
      AccessKeyId: z.optional(
        z.string().check(z.minLength(1, { error: 'It must not be empty.' }), z.maxLength(128, { error: 'It must be at most 128 characters.' })),
      ),
    }),
  },
  async resolve(input, context) {
    const accessKeyId = input.AccessKeyId ?? context.principal.accessKeyId;
    context.authorize(accessKeyArn(context.service.keyring.scope, accessKeyId));
    return accessKeyId;
  },
  async execute(_input, accessKeyId, context): Promise<DescribeAccessKeyOutput> {
    const record = await context.service.accessKeys.get(accessKeyId);
    if (!record) throw new AccessKeyNotFoundError();
    return {
      AccessKey: {
        AccessKeyId: record.accessKeyId,
        Status: record.status,
        CreationDate: creationDateOf(record.createdAt),
        Policy: JSON.stringify(record.policy),
      },
    };
  },
});

/** As Alibaba writes dates (`yyyy-MM-ddTHH:mm:ssZ`, as a key's CreationDate); a stored value that is no date, as stored. */
function creationDateOf(createdAt: string): string {
  const ms = Date.parse(createdAt);
  return Number.isNaN(ms) ? createdAt : isoSeconds(ms);
}

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
