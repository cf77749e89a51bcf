import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';

/** DescribeRegions: the region this deployment serves (the one in its ARNs, KMS_REGION). Authorised on `*`. */
export const action = defineAction({
  name: 'DescribeRegions',
  group: 'read',
  store: 'reads',
  alibaba: { params: z.object({}) },
  async resolve(_input, context) {
    context.authorize('*');
  },
  async execute(_input, _resolved, context) {
    // Always an array, also for one region: the official SDK's response model insists on it.
    return { Regions: { Region: [{ RegionId: context.service.keyring.scope.region }] } };
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
