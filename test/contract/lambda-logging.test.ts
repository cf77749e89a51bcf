import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { applySeed } from '../../lib/seed.js';
import { FileKeyStore } from '../../lib/keystore/file/file-store.js';
import { createService } from '../../lib/service.js';
import { ACCOUNT_ID, ADMIN, ALIAS, KEY_MATERIAL, REGION, TEST_SEED } from '../helpers/service.js';
import { signedV3Request } from '../helpers/sign.js';

/* In Lambda the access log goes through Powertools Logger, with the invocation's fields. */

const context = {
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  functionName: 'kms-dev-generateDataKey',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-central-1:123456789012:function:kms-dev-generateDataKey',
  memoryLimitInMB: '512',
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;

describe('Logging: a Lambda function under Powertools', () => {
  let generateDataKey: typeof import('../../functions/generate-data-key.js');

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kms-lambda-log-'));
    await applySeed(TEST_SEED, createService({ store: new FileKeyStore(dir), region: REGION, accountId: ACCOUNT_ID }));
    Object.assign(process.env, {
      KMS_DATA_DIR: dir,
      KMS_REGION: REGION,
      KMS_ACCOUNT_ID: ACCOUNT_ID,
      KMS_LOG_LEVEL: 'warn',
      AWS_LAMBDA_FUNCTION_NAME: 'kms-dev-generateDataKey',
      // One instance over a local directory: the file store is allowed only when that is said.
      KMS_SINGLE_INSTANCE: 'true',
      POWERTOOLS_SERVICE_NAME: 'kms',
    });
    generateDataKey = await import('../../functions/generate-data-key.js');
  });

  it('when a request is served at log level warn (prod), one structured JSON access line still carries the RequestId, the AWS request id and the function, and no key or secret', async () => {
    let out = '';
    const capture = (chunk: string | Uint8Array, ...rest: unknown[]) => {
      out += chunk.toString();
      // A write's callback says it was handed over (the audit log waits for it).
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    };
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    let result: unknown;
    try {
      const request = signedV3Request(ADMIN, 'GenerateDataKey', { KeyId: ALIAS });
      const event = {
        version: '2.0',
        rawPath: '/',
        rawQueryString: request.rawQuery,
        headers: { ...request.headers },
        isBase64Encoded: false,
        requestContext: { http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 't' } },
      } as unknown as APIGatewayProxyEventV2;
      result = await generateDataKey.handler(event, context);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    const body = JSON.parse((result as { body: string }).body) as Record<string, string>;
    const lines = out.split('\n').filter((l) => l.includes('"message":"request"'));
    expect(lines, out).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 'INFO',
      service: 'kms',
      message: 'request',
      requestId: body.RequestId,
      status: 200,
      function_request_id: context.awsRequestId,
      function_name: context.functionName,
    });
    for (const secret of [body.Plaintext!, ADMIN.accessKeySecret, KEY_MATERIAL]) expect(out).not.toContain(secret);
  });
});
