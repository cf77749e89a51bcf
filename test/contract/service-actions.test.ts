import { beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD_CLASSES } from '../../lib/operations/random-password.js';
import { ADMIN, CONSUMER, createTestService, REGION, type TestService } from '../helpers/service.js';
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
