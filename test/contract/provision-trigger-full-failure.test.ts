import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsBatch } from '../helpers/sqs.js';

/*
 * An SQS batch in which every message fails (one malformed message is enough) is answered with
 * batchItemFailures like any other, not thrown (Powertools' FullBatchFailureError).
 */

let fn: typeof import('../../functions/provision-partition-keys.js');

beforeAll(async () => {
  Object.assign(process.env, {
    KMS_ENDPOINT: 'http://127.0.0.1:9/',
    KMS_PROVISIONER_ACCESS_KEY_ID: 'a',
    KMS_PROVISIONER_ACCESS_KEY_SECRET: 'b',
    KMS_PARTITION_REGISTRY: `file:${await mkdtemp(join(tmpdir(), 'kms-review-trigger-'))}`,
    KMS_PARTITION_KEY_ID: 'alias/x',
  });
  fn = await import('../../functions/provision-partition-keys.js');
});
afterAll(() => {
  for (const n of ['KMS_ENDPOINT', 'KMS_PROVISIONER_ACCESS_KEY_ID', 'KMS_PROVISIONER_ACCESS_KEY_SECRET', 'KMS_PARTITION_REGISTRY', 'KMS_PARTITION_KEY_ID'])
    delete process.env[n];
});

describe('review: SQS batch where every message is malformed', () => {
  it('answers batchItemFailures rather than throwing', async () => {
    const outcome = await fn.handler(sqsBatch(['not json']), { functionName: 'f', awsRequestId: 'r' } as Context).then(
      (r) => ({ threw: false, r }),
      (err: Error) => ({ threw: true, name: err.name }),
    );
    expect(outcome).toEqual({ threw: false, r: { batchItemFailures: [{ itemIdentifier: 'm-0' }] } });
  });
});
