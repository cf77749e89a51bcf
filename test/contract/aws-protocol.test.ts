import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateRandomCommand,
  GetKeyRotationStatusCommand,
  type KMSClient,
  ListAliasesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ACCOUNT_ID,
  ADMIN,
  ALIAS,
  CONSUMER,
  createTestService,
  DISABLED_KEY_ID,
  KEY_ID,
  OTHER_KEY_ID,
  PROVIDER,
  type TestService,
} from '../helpers/service.js';
import { AWS_REGION, inProcessKmsClient } from '../helpers/aws.js';
import { awsFailure as awsError } from '../helpers/kms-calls.js';
import { amzDateOf, signedAwsRequest, signedRpcRequest } from '../helpers/sign.js';

/* The AWS KMS JSON protocol, through the official AWS SDK (its own SigV4 signing), on the same keys. */

const arnOf = (keyId: string, region = AWS_REGION) => `arn:aws:kms:${region}:${ACCOUNT_ID}:key/${keyId}`;
const bytes = (n: number, fill = 7) => new Uint8Array(Buffer.alloc(n, fill));

let t: TestService;
let kms: KMSClient;
beforeEach(async () => {
  t = await createTestService();
  kms = inProcessKmsClient(t, ADMIN);
});

describe('AWS protocol: data keys and encryption', () => {
  it('GenerateDataKey (NumberOfBytes or KeySpec) by id, alias and ARN returns raw key bytes and the key ARN; Decrypt (with or without KeyId) gives them back', async () => {
    for (const KeyId of [KEY_ID, ALIAS, arnOf(KEY_ID), `arn:aws:kms:${AWS_REGION}:${ACCOUNT_ID}:${ALIAS}`]) {
      const generated = await kms.send(new GenerateDataKeyCommand({ KeyId, NumberOfBytes: 32, EncryptionContext: { purpose: 'test' } }));
      expect(generated.KeyId).toBe(arnOf(KEY_ID));
      expect(generated.Plaintext).toHaveLength(32);
      const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: generated.CiphertextBlob, EncryptionContext: { purpose: 'test' } }));
      expect(Buffer.from(decrypted.Plaintext!).equals(Buffer.from(generated.Plaintext!))).toBe(true);
      expect(decrypted.KeyId).toBe(arnOf(KEY_ID));
      expect(decrypted.EncryptionAlgorithm).toBe('SYMMETRIC_DEFAULT');
      const withKey = await kms.send(
        new DecryptCommand({ CiphertextBlob: generated.CiphertextBlob, EncryptionContext: { purpose: 'test' }, KeyId: arnOf(KEY_ID) }),
      );
      expect(Buffer.from(withKey.Plaintext!).equals(Buffer.from(generated.Plaintext!))).toBe(true);
    }
    const aes128 = await kms.send(new GenerateDataKeyCommand({ KeyId: KEY_ID, KeySpec: 'AES_128' }));
    expect(aes128.Plaintext).toHaveLength(16);
  });

  it('Decrypt naming another key is IncorrectKeyException; another context InvalidCiphertextException; neither returns plaintext', async () => {
    const generated = await kms.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: KEY_ID, NumberOfBytes: 24, EncryptionContext: { a: '1' } }));
    expect((generated as { Plaintext?: unknown }).Plaintext).toBeUndefined();
    expect(
      await awsError(kms.send(new DecryptCommand({ CiphertextBlob: generated.CiphertextBlob, EncryptionContext: { a: '1' }, KeyId: OTHER_KEY_ID }))),
    ).toMatchObject({ name: 'IncorrectKeyException', status: 400 });
    expect(await awsError(kms.send(new DecryptCommand({ CiphertextBlob: generated.CiphertextBlob, EncryptionContext: { a: '2' } })))).toMatchObject({
      name: 'InvalidCiphertextException',
      status: 400,
    });
  });

  it('Encrypt takes binary plaintext (any bytes, up to 4 KiB); ReEncrypt moves a blob to another key and context', async () => {
    const plaintext = new Uint8Array([0, 255, 1, 254, 0x80, 0xc3, 0x28]);
    const encrypted = await kms.send(new EncryptCommand({ KeyId: ALIAS, Plaintext: plaintext, EncryptionContext: { k: 'v' } }));
    expect(encrypted).toMatchObject({ KeyId: arnOf(KEY_ID), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
    const moved = await kms.send(
      new ReEncryptCommand({
        CiphertextBlob: encrypted.CiphertextBlob,
        SourceEncryptionContext: { k: 'v' },
        DestinationKeyId: OTHER_KEY_ID,
        DestinationEncryptionContext: { k: 'w' },
      }),
    );
    expect(moved).toMatchObject({ KeyId: arnOf(OTHER_KEY_ID), SourceKeyId: arnOf(KEY_ID) });
    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob, EncryptionContext: { k: 'w' } }));
    expect(Buffer.from(decrypted.Plaintext!).equals(Buffer.from(plaintext))).toBe(true);
    expect(await awsError(kms.send(new EncryptCommand({ KeyId: KEY_ID, Plaintext: bytes(4097) })))).toMatchObject({ name: 'ValidationException', status: 400 });
  });

  it('a blob never opens into the other protocol’s form: an AWS blob through Alibaba Decrypt, an Alibaba blob through AWS Decrypt, both InvalidCiphertext', async () => {
    const aws = await kms.send(new GenerateDataKeyCommand({ KeyId: KEY_ID, NumberOfBytes: 32 }));
    const viaAlibaba = await t.call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: Buffer.from(aws.CiphertextBlob!).toString('base64') }));
    expect(viaAlibaba.status).toBe(400);
    expect(viaAlibaba.body.Code).toBe('InvalidCiphertext');
    const alibaba = await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: KEY_ID }));
    expect(await awsError(kms.send(new DecryptCommand({ CiphertextBlob: Buffer.from(alibaba.body.CiphertextBlob, 'base64') })))).toMatchObject({
      name: 'InvalidCiphertextException',
    });
  });

  it('GenerateRandom returns the bytes asked for', async () => {
    expect((await kms.send(new GenerateRandomCommand({ NumberOfBytes: 100 }))).Plaintext).toHaveLength(100);
  });

  it('DryRun answers DryRunOperationException (412)', async () => {
    expect(await awsError(kms.send(new GenerateDataKeyCommand({ KeyId: KEY_ID, NumberOfBytes: 32, DryRun: true })))).toMatchObject({
      name: 'DryRunOperationException',
      status: 412,
    });
  });
});

describe('AWS protocol: errors as AWS sends them', () => {
  it.each([
    ['an unknown key', () => new DescribeKeyCommand({ KeyId: '99999999-2222-4333-8444-555555555555' }), 'NotFoundException'],
    ['an unknown alias', () => new DescribeKeyCommand({ KeyId: 'alias/none' }), 'NotFoundException'],
    ['a key of another account', () => new DescribeKeyCommand({ KeyId: `arn:aws:kms:${AWS_REGION}:111122223333:key/${KEY_ID}` }), 'NotFoundException'],
    ['a disabled key', () => new GenerateDataKeyCommand({ KeyId: DISABLED_KEY_ID, NumberOfBytes: 32 }), 'DisabledException'],
    ['neither KeySpec nor NumberOfBytes', () => new GenerateDataKeyCommand({ KeyId: KEY_ID }), 'ValidationException'],
    ['an ECC key spec with the default KeyUsage ENCRYPT_DECRYPT', () => new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256' }), 'ValidationException'],
    ['an HMAC key spec with KeyUsage SIGN_VERIFY', () => new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'SIGN_VERIFY' }), 'ValidationException'],
    ['a key spec this service does not make (SM2)', () => new CreateKeyCommand({ KeySpec: 'SM2', KeyUsage: 'SIGN_VERIFY' }), 'UnsupportedOperationException'],
  ])('%s: %s', async (_what, command, type) => {
    expect(await awsError(kms.send(command() as never))).toMatchObject({ name: type, status: 400 });
  });

  it('a caller its policy denies gets AccessDeniedException; an unknown access key UnrecognizedClientException; a wrong secret InvalidSignatureException', async () => {
    expect(await awsError(inProcessKmsClient(t, PROVIDER).send(new DecryptCommand({ CiphertextBlob: bytes(100) })))).toMatchObject({ status: 400 });
    expect(await awsError(inProcessKmsClient(t, CONSUMER).send(new GenerateDataKeyCommand({ KeyId: KEY_ID, NumberOfBytes: 32 })))).toMatchObject({
      name: 'AccessDeniedException',
      status: 400,
    });
    expect(await awsError(inProcessKmsClient(t, { accessKeyId: 'AKIANOSUCHKEY0000000', accessKeySecret: 'x' }).send(new ListKeysCommand({})))).toMatchObject({
      name: 'UnrecognizedClientException',
    });
    expect(await awsError(inProcessKmsClient(t, { ...ADMIN, accessKeySecret: 'not-the-secret-0000000' }).send(new ListKeysCommand({})))).toMatchObject({
      name: 'InvalidSignatureException',
    });
  });

  it('a region this deployment does not serve is refused before anything else', async () => {
    expect(await awsError(inProcessKmsClient(t, ADMIN, { region: 'eu-west-3' }).send(new ListKeysCommand({})))).toMatchObject({
      name: 'IncompleteSignatureException',
      status: 400,
    });
  });

  it('an unknown operation is UnknownOperationException', async () => {
    const r = await t.dispatch({
      method: 'POST',
      path: '/',
      rawQuery: '',
      headers: { 'x-amz-target': 'TrentService.CreateGrant', 'content-type': 'application/x-amz-json-1.1' },
      body: Buffer.from('{}'),
    });
    expect(r.statusCode).toBe(400);
    expect(JSON.parse(r.body)).toMatchObject({ __type: 'UnknownOperationException' });
    expect(r.headers['content-type']).toBe('application/x-amz-json-1.1');
  });

  it('an unsigned request, or one whose body was changed after signing, is refused', async () => {
    const unsigned = await t.dispatch({
      method: 'POST',
      path: '/',
      rawQuery: '',
      headers: { 'x-amz-target': 'TrentService.ListKeys', 'content-type': 'application/x-amz-json-1.1', host: 'h' },
      body: Buffer.from('{}'),
    });
    expect(JSON.parse(unsigned.body).__type).toBe('IncompleteSignatureException');
  });
});

describe('AWS protocol: key management on the same keys', () => {
  it('CreateKey → DescribeKey → aliases → rotation → disable/enable → schedule/cancel deletion → tags, and the key is used through the Alibaba API too', async () => {
    const created = await kms.send(new CreateKeyCommand({ Description: 'made through AWS', Tags: [{ TagKey: 'team', TagValue: 'a' }] }));
    const keyId = created.KeyMetadata!.KeyId!;
    expect(created.KeyMetadata).toMatchObject({
      AWSAccountId: ACCOUNT_ID,
      Arn: arnOf(keyId),
      Enabled: true,
      KeyState: 'Enabled',
      KeyUsage: 'ENCRYPT_DECRYPT',
      Origin: 'AWS_KMS',
      KeySpec: 'SYMMETRIC_DEFAULT',
      Description: 'made through AWS',
    });
    expect(created.KeyMetadata!.CreationDate).toBeInstanceOf(Date);
    // The Alibaba API sees the same key.
    const viaAlibaba = await t.call(signedRpcRequest(ADMIN, 'GenerateDataKey', { KeyId: keyId }));
    expect(viaAlibaba.body.KeyId).toBe(keyId);

    await kms.send(new CreateAliasCommand({ AliasName: 'alias/aws-made', TargetKeyId: keyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws-made' }))).KeyMetadata!.KeyId).toBe(keyId);
    const aliases = await kms.send(new ListAliasesCommand({ KeyId: keyId }));
    expect(aliases.Aliases).toEqual([{ AliasName: 'alias/aws-made', AliasArn: `arn:aws:kms:${AWS_REGION}:${ACCOUNT_ID}:alias/aws-made`, TargetKeyId: keyId }]);
    await kms.send(new UpdateAliasCommand({ AliasName: 'alias/aws-made', TargetKeyId: OTHER_KEY_ID }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws-made' }))).KeyMetadata!.KeyId).toBe(OTHER_KEY_ID);
    await kms.send(new DeleteAliasCommand({ AliasName: 'alias/aws-made' }));

    expect((await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).KeyRotationEnabled).toBe(false);
    await kms.send(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: 180 }));
    expect(await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 180 });
    await kms.send(new DisableKeyRotationCommand({ KeyId: keyId }));

    await kms.send(new DisableKeyCommand({ KeyId: keyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata).toMatchObject({ Enabled: false, KeyState: 'Disabled' });
    await kms.send(new EnableKeyCommand({ KeyId: keyId }));

    const scheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    expect(scheduled).toMatchObject({ KeyId: arnOf(keyId), KeyState: 'PendingDeletion', PendingWindowInDays: 7 });
    expect(await awsError(kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: bytes(3) })))).toMatchObject({ name: 'KMSInvalidStateException' });
    expect((await kms.send(new CancelKeyDeletionCommand({ KeyId: keyId }))).KeyId).toBe(arnOf(keyId));

    await kms.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: 'env', TagValue: 'prod' }] }));
    expect((await kms.send(new ListResourceTagsCommand({ KeyId: keyId }))).Tags).toEqual([
      { TagKey: 'env', TagValue: 'prod' },
      { TagKey: 'team', TagValue: 'a' },
    ]);
    // Paged as AWS pages it: Limit 1–50, the NextMarker handed back.
    const first = await kms.send(new ListResourceTagsCommand({ KeyId: keyId, Limit: 1 }));
    expect(first).toMatchObject({ Tags: [{ TagKey: 'env', TagValue: 'prod' }], Truncated: true });
    const second = await kms.send(new ListResourceTagsCommand({ KeyId: keyId, Limit: 1, Marker: first.NextMarker! }));
    expect(second).toMatchObject({ Tags: [{ TagKey: 'team', TagValue: 'a' }], Truncated: false });
    for (const bad of [{ Limit: 0 }, { Limit: 51 }, { Marker: 'x' }]) {
      expect(await awsError(kms.send(new ListResourceTagsCommand({ KeyId: keyId, ...bad })))).toMatchObject({ name: 'ValidationException' });
    }
    await kms.send(new UntagResourceCommand({ KeyId: keyId, TagKeys: ['env'] }));
    expect((await kms.send(new ListResourceTagsCommand({ KeyId: keyId }))).Tags).toEqual([{ TagKey: 'team', TagValue: 'a' }]);
  });

  it('ListKeys pages with Limit and NextMarker', async () => {
    for (let i = 0; i < 3; i++) await kms.send(new CreateKeyCommand({}));
    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const page = await kms.send(new ListKeysCommand({ Limit: 2, ...(marker ? { Marker: marker } : {}) }));
      seen.push(...page.Keys!.map((k) => k.KeyId!));
      for (const k of page.Keys!) expect(k.KeyArn).toBe(arnOf(k.KeyId!));
      marker = page.Truncated ? page.NextMarker : undefined;
    } while (marker);
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
  });
});

describe('AWS protocol: signatures, replay, policies', () => {
  it('a request that signs an SDK attempt id is accepted once; replayed, it is refused (the same replay store as the Alibaba API; more in aws-replay.test.ts)', async () => {
    const request = signedAwsRequest(ADMIN, 'GenerateRandom', { NumberOfBytes: 8 }, { sdkRequest: 'attempt=1; max=3' });
    const first = await t.dispatch(request);
    expect(first.statusCode, first.body).toBe(200);
    const replay = await t.dispatch(request);
    expect(replay.statusCode).toBe(400);
    expect(JSON.parse(replay.body)).toMatchObject({ __type: 'InvalidSignatureException' });
  });

  it.each([
    ['a body changed after signing', (r: { body: Buffer }) => (r.body = Buffer.from('{"NumberOfBytes":9}'))],
    ['a target changed after signing', (r: { headers: Record<string, string> }) => (r.headers['x-amz-target'] = 'TrentService.ListKeys')],
    [
      'a signature one hex digit off',
      (r: { headers: Record<string, string> }) => (r.headers.authorization = r.headers.authorization!.replace(/.$/, (c) => (c === '0' ? '1' : '0'))),
    ],
  ])('%s: InvalidSignatureException', async (_what, tamper) => {
    const r = await t.dispatch(signedAwsRequest(ADMIN, 'GenerateRandom', { NumberOfBytes: 8 }, { afterSigning: tamper as never }));
    expect(JSON.parse(r.body).__type).toBe('InvalidSignatureException');
  });

  it('a timestamp more than 15 minutes off is refused; the scope date must be the X-Amz-Date day', async () => {
    const old = await t.dispatch(signedAwsRequest(ADMIN, 'GenerateRandom', {}, { amzDate: amzDateOf(Date.now() - 16 * 60_000) }));
    expect(JSON.parse(old.body).__type).toBe('InvalidSignatureException');
    const bad = await t.dispatch(signedAwsRequest(ADMIN, 'GenerateRandom', {}, { amzDate: '20261301T000000Z' }));
    expect(JSON.parse(bad.body).__type).toBe('InvalidSignatureException');
  });

  it('a policy may name a key by its AWS ARN: it applies to the key through both APIs, Allow and Deny alike', async () => {
    const AWS_NAMED = { accessKeyId: 'awsNamedKey001', accessKeySecret: 'aws-named-secret-0123456789' };
    await t.service.accessKeys.create({
      ...AWS_NAMED,
      status: 'Enabled',
      createdAt: new Date().toISOString(),
      policy: {
        Version: '1',
        Statement: [
          { Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: ['arn:aws:kms:*:*:key/*'] },
          { Effect: 'Deny', Action: 'kms:GenerateDataKey', Resource: [`arn:aws:kms:*:*:key/${OTHER_KEY_ID}`] },
        ],
      },
    });
    const aws = inProcessKmsClient(t, AWS_NAMED);
    expect((await aws.send(new GenerateDataKeyCommand({ KeyId: KEY_ID, NumberOfBytes: 16 }))).KeyId).toBe(arnOf(KEY_ID));
    expect(await awsError(aws.send(new GenerateDataKeyCommand({ KeyId: OTHER_KEY_ID, NumberOfBytes: 16 })))).toMatchObject({ name: 'AccessDeniedException' });
    expect((await t.call(signedRpcRequest(AWS_NAMED, 'GenerateDataKey', { KeyId: KEY_ID }))).status).toBe(200);
    expect((await t.call(signedRpcRequest(AWS_NAMED, 'GenerateDataKey', { KeyId: OTHER_KEY_ID }))).status).toBe(403);
  });
});

describe('AWS protocol: the audit log', () => {
  it('records AWS calls with the Action that served them and the AWS operation, as for Alibaba calls', async () => {
    const records: Array<Record<string, unknown>> = [];
    const audited = await createTestService();
    (audited.service as { audit?: unknown }).audit = { ready: async () => undefined, write: async (r: Record<string, unknown>) => void records.push(r) };
    const client = inProcessKmsClient(audited, ADMIN);
    await client.send(new EnableKeyRotationCommand({ KeyId: KEY_ID }));
    await awsError(client.send(new DescribeKeyCommand({ KeyId: 'alias/none' })));
    expect(records.map((r) => [r.action, r.awsOperation, r.code, r.status])).toEqual([
      ['UpdateRotationPolicy', 'EnableKeyRotation', 'OK', 200],
      ['DescribeKey', 'DescribeKey', 'Forbidden.AliasNotFound', 400],
    ]);
  });
});

describe('AWS protocol: review fixes', () => {
  it('fields asking for what is not offered are refused, never ignored: Recipient, CustomKeyStoreId, XksKeyId', async () => {
    const r1 = await t.dispatch(
      signedAwsRequest(ADMIN, 'GenerateDataKey', {
        KeyId: KEY_ID,
        NumberOfBytes: 32,
        Recipient: { AttestationDocument: 'AAAA', KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256' },
      }),
    );
    expect(r1.statusCode).toBe(400);
    expect(JSON.parse(r1.body)).toMatchObject({ __type: 'ValidationException' });
    expect(r1.body).not.toContain('Plaintext');
    for (const [op, body] of [
      ['CreateKey', { CustomKeyStoreId: 'cks-1' }],
      ['CreateKey', { XksKeyId: 'x' }],
      ['GenerateRandom', { NumberOfBytes: 8, CustomKeyStoreId: 'cks-1' }],
    ] as const) {
      expect(JSON.parse((await t.dispatch(signedAwsRequest(ADMIN, op, body))).body).__type).toBe('ValidationException');
    }
  });

  it('Decrypt with a KeyId the caller may not use answers as for any such key (no test of where an alias points), before decrypting; DryRun with a wrong KeyId is IncorrectKey', async () => {
    const blob = (await kms.send(new EncryptCommand({ KeyId: KEY_ID, Plaintext: bytes(4) }))).CiphertextBlob;
    expect(await awsError(kms.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: 'alias/none' })))).toMatchObject({ name: 'NotFoundException' });
    expect(await awsError(kms.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: OTHER_KEY_ID, DryRun: true })))).toMatchObject({
      name: 'IncorrectKeyException',
    });
    expect(await awsError(kms.send(new ReEncryptCommand({ CiphertextBlob: blob, SourceKeyId: OTHER_KEY_ID, DestinationKeyId: KEY_ID })))).toMatchObject({
      name: 'IncorrectKeyException',
    });
  });

  it('a request too large to read is answered in AWS form', async () => {
    const { unreadableRequestResponse } = await import('../../lib/adapters/unreadable-request.js');
    const { RequestTooLargeError } = await import('../../lib/errors.js');
    const r = unreadableRequestResponse(new RequestTooLargeError(65536), { 'X-Amz-Target': 'TrentService.Encrypt' });
    expect(r.statusCode).toBe(413);
    expect(JSON.parse(r.body)).toMatchObject({ __type: 'ValidationException' });
    expect(r.headers['content-type']).toBe('application/x-amz-json-1.1');
  });

  it('EnableKeyRotation without a period is AWS’s 365 days, whatever the key had', async () => {
    await t.call(signedRpcRequest(ADMIN, 'UpdateRotationPolicy', { KeyId: KEY_ID, EnableAutomaticRotation: 'true', RotationInterval: '30d' }));
    await kms.send(new EnableKeyRotationCommand({ KeyId: KEY_ID }));
    expect((await kms.send(new GetKeyRotationStatusCommand({ KeyId: KEY_ID }))).RotationPeriodInDays).toBe(365);
  });

  it('ScheduleKeyDeletion by alias names the key it scheduled', async () => {
    const r = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: 'alias/other', PendingWindowInDays: 7 }));
    expect(r.KeyId).toBe(arnOf(OTHER_KEY_ID));
    expect((await kms.send(new CancelKeyDeletionCommand({ KeyId: 'alias/other' }))).KeyId).toBe(arnOf(OTHER_KEY_ID));
  });
});

describe('Protocols keep to their own parameters', () => {
  it("an Alibaba caller's AwsKeyId and AwsSourceKeyId are unknown parameters, ignored as any unknown one is: they never name the key a blob must be under", async () => {
    const blob = (await t.call(signedRpcRequest(ADMIN, 'Encrypt', { KeyId: KEY_ID, Plaintext: 'secret' }))).body.CiphertextBlob as string;
    // On AWS, a KeyId other than the blob's is IncorrectKey; on Alibaba the same names are no parameters at all.
    for (const extra of [{ AwsKeyId: OTHER_KEY_ID }, { AwsKeyId: 'alias/none' }, { Foo: OTHER_KEY_ID }] as Array<Record<string, string>>) {
      const decrypted = await t.call(signedRpcRequest(ADMIN, 'Decrypt', { CiphertextBlob: blob, ...extra }));
      expect(decrypted.status, decrypted.raw).toBe(200);
      expect(decrypted.body).toMatchObject({ KeyId: KEY_ID, Plaintext: 'secret' });
    }
    for (const extra of [{ AwsSourceKeyId: OTHER_KEY_ID }, { AwsSourceKeyId: 'alias/none' }, { Foo: OTHER_KEY_ID }] as Array<Record<string, string>>) {
      const reEncrypted = await t.call(signedRpcRequest(ADMIN, 'ReEncrypt', { CiphertextBlob: blob, DestinationKeyId: OTHER_KEY_ID, ...extra }));
      expect(reEncrypted.status, reEncrypted.raw).toBe(200);
      expect(reEncrypted.body).toMatchObject({ SourceKeyId: KEY_ID, KeyId: OTHER_KEY_ID });
    }
    // A caller allowed only Decrypt is not asked about the key such a parameter names either.
    expect((await t.call(signedRpcRequest(CONSUMER, 'Decrypt', { CiphertextBlob: blob, AwsKeyId: OTHER_KEY_ID }))).status).toBe(200);
  });

  it('an AWS field that cannot be read is named as AWS names it, not by an Alibaba parameter it once became', async () => {
    const createAlias = await t.dispatch(signedAwsRequest(ADMIN, 'CreateAlias', { AliasName: 'alias/named', TargetKeyId: '' }));
    expect(createAlias.statusCode).toBe(400);
    expect(JSON.parse(createAlias.body)).toMatchObject({ __type: 'ValidationException', message: expect.stringContaining('"TargetKeyId"') });
    // A Marker past the last page this service can number is not a NextMarker it returned (not "PageNumber", which AWS has not).
    const listKeys = await t.dispatch(signedAwsRequest(ADMIN, 'ListKeys', { Marker: '1000001' }));
    expect(listKeys.statusCode).toBe(400);
    expect(JSON.parse(listKeys.body)).toMatchObject({ __type: 'ValidationException', message: expect.stringContaining('"Marker"') });
    expect(JSON.parse((await t.dispatch(signedAwsRequest(ADMIN, 'ListKeys', { Marker: '1000000' }))).body)).toMatchObject({ Keys: [], Truncated: false });
  });
});
