import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';

/**
 * What this deployment offers, as DescribeService reports it: software-protected AES-256 keys for
 * encryption and decryption, the only kind CreateKey accepts here. Authorised on `*`.
 */
export const SERVICE_DESCRIPTION = {
  ProtectionLevels: { ProtectionLevel: [{ Type: 'SOFTWARE' }] },
  KeySpecs: {
    KeySpec: [{ Name: 'Aliyun_AES_256', SupportedProtectionLevels: { SupportedProtectionLevel: ['SOFTWARE'] }, Usages: { Usage: ['ENCRYPT/DECRYPT'] } }],
  },
} as const;

export const action = defineAction({
  name: 'DescribeService',
  group: 'read',
  store: 'reads',
  alibaba: { params: z.object({}) },
  async resolve(_input, context) {
    context.authorize('*');
  },
  async execute() {
    return structuredClone(SERVICE_DESCRIPTION) as unknown as Record<string, unknown>;
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
