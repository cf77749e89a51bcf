import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { KeyVersionNotFoundError } from '../lib/errors.js';
import { defineAction } from '../lib/action.js';
import { resolveAuthorizedKey } from '../lib/operations/resolve-key.js';
import { keyIdParameter } from '../lib/protocol/alibaba/schema.js';

/** DescribeKeyVersion: one version of a key (never its material). */
export const action = defineAction({
  name: 'DescribeKeyVersion',
  group: 'read',
  store: 'reads',
  alibaba: { params: z.object({ KeyId: keyIdParameter, KeyVersionId: z.string().check(z.minLength(1), z.maxLength(64)) }) },
  async resolve(input, context) {
    const key = await resolveAuthorizedKey(input.KeyId, context);
    const { keyring } = context.service;
    // An imported key's one version exists whether or not its material is there now.
    const version = key.external
      ? (await keyring.versionsOf(key)).find((v) => v.keyVersionId === input.KeyVersionId)
      : await keyring.getVersionInfo(key.keyId, input.KeyVersionId);
    if (!version) throw new KeyVersionNotFoundError(input.KeyVersionId);
    return version;
  },
  async execute(_input, version) {
    return { KeyVersion: { KeyId: version.keyId, KeyVersionId: version.keyVersionId, CreationDate: version.creationDate } };
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
