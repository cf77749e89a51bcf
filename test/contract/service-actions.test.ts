import { GetRandomPasswordCommand } from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD_CLASSES } from '../../lib/operations/random-password.js';
import { ADMIN, CONSUMER, createTestService, REGION, type TestService } from '../helpers/service.js';
import { inProcessSecretsManagerClient } from '../helpers/aws.js';
import { signedRpcRequest, signedV3Request } from '../helpers/sign.js';
import { expectError, parseXml } from './support.js';

/*
 * Actions about the service rather than a key: GetRandomPassword, DescribeRegions, DescribeService.
 */

let t: TestService;
beforeAll(async () => {
  t = await createTestService();
});

const password = async (params: Record<string, string>) => t.call(signedRpcRequest(ADMIN, 'GetRandomPassword', params));
const classOf = (c: string) => (Object.keys(PASSWORD_CLASSES) as Array<keyof typeof PASSWORD_CLASSES>).find((name) => PASSWORD_CLASSES[name].includes(c));

describe('GetRandomPassword', () => {
  it('when called with no parameters, it answers 32 characters with at least one of each class, all from the four classes', async () => {
    for (let i = 0; i < 20; i++) {
      const result = await password({});
      expect(result.status).toBe(200);
      expect(Object.keys(result.body).sort()).toEqual(['RandomPassword', 'RequestId']);
      const value = result.body.RandomPassword as string;
      expect(value).toHaveLength(32);
      expect(new Set([...value].map(classOf))).toEqual(new Set(['lowercase', 'uppercase', 'numbers', 'punctuation']));
    }
  });

  it.each([8, 9, 64, 128])('when PasswordLength is %i, the password has that many characters', async (length) => {
    const result = await password({ PasswordLength: String(length) });
    expect((result.body.RandomPassword as string).length).toBe(length);
  });

  it('when classes and characters are excluded (booleans in any case), none of them appears, and every remaining class does', async () => {
    for (let i = 0; i < 20; i++) {
      const result = await password({
        PasswordLength: '40',
        ExcludePunctuation: 'TRUE',
        ExcludeUppercase: 'true',
        ExcludeNumbers: 'False',
        ExcludeCharacters: 'abc0123',
      });
      const value = result.body.RandomPassword as string;
      expect(value).toMatch(/^[d-z4-9]{40}$/);
      expect(value).toMatch(/[d-z]/);
      expect(value).toMatch(/[4-9]/);
    }
  });

  it('when RequireEachIncludedType is false, the characters are still drawn from the included classes only', async () => {
    const result = await password({
      PasswordLength: '64',
      RequireEachIncludedType: 'false',
      ExcludeLowercase: 'true',
      ExcludeUppercase: 'true',
      ExcludePunctuation: 'true',
    });
    expect(result.body.RandomPassword).toMatch(/^\d{64}$/);
  });

  it('when 2,000 characters are drawn from one class, every character of it appears (uniform draws, no favourites missing)', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 16; i++) {
      const result = await password({ PasswordLength: '128', ExcludeLowercase: 'true', ExcludeNumbers: 'true', ExcludeUppercase: 'true' });
      for (const c of result.body.RandomPassword as string) seen.add(c);
    }
    expect([...seen].sort().join('')).toBe([...PASSWORD_CLASSES.punctuation].sort().join(''));
  });

  it.each([
    [{ PasswordLength: '7' }, 'PasswordLength'],
    [{ PasswordLength: '129' }, 'PasswordLength'],
    [{ PasswordLength: 'ten' }, 'PasswordLength'],
    [{ PasswordLength: '-8' }, 'PasswordLength'],
    [{ ExcludeNumbers: 'yes' }, 'ExcludeNumbers'],
    [{ RequireEachIncludedType: '1' }, 'RequireEachIncludedType'],
    [{ ExcludeLowercase: 'true', ExcludeUppercase: 'true', ExcludeNumbers: 'true', ExcludePunctuation: 'true' }, 'ExcludeCharacters'],
    [{ ExcludeLowercase: 'true', ExcludeUppercase: 'true', ExcludePunctuation: 'true', ExcludeCharacters: '0123456789' }, 'ExcludeCharacters'],
  ])('when the parameters are %j, it answers 400 InvalidParameter naming %s', async (params, name) => {
    expectError(await password(params as Record<string, string>), 400, 'InvalidParameter', name);
  });

  it('is authorised on *: a caller allowed only Decrypt on keys is refused', async () => {
    expectError(await t.call(signedRpcRequest(CONSUMER, 'GetRandomPassword', {})), 403, 'Forbidden.NoPermission');
  });

  describe("AWS Secrets Manager's GetRandomPassword, through the official SDK", () => {
    it('answers RandomPassword of PasswordLength from the included classes; IncludeSpace adds the space, and AWS lengths from 1 to 4096 are served', async () => {
      const sm = inProcessSecretsManagerClient(t, ADMIN);
      const plain = await sm.send(new GetRandomPasswordCommand({}));
      expect(plain.RandomPassword).toHaveLength(32);
      const digits = await sm.send(
        new GetRandomPasswordCommand({ PasswordLength: 4096, ExcludeLowercase: true, ExcludeUppercase: true, ExcludePunctuation: true }),
      );
      expect(digits.RandomPassword).toMatch(/^[0-9]{4096}$/);
      const spaced = await sm.send(
        new GetRandomPasswordCommand({ PasswordLength: 200, ExcludeLowercase: true, ExcludeUppercase: true, ExcludePunctuation: true, IncludeSpace: true }),
      );
      expect(spaced.RandomPassword).toMatch(/^[0-9 ]{200}$/);
      expect(spaced.RandomPassword).toContain(' ');
      expect((await sm.send(new GetRandomPasswordCommand({ PasswordLength: 1, RequireEachIncludedType: false }))).RandomPassword).toHaveLength(1);
      await expect(sm.send(new GetRandomPasswordCommand({ PasswordLength: 4097 }))).rejects.toMatchObject({ name: 'InvalidParameterException' });
    });

    it('is authorised as kms:GetRandomPassword, which secretsmanager:GetRandomPassword also names', async () => {
      await expect(inProcessSecretsManagerClient(t, CONSUMER).send(new GetRandomPasswordCommand({}))).rejects.toMatchObject({ name: 'AccessDeniedException' });
      const creds = { accessKeyId: 'smPassword01', accessKeySecret: 'sm-password-secret-0123456789' };
      await t.service.accessKeys.create({
        ...creds,
        status: 'Enabled',
        createdAt: new Date().toISOString(),
        policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetRandomPassword', Resource: '*' }] },
      });
      expect((await inProcessSecretsManagerClient(t, creds).send(new GetRandomPasswordCommand({}))).RandomPassword).toHaveLength(32);
      // One permission, two spellings: the same key calls Alibaba's Action.
      expect((await t.call(signedRpcRequest(creds, 'GetRandomPassword', {}))).status).toBe(200);
    });
  });
});

describe('DescribeRegions and DescribeService', () => {
  it("DescribeRegions answers the region in this deployment's ARNs, as an array, in JSON and XML, over both signatures", async () => {
    for (const request of [signedRpcRequest(ADMIN, 'DescribeRegions', {}), signedV3Request(ADMIN, 'DescribeRegions', {})]) {
      const result = await t.call(request);
      expect(result.status).toBe(200);
      expect(result.body.Regions).toEqual({ Region: [{ RegionId: REGION }] });
    }
    const xml = await t.call(signedRpcRequest(ADMIN, 'DescribeRegions', { Format: 'XML' }));
    expect(parseXml(xml.raw).KMS.Regions.Region.RegionId).toBe(REGION);
  });

  it('DescribeService answers what CreateKey accepts here: SOFTWARE, Aliyun_AES_256, ENCRYPT/DECRYPT, every list an array', async () => {
    const result = await t.call(signedRpcRequest(ADMIN, 'DescribeService', {}));
    expect(result.status).toBe(200);
    expect(result.body.ProtectionLevels).toEqual({ ProtectionLevel: [{ Type: 'SOFTWARE' }] });
    expect(result.body.KeySpecs).toEqual({
      KeySpec: [{ Name: 'Aliyun_AES_256', SupportedProtectionLevels: { SupportedProtectionLevel: ['SOFTWARE'] }, Usages: { Usage: ['ENCRYPT/DECRYPT'] } }],
    });
    const xml = await t.call(signedRpcRequest(ADMIN, 'DescribeService', { Format: 'XML' }));
    expect(xml.status).toBe(200);
    expect(parseXml(xml.raw).KMS.KeySpecs.KeySpec.Name).toBe('Aliyun_AES_256');
  });

  it.each(['DescribeRegions', 'DescribeService'])('%s is authorised on *: a caller allowed only Decrypt on keys is refused', async (action) => {
    expectError(await t.call(signedRpcRequest(CONSUMER, action, {})), 403, 'Forbidden.NoPermission');
  });
});
