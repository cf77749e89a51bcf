import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { join } from 'node:path';
import * as Kms from '@aws-sdk/client-kms';
import { buildClient, CommitmentPolicy, getClient, KMS, KmsKeyringNode } from '@aws-crypto/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_OPERATIONS } from '../../functions/actions.js';
import { killAllGateways, makeTempDir, type ReadyGateway, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { ACCOUNT_ID, ADMIN, ALIAS, KEY_ID, OTHER_KEY_ID, TEST_SEED } from '../helpers/service.js';
import { signedRpcRequest } from '../helpers/sign.js';

/*
 * The AWS KMS protocol against the real gateway process, through the official AWS SDK for
 * JavaScript v3 (@aws-sdk/client-kms, endpoint pointed at the gateway) for every operation served,
 * and through the AWS Encryption SDK (@aws-crypto/client-node) with a KMS keyring.
 */

const REGION = 'us-east-1';
const arnOf = (keyId: string) => `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/${keyId}`;

let dir: string;
let gateway: ReadyGateway;
let kms: Kms.KMSClient;
const credentials = { accessKeyId: ADMIN.accessKeyId, secretAccessKey: ADMIN.accessKeySecret };

beforeAll(async () => {
  dir = await makeTempDir();
  gateway = await startGateway({ dataDir: join(dir, 'data'), seedFile: await writeSeedFile(dir, TEST_SEED) });
  kms = new Kms.KMSClient({ region: REGION, endpoint: `http://127.0.0.1:${gateway.port}`, credentials });
});

afterAll(async () => {
  kms?.destroy();
  if (gateway) expect(await gateway.stop('SIGTERM')).toBe(0);
  await killAllGateways();
  await removeDir(dir);
});

async function refused(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as Error).name;
  }
  throw new Error('expected the call to be refused');
}

describe('@aws-sdk/client-kms against the gateway: every operation served', () => {
  const SCENARIOS: Record<string, () => Promise<void>> = {
    async GenerateDataKey() {
      const r = await kms.send(new Kms.GenerateDataKeyCommand({ KeyId: ALIAS, KeySpec: 'AES_256', EncryptionContext: { e2e: 'aws' } }));
      expect(r.KeyId).toBe(arnOf(KEY_ID));
      expect(r.Plaintext).toHaveLength(32);
      const d = await kms.send(new Kms.DecryptCommand({ CiphertextBlob: r.CiphertextBlob, EncryptionContext: { e2e: 'aws' } }));
      expect(Buffer.from(d.Plaintext!).equals(Buffer.from(r.Plaintext!))).toBe(true);
    },
    async GenerateDataKeyWithoutPlaintext() {
      const r = await kms.send(new Kms.GenerateDataKeyWithoutPlaintextCommand({ KeyId: arnOf(KEY_ID), NumberOfBytes: 64 }));
      expect(r.KeyId).toBe(arnOf(KEY_ID));
      expect((await kms.send(new Kms.DecryptCommand({ CiphertextBlob: r.CiphertextBlob }))).Plaintext).toHaveLength(64);
    },
    async Encrypt() {
      const r = await kms.send(new Kms.EncryptCommand({ KeyId: KEY_ID, Plaintext: new Uint8Array([1, 2, 3, 0, 255]) }));
      expect(r).toMatchObject({ KeyId: arnOf(KEY_ID), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
    },
    async Decrypt() {
      const e = await kms.send(new Kms.EncryptCommand({ KeyId: KEY_ID, Plaintext: Buffer.from('hello from AWS') }));
      const d = await kms.send(new Kms.DecryptCommand({ CiphertextBlob: e.CiphertextBlob, KeyId: ALIAS }));
      expect(Buffer.from(d.Plaintext!).toString()).toBe('hello from AWS');
      expect(await refused(kms.send(new Kms.DecryptCommand({ CiphertextBlob: e.CiphertextBlob, KeyId: OTHER_KEY_ID })))).toBe('IncorrectKeyException');
    },
    async ReEncrypt() {
      const e = await kms.send(new Kms.EncryptCommand({ KeyId: KEY_ID, Plaintext: Buffer.from('move me') }));
      const r = await kms.send(new Kms.ReEncryptCommand({ CiphertextBlob: e.CiphertextBlob, DestinationKeyId: OTHER_KEY_ID }));
      expect(r).toMatchObject({ KeyId: arnOf(OTHER_KEY_ID), SourceKeyId: arnOf(KEY_ID) });
      expect(Buffer.from((await kms.send(new Kms.DecryptCommand({ CiphertextBlob: r.CiphertextBlob }))).Plaintext!).toString()).toBe('move me');
    },
    async GenerateRandom() {
      expect((await kms.send(new Kms.GenerateRandomCommand({ NumberOfBytes: 17 }))).Plaintext).toHaveLength(17);
    },
    async DescribeKey() {
      const m = (await kms.send(new Kms.DescribeKeyCommand({ KeyId: ALIAS }))).KeyMetadata!;
      expect(m).toMatchObject({ KeyId: KEY_ID, Arn: arnOf(KEY_ID), KeyState: 'Enabled', Enabled: true, KeyManager: 'CUSTOMER' });
    },
    async ListKeys() {
      const r = await kms.send(new Kms.ListKeysCommand({ Limit: 1000 }));
      expect(r.Keys!.map((k) => k.KeyId)).toEqual(expect.arrayContaining([KEY_ID, OTHER_KEY_ID]));
    },
    async ListAliases() {
      const all = await kms.send(new Kms.ListAliasesCommand({}));
      expect(all.Aliases).toContainEqual({ AliasName: ALIAS, AliasArn: `arn:aws:kms:${REGION}:${ACCOUNT_ID}:${ALIAS}`, TargetKeyId: KEY_ID });
      // With a KeyId: that key's aliases only (another scenario may have added one to it).
      const mine = (await kms.send(new Kms.ListAliasesCommand({ KeyId: KEY_ID }))).Aliases!;
      expect(mine.map((a) => a.AliasName)).toContain(ALIAS);
      expect(mine.map((a) => a.AliasName)).not.toContain('alias/other');
      for (const alias of mine) expect(alias.TargetKeyId).toBe(KEY_ID);
    },
    async CreateKey() {
      const m = (await kms.send(new Kms.CreateKeyCommand({ Description: 'e2e' }))).KeyMetadata!;
      expect(m).toMatchObject({ Origin: 'AWS_KMS', KeyState: 'Enabled', Description: 'e2e', Arn: arnOf(m.KeyId!) });
      const external = (await kms.send(new Kms.CreateKeyCommand({ Origin: 'EXTERNAL' }))).KeyMetadata!;
      expect(external).toMatchObject({ Origin: 'EXTERNAL', KeyState: 'PendingImport', Enabled: false });
    },
    async CreateAlias() {
      await kms.send(new Kms.CreateAliasCommand({ AliasName: 'alias/e2e-aws-create', TargetKeyId: KEY_ID }));
      expect((await kms.send(new Kms.DescribeKeyCommand({ KeyId: 'alias/e2e-aws-create' }))).KeyMetadata!.KeyId).toBe(KEY_ID);
      expect(await refused(kms.send(new Kms.CreateAliasCommand({ AliasName: 'alias/e2e-aws-create', TargetKeyId: KEY_ID })))).toBe('AlreadyExistsException');
    },
    async UpdateAlias() {
      await kms.send(new Kms.CreateAliasCommand({ AliasName: 'alias/e2e-aws-update', TargetKeyId: KEY_ID }));
      await kms.send(new Kms.UpdateAliasCommand({ AliasName: 'alias/e2e-aws-update', TargetKeyId: OTHER_KEY_ID }));
      expect((await kms.send(new Kms.DescribeKeyCommand({ KeyId: 'alias/e2e-aws-update' }))).KeyMetadata!.KeyId).toBe(OTHER_KEY_ID);
    },
    async DeleteAlias() {
      await kms.send(new Kms.CreateAliasCommand({ AliasName: 'alias/e2e-aws-delete', TargetKeyId: KEY_ID }));
      await kms.send(new Kms.DeleteAliasCommand({ AliasName: 'alias/e2e-aws-delete' }));
      expect(await refused(kms.send(new Kms.DescribeKeyCommand({ KeyId: 'alias/e2e-aws-delete' })))).toBe('NotFoundException');
    },
    async EnableKey() {
      const keyId = (await kms.send(new Kms.CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      await kms.send(new Kms.DisableKeyCommand({ KeyId: keyId }));
      await kms.send(new Kms.EnableKeyCommand({ KeyId: keyId }));
      expect((await kms.send(new Kms.DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!.Enabled).toBe(true);
    },
    async DisableKey() {
      const keyId = (await kms.send(new Kms.CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      await kms.send(new Kms.DisableKeyCommand({ KeyId: keyId }));
      expect(await refused(kms.send(new Kms.GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 32 })))).toBe('DisabledException');
    },
    async ScheduleKeyDeletion() {
      const keyId = (await kms.send(new Kms.CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      const r = await kms.send(new Kms.ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
      expect(r).toMatchObject({ KeyId: arnOf(keyId), KeyState: 'PendingDeletion', PendingWindowInDays: 7 });
      expect(r.DeletionDate!.getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    },
    async CancelKeyDeletion() {
      const keyId = (await kms.send(new Kms.CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      await kms.send(new Kms.ScheduleKeyDeletionCommand({ KeyId: keyId }));
      expect((await kms.send(new Kms.CancelKeyDeletionCommand({ KeyId: keyId }))).KeyId).toBe(arnOf(keyId));
      // AWS documents Disabled after a cancellation.
      expect((await kms.send(new Kms.DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata).toMatchObject({ KeyState: 'Disabled', Enabled: false });
    },
    async EnableKeyRotation() {
      const keyId = (await kms.send(new Kms.CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      await kms.send(new Kms.EnableKeyRotationCommand({ KeyId: keyId }));
      expect(await kms.send(new Kms.GetKeyRotationStatusCommand({ KeyId: keyId }))).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 365 });
    },
    async DisableKeyRotation() {
      const keyId = (await kms.send(new Kms.CreateKeyCommand({}))).KeyMetadata!.KeyId!;
      await kms.send(new Kms.EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: 90 }));
      await kms.send(new Kms.DisableKeyRotationCommand({ KeyId: keyId }));
      expect((await kms.send(new Kms.GetKeyRotationStatusCommand({ KeyId: keyId }))).KeyRotationEnabled).toBe(false);
    },
    async GetKeyRotationStatus() {
      expect(await kms.send(new Kms.GetKeyRotationStatusCommand({ KeyId: arnOf(KEY_ID) }))).toMatchObject({ KeyId: arnOf(KEY_ID), KeyRotationEnabled: false });
    },
    async TagResource() {
      const keyId = (await kms.send(new Kms.CreateKeyCommand({ Tags: [{ TagKey: 'a', TagValue: '1' }] }))).KeyMetadata!.KeyId!;
      await kms.send(new Kms.TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: 'b', TagValue: '2' }] }));
      expect((await kms.send(new Kms.ListResourceTagsCommand({ KeyId: keyId }))).Tags).toEqual([
        { TagKey: 'a', TagValue: '1' },
        { TagKey: 'b', TagValue: '2' },
      ]);
    },
    async UntagResource() {
      const keyId = (await kms.send(new Kms.CreateKeyCommand({ Tags: [{ TagKey: 'a', TagValue: '1' }] }))).KeyMetadata!.KeyId!;
      await kms.send(new Kms.UntagResourceCommand({ KeyId: keyId, TagKeys: ['a'] }));
      expect((await kms.send(new Kms.ListResourceTagsCommand({ KeyId: keyId }))).Tags).toEqual([]);
    },
    async ListResourceTags() {
      expect((await kms.send(new Kms.ListResourceTagsCommand({ KeyId: KEY_ID }))).Tags).toEqual([]);
    },
    async GenerateDataKeyPair() {
      const r = await kms.send(new Kms.GenerateDataKeyPairCommand({ KeyId: ALIAS, KeyPairSpec: 'ECC_NIST_P256', EncryptionContext: { e2e: 'pair' } }));
      expect(r).toMatchObject({ KeyId: arnOf(KEY_ID), KeyPairSpec: 'ECC_NIST_P256' });
      const privateKey = createPrivateKey({ key: Buffer.from(r.PrivateKeyPlaintext!), format: 'der', type: 'pkcs8' });
      const publicKey = createPublicKey({ key: Buffer.from(r.PublicKey!), format: 'der', type: 'spki' });
      expect(verify('sha256', Buffer.from('m'), publicKey, sign('sha256', Buffer.from('m'), privateKey))).toBe(true);
      const d = await kms.send(new Kms.DecryptCommand({ CiphertextBlob: r.PrivateKeyCiphertextBlob, EncryptionContext: { e2e: 'pair' } }));
      expect(Buffer.from(d.Plaintext!).equals(Buffer.from(r.PrivateKeyPlaintext!))).toBe(true);
    },
    async GenerateDataKeyPairWithoutPlaintext() {
      const r = await kms.send(new Kms.GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: KEY_ID, KeyPairSpec: 'RSA_2048' }));
      expect(r).not.toHaveProperty('PrivateKeyPlaintext');
      const d = await kms.send(new Kms.DecryptCommand({ CiphertextBlob: r.PrivateKeyCiphertextBlob }));
      const publicKey = createPublicKey(createPrivateKey({ key: Buffer.from(d.Plaintext!), format: 'der', type: 'pkcs8' }));
      expect(publicKey.export({ type: 'spki', format: 'der' }).equals(Buffer.from(r.PublicKey!))).toBe(true);
    },
    // The operations of asymmetric and HMAC keys (more in asymmetric-clients.test.ts), each on a key it makes.
    async Sign() {
      const keyId = await newKey('ECC_NIST_P256', 'SIGN_VERIFY');
      const r = await kms.send(new Kms.SignCommand({ KeyId: keyId, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' }));
      expect(r).toMatchObject({ KeyId: arnOf(keyId), SigningAlgorithm: 'ECDSA_SHA_256' });
      const publicKey = createPublicKey({
        key: Buffer.from((await kms.send(new Kms.GetPublicKeyCommand({ KeyId: keyId }))).PublicKey!),
        format: 'der',
        type: 'spki',
      });
      expect(verify('sha256', Buffer.from('m'), publicKey, Buffer.from(r.Signature!))).toBe(true);
    },
    async Verify() {
      const keyId = await newKey('ECC_SECG_P256K1', 'SIGN_VERIFY');
      const digest = createHash('sha256').update('m').digest();
      const { Signature } = await kms.send(new Kms.SignCommand({ KeyId: keyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }));
      const check = (message: Uint8Array) => kms.send(new Kms.VerifyCommand({ KeyId: keyId, Message: message, Signature, SigningAlgorithm: 'ECDSA_SHA_256' }));
      expect(await check(Buffer.from('m'))).toMatchObject({ KeyId: arnOf(keyId), SignatureValid: true });
      expect(await refused(check(Buffer.from('n')))).toBe('KMSInvalidSignatureException');
    },
    async GetPublicKey() {
      const keyId = await newKey('ECC_NIST_P256', 'SIGN_VERIFY');
      const r = await kms.send(new Kms.GetPublicKeyCommand({ KeyId: keyId }));
      expect(r).toMatchObject({ KeyId: arnOf(keyId), KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: ['ECDSA_SHA_256'] });
      expect(createPublicKey({ key: Buffer.from(r.PublicKey!), format: 'der', type: 'spki' }).asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
      expect(await refused(kms.send(new Kms.GetPublicKeyCommand({ KeyId: KEY_ID })))).toBe('UnsupportedOperationException');
    },
    async GenerateMac() {
      const keyId = await newKey('HMAC_256', 'GENERATE_VERIFY_MAC');
      const mac = (message: string) => kms.send(new Kms.GenerateMacCommand({ KeyId: keyId, Message: Buffer.from(message), MacAlgorithm: 'HMAC_SHA_256' }));
      const r = await mac('m');
      expect(r).toMatchObject({ KeyId: arnOf(keyId), MacAlgorithm: 'HMAC_SHA_256' });
      expect(r.Mac).toHaveLength(32);
      expect(Buffer.from((await mac('m')).Mac!).equals(Buffer.from(r.Mac!))).toBe(true);
    },
    async VerifyMac() {
      const keyId = await newKey('HMAC_512', 'GENERATE_VERIFY_MAC');
      const { Mac } = await kms.send(new Kms.GenerateMacCommand({ KeyId: keyId, Message: Buffer.from('m'), MacAlgorithm: 'HMAC_SHA_512' }));
      const check = (message: string) => kms.send(new Kms.VerifyMacCommand({ KeyId: keyId, Message: Buffer.from(message), Mac, MacAlgorithm: 'HMAC_SHA_512' }));
      expect(await check('m')).toMatchObject({ KeyId: arnOf(keyId), MacValid: true });
      expect(await refused(check('n'))).toBe('KMSInvalidMacException');
    },
  };

  /** A new key of this spec and usage, made through the AWS API. */
  async function newKey(KeySpec: Kms.KeySpec, KeyUsage: Kms.KeyUsageType): Promise<string> {
    return (await kms.send(new Kms.CreateKeyCommand({ KeySpec, KeyUsage }))).KeyMetadata!.KeyId!;
  }

  it('when the table of AWS operations changes, this suite has a scenario for each', () => {
    expect(Object.keys(SCENARIOS).sort()).toEqual([...AWS_OPERATIONS.keys()].sort());
  });

  it.each([...AWS_OPERATIONS.keys()])('%s', async (target) => {
    await SCENARIOS[target]!();
  });

  it('a key made through the AWS API works through the Alibaba API, and the other way round', async () => {
    const alibaba = async (action: string, params: Record<string, string>) => {
      const request = signedRpcRequest(ADMIN, action, params);
      const answer = await fetch(`http://127.0.0.1:${gateway.port}/?${request.rawQuery}`, { headers: request.headers as Record<string, string> });
      expect(answer.status).toBe(200);
      return (await answer.json()) as Record<string, any>;
    };
    const viaAws = (await kms.send(new Kms.CreateKeyCommand({ Description: 'both ways' }))).KeyMetadata!.KeyId!;
    expect((await alibaba('GenerateDataKey', { KeyId: viaAws })).KeyId).toBe(viaAws);
    const viaAlibaba = (await alibaba('CreateKey', { Description: 'the other way' })).KeyMetadata.KeyId as string;
    const r = await kms.send(new Kms.GenerateDataKeyCommand({ KeyId: viaAlibaba, NumberOfBytes: 32 }));
    expect(r.KeyId).toBe(arnOf(viaAlibaba));
  });
});

describe('the AWS Encryption SDK (@aws-crypto/client-node) with a KMS keyring on the gateway', () => {
  it('encrypts and decrypts a message; the data key comes from GenerateDataKey and is opened by Decrypt on this service', async () => {
    const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    const clientProvider = getClient(KMS, { endpoint: `http://127.0.0.1:${gateway.port}`, credentials });
    const keyring = new KmsKeyringNode({ generatorKeyId: arnOf(KEY_ID), keyIds: [arnOf(OTHER_KEY_ID)], clientProvider });
    const message = Buffer.from('a message sealed by the AWS Encryption SDK, with keys from this service');
    const { result } = await encrypt(keyring, message, { encryptionContext: { tenant: 'acme' } });
    expect(result.includes(message)).toBe(false);
    const { plaintext, messageHeader } = await decrypt(keyring, result);
    expect(Buffer.from(plaintext).equals(message)).toBe(true);
    expect(messageHeader.encryptionContext).toMatchObject({ tenant: 'acme' });
    // Two encrypted data keys: one under each key of the keyring; either key alone decrypts.
    expect(messageHeader.encryptedDataKeys.map((k) => k.providerInfo).sort()).toEqual([arnOf(KEY_ID), arnOf(OTHER_KEY_ID)].sort());
    const otherOnly = new KmsKeyringNode({ keyIds: [arnOf(OTHER_KEY_ID)], clientProvider });
    expect(Buffer.from((await decrypt(otherOnly, result)).plaintext).equals(message)).toBe(true);
  });
});
