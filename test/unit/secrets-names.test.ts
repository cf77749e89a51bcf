import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../../lib/errors.js';
import {
  acsSecretArn,
  awsSecretArn,
  isArnSuffix,
  newArnSuffix,
  parseSecretReference,
  resolveSecretReference,
  secretNameProblem,
  stageLabelProblem,
  versionIdProblem,
} from '../../lib/secrets/names.js';

const scope = { region: 'cn-hangzhou', accountId: '1234567890123456', awsRegions: new Set(['us-east-1']) };
const NAME_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_/+=.-@'.split('');
const secretName = fc
  .array(fc.constantFrom(...NAME_CHARS), { minLength: 1, maxLength: 192 })
  .map((chars) => chars.join(''))
  .filter((name) => !name.startsWith('acs/'));
const suffix = fc.array(fc.constantFrom(...NAME_CHARS.slice(0, 62)), { minLength: 6, maxLength: 6 }).map((c) => c.join(''));

describe('Module: secret names', () => {
  it.each([
    ['a', true],
    ['x'.repeat(192), true],
    ['x'.repeat(193), false],
    ['', false],
    ['my/app_db+key=1.2-3@prod', true],
    ['acs/rds', false],
    ['acs', true],
    ['xacs/rds', true],
    ['has space', false],
    ['colon:no', false],
    ['ünïcode', false],
  ])('the name %j is valid: %s', (name, valid) => {
    expect(secretNameProblem(name) === undefined).toBe(valid);
  });

  it('version ids have 1 to 64 printable characters (the core accepts short Alibaba ids)', () => {
    expect(versionIdProblem('v1')).toBeUndefined();
    expect(versionIdProblem('x'.repeat(64))).toBeUndefined();
    expect(versionIdProblem('x'.repeat(65))).toBeDefined();
    expect(versionIdProblem('')).toBeDefined();
    expect(versionIdProblem('a\u0000b')).toBeDefined();
    expect(stageLabelProblem('x'.repeat(256))).toBeUndefined();
    expect(stageLabelProblem('x'.repeat(257))).toBeDefined();
  });

  it('a new ARN suffix is six letters or digits, and suffixes differ', () => {
    const suffixes = new Set(Array.from({ length: 50 }, () => newArnSuffix()));
    for (const s of suffixes) expect(isArnSuffix(s)).toBe(true);
    expect(suffixes.size).toBeGreaterThan(45);
  });

  it('the two ARNs have the reference forms', () => {
    expect(acsSecretArn(scope, 'db/pass')).toBe('acs:kms:cn-hangzhou:1234567890123456:secret/db/pass');
    expect(awsSecretArn({ region: 'us-east-1', accountId: scope.accountId }, 'db/pass', 'AbC123')).toBe(
      'arn:aws:secretsmanager:us-east-1:1234567890123456:secret:db/pass-AbC123',
    );
  });

  describe('references in the four forms', () => {
    it('a name, the acs ARN, a full AWS ARN and a partial AWS ARN all resolve to the secret', async () => {
      const secrets = new Map([['db/pass', { suffix: 'AbC123' }]]);
      const lookup = async (name: string) => secrets.get(name);
      for (const text of [
        'db/pass',
        'acs:kms:cn-hangzhou:1234567890123456:secret/db/pass',
        'arn:aws:secretsmanager:us-east-1:1234567890123456:secret:db/pass-AbC123',
        'arn:aws:secretsmanager:cn-hangzhou:1234567890123456:secret:db/pass',
      ]) {
        expect(await resolveSecretReference(parseSecretReference(text, scope), lookup), text).toEqual({ suffix: 'AbC123' });
      }
    });

    it('a full AWS ARN with another suffix (a re-created secret) names nothing', async () => {
      const lookup = async (name: string) => (name === 'db/pass' ? { suffix: 'AbC123' } : undefined);
      const reference = parseSecretReference('arn:aws:secretsmanager:us-east-1:1234567890123456:secret:db/pass-Zzz999', scope);
      expect(await resolveSecretReference(reference, lookup)).toBeUndefined();
    });

    it('a name ending in -<6 chars> is found by its partial ARN when no secret has the shorter name', async () => {
      const lookup = async (name: string) => (name === 'app-abcdef' ? { suffix: 'QQQQQQ', name } : undefined);
      const reference = parseSecretReference('arn:aws:secretsmanager:us-east-1:1234567890123456:secret:app-abcdef', scope);
      expect(reference.candidates).toEqual([{ name: 'app', suffix: 'abcdef' }, { name: 'app-abcdef' }]);
      expect(await resolveSecretReference(reference, lookup)).toEqual({ suffix: 'QQQQQQ', name: 'app-abcdef' });
    });

    it('an ARN of another region or account names nothing here', () => {
      expect(parseSecretReference('acs:kms:cn-beijing:1234567890123456:secret/a', scope).candidates).toEqual([]);
      expect(parseSecretReference('acs:kms:cn-hangzhou:999:secret/a', scope).candidates).toEqual([]);
      expect(parseSecretReference('arn:aws:secretsmanager:eu-west-1:1234567890123456:secret:a', scope).candidates).toEqual([]);
    });

    it.each([
      'acs:kms:cn-hangzhou:1234567890123456:key/a',
      'acs:kms:cn-hangzhou:1234567890123456:secret/',
      'acs:kms:cn-hangzhou:secret/a',
      'acs:kms:cn-hangzhou:1234567890123456:secret/acs/rds',
      'arn:aws:kms:us-east-1:1234567890123456:key/a',
      'arn:aws:secretsmanager:us-east-1:1234567890123456:secret',
      'arn:aws:secretsmanager:us-east-1:1234567890123456:secret:',
      'arn:aws:secretsmanager:us-east-1:1234567890123456:secret:a b',
      'bad name',
      '',
    ])('the malformed reference %j is InvalidParameter', (text) => {
      expect(() => parseSecretReference(text, scope)).toThrow(InvalidParameterError);
    });

    it('property: every form of any valid name and suffix resolves to that secret, and no other secret', async () => {
      await fc.assert(
        fc.asyncProperty(secretName, suffix, secretName, suffix, async (name, sfx, other, otherSuffix) => {
          fc.pre(other !== name);
          const secrets = new Map([
            [name, { name, suffix: sfx }],
            [other, { name: other, suffix: otherSuffix }],
          ]);
          const lookup = async (n: string) => secrets.get(n);
          const forms = [
            name,
            acsSecretArn(scope, name),
            awsSecretArn({ region: 'us-east-1', accountId: scope.accountId }, name, sfx),
            `arn:aws:secretsmanager:us-east-1:${scope.accountId}:secret:${name}`,
          ];
          for (const form of forms) {
            const found = await resolveSecretReference(parseSecretReference(form, scope), lookup);
            // A partial ARN of `name` may read as the full ARN of `other` when name = other-<its suffix>.
            const ambiguous = form.endsWith(`:${name}`) && name === `${other}-${otherSuffix}`;
            expect(found?.name).toBe(ambiguous ? other : name);
          }
        }),
        { numRuns: 300 },
      );
    });

    it('property: parsing never throws anything but InvalidParameter', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 300 }), (text) => {
          try {
            parseSecretReference(text, scope);
          } catch (err) {
            expect(err).toBeInstanceOf(InvalidParameterError);
          }
        }),
      );
    });
  });
});
