import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import {
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyPairCommand,
  GenerateDataKeyPairWithoutPlaintextCommand,
  type DataKeyPairSpec,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditLog, AuditRecord } from '../../lib/audit/audit-log.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import { createLogger } from '../../lib/logger.js';
import { createDispatcher } from '../../lib/middleware/dispatch.js';
import { applySeed } from '../../lib/seed.js';
import { createService } from '../../lib/service.js';
import { OPERATIONS } from '../../functions/actions.js';
import { inProcessKmsClient } from '../helpers/aws.js';
import { type AlibabaCaller, alibabaCaller, awsFailure } from '../helpers/kms-calls.js';
import { ACCOUNT_ID, ADMIN, ALIAS, createTestService, DISABLED_KEY_ID, KEY_ID, PROVIDER, REGION, TEST_SEED, type TestService } from '../helpers/service.js';
import { signedRpcRequest, signedV3Request } from '../helpers/sign.js';
import { expectError } from './support.js';

/*
 * GenerateDataKeyPair / GenerateDataKeyPairWithoutPlaintext (AWS only): a fresh key pair whose
 * private key (PKCS #8) is sealed under a symmetric key like any blob. Proved with node:crypto
 * outside: the public key (SPKI) verifies what the private key signs, and Decrypt of the sealed
 * private key with the same EncryptionContext returns the PKCS #8.
 */

let t: TestService;
let ali: AlibabaCaller;
let aws: KMSClient;
beforeAll(async () => {
  t = await createTestService();
  ali = alibabaCaller(t);
  aws = inProcessKmsClient(t, ADMIN);
});

const CONTEXT = { tenant: 'acme', purpose: 'signing-pair' };

/** The pair's halves as node reads them, and whether the public key verifies what the private key signs. */
function checkPair(publicKeyDer: Uint8Array, privateKeyDer: Uint8Array): { publicKey: KeyObject; privateKey: KeyObject } {
  const publicKey = createPublicKey({ key: Buffer.from(publicKeyDer), format: 'der', type: 'spki' });
  const privateKey = createPrivateKey({ key: Buffer.from(privateKeyDer), format: 'der', type: 'pkcs8' });
  const message = Buffer.from('data key pair');
  const signature = sign('sha256', message, privateKey);
  expect(verify('sha256', message, publicKey, signature)).toBe(true);
  expect(verify('sha256', Buffer.from('another message'), publicKey, signature)).toBe(false);
  return { publicKey, privateKey };
}

const SPECS: Array<[DataKeyPairSpec, Record<string, unknown>]> = [
  ['RSA_2048', { asymmetricKeyType: 'rsa', details: { modulusLength: 2048, publicExponent: 65537n } }],
  ['RSA_3072', { asymmetricKeyType: 'rsa', details: { modulusLength: 3072 } }],
  ['ECC_NIST_P256', { asymmetricKeyType: 'ec', details: { namedCurve: 'prime256v1' } }],
  ['ECC_SECG_P256K1', { asymmetricKeyType: 'ec', details: { namedCurve: 'secp256k1' } }],
  ['ECC_NIST_P384', { asymmetricKeyType: 'ec', details: { namedCurve: 'secp384r1' } }],
  ['ECC_NIST_P521', { asymmetricKeyType: 'ec', details: { namedCurve: 'secp521r1' } }],
];

describe('GenerateDataKeyPair', () => {
  it.each(SPECS)('%s: a matching SPKI / PKCS #8 pair, the private key sealed under the symmetric key with the context bound', async (spec, shape) => {
    const r = await aws.send(new GenerateDataKeyPairCommand({ KeyId: ALIAS, KeyPairSpec: spec, EncryptionContext: CONTEXT }));
    expect(r.KeyPairSpec).toBe(spec);
    expect(r.KeyId).toBe(`arn:aws:kms:us-east-1:${ACCOUNT_ID}:key/${KEY_ID}`);
    const { publicKey, privateKey } = checkPair(r.PublicKey!, r.PrivateKeyPlaintext!);
    expect({ asymmetricKeyType: privateKey.asymmetricKeyType, details: privateKey.asymmetricKeyDetails }).toMatchObject(shape);
    expect(publicKey.asymmetricKeyType).toBe(privateKey.asymmetricKeyType);
    // The sealed private key is a normal blob: Decrypt with the same context returns the PKCS #8.
    const opened = await aws.send(new DecryptCommand({ CiphertextBlob: r.PrivateKeyCiphertextBlob, EncryptionContext: CONTEXT }));
    expect(Buffer.from(opened.Plaintext!)).toEqual(Buffer.from(r.PrivateKeyPlaintext!));
    expect(opened.KeyId).toBe(r.KeyId);
    for (const EncryptionContext of [{ tenant: 'acme' }, { ...CONTEXT, purpose: 'other' }, undefined]) {
      expect(await awsFailure(aws.send(new DecryptCommand({ CiphertextBlob: r.PrivateKeyCiphertextBlob, EncryptionContext })))).toMatchObject({
        name: 'InvalidCiphertextException',
        status: 400,
      });
    }
  });

  it('every pair is new', async () => {
    const [a, b] = await Promise.all([
      aws.send(new GenerateDataKeyPairCommand({ KeyId: KEY_ID, KeyPairSpec: 'ECC_NIST_P256' })),
      aws.send(new GenerateDataKeyPairCommand({ KeyId: KEY_ID, KeyPairSpec: 'ECC_NIST_P256' })),
    ]);
    expect(Buffer.from(a.PublicKey!).equals(Buffer.from(b.PublicKey!))).toBe(false);
  });

  it('WithoutPlaintext answers no private key; Decrypt of the blob gives the PKCS #8 of the public key', async () => {
    const r = await aws.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: KEY_ID, KeyPairSpec: 'RSA_2048', EncryptionContext: CONTEXT }));
    expect(r).not.toHaveProperty('PrivateKeyPlaintext');
    expect(r.KeyPairSpec).toBe('RSA_2048');
    const opened = await aws.send(new DecryptCommand({ CiphertextBlob: r.PrivateKeyCiphertextBlob, EncryptionContext: CONTEXT }));
    checkPair(r.PublicKey!, opened.Plaintext!);
  });

  it('the wrapping key must be a symmetric encryption key: an RSA, EC or HMAC key is InvalidKeyUsageException', async () => {
    for (const [KeySpec, KeyUsage] of [
      ['RSA_2048', 'ENCRYPT_DECRYPT'],
      ['ECC_NIST_P256', 'SIGN_VERIFY'],
      ['HMAC_256', 'GENERATE_VERIFY_MAC'],
    ] as const) {
      const { KeyId } = (await aws.send(new CreateKeyCommand({ KeySpec, KeyUsage }))).KeyMetadata!;
      for (const command of [
        new GenerateDataKeyPairCommand({ KeyId, KeyPairSpec: 'ECC_NIST_P256' }),
        new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId, KeyPairSpec: 'ECC_NIST_P256' }),
      ]) {
        expect(await awsFailure(aws.send(command as GenerateDataKeyPairCommand))).toMatchObject({ name: 'InvalidKeyUsageException', status: 400 });
      }
    }
  });

  it.each<[string, string]>([
    ['SM2', 'UnsupportedOperationException'],
    ['ECC_NIST_EDWARDS25519', 'UnsupportedOperationException'],
    ['ML_KEM_768', 'UnsupportedOperationException'],
    ['RSA_1024', 'ValidationException'],
    ['SYMMETRIC_DEFAULT', 'ValidationException'],
    ['HMAC_256', 'ValidationException'],
    ['EC_P256', 'ValidationException'],
  ])('KeyPairSpec %s is %s (400)', async (spec, type) => {
    const r = await awsFailure(aws.send(new GenerateDataKeyPairCommand({ KeyId: KEY_ID, KeyPairSpec: spec as DataKeyPairSpec })));
    expect(r).toMatchObject({ name: type, status: 400 });
  });

  it('a missing KeyId or KeyPairSpec, or a Recipient, is a ValidationException', async () => {
    for (const input of [
      { KeyPairSpec: 'RSA_2048' },
      { KeyId: KEY_ID },
      { KeyId: KEY_ID, KeyPairSpec: 'RSA_2048', Recipient: { KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', AttestationDocument: Buffer.from('x') } },
    ]) {
      expect(await awsFailure(aws.send(new GenerateDataKeyPairCommand(input as never)))).toMatchObject({ name: 'ValidationException', status: 400 });
    }
  });

  it('DryRun is DryRunOperationException; a Disabled key is DisabledException; a missing key NotFoundException', async () => {
    expect(await awsFailure(aws.send(new GenerateDataKeyPairCommand({ KeyId: KEY_ID, KeyPairSpec: 'RSA_2048', DryRun: true })))).toMatchObject({
      name: 'DryRunOperationException',
    });
    expect(await awsFailure(aws.send(new GenerateDataKeyPairCommand({ KeyId: DISABLED_KEY_ID, KeyPairSpec: 'RSA_2048' })))).toMatchObject({
      name: 'DisabledException',
    });
    expect(
      await awsFailure(aws.send(new GenerateDataKeyPairCommand({ KeyId: '00000000-0000-4000-8000-000000000000', KeyPairSpec: 'RSA_2048' }))),
    ).toMatchObject({ name: 'NotFoundException' });
  });

  it('the RAM action is the operation’s own: kms:GenerateDataKeyWithoutPlaintext does not allow GenerateDataKeyPairWithoutPlaintext', async () => {
    const provider = inProcessKmsClient(t, PROVIDER);
    expect(await awsFailure(provider.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: KEY_ID, KeyPairSpec: 'ECC_NIST_P256' })))).toMatchObject({
      name: 'AccessDeniedException',
    });
  });

  it('the Alibaba protocol has no such Action: 404 InvalidAction.NotFound (RPC and ACS3 signatures), never a 5xx', async () => {
    for (const action of ['GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext']) {
      expectError(await ali.call(action, { KeyId: KEY_ID, KeyPairSpec: 'RSA_2048' }), 404, 'InvalidAction.NotFound');
      expectError(await t.call(signedV3Request(ADMIN, action, { KeyId: KEY_ID, KeyPairSpec: 'RSA_2048' })), 404, 'InvalidAction.NotFound');
    }
  });
});

/** An audit log in memory. */
class MemoryAuditLog implements AuditLog {
  records: AuditRecord[] = [];
  async write(record: AuditRecord): Promise<void> {
    this.records.push(JSON.parse(JSON.stringify(record)) as AuditRecord);
  }
  async ready(): Promise<void> {}
  async close(): Promise<void> {}
}

describe('audit lines and logs', () => {
  it('name the Action and the AWS operation, and never carry a plaintext or a private key', async () => {
    const audit = new MemoryAuditLog();
    const logLines: string[] = [];
    const service = createService({
      store: new MemoryKeyStore(),
      region: REGION,
      accountId: ACCOUNT_ID,
      audit,
      logger: createLogger({ level: 'debug', write: (line) => logLines.push(line) }),
    });
    await applySeed(TEST_SEED, service);
    const dispatch = createDispatcher(service, OPERATIONS);
    const client = inProcessKmsClient({ dispatch }, ADMIN);
    const call = async (action: string, params: Record<string, string>) => JSON.parse((await dispatch(signedRpcRequest(ADMIN, action, params))).body);

    const pair = await client.send(new GenerateDataKeyPairCommand({ KeyId: KEY_ID, KeyPairSpec: 'RSA_2048' }));
    const { KeyId } = (await client.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' }))).KeyMetadata!;
    const secret = Buffer.from('a secret that must not be logged');
    const viaAws = await client.send(new EncryptCommand({ KeyId, Plaintext: secret, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    await client.send(new DecryptCommand({ KeyId, CiphertextBlob: viaAws.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    const versionId = (await call('ListKeyVersions', { KeyId: KeyId! })).KeyVersions.KeyVersion[0].KeyVersionId;
    const sealed = await call('AsymmetricEncrypt', {
      KeyId: KeyId!,
      KeyVersionId: versionId,
      Algorithm: 'RSAES_OAEP_SHA_1',
      Plaintext: secret.toString('base64'),
    });
    const opened = await call('AsymmetricDecrypt', {
      KeyId: KeyId!,
      KeyVersionId: versionId,
      Algorithm: 'RSAES_OAEP_SHA_1',
      CiphertextBlob: sealed.CiphertextBlob,
    });
    expect(opened.Plaintext).toBe(secret.toString('base64'));

    expect(audit.records.filter((r) => r.awsOperation).map((r) => [r.action, r.awsOperation, r.code])).toEqual([
      ['GenerateDataKeyPair', 'GenerateDataKeyPair', 'OK'],
      ['CreateKey', 'CreateKey', 'OK'],
      ['AsymmetricEncrypt', 'Encrypt', 'OK'],
      ['AsymmetricDecrypt', 'Decrypt', 'OK'],
    ]);
    expect(audit.records.map((r) => r.action)).toEqual(expect.arrayContaining(['AsymmetricEncrypt', 'AsymmetricDecrypt']));
    const written = JSON.stringify(audit.records) + logLines.join('\n');
    const privateKey = Buffer.from(pair.PrivateKeyPlaintext!).toString('base64');
    for (const needle of [secret.toString('base64'), secret.toString('utf8'), secret.toString('hex'), privateKey.slice(100, 160)]) {
      expect(written).not.toContain(needle);
    }
  });
});
