import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ALBEvent, Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { applySeed, type Seed } from '../../lib/seed.js';
import { FileKeyStore } from '../../lib/keystore/file/file-store.js';
import { createService } from '../../lib/service.js';
import type { RpcRequest } from '../../lib/rpc/request.js';
import { ACCOUNT_ID, ADMIN, ALIAS, KEY_ID, REGION, TEST_SEED } from '../helpers/service.js';
import { signedAwsRequest, signedRpcRequest } from '../helpers/sign.js';
import type { Credentials } from '../helpers/sign.js';

/*
 * A function that also serves its AWS operation's other Actions (ActionDefinition.alsoServes):
 * the encrypt and decrypt functions answer AWS Encrypt/Decrypt with an RSAES_* algorithm in
 * process (AsymmetricEncrypt / AsymmetricDecrypt), each authorised by its own RAM action, and
 * still refuse every Action they do not serve.
 */

const context = {} as Context;
const AWS_REGION = 'eu-central-1';
/** May Encrypt and Decrypt (symmetric) on every key, nothing asymmetric. */
const SYMMETRIC_ONLY: Credentials = { accessKeyId: 'testSymmetric01', accessKeySecret: 'symmetric-secret-0123456789' };

function albEvent(request: RpcRequest): ALBEvent {
  const query: Record<string, string> = {};
  for (const pair of request.rawQuery.split('&').filter(Boolean)) {
    const eq = pair.indexOf('=');
    query[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return {
    requestContext: { elb: { targetGroupArn: 'arn:aws:elasticloadbalancing:eu-central-1:1:targetgroup/kms/1' } },
    httpMethod: request.method,
    path: request.path,
    queryStringParameters: query,
    headers: { ...request.headers } as Record<string, string>,
    body: request.body.toString('utf8'),
    isBase64Encoded: false,
  };
}

const aws = (credentials: Credentials, operation: string, body: unknown) => albEvent(signedAwsRequest(credentials, operation, body, { region: AWS_REGION }));
const answer = (result: { statusCode?: number | undefined; body?: string | undefined }) => ({
  status: result.statusCode,
  body: JSON.parse(result.body ?? '{}'),
});

describe('Adapter: a Lambda function that also serves the other Actions of its AWS operation', () => {
  let encrypt: typeof import('../../functions/encrypt.js');
  let decrypt: typeof import('../../functions/decrypt.js');
  let listAliases: typeof import('../../functions/list-aliases.js');
  let rsaKeyId: string;

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kms-also-serves-'));
    const seed: Seed = {
      ...TEST_SEED,
      accessKeys: [
        ...TEST_SEED.accessKeys!,
        {
          ...SYMMETRIC_ONLY,
          policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:CreateKey'], Resource: '*' }] },
        },
      ],
    };
    await applySeed(seed, createService({ store: new FileKeyStore(dir), region: REGION, accountId: ACCOUNT_ID }));
    Object.assign(process.env, { KMS_DATA_DIR: dir, KMS_REGION: REGION, KMS_ACCOUNT_ID: ACCOUNT_ID, KMS_AWS_REGIONS: AWS_REGION, KMS_LOG_LEVEL: 'silent' });
    const createKey = await import('../../functions/create-key.js');
    encrypt = await import('../../functions/encrypt.js');
    decrypt = await import('../../functions/decrypt.js');
    listAliases = await import('../../functions/list-aliases.js');
    const created = answer(await createKey.handler(aws(ADMIN, 'CreateKey', { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }), context));
    expect(created.status).toBe(200);
    rsaKeyId = created.body.KeyMetadata.KeyId;
  });

  it('when AWS Encrypt names RSAES_OAEP_SHA_256 on an RSA key, the encrypt function serves it (AsymmetricEncrypt) and the decrypt function decrypts it', async () => {
    const plaintext = Buffer.from('routed without a forward');
    const encrypted = answer(
      await encrypt.handler(
        aws(ADMIN, 'Encrypt', { KeyId: rsaKeyId, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }),
        context,
      ),
    );
    expect(encrypted.status).toBe(200);
    expect(encrypted.body).toMatchObject({ EncryptionAlgorithm: 'RSAES_OAEP_SHA_256', KeyId: expect.stringMatching(new RegExp(`:key/${rsaKeyId}$`)) });
    // RSA-OAEP of a 2048-bit key: 256 bytes, unlike a symmetric envelope.
    expect(Buffer.from(encrypted.body.CiphertextBlob, 'base64')).toHaveLength(256);
    const decrypted = answer(
      await decrypt.handler(
        aws(ADMIN, 'Decrypt', { KeyId: rsaKeyId, CiphertextBlob: encrypted.body.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }),
        context,
      ),
    );
    expect(decrypted.status).toBe(200);
    expect(Buffer.from(decrypted.body.Plaintext, 'base64').equals(plaintext)).toBe(true);
  });

  it('when AWS Encrypt and Decrypt are symmetric, the same functions still serve them as Encrypt and Decrypt', async () => {
    const plaintext = Buffer.from('symmetric');
    const encrypted = answer(await encrypt.handler(aws(ADMIN, 'Encrypt', { KeyId: ALIAS, Plaintext: plaintext.toString('base64') }), context));
    expect(encrypted.body).toMatchObject({ EncryptionAlgorithm: 'SYMMETRIC_DEFAULT', KeyId: expect.stringMatching(new RegExp(`:key/${KEY_ID}$`)) });
    const decrypted = answer(await decrypt.handler(aws(ADMIN, 'Decrypt', { CiphertextBlob: encrypted.body.CiphertextBlob }), context));
    expect(decrypted.status).toBe(200);
    expect(Buffer.from(decrypted.body.Plaintext, 'base64').equals(plaintext)).toBe(true);
  });

  it('when a caller may Encrypt and Decrypt but not AsymmetricEncrypt/AsymmetricDecrypt, the RSAES requests are refused by their own RAM action, the symmetric ones served', async () => {
    const plaintext = Buffer.from('x').toString('base64');
    const refusedEncrypt = answer(
      await encrypt.handler(aws(SYMMETRIC_ONLY, 'Encrypt', { KeyId: rsaKeyId, Plaintext: plaintext, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }), context),
    );
    expect(refusedEncrypt).toMatchObject({ status: 400, body: { __type: 'AccessDeniedException' } });
    const refusedDecrypt = answer(
      await decrypt.handler(
        aws(SYMMETRIC_ONLY, 'Decrypt', { KeyId: rsaKeyId, CiphertextBlob: Buffer.alloc(256, 1).toString('base64'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' }),
        context,
      ),
    );
    expect(refusedDecrypt).toMatchObject({ status: 400, body: { __type: 'AccessDeniedException' } });
    const served = answer(await encrypt.handler(aws(SYMMETRIC_ONLY, 'Encrypt', { KeyId: ALIAS, Plaintext: plaintext }), context));
    expect(served.status).toBe(200);
  });

  it.each([
    ['Alibaba GenerateDataKey', () => albEvent(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: ALIAS })), 404, 'InvalidAction.NotFound'],
    ['Alibaba Decrypt', () => albEvent(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: 'AAAA' })), 404, 'InvalidAction.NotFound'],
    ['AWS GenerateDataKey', () => aws(ADMIN, 'GenerateDataKey', { KeyId: ALIAS, NumberOfBytes: 32 }), 400, 'UnknownOperationException'],
    [
      'AWS Decrypt with RSAES_OAEP_SHA_256',
      () => aws(ADMIN, 'Decrypt', { KeyId: ALIAS, CiphertextBlob: 'AAAA', EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }),
      400,
      'UnknownOperationException',
    ],
  ])('when a request for another Action (%s) reaches the encrypt function, it is refused, not served', async (_name, event, status, code) => {
    const refused = answer(await encrypt.handler(event(), context));
    expect(refused.status).toBe(status);
    expect(refused.body.Code ?? refused.body.__type).toBe(code);
  });

  it('when AWS ListAliases names a KeyId, the listAliases function serves it (ListAliasesByKeyId); without, as ListAliases', async () => {
    const byKey = answer(await listAliases.handler(aws(ADMIN, 'ListAliases', { KeyId: KEY_ID }), context));
    expect(byKey.status).toBe(200);
    expect(byKey.body.Aliases.map((a: { AliasName: string }) => a.AliasName)).toEqual([ALIAS]);
    const all = answer(await listAliases.handler(aws(ADMIN, 'ListAliases', {}), context));
    expect(all.body.Aliases.map((a: { AliasName: string }) => a.AliasName)).toEqual(expect.arrayContaining([ALIAS, 'alias/other', 'alias/disabled']));
  });
});
