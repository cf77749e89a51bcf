import { spawnSync } from 'node:child_process';
import { constants, createHash, createPrivateKey, createPublicKey, publicEncrypt, randomBytes, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as Aws from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ActionClient, createActionClient, createKmsSdkClient, KmsSdk, sdkError } from '../helpers/clients.js';
import { runProcess } from '../helpers/cli-process.js';
import { killAllGateways, makeTempDir, type ReadyGateway, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { sendRaw, toRecorded } from '../helpers/raw-http.js';
import { ACCOUNT_ID, ADMIN, KEY_ID, TEST_SEED } from '../helpers/service.js';
import { signedRpcRequest } from '../helpers/sign.js';

/*
 * Asymmetric and HMAC keys through clients no one here wrote, against the real gateway process:
 * the typed `@alicloud/kms20160120` methods and the generic call of `@alicloud/pop-core` and
 * `@alicloud/openapi-client`; the AWS CLI (/usr/bin/aws), the AWS SDK for JavaScript v3 and boto3.
 * Every signature is checked by the `openssl` command with the public key the service handed out
 * (PEM from Alibaba's GetPublicKey, DER from AWS's), and data encrypted by openssl with that key is
 * decrypted by the service. One gateway; six keys (two RSA-2048, three EC, one HMAC), made once, and one new version.
 * .ci/run installs the AWS CLI and boto3; without them this suite fails, never skips.
 */

const AWS_CLI = '/usr/bin/aws';
const PYTHON = '/usr/bin/python3';
const OPENSSL = '/usr/bin/openssl';
const REGION = 'us-east-1';
const awsArnOf = (keyId: string) => `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/${keyId}`;
const PEM_SPKI = /^-----BEGIN PUBLIC KEY-----\n(?:[A-Za-z0-9+/=]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END PUBLIC KEY-----\n?$/;

const MISSING = [
  existsSync(AWS_CLI) ? undefined : `the AWS CLI at ${AWS_CLI} (Debian package awscli)`,
  existsSync(OPENSSL) ? undefined : `openssl at ${OPENSSL}`,
  spawnSync(PYTHON, ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0 ? undefined : `boto3 for ${PYTHON} (Debian package python3-boto3)`,
].filter((m) => m !== undefined);

it('the AWS CLI, boto3 and openssl are installed (a missing one fails this suite, never skips it)', () => {
  expect(MISSING, `apt-get install awscli python3-boto3 openssl (.ci/run does); missing: ${MISSING.join(', ')}`).toEqual([]);
});

let dir: string;
let gateway: ReadyGateway;
let endpoint: string;
let files = 0;

/** Writes `content` to a fresh file in the suite's directory; returns its path. */
async function file(content: string | Buffer, name = `f${files++}`): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();
const b64 = (data: Buffer) => data.toString('base64');
const unb64 = (text: string) => Buffer.from(text, 'base64');
/** The signature with one bit of its middle byte flipped. */
function tampered(signature: Buffer): Buffer {
  const copy = Buffer.from(signature);
  copy[copy.length >> 1]! ^= 0x01;
  return copy;
}

const toolEnv = () => ({ PATH: '/usr/bin:/bin', HOME: dir, LANG: 'C.UTF-8' });

/** `openssl dgst -sha256 -verify pub.pem -signature sig msg` (PSS with the digest-long salt when asked): whether it says Verified OK. */
async function opensslVerifies(publicKeyPem: string, message: Buffer, signature: Buffer, pss = false): Promise<boolean> {
  const args = ['dgst', '-sha256', '-verify', await file(publicKeyPem), '-signature', await file(signature), await file(message)];
  if (pss) args.splice(4, 0, '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:-1');
  const r = await runProcess(OPENSSL, args, { cwd: dir, env: toolEnv() });
  return r.code === 0 && r.stdout.includes('Verified OK');
}

/** `openssl pkeyutl -encrypt -pubin` with RSAES-OAEP, SHA-256 for OAEP and MGF1 (Alibaba's guide, step for step). */
async function opensslOaepEncrypt(publicKeyPem: string, plaintext: Buffer): Promise<Buffer> {
  const out = join(dir, `f${files++}`);
  const r = await runProcess(
    OPENSSL,
    [
      'pkeyutl',
      '-encrypt',
      '-pubin',
      '-inkey',
      await file(publicKeyPem),
      '-pkeyopt',
      'rsa_padding_mode:oaep',
      '-pkeyopt',
      'rsa_oaep_md:sha256',
      '-pkeyopt',
      'rsa_mgf1_md:sha256',
      '-in',
      await file(plaintext),
      '-out',
      out,
    ],
    { cwd: dir, env: toolEnv() },
  );
  expect(r.code, r.stderr).toBe(0);
  return readFile(out);
}

/** `openssl pkey -pubin -inform DER`: the PEM of a DER SubjectPublicKeyInfo, as openssl reads it. */
async function opensslPemOfDer(der: Buffer): Promise<string> {
  const r = await runProcess(OPENSSL, ['pkey', '-pubin', '-inform', 'DER', '-in', await file(der)], { cwd: dir, env: toolEnv() });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  if (MISSING.length > 0) throw new Error(`missing: ${MISSING.join(', ')}`);
  dir = await makeTempDir('kms-e2e-asymmetric-');
  gateway = await startGateway({ dataDir: join(dir, 'data'), seedFile: await writeSeedFile(dir, TEST_SEED) });
  endpoint = `http://127.0.0.1:${gateway.port}`;
});

afterAll(async () => {
  if (gateway) expect(await gateway.stop('SIGTERM')).toBe(0);
  await killAllGateways();
  if (dir) await removeDir(dir);
});

/** An asymmetric key made through the typed Alibaba client, with its one version and public key. */
interface MadeKey {
  keyId: string;
  keyVersionId: string;
  publicKeyPem: string;
}

const keys: Record<'rsaSign' | 'rsaEncrypt' | 'ec' | 'ecK', MadeKey> = {} as never;

describe('the typed @alicloud/kms20160120 methods', () => {
  let sdk: ReturnType<typeof createKmsSdkClient>;

  beforeAll(async () => {
    sdk = createKmsSdkClient({ port: gateway.port }, ADMIN);
  });

  it('createKey with KeySpec RSA_2048 (no KeyUsage: a signing key, as on Alibaba), RSA_2048 ENCRYPT/DECRYPT, EC_P256 and EC_P256K; listKeyVersions names each one version; getPublicKey returns a PEM SubjectPublicKeyInfo', async () => {
    const specs = {
      rsaSign: { keySpec: 'RSA_2048' },
      rsaEncrypt: { keySpec: 'RSA_2048', keyUsage: 'ENCRYPT/DECRYPT' },
      ec: { keySpec: 'EC_P256', keyUsage: 'SIGN/VERIFY' },
      ecK: { keySpec: 'EC_P256K', keyUsage: 'SIGN/VERIFY' },
    } as const;
    const expected = { rsaSign: 'SIGN/VERIFY', rsaEncrypt: 'ENCRYPT/DECRYPT', ec: 'SIGN/VERIFY', ecK: 'SIGN/VERIFY' } as const;
    await Promise.all(
      Object.entries(specs).map(async ([name, request]) => {
        const created = (await sdk.createKey(new KmsSdk.CreateKeyRequest({ ...request, description: `e2e ${name}` }))).keyMetadata;
        expect(created).toMatchObject({ keySpec: request.keySpec, keyUsage: expected[name as keyof typeof expected], keyState: 'Enabled' });
        const listed = await sdk.listKeyVersions(new KmsSdk.ListKeyVersionsRequest({ keyId: created.keyId }));
        expect(listed.totalCount).toBe(1);
        const version = listed.keyVersions.keyVersion[0]!;
        expect(version.keyId).toBe(created.keyId);
        const publicKey = await sdk.getPublicKey(new KmsSdk.GetPublicKeyRequest({ keyId: created.keyId, keyVersionId: version.keyVersionId }));
        expect(publicKey).toMatchObject({ keyId: created.keyId, keyVersionId: version.keyVersionId });
        expect(publicKey.publicKey).toMatch(PEM_SPKI);
        keys[name as keyof typeof keys] = { keyId: created.keyId, keyVersionId: version.keyVersionId, publicKeyPem: publicKey.publicKey };
      }),
    );
    expect(createPublicKey(keys.rsaSign.publicKeyPem).asymmetricKeyDetails).toMatchObject({ modulusLength: 2048 });
    expect(createPublicKey(keys.ec.publicKeyPem).asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    expect(createPublicKey(keys.ecK.publicKeyPem).asymmetricKeyDetails).toEqual({ namedCurve: 'secp256k1' });
  });

  it.each([
    ['rsaSign', 'RSA_PSS_SHA_256', true],
    ['rsaSign', 'RSA_PKCS1_SHA_256', false],
    ['ec', 'ECDSA_SHA_256', false],
    ['ecK', 'ECDSA_SHA_256', false],
  ] as const)(
    'asymmetricSign of a SHA-256 digest with the %s key and %s: openssl verifies it over the message; asymmetricVerify says true, and false when tampered',
    async (name, algorithm, pss) => {
      const key = keys[name];
      const message = randomBytes(1000);
      const digest = b64(sha256(message));
      const signed = await sdk.asymmetricSign(new KmsSdk.AsymmetricSignRequest({ keyId: key.keyId, keyVersionId: key.keyVersionId, algorithm, digest }));
      expect(signed).toMatchObject({ keyId: key.keyId, keyVersionId: key.keyVersionId });
      const signature = unb64(signed.value);
      if (name === 'rsaSign') expect(signature).toHaveLength(256);
      else expect(signature[0]).toBe(0x30); // a DER ECDSA-Sig-Value, not r‖s

      expect(await opensslVerifies(key.publicKeyPem, message, signature, pss)).toBe(true);
      expect(await opensslVerifies(key.publicKeyPem, Buffer.concat([message, Buffer.from('x')]), signature, pss)).toBe(false);

      const verify = (value: Buffer) =>
        sdk.asymmetricVerify(new KmsSdk.AsymmetricVerifyRequest({ keyId: key.keyId, keyVersionId: key.keyVersionId, algorithm, digest, value: b64(value) }));
      const valid = await verify(signature);
      expect(valid).toMatchObject({ keyId: key.keyId, keyVersionId: key.keyVersionId });
      expect(valid.value).toBe(true);
      expect((await verify(tampered(signature))).value).toBe(false);
    },
  );

  it('asymmetricEncrypt → asymmetricDecrypt returns the bytes; what openssl encrypted with the PEM public key (OAEP SHA-256) is decrypted by asymmetricDecrypt', async () => {
    const key = keys.rsaEncrypt;
    const plaintext = randomBytes(190); // RSA_2048 with OAEP SHA-256 carries at most 190 bytes
    const encrypted = await sdk.asymmetricEncrypt(
      new KmsSdk.AsymmetricEncryptRequest({ keyId: key.keyId, keyVersionId: key.keyVersionId, algorithm: 'RSAES_OAEP_SHA_256', plaintext: b64(plaintext) }),
    );
    expect(encrypted).toMatchObject({ keyId: key.keyId, keyVersionId: key.keyVersionId });
    expect(unb64(encrypted.ciphertextBlob)).toHaveLength(256);
    const decrypt = (ciphertextBlob: string) =>
      sdk.asymmetricDecrypt(
        new KmsSdk.AsymmetricDecryptRequest({ keyId: key.keyId, keyVersionId: key.keyVersionId, algorithm: 'RSAES_OAEP_SHA_256', ciphertextBlob }),
      );
    const decrypted = await decrypt(encrypted.ciphertextBlob);
    expect(decrypted).toMatchObject({ keyId: key.keyId, keyVersionId: key.keyVersionId });
    expect(unb64(decrypted.plaintext).equals(plaintext)).toBe(true);

    const outside = Buffer.from('encrypted by openssl, decrypted by the service');
    expect(unb64((await decrypt(b64(await opensslOaepEncrypt(key.publicKeyPem, outside)))).plaintext).equals(outside)).toBe(true);
  });

  it('wrong usage is a 400 UnsupportedOperation, never a fault: asymmetricSign with the encryption key, asymmetricEncrypt with a signing key', async () => {
    const digest = b64(sha256(Buffer.from('m')));
    const enc = keys.rsaEncrypt;
    const signRefused = await sdkError(() =>
      sdk.asymmetricSign(new KmsSdk.AsymmetricSignRequest({ keyId: enc.keyId, keyVersionId: enc.keyVersionId, algorithm: 'RSA_PSS_SHA_256', digest })),
    );
    expect(signRefused.data?.Code).toBe('UnsupportedOperation');
    const sig = keys.rsaSign;
    const encryptRefused = await sdkError(() =>
      sdk.asymmetricEncrypt(
        new KmsSdk.AsymmetricEncryptRequest({
          keyId: sig.keyId,
          keyVersionId: sig.keyVersionId,
          algorithm: 'RSAES_OAEP_SHA_256',
          plaintext: b64(Buffer.from('p')),
        }),
      ),
    );
    expect(encryptRefused.data?.Code).toBe('UnsupportedOperation');
  });
});

describe('the generic call of the official clients', () => {
  const clients: ActionClient[] = [];
  afterAll(() => {
    for (const c of clients) c.close();
  });

  it.each(['pop-core-post', 'openapi-v3'] as const)(
    '%s: AsymmetricSign by name, verified by openssl; AsymmetricVerify answers a JSON boolean',
    async (kind) => {
      const client = createActionClient(kind, { port: gateway.port }, ADMIN);
      clients.push(client);
      const key = keys.ec;
      const message = Buffer.from(`signed through ${kind}`);
      const params = { KeyId: key.keyId, KeyVersionId: key.keyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: b64(sha256(message)) };
      const signed = await client.call('AsymmetricSign', params);
      expect(signed).toMatchObject({ KeyId: key.keyId, KeyVersionId: key.keyVersionId });
      expect(await opensslVerifies(key.publicKeyPem, message, unb64(signed.Value))).toBe(true);
      expect((await client.call('AsymmetricVerify', { ...params, Value: signed.Value })).Value).toBe(true);
      expect((await client.call('AsymmetricVerify', { ...params, Value: b64(tampered(unb64(signed.Value))) })).Value).toBe(false);
    },
  );

  it('on the wire, AsymmetricVerify’s Value is the JSON literal true/false, and <Value>true</Value> with Format=XML', async () => {
    const key = keys.ec;
    const digest = b64(sha256(Buffer.from('wire')));
    const params = { KeyId: key.keyId, KeyVersionId: key.keyVersionId, Algorithm: 'ECDSA_SHA_256', Digest: digest };
    const { Value } = (await sendRaw(gateway.port, toRecorded(signedRpcRequest(ADMIN, 'AsymmetricSign', params)))).json;
    const verify = (extra: Record<string, string>) => sendRaw(gateway.port, toRecorded(signedRpcRequest(ADMIN, 'AsymmetricVerify', { ...params, ...extra })));
    expect((await verify({ Value })).text).toMatch(/"Value":true[,}]/);
    expect((await verify({ Value: b64(tampered(unb64(Value))) })).text).toMatch(/"Value":false[,}]/);
    const xml = await verify({ Value, Format: 'XML' });
    expect(xml.headers['content-type']).toMatch(/^text\/xml/);
    expect(xml.text).toContain('<Value>true</Value>');
  });
});

// ---------------------------------------------------------------------------------------------
// The AWS protocol

/** An environment of the AWS clients' own: no profile, config or credentials file of this machine is read. */
const awsEnv = () => ({
  ...toolEnv(),
  AWS_ACCESS_KEY_ID: ADMIN.accessKeyId,
  AWS_SECRET_ACCESS_KEY: ADMIN.accessKeySecret,
  AWS_DEFAULT_REGION: REGION,
  AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
  AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_PAGER: '',
});

const aws = (args: readonly string[]) => runProcess(AWS_CLI, ['--endpoint-url', endpoint, '--output', 'json', 'kms', ...args], { cwd: dir, env: awsEnv() });

async function awsOk(args: readonly string[]): Promise<any> {
  const r = await aws(args);
  expect(r.code, `aws kms ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout);
}

/** The HMAC key the AWS CLI makes; the SDK uses it too. */
let hmacKeyId: string;
/** The MAC of MAC_MESSAGE the CLI got, which the SDK must get too (HMAC is deterministic). */
let cliMac: string;
const MAC_MESSAGE = Buffer.from('a message to authenticate');

describe('the AWS CLI', () => {
  let ecKeyId: string;
  const message = randomBytes(3000);
  let rawSignature: Buffer;
  let digestSignature: Buffer;

  it('create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY', async () => {
    const created = (await awsOk(['create-key', '--key-spec', 'ECC_NIST_P256', '--key-usage', 'SIGN_VERIFY'])).KeyMetadata;
    expect(created).toMatchObject({
      KeySpec: 'ECC_NIST_P256',
      CustomerMasterKeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
      SigningAlgorithms: ['ECDSA_SHA_256'],
    });
    expect(created).not.toHaveProperty('EncryptionAlgorithms');
    ecKeyId = created.KeyId;
  });

  it('sign --message-type RAW and DIGEST; verify says SignatureValid for both, and a tampered signature exits non-zero with KMSInvalidSignatureException', async () => {
    await file(message, 'message.bin');
    await file(sha256(message), 'digest.bin');
    const signWith = async (messageType: string, input: string) =>
      unb64(
        (await awsOk(['sign', '--key-id', ecKeyId, '--message', `fileb://${input}`, '--message-type', messageType, '--signing-algorithm', 'ECDSA_SHA_256']))
          .Signature,
      );
    [rawSignature, digestSignature] = await Promise.all([signWith('RAW', 'message.bin'), signWith('DIGEST', 'digest.bin')]);

    // A RAW signature and a DIGEST one, each checked as made, and the DIGEST one checked over the RAW message: all the same signature scheme.
    const checks = [
      ['RAW', 'message.bin', rawSignature],
      ['DIGEST', 'digest.bin', digestSignature],
      ['RAW', 'message.bin', digestSignature],
    ] as const;
    const verified = await Promise.all(
      checks.map(async ([messageType, input, signature], i) => {
        await file(signature, `signature-${i}.bin`);
        return awsOk([
          'verify',
          '--key-id',
          ecKeyId,
          '--message',
          `fileb://${input}`,
          '--message-type',
          messageType,
          '--signing-algorithm',
          'ECDSA_SHA_256',
          '--signature',
          `fileb://signature-${i}.bin`,
        ]);
      }),
    );
    for (const answer of verified) expect(answer).toEqual({ KeyId: awsArnOf(ecKeyId), SignatureValid: true, SigningAlgorithm: 'ECDSA_SHA_256' });

    await file(tampered(rawSignature), 'tampered.bin');
    const refused = await aws([
      'verify',
      '--key-id',
      ecKeyId,
      '--message',
      'fileb://message.bin',
      '--signing-algorithm',
      'ECDSA_SHA_256',
      '--signature',
      'fileb://tampered.bin',
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('KMSInvalidSignatureException');
  });

  it('get-public-key returns DER that openssl reads (pkey -pubin -inform DER) and verifies both signatures with', async () => {
    const answer = await awsOk(['get-public-key', '--key-id', ecKeyId]);
    expect(answer).toMatchObject({ KeyId: awsArnOf(ecKeyId), KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: ['ECDSA_SHA_256'] });
    const pem = await opensslPemOfDer(unb64(answer.PublicKey));
    expect(await opensslVerifies(pem, message, rawSignature)).toBe(true);
    expect(await opensslVerifies(pem, message, digestSignature)).toBe(true);
    expect(await opensslVerifies(pem, Buffer.concat([message, Buffer.from('x')]), rawSignature)).toBe(false);
  });

  it('create-key HMAC_256; generate-mac is deterministic; verify-mac says MacValid, and a wrong MAC exits non-zero with KMSInvalidMacException', async () => {
    const created = (await awsOk(['create-key', '--key-spec', 'HMAC_256', '--key-usage', 'GENERATE_VERIFY_MAC'])).KeyMetadata;
    expect(created).toMatchObject({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', MacAlgorithms: ['HMAC_SHA_256'] });
    hmacKeyId = created.KeyId;
    await file(MAC_MESSAGE, 'mac-message.bin');
    const mac = async () =>
      awsOk(['generate-mac', '--key-id', hmacKeyId, '--message', 'fileb://mac-message.bin', '--mac-algorithm', 'HMAC_SHA_256']) as Promise<
        Record<string, string>
      >;
    const first = await mac();
    expect(first).toMatchObject({ KeyId: awsArnOf(hmacKeyId), MacAlgorithm: 'HMAC_SHA_256' });
    expect(unb64(first.Mac!)).toHaveLength(32);
    expect((await mac()).Mac).toBe(first.Mac);
    cliMac = first.Mac!;

    const verifyMac = (macFile: string) =>
      aws(['verify-mac', '--key-id', hmacKeyId, '--message', 'fileb://mac-message.bin', '--mac-algorithm', 'HMAC_SHA_256', '--mac', `fileb://${macFile}`]);
    await file(unb64(first.Mac!), 'mac.bin');
    const valid = await verifyMac('mac.bin');
    expect(valid.code, valid.stderr).toBe(0);
    expect(JSON.parse(valid.stdout)).toEqual({ KeyId: awsArnOf(hmacKeyId), MacValid: true, MacAlgorithm: 'HMAC_SHA_256' });
    await file(tampered(unb64(first.Mac!)), 'bad-mac.bin');
    const refused = await verifyMac('bad-mac.bin');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('KMSInvalidMacException');
  });
});

describe('the AWS SDK for JavaScript v3, on the keys made through the Alibaba API', () => {
  let kms: Aws.KMSClient;
  beforeAll(() => {
    kms = new Aws.KMSClient({ region: REGION, endpoint, credentials: { accessKeyId: ADMIN.accessKeyId, secretAccessKey: ADMIN.accessKeySecret } });
  });
  afterAll(() => kms?.destroy());

  const failure = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (err) {
      return (err as Error).name;
    }
    throw new Error('expected the call to be refused');
  };

  it('GetPublicKey: the DER is the same key as the PEM Alibaba’s GetPublicKey gave; Sign (RAW) verifies with node:crypto and openssl; Verify accepts it and refuses a tampered one', async () => {
    const key = keys.rsaSign;
    const publicKey = await kms.send(new Aws.GetPublicKeyCommand({ KeyId: key.keyId }));
    expect(publicKey).toMatchObject({ KeyId: awsArnOf(key.keyId), KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    expect(publicKey.SigningAlgorithms).toContain('RSASSA_PSS_SHA_256');
    expect(publicKey.EncryptionAlgorithms).toBeUndefined();
    const der = Buffer.from(publicKey.PublicKey!);
    expect(der.equals(createPublicKey(key.publicKeyPem).export({ type: 'spki', format: 'der' }))).toBe(true);

    const message = Buffer.from('signed through the AWS SDK');
    const signed = await kms.send(new Aws.SignCommand({ KeyId: key.keyId, Message: message, MessageType: 'RAW', SigningAlgorithm: 'RSASSA_PSS_SHA_256' }));
    expect(signed).toMatchObject({ KeyId: awsArnOf(key.keyId), SigningAlgorithm: 'RSASSA_PSS_SHA_256' });
    const signature = Buffer.from(signed.Signature!);
    const spki = createPublicKey({ key: der, format: 'der', type: 'spki' });
    const pssOptions = { key: spki, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    expect(nodeVerify('sha256', message, pssOptions, signature)).toBe(true);
    expect(await opensslVerifies(key.publicKeyPem, message, signature, true)).toBe(true);

    const verify = (sig: Buffer) =>
      kms.send(new Aws.VerifyCommand({ KeyId: key.keyId, Message: message, Signature: sig, SigningAlgorithm: 'RSASSA_PSS_SHA_256' }));
    expect(await verify(signature)).toMatchObject({ SignatureValid: true, KeyId: awsArnOf(key.keyId) });
    expect(await failure(verify(tampered(signature)))).toBe('KMSInvalidSignatureException');
  });

  it('GenerateMac gives the MAC the CLI got for the same message; VerifyMac accepts it and refuses another', async () => {
    const mac = await kms.send(new Aws.GenerateMacCommand({ KeyId: hmacKeyId, Message: MAC_MESSAGE, MacAlgorithm: 'HMAC_SHA_256' }));
    expect(mac).toMatchObject({ KeyId: awsArnOf(hmacKeyId), MacAlgorithm: 'HMAC_SHA_256' });
    expect(b64(Buffer.from(mac.Mac!))).toBe(cliMac);
    const verifyMac = (m: Uint8Array) => kms.send(new Aws.VerifyMacCommand({ KeyId: hmacKeyId, Message: MAC_MESSAGE, MacAlgorithm: 'HMAC_SHA_256', Mac: m }));
    expect(await verifyMac(mac.Mac!)).toMatchObject({ MacValid: true });
    expect(await failure(verifyMac(tampered(Buffer.from(mac.Mac!))))).toBe('KMSInvalidMacException');
  });

  it('Encrypt and Decrypt with RSAES_OAEP_SHA_256 round trip; node:crypto’s OAEP encryption with the public key decrypts too', async () => {
    const key = keys.rsaEncrypt;
    const plaintext = randomBytes(100);
    const encrypted = await kms.send(new Aws.EncryptCommand({ KeyId: key.keyId, Plaintext: plaintext, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    expect(encrypted).toMatchObject({ KeyId: awsArnOf(key.keyId), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' });
    expect(encrypted.CiphertextBlob).toHaveLength(256);
    const decrypt = (blob: Uint8Array) =>
      kms.send(new Aws.DecryptCommand({ KeyId: key.keyId, CiphertextBlob: blob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }));
    const decrypted = await decrypt(encrypted.CiphertextBlob!);
    expect(decrypted).toMatchObject({ KeyId: awsArnOf(key.keyId), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' });
    expect(Buffer.from(decrypted.Plaintext!).equals(plaintext)).toBe(true);

    const outside = publicEncrypt({ key: key.publicKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, plaintext);
    expect(Buffer.from((await decrypt(outside)).Plaintext!).equals(plaintext)).toBe(true);
    // The symmetric default on an RSA key is the wrong usage in AWS's words.
    expect(await failure(kms.send(new Aws.EncryptCommand({ KeyId: key.keyId, Plaintext: plaintext })))).toBe('InvalidKeyUsageException');
  });

  it('GenerateDataKeyPair under the symmetric key: the PKCS #8 private key signs what the SPKI public key verifies, and Decrypt of its blob returns the same PKCS #8', async () => {
    const pair = await kms.send(new Aws.GenerateDataKeyPairCommand({ KeyId: KEY_ID, KeyPairSpec: 'ECC_NIST_P256', EncryptionContext: { purpose: 'e2e' } }));
    expect(pair).toMatchObject({ KeyId: awsArnOf(KEY_ID), KeyPairSpec: 'ECC_NIST_P256' });
    const privateKey = createPrivateKey({ key: Buffer.from(pair.PrivateKeyPlaintext!), format: 'der', type: 'pkcs8' });
    const publicKey = createPublicKey({ key: Buffer.from(pair.PublicKey!), format: 'der', type: 'spki' });
    expect(publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    const message = Buffer.from('signed with a data key pair');
    expect(nodeVerify('sha256', message, publicKey, nodeSign('sha256', message, privateKey))).toBe(true);
    const opened = await kms.send(new Aws.DecryptCommand({ CiphertextBlob: pair.PrivateKeyCiphertextBlob, EncryptionContext: { purpose: 'e2e' } }));
    expect(Buffer.from(opened.Plaintext!).equals(Buffer.from(pair.PrivateKeyPlaintext!))).toBe(true);
  });
});

const BOTO3_SCRIPT = `
import json, os, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

kms = boto3.client('kms', endpoint_url=os.environ['KMS_E2E_ENDPOINT'], config=Config(retries={'max_attempts': 1}))
key_id = os.environ['KMS_E2E_KEY_ID']
message = b'signed by boto3'
signed = kms.sign(KeyId=key_id, Message=message, MessageType='RAW', SigningAlgorithm='ECDSA_SHA_256')
verified = kms.verify(KeyId=key_id, Message=message, Signature=signed['Signature'], SigningAlgorithm='ECDSA_SHA_256')
bad = bytearray(signed['Signature'])
bad[len(bad) // 2] ^= 1
try:
    kms.verify(KeyId=key_id, Message=message, Signature=bytes(bad), SigningAlgorithm='ECDSA_SHA_256')
    refused = None
except ClientError as e:
    refused = {'code': e.response['Error']['Code'], 'status': e.response['ResponseMetadata']['HTTPStatusCode']}
json.dump({'signature': signed['Signature'].hex(), 'keyId': signed['KeyId'], 'valid': verified['SignatureValid'], 'refused': refused}, sys.stdout)
`;

describe('boto3', () => {
  it('sign and verify with the EC_P256K key made through the Alibaba API; openssl verifies the signature; a tampered one is KMSInvalidSignatureException', async () => {
    const key = keys.ecK;
    const r = await runProcess(PYTHON, ['-c', BOTO3_SCRIPT], { cwd: dir, env: { ...awsEnv(), KMS_E2E_ENDPOINT: endpoint, KMS_E2E_KEY_ID: key.keyId } });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ keyId: awsArnOf(key.keyId), valid: true, refused: { code: 'KMSInvalidSignatureException', status: 400 } });
    expect(await opensslVerifies(key.publicKeyPem, Buffer.from('signed by boto3'), Buffer.from(out.signature, 'hex'))).toBe(true);
  });
});

describe('a new version of a signing key (last: it changes the key the AWS API uses)', () => {
  it('createKeyVersion makes a new pair; a signature of the old version still verifies with its KeyVersionId and its public key; the AWS API uses the new version', async () => {
    const sdk = createKmsSdkClient({ port: gateway.port }, ADMIN);
    const key = keys.ec;
    const message = Buffer.from('signed before the new version');
    const digest = b64(sha256(message));
    const old = unb64(
      (await sdk.asymmetricSign(new KmsSdk.AsymmetricSignRequest({ keyId: key.keyId, keyVersionId: key.keyVersionId, algorithm: 'ECDSA_SHA_256', digest })))
        .value,
    );

    const created = (await sdk.createKeyVersion(new KmsSdk.CreateKeyVersionRequest({ keyId: key.keyId }))).keyVersion;
    const versions = (await sdk.listKeyVersions(new KmsSdk.ListKeyVersionsRequest({ keyId: key.keyId }))).keyVersions.keyVersion.map((v) => v.keyVersionId);
    expect(versions.sort()).toEqual([key.keyVersionId, created.keyVersionId].sort());
    const newPem = (await sdk.getPublicKey(new KmsSdk.GetPublicKeyRequest({ keyId: key.keyId, keyVersionId: created.keyVersionId }))).publicKey;
    expect(newPem).not.toBe(key.publicKeyPem);

    const verifyWith = async (keyVersionId: string) =>
      (await sdk.asymmetricVerify(new KmsSdk.AsymmetricVerifyRequest({ keyId: key.keyId, keyVersionId, algorithm: 'ECDSA_SHA_256', digest, value: b64(old) })))
        .value;
    expect(await verifyWith(key.keyVersionId)).toBe(true);
    expect(await verifyWith(created.keyVersionId)).toBe(false);
    expect(await opensslVerifies(key.publicKeyPem, message, old)).toBe(true);
    expect(await opensslVerifies(newPem, message, old)).toBe(false);

    // AWS has no version parameter: GetPublicKey and Verify use the newest version.
    const aws = new Aws.KMSClient({ region: REGION, endpoint, credentials: { accessKeyId: ADMIN.accessKeyId, secretAccessKey: ADMIN.accessKeySecret } });
    try {
      const der = Buffer.from((await aws.send(new Aws.GetPublicKeyCommand({ KeyId: key.keyId }))).PublicKey!);
      expect(der.equals(createPublicKey(newPem).export({ type: 'spki', format: 'der' }))).toBe(true);
      const verify = aws.send(new Aws.VerifyCommand({ KeyId: key.keyId, Message: message, Signature: old, SigningAlgorithm: 'ECDSA_SHA_256' }));
      await expect(verify).rejects.toMatchObject({ name: 'KMSInvalidSignatureException' });
    } finally {
      aws.destroy();
    }
  });
});
