import { createHmac } from 'node:crypto';
import {
  CreateKeyCommand,
  DisableKeyCommand,
  GenerateMacCommand,
  type KMSClient,
  type MacAlgorithmSpec,
  type KeySpec,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import { beforeEach, describe, expect, it } from 'vitest';
import { AWS_REGION, inProcessKmsClient } from '../helpers/aws.js';
import { type AlibabaCaller, alibabaCaller, awsFailure } from '../helpers/kms-calls.js';
import { ACCOUNT_ID, ADMIN, createTestService, KEY_ID, type TestService } from '../helpers/service.js';
import type { Credentials } from '../helpers/sign.js';
import { expectError } from './support.js';

/*
 * GenerateMac / VerifyMac (AWS only): RFC 2104 HMAC under an HMAC key, checked against node's own
 * HMAC with the key's stored material; what they refuse, in AWS's words; and that Alibaba's RPC
 * API does not have them.
 */

let t: TestService;
let aws: KMSClient;
let ali: AlibabaCaller;
beforeEach(async () => {
  t = await createTestService();
  aws = inProcessKmsClient(t, ADMIN);
  ali = alibabaCaller(t);
});

const SPECS: Array<[KeySpec, MacAlgorithmSpec, string, number]> = [
  ['HMAC_224', 'HMAC_SHA_224', 'sha224', 28],
  ['HMAC_256', 'HMAC_SHA_256', 'sha256', 32],
  ['HMAC_384', 'HMAC_SHA_384', 'sha384', 48],
  ['HMAC_512', 'HMAC_SHA_512', 'sha512', 64],
];

async function hmacKey(spec: KeySpec = 'HMAC_256'): Promise<string> {
  return (await aws.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: 'GENERATE_VERIFY_MAC' }))).KeyMetadata!.KeyId!;
}

/** The key's raw HMAC key, as the store holds it (tests only: nothing ever answers with it). */
async function materialOf(keyId: string): Promise<Buffer> {
  const [version] = await t.service.keyring.listVersions(keyId);
  const record = await t.service.keyring.getVersionRecord(keyId, version!.keyVersionId);
  return Buffer.from(record!.material, 'base64');
}

const arnOf = (keyId: string) => `arn:aws:kms:${AWS_REGION}:${ACCOUNT_ID}:key/${keyId}`;
const message = Buffer.from('the message to authenticate');

describe('GenerateMac and VerifyMac', () => {
  it.each(SPECS)('%s: the Mac is the %s HMAC of the message under the stored key, and verifies', async (spec, algorithm, hash, length) => {
    const KeyId = await hmacKey(spec);
    const key = await materialOf(KeyId);
    expect(key).toHaveLength(length);
    const generated = await aws.send(new GenerateMacCommand({ KeyId, Message: message, MacAlgorithm: algorithm, GrantTokens: ['ignored'] }));
    expect(generated).toMatchObject({ KeyId: arnOf(KeyId), MacAlgorithm: algorithm });
    expect(Buffer.from(generated.Mac!)).toEqual(createHmac(hash, key).update(message).digest());
    expect(generated.Mac).toHaveLength(length);
    const verified = await aws.send(new VerifyMacCommand({ KeyId, Message: message, MacAlgorithm: algorithm, Mac: generated.Mac }));
    expect(verified).toMatchObject({ KeyId: arnOf(KeyId), MacValid: true, MacAlgorithm: algorithm });
  });

  it('is deterministic, and verifies a MAC computed outside the service; an alias or ARN names the key too', async () => {
    const KeyId = await hmacKey('HMAC_384');
    const first = await aws.send(new GenerateMacCommand({ KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_384' }));
    const second = await aws.send(new GenerateMacCommand({ KeyId: arnOf(KeyId), Message: message, MacAlgorithm: 'HMAC_SHA_384' }));
    expect(Buffer.from(second.Mac!)).toEqual(Buffer.from(first.Mac!));
    const outside = createHmac('sha384', await materialOf(KeyId))
      .update('computed elsewhere')
      .digest();
    const r = await aws.send(new VerifyMacCommand({ KeyId, Message: Buffer.from('computed elsewhere'), MacAlgorithm: 'HMAC_SHA_384', Mac: outside }));
    expect(r.MacValid).toBe(true);
  });

  it('a message of exactly 4096 bytes is accepted; 4097 bytes is ValidationException', async () => {
    const KeyId = await hmacKey();
    await aws.send(new GenerateMacCommand({ KeyId, Message: Buffer.alloc(4096, 1), MacAlgorithm: 'HMAC_SHA_256' }));
    for (const command of [
      new GenerateMacCommand({ KeyId, Message: Buffer.alloc(4097, 1), MacAlgorithm: 'HMAC_SHA_256' }),
      new VerifyMacCommand({ KeyId, Message: Buffer.alloc(4097, 1), MacAlgorithm: 'HMAC_SHA_256', Mac: Buffer.alloc(32) }),
    ]) {
      expect(await awsFailure(aws.send(command as GenerateMacCommand))).toMatchObject({ name: 'ValidationException', status: 400, message: /Message/ });
    }
  });

  it.each<[string, Record<string, unknown>]>([
    ['no MacAlgorithm', { Message: message }],
    ['an unknown MacAlgorithm', { Message: message, MacAlgorithm: 'HMAC_SHA_1' }],
    ['no Message', { MacAlgorithm: 'HMAC_SHA_256' }],
  ])('%s is ValidationException', async (_what, input) => {
    const KeyId = await hmacKey();
    expect(await awsFailure(aws.send(new GenerateMacCommand({ KeyId, ...input } as never)))).toMatchObject({ name: 'ValidationException', status: 400 });
  });

  it('VerifyMac: a tampered, truncated or empty-ish MAC, or a changed message, is KMSInvalidMacException', async () => {
    const KeyId = await hmacKey();
    const { Mac } = await aws.send(new GenerateMacCommand({ KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_256' }));
    const tampered = Buffer.from(Mac!);
    tampered[5]! ^= 1;
    const cases: Array<[Buffer, Uint8Array]> = [
      [message, tampered],
      [message, Mac!.subarray(0, 31)],
      [message, Buffer.concat([Mac!, Buffer.alloc(1)])],
      [message, Buffer.alloc(1)],
      [Buffer.from('the message to authenticatE'), Mac!],
    ];
    for (const [Message, mac] of cases) {
      expect(await awsFailure(aws.send(new VerifyMacCommand({ KeyId, Message, MacAlgorithm: 'HMAC_SHA_256', Mac: mac })))).toMatchObject({
        name: 'KMSInvalidMacException',
        status: 400,
      });
    }
  });

  it('a MAC made under another HMAC key of the same spec does not verify', async () => {
    const [one, other] = [await hmacKey(), await hmacKey()];
    const { Mac } = await aws.send(new GenerateMacCommand({ KeyId: one, Message: message, MacAlgorithm: 'HMAC_SHA_256' }));
    expect(await awsFailure(aws.send(new VerifyMacCommand({ KeyId: other, Message: message, MacAlgorithm: 'HMAC_SHA_256', Mac })))).toMatchObject({
      name: 'KMSInvalidMacException',
    });
  });

  it.each<[string, MacAlgorithmSpec]>([
    ['HMAC_256', 'HMAC_SHA_512'],
    ['HMAC_512', 'HMAC_SHA_256'],
    ['HMAC_224', 'HMAC_SHA_384'],
  ])('a %s key with %s is InvalidKeyUsageException', async (spec, algorithm) => {
    const KeyId = await hmacKey(spec as KeySpec);
    expect(await awsFailure(aws.send(new GenerateMacCommand({ KeyId, Message: message, MacAlgorithm: algorithm })))).toMatchObject({
      name: 'InvalidKeyUsageException',
      status: 400,
    });
    expect(await awsFailure(aws.send(new VerifyMacCommand({ KeyId, Message: message, MacAlgorithm: algorithm, Mac: Buffer.alloc(32) })))).toMatchObject({
      name: 'InvalidKeyUsageException',
      status: 400,
    });
  });

  it.each<[string, () => Promise<string>]>([
    ['a symmetric key', async () => KEY_ID],
    ['an RSA signing key', async () => (await aws.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!],
    ['an EC key', async () => (await aws.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!],
  ])('%s is InvalidKeyUsageException', async (_what, make) => {
    const KeyId = await make();
    for (const command of [
      new GenerateMacCommand({ KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_256' }),
      new VerifyMacCommand({ KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_256', Mac: Buffer.alloc(32) }),
    ]) {
      expect(await awsFailure(aws.send(command as GenerateMacCommand))).toMatchObject({ name: 'InvalidKeyUsageException', status: 400 });
    }
  });

  it('a disabled key is DisabledException; an unknown key NotFoundException', async () => {
    const KeyId = await hmacKey();
    await aws.send(new DisableKeyCommand({ KeyId }));
    expect(await awsFailure(aws.send(new GenerateMacCommand({ KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_256' })))).toMatchObject({
      name: 'DisabledException',
    });
    expect(
      await awsFailure(aws.send(new GenerateMacCommand({ KeyId: '99999999-2222-4333-8444-555555555555', Message: message, MacAlgorithm: 'HMAC_SHA_256' }))),
    ).toMatchObject({ name: 'NotFoundException' });
  });

  it('DryRun answers DryRunOperationException and computes nothing', async () => {
    const KeyId = await hmacKey();
    expect(await awsFailure(aws.send(new GenerateMacCommand({ KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_256', DryRun: true })))).toMatchObject({
      name: 'DryRunOperationException',
    });
    // A dry run still checks the algorithm against the key.
    expect(await awsFailure(aws.send(new GenerateMacCommand({ KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_512', DryRun: true })))).toMatchObject({
      name: 'InvalidKeyUsageException',
    });
  });

  it('policies name kms:GenerateMac and kms:VerifyMac: a caller allowed only VerifyMac is denied GenerateMac', async () => {
    const KeyId = await hmacKey();
    const verifier: Credentials = { accessKeyId: 'testVerifier01', accessKeySecret: 'verifier-secret-0123456789' };
    await t.service.accessKeys.create({
      ...verifier,
      status: 'Enabled',
      createdAt: new Date().toISOString(),
      policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: 'kms:VerifyMac', Resource: '*' }] },
    });
    const { Mac } = await aws.send(new GenerateMacCommand({ KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_256' }));
    const asVerifier = inProcessKmsClient(t, verifier);
    expect((await asVerifier.send(new VerifyMacCommand({ KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_256', Mac }))).MacValid).toBe(true);
    const denied = await awsFailure(asVerifier.send(new GenerateMacCommand({ KeyId, Message: message, MacAlgorithm: 'HMAC_SHA_256' })));
    expect(denied).toMatchObject({ name: 'AccessDeniedException', message: /kms:GenerateMac/ });
  });
});

describe('what GenerateMac and VerifyMac leave behind', () => {
  it('no log line (debug level) holds the message, the MAC or the HMAC key', async () => {
    const logLines: string[] = [];
    const logged = await createTestService({ logLines });
    const client = inProcessKmsClient(logged, ADMIN);
    const KeyId = (await client.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))).KeyMetadata!.KeyId!;
    const secret = Buffer.from('a confidential message, never logged');
    const { Mac } = await client.send(new GenerateMacCommand({ KeyId, Message: secret, MacAlgorithm: 'HMAC_SHA_256' }));
    await awsFailure(client.send(new VerifyMacCommand({ KeyId, Message: secret, MacAlgorithm: 'HMAC_SHA_256', Mac: Buffer.alloc(32, 1) })));
    const [version] = await logged.service.keyring.listVersions(KeyId);
    const material = (await logged.service.keyring.getVersionRecord(KeyId, version!.keyVersionId))!.material;
    expect(logLines.length).toBeGreaterThan(0);
    const text = logLines.join('\n');
    for (const needle of [
      secret.toString('base64'),
      secret.toString('utf8'),
      Buffer.from(Mac!).toString('base64'),
      material,
      Buffer.from(material, 'base64').toString('hex'),
    ]) {
      expect(text).not.toContain(needle);
    }
  });
});

describe('Alibaba RPC has no MAC Actions', () => {
  it.each(['GenerateMac', 'VerifyMac'])('Action=%s is 404 InvalidAction.NotFound', async (action) => {
    const KeyId = await hmacKey();
    expectError(await ali.call(action, { KeyId, Message: message.toString('base64'), MacAlgorithm: 'HMAC_SHA_256' }), 404, 'InvalidAction.NotFound');
  });
});
