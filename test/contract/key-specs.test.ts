import { createPrivateKey } from 'node:crypto';
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  type KeySpec,
  type KeyUsageType,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { beforeEach, describe, expect, it } from 'vitest';
import { AWS_REGION, inProcessKmsClient } from '../helpers/aws.js';
import { type AlibabaCaller, alibabaCaller, awsFailure } from '../helpers/kms-calls.js';
import { ACCOUNT_ID, ADMIN, createTestService, type TestService } from '../helpers/service.js';
import { expectError } from './support.js';

/*
 * Key specs and usages (asymmetric and HMAC keys) through both protocols: what CreateKey accepts
 * and refuses, what DescribeKey shows in each protocol's words, which Actions a key of each kind
 * refuses, and what the store keeps.
 */

let t: TestService;
let ali: AlibabaCaller;
let aws: KMSClient;
beforeEach(async () => {
  t = await createTestService();
  ali = alibabaCaller(t);
  aws = inProcessKmsClient(t, ADMIN);
});

const createAlibaba = async (params: Record<string, string>) => (await ali.ok('CreateKey', params)).KeyMetadata as Record<string, string>;

describe('Alibaba CreateKey: KeySpec and KeyUsage', () => {
  it.each([
    ['RSA_2048', undefined, 'SIGN/VERIFY'],
    ['RSA_2048', 'ENCRYPT/DECRYPT', 'ENCRYPT/DECRYPT'],
    ['RSA_3072', 'SIGN/VERIFY', 'SIGN/VERIFY'],
    ['EC_P256', undefined, 'SIGN/VERIFY'],
    ['EC_P256K', 'SIGN/VERIFY', 'SIGN/VERIFY'],
    ['HMAC_256', undefined, 'GENERATE_VERIFY_MAC'],
    ['Aliyun_AES_256', undefined, 'ENCRYPT/DECRYPT'],
  ])('KeySpec %s with KeyUsage %s makes a %s key, which DescribeKey shows', async (spec, usage, expected) => {
    const m = await createAlibaba({ KeySpec: spec, ...(usage ? { KeyUsage: usage } : {}) });
    expect(m).toMatchObject({ KeySpec: spec, KeyUsage: expected, KeyState: 'Enabled', AutomaticRotation: 'Disabled' });
    const described = (await ali.ok('DescribeKey', { KeyId: m.KeyId! })).KeyMetadata;
    expect(described).toMatchObject({ KeySpec: spec, KeyUsage: expected });
    // "Unavailable for asymmetric CMKs": their Actions always name a version.
    if (spec.startsWith('RSA') || spec.startsWith('EC')) expect(described).not.toHaveProperty('PrimaryKeyVersion');
    else expect(described.PrimaryKeyVersion).toMatch(/^[0-9a-f-]{36}$/);
    const versions = (await ali.ok('ListKeyVersions', { KeyId: m.KeyId! })).KeyVersions.KeyVersion;
    expect(versions).toHaveLength(1);
  });

  it.each([
    [{ KeySpec: 'EC_P256', KeyUsage: 'ENCRYPT/DECRYPT' }, 'KeyUsage'],
    [{ KeySpec: 'HMAC_256', KeyUsage: 'SIGN/VERIFY' }, 'KeyUsage'],
    [{ KeySpec: 'Aliyun_AES_256', KeyUsage: 'SIGN/VERIFY' }, 'KeyUsage'],
    [{ KeySpec: 'RSA_2048', KeyUsage: 'SIGN' }, 'KeyUsage'],
    [{ KeySpec: 'EC_SM2' }, 'KeySpec'],
    [{ KeySpec: 'Aliyun_SM4' }, 'KeySpec'],
    [{ KeySpec: 'RSA_1024' }, 'KeySpec'],
    [{ KeySpec: 'RSA_2048', Origin: 'EXTERNAL' }, 'Origin'],
    [{ KeySpec: 'EC_P256', EnableAutomaticRotation: 'true' }, 'EnableAutomaticRotation'],
    [{ KeySpec: 'HMAC_512', EnableAutomaticRotation: 'true' }, 'EnableAutomaticRotation'],
  ])('%j is 400 InvalidParameter naming %s, and makes no key', async (params, parameter) => {
    const before = (await ali.ok('ListKeys')).TotalCount;
    expectError(await ali.call('CreateKey', params), 400, 'InvalidParameter', new RegExp(`"${parameter}"`));
    expect((await ali.ok('ListKeys')).TotalCount).toBe(before);
  });

  it('says why SM2 is refused', async () => {
    const r = await ali.call('CreateKey', { KeySpec: 'EC_SM2' });
    expect(r.body.Message).toMatch(/SM2/);
  });
});

describe('AWS CreateKey and DescribeKey: KeySpec, KeyUsage and the algorithms', () => {
  it.each<[KeySpec, KeyUsageType, Record<string, unknown>]>([
    [
      'RSA_2048',
      'SIGN_VERIFY',
      {
        SigningAlgorithms: [
          'RSASSA_PSS_SHA_256',
          'RSASSA_PSS_SHA_384',
          'RSASSA_PSS_SHA_512',
          'RSASSA_PKCS1_V1_5_SHA_256',
          'RSASSA_PKCS1_V1_5_SHA_384',
          'RSASSA_PKCS1_V1_5_SHA_512',
        ],
      },
    ],
    ['RSA_3072', 'ENCRYPT_DECRYPT', { EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] }],
    ['ECC_NIST_P256', 'SIGN_VERIFY', { SigningAlgorithms: ['ECDSA_SHA_256'] }],
    ['ECC_SECG_P256K1', 'SIGN_VERIFY', { SigningAlgorithms: ['ECDSA_SHA_256'] }],
    ['ECC_NIST_P384', 'SIGN_VERIFY', { SigningAlgorithms: ['ECDSA_SHA_384'] }],
    ['HMAC_224', 'GENERATE_VERIFY_MAC', { MacAlgorithms: ['HMAC_SHA_224'] }],
    ['HMAC_512', 'GENERATE_VERIFY_MAC', { MacAlgorithms: ['HMAC_SHA_512'] }],
    ['SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT', { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] }],
  ])('%s / %s', async (spec, usage, algorithms) => {
    const created = (await aws.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: usage }))).KeyMetadata!;
    for (const m of [created, (await aws.send(new DescribeKeyCommand({ KeyId: created.KeyId }))).KeyMetadata!]) {
      expect(m).toMatchObject({ KeySpec: spec, CustomerMasterKeySpec: spec, KeyUsage: usage, ...algorithms });
      for (const list of ['SigningAlgorithms', 'EncryptionAlgorithms', 'MacAlgorithms']) {
        if (!(list in algorithms)) expect(m).not.toHaveProperty(list);
      }
    }
  });

  it('the deprecated CustomerMasterKeySpec alone makes the key; both given must agree', async () => {
    const m = (await aws.send(new CreateKeyCommand({ CustomerMasterKeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!;
    expect(m.KeySpec).toBe('ECC_NIST_P256');
    expect(await awsFailure(aws.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', CustomerMasterKeySpec: 'RSA_3072', KeyUsage: 'SIGN_VERIFY' })))).toMatchObject(
      {
        name: 'ValidationException',
      },
    );
  });

  it.each<[Record<string, string>, string]>([
    [{ KeySpec: 'ECC_NIST_P256' }, 'ValidationException'],
    [{ KeySpec: 'HMAC_256' }, 'ValidationException'],
    [{ KeySpec: 'RSA_2048', KeyUsage: 'GENERATE_VERIFY_MAC' }, 'ValidationException'],
    [{ KeySpec: 'RSA_1024' }, 'ValidationException'],
    [{ KeySpec: 'SM2', KeyUsage: 'SIGN_VERIFY' }, 'UnsupportedOperationException'],
    [{ KeySpec: 'ML_DSA_44', KeyUsage: 'SIGN_VERIFY' }, 'UnsupportedOperationException'],
    [{ KeySpec: 'ECC_NIST_EDWARDS25519', KeyUsage: 'SIGN_VERIFY' }, 'UnsupportedOperationException'],
    [{ KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' }, 'UnsupportedOperationException'],
    [{ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT', Origin: 'EXTERNAL' }, 'UnsupportedOperationException'],
  ])('%j is %s (400)', async (input, type) => {
    expect(await awsFailure(aws.send(new CreateKeyCommand(input as never)))).toMatchObject({ name: type, status: 400 });
  });
});

describe('one key through both protocols', () => {
  it('a key made through AWS is described by Alibaba in its words, and the reverse', async () => {
    const viaAws = (await aws.send(new CreateKeyCommand({ KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!;
    expect((await ali.ok('DescribeKey', { KeyId: viaAws.KeyId! })).KeyMetadata).toMatchObject({ KeySpec: 'EC_P256K', KeyUsage: 'SIGN/VERIFY' });
    const viaAlibaba = await createAlibaba({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT/DECRYPT' });
    expect((await aws.send(new DescribeKeyCommand({ KeyId: viaAlibaba.KeyId }))).KeyMetadata).toMatchObject({
      KeySpec: 'RSA_2048',
      KeyUsage: 'ENCRYPT_DECRYPT',
      EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'],
      Arn: `arn:aws:kms:${AWS_REGION}:${ACCOUNT_ID}:key/${viaAlibaba.KeyId}`,
    });
  });
});

describe('a key refuses what its kind cannot do, in each protocol’s words', () => {
  const kinds: Array<Record<string, string>> = [
    { KeySpec: 'RSA_2048', KeyUsage: 'SIGN/VERIFY' },
    { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT/DECRYPT' },
    { KeySpec: 'EC_P256' },
    { KeySpec: 'HMAC_256' },
  ];

  it.each(kinds)('%j: the symmetric Actions are 400 UnsupportedOperation (Alibaba), InvalidKeyUsageException (AWS)', async (params) => {
    const { KeyId } = await createAlibaba(params);
    for (const [action, extra] of [
      ['GenerateDataKey', {}],
      ['GenerateDataKeyWithoutPlaintext', {}],
      ['Encrypt', { Plaintext: 'hello' }],
      ['GenerateAndExportDataKey', { PublicKeyBlob: 'AAAA', WrappingKeySpec: 'RSA_2048', WrappingAlgorithm: 'RSAESOAEP_SHA_256' }],
    ] as const) {
      const r = await ali.call(action, { KeyId: KeyId!, ...extra });
      expect(r.status, `${action}: ${r.raw}`).toBe(400);
      if (action !== 'GenerateAndExportDataKey') expectError(r, 400, 'UnsupportedOperation', /cannot be used this way/);
    }
    expect(await awsFailure(aws.send(new GenerateDataKeyCommand({ KeyId, KeySpec: 'AES_256' })))).toMatchObject({
      name: 'InvalidKeyUsageException',
      status: 400,
    });
    expect(await awsFailure(aws.send(new EncryptCommand({ KeyId, Plaintext: Buffer.from('x') })))).toMatchObject({
      name: 'InvalidKeyUsageException',
      status: 400,
    });
  });

  it.each(kinds)('%j: ReEncrypt to it is refused, and a blob naming one of its versions does not decrypt', async (params) => {
    const { KeyId } = await createAlibaba(params);
    const [version] = (await ali.ok('ListKeyVersions', { KeyId: KeyId! })).KeyVersions.KeyVersion;
    const { CiphertextBlob } = await ali.ok('Encrypt', { KeyId: 'alias/test', Plaintext: 'hello' });
    expectError(await ali.call('ReEncrypt', { CiphertextBlob, DestinationKeyId: KeyId! }), 400, 'UnsupportedOperation');
    // A blob whose header names the other key's version (as an attacker could write it).
    const forged = Buffer.from(CiphertextBlob, 'base64');
    forged.write(version.KeyVersionId, 0, 'ascii');
    expectError(await ali.call('Decrypt', { CiphertextBlob: forged.toString('base64') }), 400, 'UnsupportedOperation');
  });

  it.each(kinds)(
    '%j: automatic rotation is refused (Alibaba InvalidParameter, AWS UnsupportedOperationException); turning it off is allowed',
    async (params) => {
      const { KeyId } = await createAlibaba(params);
      expectError(await ali.call('UpdateRotationPolicy', { KeyId: KeyId!, EnableAutomaticRotation: 'true' }), 400, 'InvalidParameter');
      await ali.ok('UpdateRotationPolicy', { KeyId: KeyId!, EnableAutomaticRotation: 'false' });
      expect(await awsFailure(aws.send(new EnableKeyRotationCommand({ KeyId })))).toMatchObject({ name: 'UnsupportedOperationException', status: 400 });
    },
  );
});

describe('versions of asymmetric and HMAC keys', () => {
  it.each(['RSA_2048', 'EC_P256'])('%s: CreateKeyVersion makes a new key pair; every version stays in the store as PKCS #8', async (spec) => {
    const { KeyId } = await createAlibaba({ KeySpec: spec });
    const created = (await ali.ok('CreateKeyVersion', { KeyId: KeyId! })).KeyVersion;
    const versions = (await ali.ok('ListKeyVersions', { KeyId: KeyId! })).KeyVersions.KeyVersion as Array<{ KeyVersionId: string }>;
    expect(versions.map((v) => v.KeyVersionId)).toContain(created.KeyVersionId);
    expect(versions).toHaveLength(2);
    const keys = [];
    for (const v of versions) {
      const record = await t.service.keyring.getVersionRecord(KeyId!, v.KeyVersionId);
      expect(record?.keySpec).toBe(spec);
      const privateKey = createPrivateKey({ key: Buffer.from(record!.material, 'base64'), format: 'der', type: 'pkcs8' });
      expect(privateKey.asymmetricKeyType).toBe(spec.startsWith('RSA') ? 'rsa' : 'ec');
      keys.push(privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'));
      const loaded = await t.service.keyring.findVersion(v.KeyVersionId);
      expect(loaded?.privateKey?.type).toBe('private');
      expect(loaded?.publicKey?.type).toBe('public');
      expect(loaded?.material).toHaveLength(0);
    }
    expect(new Set(keys).size).toBe(2);
  });

  it('an HMAC key keeps its one version: CreateKeyVersion is 400 UnsupportedOperation', async () => {
    const { KeyId } = await createAlibaba({ KeySpec: 'HMAC_384' });
    expectError(await ali.call('CreateKeyVersion', { KeyId: KeyId! }), 400, 'UnsupportedOperation');
    const [version] = (await ali.ok('ListKeyVersions', { KeyId: KeyId! })).KeyVersions.KeyVersion;
    const record = await t.service.keyring.getVersionRecord(KeyId!, version.KeyVersionId);
    expect(Buffer.from(record!.material, 'base64')).toHaveLength(48);
  });

  it('no answer about a key carries its private key', async () => {
    const { KeyId } = await createAlibaba({ KeySpec: 'RSA_2048' });
    const [version] = (await ali.ok('ListKeyVersions', { KeyId: KeyId! })).KeyVersions.KeyVersion;
    const material = (await t.service.keyring.getVersionRecord(KeyId!, version.KeyVersionId))!.material;
    for (const action of ['DescribeKey', 'ListKeyVersions']) {
      const r = await ali.call(action, { KeyId: KeyId! });
      expect(r.raw).not.toContain(material.slice(40, 80));
    }
    const r = await ali.call('DescribeKeyVersion', { KeyId: KeyId!, KeyVersionId: version.KeyVersionId });
    expect(r.status).toBe(200);
    expect(r.raw).not.toContain(material.slice(40, 80));
  });
});
