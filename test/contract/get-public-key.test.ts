import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateAliasCommand, CreateKeyCommand, GetPublicKeyCommand, type KeySpec, type KeyUsageType, type KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_REGION, inProcessKmsClient } from '../helpers/aws.js';
import { type AlibabaCaller, alibabaCaller, awsFailure } from '../helpers/kms-calls.js';
import { ACCOUNT_ID, ADMIN, createTestService, KEY_ID, KEY_VERSION_ID, type TestService } from '../helpers/service.js';
import type { Credentials } from '../helpers/sign.js';
import { expectError } from './support.js';

/*
 * GetPublicKey through both protocols: Alibaba's PEM and AWS's DER are the same SubjectPublicKeyInfo,
 * the public half of the version's stored private key, readable as it is by openssl; AWS adds the
 * key's spec, usage and the algorithms of that usage. Keys without a key pair have none.
 */

const run = promisify(execFile);

let t: TestService;
let ali: AlibabaCaller;
let aws: KMSClient;
let dir: string;

beforeAll(async () => {
  t = await createTestService();
  ali = alibabaCaller(t);
  aws = inProcessKmsClient(t, ADMIN);
  dir = await mkdtemp(join(tmpdir(), 'kms-public-key-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function versionOf(keyId: string): Promise<string> {
  return (await ali.ok('ListKeyVersions', { KeyId: keyId })).KeyVersions.KeyVersion.at(-1).KeyVersionId;
}

/** `openssl pkey -pubin` reads the PEM as Alibaba returns it and writes its DER. */
async function opensslDer(pem: string): Promise<Buffer> {
  const input = join(dir, `${Math.random().toString(36).slice(2)}.pem`);
  const output = `${input}.der`;
  await writeFile(input, pem);
  await run('openssl', ['pkey', '-pubin', '-in', input, '-outform', 'DER', '-out', output]);
  return readFile(output);
}

describe('the same SubjectPublicKeyInfo through both protocols', () => {
  it.each<[KeySpec, KeyUsageType, { type: string; bits?: number; curve?: string }, Record<string, unknown>]>([
    [
      'RSA_2048',
      'SIGN_VERIFY',
      { type: 'rsa', bits: 2048 },
      { SigningAlgorithms: expect.arrayContaining(['RSASSA_PSS_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_256']) },
    ],
    ['RSA_2048', 'ENCRYPT_DECRYPT', { type: 'rsa', bits: 2048 }, { EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] }],
    ['RSA_3072', 'SIGN_VERIFY', { type: 'rsa', bits: 3072 }, { SigningAlgorithms: expect.arrayContaining(['RSASSA_PSS_SHA_512']) }],
    ['ECC_NIST_P256', 'SIGN_VERIFY', { type: 'ec', curve: 'prime256v1' }, { SigningAlgorithms: ['ECDSA_SHA_256'] }],
    ['ECC_SECG_P256K1', 'SIGN_VERIFY', { type: 'ec', curve: 'secp256k1' }, { SigningAlgorithms: ['ECDSA_SHA_256'] }],
    ['ECC_NIST_P384', 'SIGN_VERIFY', { type: 'ec', curve: 'secp384r1' }, { SigningAlgorithms: ['ECDSA_SHA_384'] }],
  ])('%s / %s: Alibaba PEM, AWS DER, the same key, the stored private key’s public half', async (spec, usage, shape, algorithms) => {
    const keyId = (await aws.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: usage }))).KeyMetadata!.KeyId!;
    const versionId = await versionOf(keyId);

    const alibaba = await ali.ok('GetPublicKey', { KeyId: keyId, KeyVersionId: versionId });
    expect(Object.keys(alibaba).sort()).toEqual(['KeyId', 'KeyVersionId', 'PublicKey', 'RequestId']);
    expect(alibaba).toMatchObject({ KeyId: keyId, KeyVersionId: versionId });
    const pem = alibaba.PublicKey as string;
    // PEM SubjectPublicKeyInfo, 64-character lines (not PKCS #1 "RSA PUBLIC KEY").
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n([A-Za-z0-9+/]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END PUBLIC KEY-----\n$/);

    const answer = await aws.send(new GetPublicKeyCommand({ KeyId: keyId }));
    const der = Buffer.from(answer.PublicKey!);
    expect(answer).toMatchObject({
      KeyId: `arn:aws:kms:${AWS_REGION}:${ACCOUNT_ID}:key/${keyId}`,
      KeySpec: spec,
      CustomerMasterKeySpec: spec,
      KeyUsage: usage,
      ...algorithms,
    });
    if (usage === 'SIGN_VERIFY') expect(answer).not.toHaveProperty('EncryptionAlgorithms');
    else expect(answer).not.toHaveProperty('SigningAlgorithms');
    expect(answer).not.toHaveProperty('KeyVersionId');

    // The PEM's body is the DER, and openssl reads the PEM as returned into the same DER.
    expect(Buffer.from(pem.replace(/-----[A-Z ]+-----|\n/g, ''), 'base64')).toEqual(der);
    expect(await opensslDer(pem)).toEqual(der);

    const publicKey = createPublicKey({ key: der, format: 'der', type: 'spki' });
    expect(publicKey.asymmetricKeyType).toBe(shape.type);
    if (shape.bits) expect(publicKey.asymmetricKeyDetails?.modulusLength).toBe(shape.bits);
    if (shape.curve) expect(publicKey.asymmetricKeyDetails?.namedCurve).toBe(shape.curve);
    const stored = (await t.service.keyring.getVersionRecord(keyId, versionId))!.material;
    const privateKey = createPrivateKey({ key: Buffer.from(stored, 'base64'), format: 'der', type: 'pkcs8' });
    expect(createPublicKey(privateKey).export({ type: 'spki', format: 'der' })).toEqual(der);
    // Never the private key.
    expect(pem).not.toContain(stored.slice(60, 108));
    expect(answer.PublicKey).toBeDefined();
  });

  it('takes an alias and an ARN; each version has its own key, and AWS gives the newest', async () => {
    const { KeyId } = (await ali.ok('CreateKey', { KeySpec: 'EC_P256' })).KeyMetadata;
    const first = await versionOf(KeyId);
    await aws.send(new CreateAliasCommand({ AliasName: 'alias/signing', TargetKeyId: KeyId }));
    const byAlias = await ali.ok('GetPublicKey', { KeyId: 'alias/signing', KeyVersionId: first });
    expect(byAlias.KeyId).toBe(KeyId);
    const second = (await ali.ok('CreateKeyVersion', { KeyId })).KeyVersion.KeyVersionId;
    const newer = await ali.ok('GetPublicKey', { KeyId, KeyVersionId: second });
    expect(newer.PublicKey).not.toBe(byAlias.PublicKey);
    expect((await ali.ok('GetPublicKey', { KeyId, KeyVersionId: first })).PublicKey).toBe(byAlias.PublicKey);
    for (const reference of [KeyId, 'alias/signing', `arn:aws:kms:${AWS_REGION}:${ACCOUNT_ID}:key/${KeyId}`]) {
      const { PublicKey } = await aws.send(new GetPublicKeyCommand({ KeyId: reference }));
      expect(createPublicKey({ key: Buffer.from(PublicKey!), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' })).toBe(newer.PublicKey);
    }
  });
});

describe('refusals', () => {
  it.each([
    ['a symmetric key', () => Promise.resolve({ KeyId: KEY_ID, KeyVersionId: KEY_VERSION_ID })],
    [
      'an HMAC key',
      async () => {
        const { KeyId } = (await ali.ok('CreateKey', { KeySpec: 'HMAC_256' })).KeyMetadata;
        return { KeyId: KeyId as string, KeyVersionId: await versionOf(KeyId) };
      },
    ],
  ])('%s has no public key: 400 UnsupportedOperation (Alibaba), UnsupportedOperationException (AWS)', async (_name, make) => {
    const params = await make();
    expectError(await ali.call('GetPublicKey', params), 400, 'UnsupportedOperation', /only RSA and EC keys have a public key/);
    expect(await awsFailure(aws.send(new GetPublicKeyCommand({ KeyId: params.KeyId })))).toMatchObject({ name: 'UnsupportedOperationException', status: 400 });
  });

  it('Alibaba: KeyVersionId is required (400 MissingParameter); a version of another key is 404 Forbidden.KeyVersionNotFound', async () => {
    const { KeyId } = (await ali.ok('CreateKey', { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT/DECRYPT' })).KeyMetadata;
    expectError(await ali.call('GetPublicKey', { KeyId }), 400, 'MissingParameter', '"KeyVersionId"');
    const other = (await ali.ok('CreateKey', { KeySpec: 'EC_P256' })).KeyMetadata.KeyId;
    for (const KeyVersionId of [await versionOf(other), KEY_VERSION_ID, '11111111-1111-4111-8111-111111111111']) {
      expectError(await ali.call('GetPublicKey', { KeyId, KeyVersionId }), 404, 'Forbidden.KeyVersionNotFound');
    }
    expectError(await ali.call('GetPublicKey', { KeyId: '22222222-2222-4222-8222-222222222222', KeyVersionId: KEY_VERSION_ID }), 404, 'Forbidden.KeyNotFound');
    expect(await awsFailure(aws.send(new GetPublicKeyCommand({ KeyId: '22222222-2222-4222-8222-222222222222' })))).toMatchObject({ name: 'NotFoundException' });
  });

  it('a Disabled key is 409 Rejected.Disabled / DisabledException; pending deletion 409 Rejected.PendingDeletion / KMSInvalidStateException', async () => {
    const { KeyId } = (await ali.ok('CreateKey', { KeySpec: 'EC_P256K' })).KeyMetadata;
    const KeyVersionId = await versionOf(KeyId);
    await ali.ok('DisableKey', { KeyId });
    expectError(await ali.call('GetPublicKey', { KeyId, KeyVersionId }), 409, 'Rejected.Disabled');
    expect(await awsFailure(aws.send(new GetPublicKeyCommand({ KeyId })))).toMatchObject({ name: 'DisabledException' });
    await ali.ok('ScheduleKeyDeletion', { KeyId, PendingWindowInDays: '7' });
    expectError(await ali.call('GetPublicKey', { KeyId, KeyVersionId }), 409, 'Rejected.PendingDeletion');
    expect(await awsFailure(aws.send(new GetPublicKeyCommand({ KeyId })))).toMatchObject({ name: 'KMSInvalidStateException' });
  });

  it('DryRun is 412 (Alibaba; AWS GetPublicKey has no DryRun); kms:GetPublicKey alone allows it and nothing else', async () => {
    const { KeyId } = (await ali.ok('CreateKey', { KeySpec: 'EC_P256' })).KeyMetadata;
    const KeyVersionId = await versionOf(KeyId);
    expectError(await ali.call('GetPublicKey', { KeyId, KeyVersionId, DryRun: 'true' }), 412, 'DryRunOperationError');

    const reader: Credentials = { accessKeyId: 'testPublicOnly01', accessKeySecret: 'testPublicOnly01-secret-0123456789' };
    await t.service.accessKeys.create({
      ...reader,
      status: 'Enabled',
      createdAt: new Date().toISOString(),
      policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: 'kms:GetPublicKey', Resource: '*' }] },
    });
    expect((await ali.call('GetPublicKey', { KeyId, KeyVersionId }, reader)).status).toBe(200);
    expect((await inProcessKmsClient(t, reader).send(new GetPublicKeyCommand({ KeyId }))).PublicKey).toBeDefined();
    const digest = Buffer.alloc(32).toString('base64');
    expectError(
      await ali.call('AsymmetricSign', { KeyId, KeyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: digest }, reader),
      403,
      'Forbidden.NoPermission',
      '"kms:AsymmetricSign"',
    );
  });
});
