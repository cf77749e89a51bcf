import { join } from 'node:path';
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActionClient, createKmsSdkClient, KmsSdk } from '../helpers/clients.js';
import { killAllGateways, makeTempDir, type ReadyGateway, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { ADMIN, KEY_ID, TEST_SEED } from '../helpers/service.js';
import type { RpcRequest } from '../../lib/rpc/request.js';
import { signedAwsRequest, signedRpcRequest } from '../helpers/sign.js';

/*
 * The largest secret values each API documents reach the store through the real gateway and its
 * clients — AWS's 65,536 bytes (Base64 on the wire for SecretBinary), Alibaba's 30,720 bytes of
 * SecretData, which the typed client sends in the query and pop-core form-encodes — while every
 * other request keeps the 64 KiB body limit, and nothing is unbounded.
 */

let dir: string;
let gateway: ReadyGateway;

beforeAll(async () => {
  dir = await makeTempDir();
  gateway = await startGateway({ dataDir: join(dir, 'data'), seedFile: await writeSeedFile(dir, TEST_SEED) });
});

afterAll(async () => {
  if (gateway) expect(await gateway.stop('SIGTERM')).toBe(0);
  await killAllGateways();
  await removeDir(dir);
});

const secretsManager = () =>
  new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: gateway.url,
    credentials: { accessKeyId: ADMIN.accessKeyId, secretAccessKey: ADMIN.accessKeySecret },
    maxAttempts: 1,
  });

/** Sends a signed request as it is to the gateway; the status and body. */
async function send(request: RpcRequest) {
  const response = await fetch(`${gateway.url.replace(/\/$/, '')}${request.path}${request.rawQuery ? `?${request.rawQuery}` : ''}`, {
    method: request.method,
    headers: Object.fromEntries(Object.entries(request.headers).filter((entry): entry is [string, string] => entry[0] !== 'host' && entry[1] !== undefined)),
    ...(request.method === 'GET' ? {} : { body: new Uint8Array(request.body) }),
  });
  return { status: response.status, text: await response.text() };
}

describe('AWS Secrets Manager: values up to 65,536 bytes', () => {
  it('stores and reads back a 65,536-byte SecretBinary and a 65,536-byte SecretString of multi-byte characters', async () => {
    const sm = secretsManager();
    const binary = Buffer.alloc(65_536, 0);
    for (let i = 0; i < binary.length; i++) binary[i] = (i * 7919) % 256;
    await sm.send(new CreateSecretCommand({ Name: 'size/binary', SecretBinary: binary }));
    expect(Buffer.from((await sm.send(new GetSecretValueCommand({ SecretId: 'size/binary' }))).SecretBinary!)).toEqual(binary);
    // 16,384 four-byte characters: 65,536 bytes of UTF-8.
    const text = '🔑'.repeat(16_384);
    await sm.send(new PutSecretValueCommand({ SecretId: 'size/binary', SecretString: text }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'size/binary' }))).SecretString).toBe(text);
    sm.destroy();
  });

  it('refuses one byte more as InvalidParameterException, and a body past 512 KiB as 413 RequestEntityTooLarge', async () => {
    const sm = secretsManager();
    await expect(sm.send(new CreateSecretCommand({ Name: 'size/over', SecretBinary: Buffer.alloc(65_537, 1) }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    sm.destroy();
    const huge = await send(
      signedAwsRequest(ADMIN, 'CreateSecret', { Name: 'size/huge', SecretString: 'x'.repeat(600 * 1024) }, { service: 'secretsmanager' }),
    );
    expect(huge.status).toBe(413);
    expect(huge.text).toContain('exceeds 524288 bytes');
  });

  it('keeps the 64 KiB body limit for AWS KMS operations', async () => {
    const big = await send(signedAwsRequest(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: Buffer.alloc(70 * 1024).toString('base64') }));
    expect(big.status).toBe(413);
    expect(big.text).toContain('exceeds 65536 bytes');
  });
});

describe('Alibaba: SecretData up to 30,720 bytes through the official clients', () => {
  // 15,360 two-byte characters: 30,720 bytes of UTF-8, 92,160 characters once percent-encoded.
  const value = 'é'.repeat(15_360);

  it('the typed kms20160120 client, which sends it in the query string', async () => {
    const sdk = createKmsSdkClient({ port: gateway.port }, ADMIN);
    await sdk.createSecret(new KmsSdk.CreateSecretRequest({ secretName: 'size/typed', versionId: 'v1', secretData: value }));
    expect((await sdk.getSecretValue(new KmsSdk.GetSecretValueRequest({ secretName: 'size/typed' }))).secretData).toBe(value);
  });

  it('pop-core POST, which form-encodes it in the body', async () => {
    const client = createActionClient('pop-core-post', { port: gateway.port }, ADMIN);
    await client.call('CreateSecret', { SecretName: 'size/form', VersionId: 'v1', SecretData: value });
    expect((await client.call('GetSecretValue', { SecretName: 'size/form' })).SecretData).toBe(value);
    client.close();
  });

  it('keeps the 64 KiB body limit for other Actions whose Action is in the form body (read under the larger limit, refused once read)', async () => {
    const request = signedRpcRequest(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'x'.repeat(100 * 1024) }, { method: 'POST', form: true });
    expect(request.rawQuery).not.toContain('Action=');
    expect(request.body.toString()).toContain('Action=Encrypt');
    const big = await send(request);
    expect(big.status).toBe(413);
    expect(big.text).toContain('exceeds 65536 bytes');
  });

  it('keeps the 64 KiB body limit for other Actions named in the query', async () => {
    const request = signedRpcRequest(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'x'.repeat(70 * 1024) }, { method: 'POST', form: true });
    const big = await send({ ...request, rawQuery: 'Action=Encrypt' });
    expect(big.status).toBe(413);
  });
});
