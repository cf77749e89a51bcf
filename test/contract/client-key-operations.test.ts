import { constants, createHash, createHmac, createPublicKey, publicEncrypt, verify } from 'node:crypto';
import { createKmsClient, type KmsApiClient, KmsApiError } from '@alibaba-kms-compatible/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../../infra/gateway/server.js';
import { alibabaCaller } from '../helpers/kms-calls.js';
import { ACCOUNT_ID, ADMIN, createTestService, type TestService } from '../helpers/service.js';

/*
 * The client package's typed calls of the asymmetric and HMAC Actions, over HTTP against an
 * in-process gateway: Alibaba's AsymmetricSign/Verify/Encrypt/Decrypt and GetPublicKey (ACS3
 * signed), AWS's GenerateMac/VerifyMac (SigV4 signed by the client itself), each result checked
 * with node:crypto.
 */

let t: TestService;
let gateway: Gateway;
let kms: KmsApiClient;
const keys: Record<'ec' | 'rsaSign' | 'rsaEncrypt' | 'hmac', string> = { ec: '', rsaSign: '', rsaEncrypt: '', hmac: '' };

beforeAll(async () => {
  t = await createTestService();
  gateway = await startGateway({ service: t.service, host: '127.0.0.1', port: 0 });
  kms = createKmsClient({ endpoint: gateway.url, accessKeyId: ADMIN.accessKeyId, accessKeySecret: ADMIN.accessKeySecret });
  const ali = alibabaCaller(t);
  const create = async (params: Record<string, string>) => (await ali.ok('CreateKey', params)).KeyMetadata.KeyId as string;
  keys.ec = await create({ KeySpec: 'EC_P256', KeyUsage: 'SIGN/VERIFY' });
  keys.rsaSign = await create({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN/VERIFY' });
  keys.rsaEncrypt = await create({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT/DECRYPT' });
  keys.hmac = await create({ KeySpec: 'HMAC_256' });
});

afterAll(async () => {
  await gateway?.close(0);
});

const message = Buffer.from('a message to sign');
const digest = createHash('sha256').update(message).digest();

describe('client: sign, verify, getPublicKey', () => {
  it.each([
    ['ec', 'ECDSA_SHA_256', {}],
    ['rsaSign', 'RSA_PSS_SHA_256', { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }],
    ['rsaSign', 'RSA_PKCS1_SHA_256', {}],
  ] as const)(
    '%s with %s: the signature verifies over the message with node and the public key; the service verifies it too',
    async (kind, algorithm, options) => {
      const keyId = keys[kind];
      const keyVersionId = await kms.newestKeyVersionId(keyId);
      const signed = await kms.sign(keyId, keyVersionId, algorithm, digest);
      expect(signed).toMatchObject({ keyId, keyVersionId });
      const { publicKeyPem } = await kms.getPublicKey(keyId, keyVersionId);
      expect(publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
      expect(verify('sha256', message, { key: createPublicKey(publicKeyPem), ...options }, signed.signature)).toBe(true);
      expect(await kms.verify(keyId, keyVersionId, algorithm, digest, signed.signature)).toBe(true);
      // Base64 text is taken as well as bytes.
      expect(await kms.verify(keyId, keyVersionId, algorithm, digest.toString('base64'), signed.signature.toString('base64'))).toBe(true);
      const other = createHash('sha256').update('another message').digest();
      expect(await kms.verify(keyId, keyVersionId, algorithm, other, signed.signature)).toBe(false);
    },
  );

  it('newestKeyVersionId follows a new version, and an old version still verifies its signatures', async () => {
    const first = await kms.newestKeyVersionId(keys.ec);
    const old = await kms.sign(keys.ec, first, 'ECDSA_SHA_256', digest);
    const created = (await kms.call('CreateKeyVersion', { KeyId: keys.ec })).KeyVersion as { KeyVersionId: string };
    const newest = await kms.newestKeyVersionId(keys.ec);
    expect(newest).toBe(created.KeyVersionId);
    expect(newest).not.toBe(first);
    expect(await kms.verify(keys.ec, first, 'ECDSA_SHA_256', digest, old.signature)).toBe(true);
    expect(await kms.verify(keys.ec, newest, 'ECDSA_SHA_256', digest, old.signature)).toBe(false);
  });

  it('a refusal is a KmsApiError with the API code', async () => {
    const keyVersionId = await kms.newestKeyVersionId(keys.rsaEncrypt);
    const refused = await kms.sign(keys.rsaEncrypt, keyVersionId, 'RSA_PSS_SHA_256', digest).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(KmsApiError);
    expect(refused).toMatchObject({ code: 'UnsupportedOperation', status: 400 });
  });
});

describe('client: asymmetricEncrypt and asymmetricDecrypt', () => {
  it('round-trips, and decrypts what node encrypted with the public key', async () => {
    const keyId = keys.rsaEncrypt;
    const keyVersionId = await kms.newestKeyVersionId(keyId);
    const plaintext = Buffer.from('a secret of a few bytes');
    const { ciphertextBlob } = await kms.asymmetricEncrypt(keyId, keyVersionId, 'RSAES_OAEP_SHA_256', plaintext);
    expect(ciphertextBlob).toHaveLength(256);
    expect((await kms.asymmetricDecrypt(keyId, keyVersionId, 'RSAES_OAEP_SHA_256', ciphertextBlob)).plaintext).toEqual(plaintext);
    const { publicKeyPem } = await kms.getPublicKey(keyId, keyVersionId);
    const outside = publicEncrypt({ key: publicKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, plaintext);
    expect((await kms.asymmetricDecrypt(keyId, keyVersionId, 'RSAES_OAEP_SHA_1', outside.toString('base64'))).plaintext).toEqual(plaintext);
  });
});

describe('client: generateMac and verifyMac (AWS protocol, SigV4)', () => {
  it('the MAC is the HMAC under the stored key; verifyMac is true for it and false for a changed one', async () => {
    const { mac, keyId, macAlgorithm } = await kms.generateMac(keys.hmac, 'HMAC_SHA_256', message);
    expect(keyId).toBe(`arn:aws:kms:us-east-1:${ACCOUNT_ID}:key/${keys.hmac}`);
    expect(macAlgorithm).toBe('HMAC_SHA_256');
    const [version] = await t.service.keyring.listVersions(keys.hmac);
    const material = Buffer.from((await t.service.keyring.getVersionRecord(keys.hmac, version!.keyVersionId))!.material, 'base64');
    expect(mac).toEqual(createHmac('sha256', material).update(message).digest());
    expect(await kms.verifyMac(keys.hmac, 'HMAC_SHA_256', message, mac)).toBe(true);
    const tampered = Buffer.from(mac);
    tampered[0]! ^= 0x80;
    expect(await kms.verifyMac(keys.hmac, 'HMAC_SHA_256', message, tampered)).toBe(false);
  });

  it('other refusals throw a KmsApiError named as AWS names it', async () => {
    const wrongAlgorithm = await kms.generateMac(keys.hmac, 'HMAC_SHA_512', message).catch((err: unknown) => err);
    expect(wrongAlgorithm).toMatchObject({ name: 'KmsApiError', code: 'InvalidKeyUsageException', status: 400 });
    const notHmac = await kms.verifyMac(keys.ec, 'HMAC_SHA_256', message, Buffer.alloc(32)).catch((err: unknown) => err);
    expect(notHmac).toMatchObject({ code: 'InvalidKeyUsageException' });
  });

  it('signs for the awsRegion it is given; a region the service does not serve is refused', async () => {
    const credentials = { endpoint: gateway.url, accessKeyId: ADMIN.accessKeyId, accessKeySecret: ADMIN.accessKeySecret };
    const served = createKmsClient({ ...credentials, awsRegion: 'cn-hangzhou' });
    expect((await served.generateMac(keys.hmac, 'HMAC_SHA_256', message)).keyId).toMatch(/^arn:aws:kms:cn-hangzhou:/);
    const unserved = createKmsClient({ ...credentials, awsRegion: 'eu-west-1' });
    expect(await unserved.generateMac(keys.hmac, 'HMAC_SHA_256', message).catch((err: unknown) => err)).toMatchObject({
      code: 'IncompleteSignatureException',
      status: 400,
    });
  });
});
