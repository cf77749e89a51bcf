import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  type CreateSecretCommandInput,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  type ListSecretsCommandInput,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  type SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { type AuditLog, type AuditRecord, auditLine } from '../../lib/audit/audit-log.js';
import { RecentAuditRecords } from '../../lib/audit/recent-records.js';
import { DEFAULT_SECRETS_KEY_ALIAS } from '../../lib/secrets/default-key.js';
import { AWS_REGION, inProcessKmsClient, inProcessSecretsManagerClient } from '../helpers/aws.js';
import { awsFailure as awsError } from '../helpers/kms-calls.js';
import { ACCOUNT_ID, ADMIN, ALIAS, createTestService, DISABLED_KEY_ID, KEY_ID, keyArnOf, REGION, type TestService } from '../helpers/service.js';
import { type Credentials, signedAwsRequest, signedRpcRequest } from '../helpers/sign.js';

/*
 * The AWS Secrets Manager JSON protocol (X-Amz-Target `secretsmanager.<Operation>`, SigV4 service
 * `secretsmanager`) through the official AWS SDK, on the same secret store the Alibaba secrets
 * Actions serve: every operation's parameters and answers, its errors by the SDK's exception
 * names, the protocol crossing, authorisation by `secretsmanager:` policies, and what the audit
 * trail and the log hold.
 */

let t: TestService;
let sm: SecretsManagerClient;
// The service's clock: a whole second near the real time (the SDK signs with the real time); tests move it by seconds.
let base = Math.floor(Date.now() / 1000) * 1000;
let now = base;
const DAY = 86_400_000;
let logLines: string[];
let auditRecords: AuditRecord[];

/** Every audit record, kept as written (the lines are {@link auditLine} of them). */
const recordingAudit = (): AuditLog => ({
  write: async (record) => {
    auditRecords.push(record);
  },
  ready: async () => undefined,
  close: async () => undefined,
});

beforeEach(async () => {
  base = Math.floor(Date.now() / 1000) * 1000;
  now = base;
  logLines = [];
  auditRecords = [];
  t = await createTestService({ now: () => now, logLines, audit: recordingAudit(), recentAudit: new RecentAuditRecords() });
  sm = inProcessSecretsManagerClient(t, ADMIN);
});

// ---- helpers ----

/** A secret's AWS ARN with its suffix: `arn:aws:secretsmanager:<region>:<account>:secret:<name>-XXXXXX`. */
const ARN_OF = (name: string) => new RegExp(`^arn:aws:secretsmanager:${AWS_REGION}:${ACCOUNT_ID}:secret:${name.replace(/[/+.]/g, '\\$&')}-[A-Za-z0-9]{6}$`);
const partialArn = (name: string) => `arn:aws:secretsmanager:${AWS_REGION}:${ACCOUNT_ID}:secret:${name}`;
const acsArn = (name: string) => `acs:kms:${REGION}:${ACCOUNT_ID}:secret/${name}`;
const awsKeyArn = (keyId: string) => `arn:aws:kms:${AWS_REGION}:${ACCOUNT_ID}:key/${keyId}`;
/** A ClientRequestToken (32–64 characters) that says which version it is. */
const token = (label: string) => `${label}-`.padEnd(32, '0');

/** Expects the call to fail with this exception (the SDK's class name) and HTTP 400; returns the message. */
async function expectAwsError(promise: Promise<unknown>, name: string, status = 400): Promise<string> {
  const error = await awsError(promise);
  expect(error, error.message).toMatchObject({ name, status });
  return error.message;
}

const create = (Name: string, input: Omit<CreateSecretCommandInput, 'Name'> = {}) => sm.send(new CreateSecretCommand({ Name, ...input }));
const getValue = (SecretId: string, select: { VersionId?: string; VersionStage?: string } = {}, client = sm) =>
  client.send(new GetSecretValueCommand({ SecretId, ...select }));
const describeSecret = (SecretId: string, client = sm) => client.send(new DescribeSecretCommand({ SecretId }));
const listNames = async (input: ListSecretsCommandInput = {}, client = sm) =>
  ((await client.send(new ListSecretsCommand(input))).SecretList ?? []).map((s) => s.Name);

/** An Alibaba-protocol call as the admin, expected to succeed. */
async function alibaba(action: string, params: Record<string, string>): Promise<Record<string, any>> {
  const result = await t.call(signedRpcRequest(ADMIN, action, params));
  expect(result.status, result.raw).toBe(200);
  return result.body;
}

/** An access key with this policy, and a Secrets Manager client signing as it. */
async function accessKey(
  accessKeyId: string,
  Statement: Array<{
    Effect: 'Allow' | 'Deny';
    Action: string | string[];
    Resource: string | string[];
    Condition?: Record<string, Record<string, string | string[]>>;
  }>,
): Promise<{ credentials: Credentials; client: SecretsManagerClient }> {
  const credentials = { accessKeyId, accessKeySecret: `${accessKeyId}-secret-0123456789` };
  await t.service.accessKeys.create({ ...credentials, status: 'Enabled', createdAt: new Date().toISOString(), policy: { Version: '1', Statement } });
  return { credentials, client: inProcessSecretsManagerClient(t, credentials) };
}

/** A raw Secrets Manager request (for what the SDK would not send), signed as the SDK signs. */
const raw = (operation: string, body: unknown, credentials: Credentials = ADMIN, options: Parameters<typeof signedAwsRequest>[3] = {}) =>
  t.call(signedAwsRequest(credentials, operation, body, { service: 'secretsmanager', ...options }));

// ---- the operations ----

describe('CreateSecret', () => {
  it('answers the ARN (with its 6-character suffix), the name and the version named by ClientRequestToken; the value reads back as AWSCURRENT', async () => {
    const created = await create('db/password', { ClientRequestToken: token('v1'), SecretString: 'hunter2', Description: 'the db' });
    expect(created).toMatchObject({ ARN: expect.stringMatching(ARN_OF('db/password')), Name: 'db/password', VersionId: token('v1') });
    const got = await getValue('db/password');
    expect(got).toMatchObject({ ARN: created.ARN, Name: 'db/password', VersionId: token('v1'), SecretString: 'hunter2', VersionStages: ['AWSCURRENT'] });
    expect(got.SecretBinary).toBeUndefined();
    expect(got.CreatedDate).toEqual(new Date(base));
  });

  it('without ClientRequestToken the SDK fills one: every create has a version id of its own', async () => {
    const a = await create('a', { SecretString: 'x' });
    const b = await create('b', { SecretString: 'x' });
    expect(a.VersionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.VersionId).not.toBe(a.VersionId);
  });

  it('SecretBinary: the bytes read back as SecretBinary, not SecretString', async () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 251, 252, 253, 254, 255]);
    await create('bin', { SecretBinary: bytes });
    const got = await getValue('bin');
    expect(Buffer.from(got.SecretBinary!)).toEqual(Buffer.from(bytes));
    expect(got.SecretString).toBeUndefined();
  });

  it('SecretString and SecretBinary together are InvalidParameterException, and nothing is created', async () => {
    await expectAwsError(create('both', { SecretString: 'x', SecretBinary: new Uint8Array([1]) }), 'InvalidParameterException');
    await expectAwsError(describeSecret('both'), 'ResourceNotFoundException');
  });

  it('without a value: no VersionId answered, no version to read (ResourceNotFoundException) until a PutSecretValue makes the first AWSCURRENT', async () => {
    const created = await create('empty', { Description: 'later' });
    expect(created.ARN).toMatch(ARN_OF('empty'));
    expect(created.VersionId).toBeUndefined();
    await expectAwsError(getValue('empty'), 'ResourceNotFoundException');
    const described = await describeSecret('empty');
    expect(described.Description).toBe('later');
    expect(Object.keys(described.VersionIdsToStages ?? {})).toEqual([]);
    const put = await sm.send(new PutSecretValueCommand({ SecretId: 'empty', SecretString: 'first' }));
    expect(put.VersionStages).toEqual(['AWSCURRENT']);
    expect((await getValue('empty')).SecretString).toBe('first');
  });

  it('Tags and Description are kept; DescribeSecret shows them', async () => {
    await create('tagged', {
      SecretString: 'x',
      Description: 'with tags',
      Tags: [
        { Key: 'team', Value: 'blue' },
        { Key: 'env', Value: 'prod' },
      ],
    });
    const described = await describeSecret('tagged');
    expect(described.Description).toBe('with tags');
    expect(described.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'team', Value: 'blue' },
        { Key: 'env', Value: 'prod' },
      ]),
    );
    expect(described.Tags).toHaveLength(2);
  });

  it('KmsKeyId by id, alias, key ARN and alias ARN: the value is sealed under that key (DescribeSecret names it; disabling it fails reads)', async () => {
    const forms = [KEY_ID, ALIAS, awsKeyArn(KEY_ID), `arn:aws:kms:${AWS_REGION}:${ACCOUNT_ID}:${ALIAS}`, keyArnOf(KEY_ID)];
    const described = [];
    for (const [i, KmsKeyId] of forms.entries()) {
      await create(`keyed-${i}`, { SecretString: `v${i}`, KmsKeyId });
      expect((await getValue(`keyed-${i}`)).SecretString).toBe(`v${i}`);
      described.push((await describeSecret(`keyed-${i}`)).KmsKeyId);
    }
    // One key, however it was named.
    expect(new Set(described).size).toBe(1);
    expect(described[0]).toContain(KEY_ID);
    await alibaba('DisableKey', { KeyId: KEY_ID });
    for (const i of forms.keys()) await expectAwsError(getValue(`keyed-${i}`), 'DecryptionFailure');
  });

  it('a KmsKeyId that is Disabled is EncryptionFailure; one that does not exist is ResourceNotFoundException; neither creates the secret', async () => {
    await expectAwsError(create('off', { SecretString: 'x', KmsKeyId: DISABLED_KEY_ID }), 'EncryptionFailure');
    await expectAwsError(create('nokey', { SecretString: 'x', KmsKeyId: 'alias/nobody' }), 'ResourceNotFoundException');
    expect(await listNames({ IncludePlannedDeletion: true })).toEqual([]);
  });

  it("a KmsKeyId that cannot encrypt a secret (an asymmetric key) is EncryptionFailure, an exception of the Secrets Manager model (not KMS's InvalidKeyUsageException)", async () => {
    const key = await alibaba('CreateKey', { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT/DECRYPT' });
    const error = await awsError(create('rsa', { SecretString: 'x', KmsKeyId: key.KeyMetadata.KeyId }));
    expect(SECRETS_MANAGER_EXCEPTIONS).toContain(error.name);
    expect(error).toMatchObject({ name: 'EncryptionFailure', status: 400 });
    await create('rsa', { SecretString: 'x' });
    await expectAwsError(sm.send(new UpdateSecretCommand({ SecretId: 'rsa', KmsKeyId: key.KeyMetadata.KeyId })), 'EncryptionFailure');
  });

  it('a name in use is ResourceExistsException; the same ClientRequestToken and value again succeeds without a new version, another value is ResourceExistsException', async () => {
    await create('s', { ClientRequestToken: token('v1'), SecretString: 'one' });
    const again = await create('s', { ClientRequestToken: token('v1'), SecretString: 'one' });
    expect(again.VersionId).toBe(token('v1'));
    await expectAwsError(create('s', { ClientRequestToken: token('v1'), SecretString: 'two' }), 'ResourceExistsException');
    await expectAwsError(create('s', { ClientRequestToken: token('v2'), SecretString: 'one' }), 'ResourceExistsException');
    await expectAwsError(create('s', { SecretString: 'one' }), 'ResourceExistsException');
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 's', IncludeDeprecated: true }));
    expect(versions.Versions!.map((v) => v.VersionId)).toEqual([token('v1')]);
  });

  it('refuses bad input with InvalidParameterException: a bad name, a short ClientRequestToken, an empty value, a value over 65,536 bytes, unsupported parameters', async () => {
    await expectAwsError(create('bad name!', { SecretString: 'x' }), 'InvalidParameterException');
    await expectAwsError(create('short', { SecretString: 'x', ClientRequestToken: 'too-short' }), 'InvalidParameterException');
    await expectAwsError(create('empty', { SecretString: '' }), 'InvalidParameterException');
    await expectAwsError(create('big', { SecretString: 'x'.repeat(65_537) }), 'InvalidParameterException');
    await expectAwsError(create('replica', { SecretString: 'x', AddReplicaRegions: [{ Region: 'eu-west-1' }] }), 'InvalidParameterException');
    // The largest value is taken.
    await create('largest', { SecretString: 'x'.repeat(65_536) });
    expect((await getValue('largest')).SecretString).toHaveLength(65_536);
    // A body that is not a JSON object, and a field of the wrong type.
    expect((await raw('CreateSecret', [])).body.__type).toBe('SerializationException');
    expect((await raw('CreateSecret', { Name: 'typed', SecretString: 5 })).body.__type).toBe('InvalidParameterException');
  });
});

/** The exception names of the Secrets Manager model, and those every AWS service shares. */
const SECRETS_MANAGER_EXCEPTIONS = [
  'DecryptionFailure',
  'EncryptionFailure',
  'InternalServiceError',
  'InvalidNextTokenException',
  'InvalidParameterException',
  'InvalidRequestException',
  'LimitExceededException',
  'MalformedPolicyDocumentException',
  'PreconditionNotMetException',
  'PublicPolicyException',
  'ResourceExistsException',
  'ResourceNotFoundException',
  'AccessDeniedException',
];

describe('GetSecretValue', () => {
  let arn: string;
  beforeEach(async () => {
    arn = (await create('app/db', { ClientRequestToken: token('v1'), SecretString: 'one' })).ARN!;
    now += 1000;
    await sm.send(new PutSecretValueCommand({ SecretId: 'app/db', ClientRequestToken: token('v2'), SecretString: 'two' }));
  });

  it('by name, full ARN, partial ARN (no suffix) and acs ARN: AWSCURRENT by default', async () => {
    for (const SecretId of ['app/db', arn, partialArn('app/db'), acsArn('app/db')]) {
      expect(await getValue(SecretId)).toMatchObject({ ARN: arn, Name: 'app/db', VersionId: token('v2'), SecretString: 'two', VersionStages: ['AWSCURRENT'] });
    }
  });

  it('a full ARN with another suffix, another account or another region names no secret here', async () => {
    const wrongSuffix = `${arn.slice(0, -6)}${arn.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA'}`;
    await expectAwsError(getValue(wrongSuffix), 'ResourceNotFoundException');
    await expectAwsError(getValue(arn.replace(`:${ACCOUNT_ID}:`, ':999999999999:')), 'ResourceNotFoundException');
    await expectAwsError(getValue(arn.replace(`:${AWS_REGION}:`, ':ap-nowhere-1:')), 'ResourceNotFoundException');
    await expectAwsError(getValue('nobody'), 'ResourceNotFoundException');
    await expectAwsError(getValue('arn:aws:secretsmanager:only-three-parts'), 'InvalidParameterException');
  });

  it('VersionStage (AWSPREVIOUS, in either spelling) and VersionId select a version; both must name the same one', async () => {
    expect(await getValue('app/db', { VersionStage: 'AWSPREVIOUS' })).toMatchObject({
      VersionId: token('v1'),
      SecretString: 'one',
      VersionStages: ['AWSPREVIOUS'],
    });
    expect((await getValue('app/db', { VersionStage: 'ACSPrevious' })).VersionId).toBe(token('v1'));
    expect(await getValue('app/db', { VersionId: token('v1') })).toMatchObject({ SecretString: 'one', CreatedDate: new Date(base) });
    expect((await getValue('app/db', { VersionId: token('v2'), VersionStage: 'AWSCURRENT' })).SecretString).toBe('two');
    await expectAwsError(getValue('app/db', { VersionId: token('v1'), VersionStage: 'AWSCURRENT' }), 'ResourceNotFoundException');
    await expectAwsError(getValue('app/db', { VersionId: token('v9') }), 'ResourceNotFoundException');
    await expectAwsError(getValue('app/db', { VersionStage: 'AWSPENDING' }), 'ResourceNotFoundException');
  });

  it('a secret whose key is Disabled is DecryptionFailure; enabled again, it reads', async () => {
    await create('keyed', { SecretString: 'k', KmsKeyId: KEY_ID });
    await alibaba('DisableKey', { KeyId: KEY_ID });
    const message = await expectAwsError(getValue('keyed'), 'DecryptionFailure');
    expect(message).not.toContain('"k"');
    await alibaba('EnableKey', { KeyId: KEY_ID });
    expect((await getValue('keyed')).SecretString).toBe('k');
  });
});

describe('BatchGetSecretValue', () => {
  beforeEach(async () => {
    for (const name of ['batch/a', 'batch/b', 'batch/c', 'other']) {
      await create(name, { SecretString: `value of ${name}`, Tags: [{ Key: 'group', Value: name.split('/')[0]! }] });
      now += 1000;
    }
  });

  it('SecretIdList: the current values, by name or ARN; a secret that cannot be read is an entry of Errors with its ErrorCode', async () => {
    const arn = (await describeSecret('batch/b')).ARN!;
    await create('keyed', { SecretString: 'k', KmsKeyId: KEY_ID });
    await sm.send(new DeleteSecretCommand({ SecretId: 'batch/c' }));
    await alibaba('DisableKey', { KeyId: KEY_ID });
    const batch = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['batch/a', arn, 'nobody', 'batch/c', 'keyed', 'bad name!'] }));
    expect(batch.SecretValues!.map((v) => [v.Name, v.SecretString, v.VersionStages])).toEqual([
      ['batch/a', 'value of batch/a', ['AWSCURRENT']],
      ['batch/b', 'value of batch/b', ['AWSCURRENT']],
    ]);
    expect(batch.SecretValues![1]!.ARN).toBe(arn);
    expect(batch.SecretValues![0]!.CreatedDate).toBeInstanceOf(Date);
    expect(batch.Errors).toEqual([
      expect.objectContaining({ SecretId: 'nobody', ErrorCode: 'ResourceNotFoundException' }),
      expect.objectContaining({ SecretId: 'batch/c', ErrorCode: 'InvalidRequestException' }),
      expect.objectContaining({ SecretId: 'keyed', ErrorCode: 'DecryptionFailure' }),
      expect.objectContaining({ SecretId: 'bad name!', ErrorCode: 'InvalidParameterException' }),
    ]);
    for (const e of batch.Errors!) expect(e.Message).toEqual(expect.any(String));
    expect(batch.NextToken).toBeUndefined();
  });

  it('SecretIdList has 1 to 20 ids; SecretIdList and Filters together, or neither, are InvalidParameterException; MaxResults goes with Filters only', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `id-${i}`);
    expect((await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ids }))).Errors).toHaveLength(20);
    await expectAwsError(sm.send(new BatchGetSecretValueCommand({ SecretIdList: [...ids, 'one-more'] })), 'InvalidParameterException');
    await expectAwsError(sm.send(new BatchGetSecretValueCommand({ SecretIdList: [] })), 'InvalidParameterException');
    await expectAwsError(
      sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['batch/a'], Filters: [{ Key: 'name', Values: ['batch'] }] })),
      'InvalidParameterException',
    );
    await expectAwsError(sm.send(new BatchGetSecretValueCommand({})), 'InvalidParameterException');
    await expectAwsError(sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['batch/a'], MaxResults: 5 })), 'InvalidParameterException');
  });

  it('Filters: the matching secrets (not those pending deletion), paged by MaxResults and NextToken, each exactly once', async () => {
    await sm.send(new DeleteSecretCommand({ SecretId: 'batch/c' }));
    await create('batch/d', { SecretString: 'value of batch/d' });
    const seen: string[] = [];
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const page = await sm.send(new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['batch/'] }], MaxResults: 2, NextToken }));
      expect(page.SecretValues!.length).toBeLessThanOrEqual(2);
      seen.push(...page.SecretValues!.map((v) => `${v.Name}=${v.SecretString}`));
      NextToken = page.NextToken;
      pages++;
    } while (NextToken !== undefined && pages < 10);
    expect(seen.sort()).toEqual(['batch/a=value of batch/a', 'batch/b=value of batch/b', 'batch/d=value of batch/d']);
    expect(pages).toBe(2);
    const byTag = await sm.send(new BatchGetSecretValueCommand({ Filters: [{ Key: 'tag-value', Values: ['other'] }] }));
    expect(byTag.SecretValues!.map((v) => v.Name)).toEqual(['other']);
    await expectAwsError(
      sm.send(new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['batch/'] }], NextToken: 'bogus' })),
      'InvalidNextTokenException',
    );
    await expectAwsError(
      sm.send(new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['batch/'] }], MaxResults: 21 })),
      'InvalidParameterException',
    );
  });
});

describe('PutSecretValue', () => {
  beforeEach(async () => {
    await create('s', { ClientRequestToken: token('v1'), SecretString: 'one' });
  });

  it('a new version becomes AWSCURRENT, the former current AWSPREVIOUS, the one before loses its stage', async () => {
    const v2 = await sm.send(new PutSecretValueCommand({ SecretId: 's', ClientRequestToken: token('v2'), SecretString: 'two' }));
    expect(v2).toMatchObject({ ARN: expect.stringMatching(ARN_OF('s')), Name: 's', VersionId: token('v2'), VersionStages: ['AWSCURRENT'] });
    await sm.send(new PutSecretValueCommand({ SecretId: 's', ClientRequestToken: token('v3'), SecretBinary: new Uint8Array([3]) }));
    expect(Buffer.from((await getValue('s')).SecretBinary!)).toEqual(Buffer.from([3]));
    expect((await getValue('s', { VersionStage: 'AWSPREVIOUS' })).SecretString).toBe('two');
    expect((await describeSecret('s')).VersionIdsToStages).toEqual({ [token('v2')]: ['AWSPREVIOUS'], [token('v3')]: ['AWSCURRENT'] });
  });

  it('VersionStages given: the version gets those stages and AWSCURRENT stays where it was', async () => {
    const pending = await sm.send(
      new PutSecretValueCommand({ SecretId: 's', ClientRequestToken: token('v2'), SecretString: 'two', VersionStages: ['AWSPENDING'] }),
    );
    expect(pending.VersionStages).toEqual(['AWSPENDING']);
    expect((await getValue('s')).VersionId).toBe(token('v1'));
    expect((await getValue('s', { VersionStage: 'AWSPENDING' })).SecretString).toBe('two');
    await sm.send(new PutSecretValueCommand({ SecretId: 's', ClientRequestToken: token('v3'), SecretString: 'three', VersionStages: ['AWSCURRENT', 'blue'] }));
    expect((await describeSecret('s')).VersionIdsToStages).toEqual({
      [token('v1')]: ['AWSPREVIOUS'],
      [token('v2')]: ['AWSPENDING'],
      [token('v3')]: expect.arrayContaining(['AWSCURRENT', 'blue']),
    });
  });

  it('ClientRequestToken is idempotent: the same token and value succeed with no new version; the same token with another value is ResourceExistsException', async () => {
    const first = await sm.send(new PutSecretValueCommand({ SecretId: 's', ClientRequestToken: token('v2'), SecretString: 'two' }));
    now += 1000;
    const again = await sm.send(new PutSecretValueCommand({ SecretId: 's', ClientRequestToken: token('v2'), SecretString: 'two' }));
    expect(again).toEqual({ ...first, $metadata: expect.anything() });
    await expectAwsError(
      sm.send(new PutSecretValueCommand({ SecretId: 's', ClientRequestToken: token('v2'), SecretString: 'other' })),
      'ResourceExistsException',
    );
    // The same text as bytes is another value.
    await expectAwsError(
      sm.send(new PutSecretValueCommand({ SecretId: 's', ClientRequestToken: token('v2'), SecretBinary: Buffer.from('two') })),
      'ResourceExistsException',
    );
    const versions = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 's', IncludeDeprecated: true }));
    expect(versions.Versions!.map((v) => v.VersionId).sort()).toEqual([token('v1'), token('v2')]);
    expect((await getValue('s', { VersionStage: 'AWSPREVIOUS' })).VersionId).toBe(token('v1'));
  });

  it('needs a value, not both kinds; a secret that is not there is ResourceNotFoundException', async () => {
    await expectAwsError(sm.send(new PutSecretValueCommand({ SecretId: 's' })), 'InvalidParameterException');
    await expectAwsError(
      sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'a', SecretBinary: new Uint8Array([1]) })),
      'InvalidParameterException',
    );
    await expectAwsError(sm.send(new PutSecretValueCommand({ SecretId: 'nobody', SecretString: 'a' })), 'ResourceNotFoundException');
    expect((await raw('PutSecretValue', { SecretId: 's', SecretBinary: 'not base64!' })).body.__type).toBe('InvalidParameterException');
  });

  it('under a Disabled key: EncryptionFailure, and no version is added', async () => {
    await create('keyed', { ClientRequestToken: token('k1'), SecretString: 'k', KmsKeyId: KEY_ID });
    await alibaba('DisableKey', { KeyId: KEY_ID });
    await expectAwsError(sm.send(new PutSecretValueCommand({ SecretId: 'keyed', SecretString: 'k2' })), 'EncryptionFailure');
    expect(Object.keys((await describeSecret('keyed')).VersionIdsToStages!)).toEqual([token('k1')]);
  });

  it('more than 20 stages on one version is LimitExceededException', async () => {
    const VersionStages = Array.from({ length: 20 }, (_, i) => `stage-${i}`);
    await sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'x', VersionStages }));
    await expectAwsError(
      sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId: 's',
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: (await getValue('s', { VersionStage: 'stage-0' })).VersionId,
          RemoveFromVersionId: token('v1'),
        }),
      ),
      'LimitExceededException',
    );
    await expectAwsError(
      sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'x', VersionStages: [...VersionStages, 'one-more'] })),
      'InvalidParameterException',
    );
  });
});

describe('DescribeSecret', () => {
  it('answers the metadata: dates as Dates, VersionIdsToStages of labelled versions only, no KmsKeyId for the default key, no DeletedDate unless scheduled', async () => {
    await create('d', { ClientRequestToken: token('v1'), SecretString: 'one', Description: 'desc' });
    now += 1000;
    for (const v of ['v2', 'v3']) await sm.send(new PutSecretValueCommand({ SecretId: 'd', ClientRequestToken: token(v), SecretString: v }));
    const described = await describeSecret('d');
    expect(described).toMatchObject({
      ARN: expect.stringMatching(ARN_OF('d')),
      Name: 'd',
      Description: 'desc',
      CreatedDate: new Date(base),
      LastChangedDate: new Date(base + 1000),
      VersionIdsToStages: { [token('v2')]: ['AWSPREVIOUS'], [token('v3')]: ['AWSCURRENT'] },
    });
    expect(described.KmsKeyId).toBeUndefined();
    expect(described.DeletedDate).toBeUndefined();
    expect(described.Tags).toBeUndefined();
    // The default key is the service's own (alias/kms/secrets): none of the caller's.
    expect(await t.service.keyring.readAlias(DEFAULT_SECRETS_KEY_ALIAS)).toBeDefined();
    now += 1000;
    await sm.send(new DeleteSecretCommand({ SecretId: 'd', RecoveryWindowInDays: 7 }));
    const scheduled = await describeSecret('d');
    expect(scheduled.DeletedDate).toEqual(new Date(base + 2000 + 7 * DAY));
  });

  it('by every form of reference; ResourceNotFoundException for a secret that is not there', async () => {
    const { ARN } = await create('x', { SecretString: 'x' });
    for (const ref of ['x', ARN!, partialArn('x'), acsArn('x')]) expect((await describeSecret(ref)).ARN).toBe(ARN);
    await expectAwsError(describeSecret('nobody'), 'ResourceNotFoundException');
  });
});

describe('ListSecrets', () => {
  /** Three secrets made a second apart, in an order that is not their names'. */
  async function makeThree() {
    await create('zeta', { SecretString: 'z', Description: 'Last by name', Tags: [{ Key: 'team', Value: 'blue' }] });
    now += 1000;
    await create('alpha', { SecretString: 'a', Description: 'first by name', Tags: [{ Key: 'env', Value: 'prod' }] });
    now += 1000;
    await create('mid/one', { SecretString: 'm', Tags: [{ Key: 'team', Value: 'red' }] });
  }

  it('lists by CreatedDate unless SortBy says otherwise; SortOrder desc reverses', async () => {
    await makeThree();
    expect(await listNames()).toEqual(['zeta', 'alpha', 'mid/one']);
    expect(await listNames({ SortOrder: 'desc' })).toEqual(['mid/one', 'alpha', 'zeta']);
    expect(await listNames({ SortBy: 'name' })).toEqual(['alpha', 'mid/one', 'zeta']);
    expect(await listNames({ SortBy: 'name', SortOrder: 'desc' })).toEqual(['zeta', 'mid/one', 'alpha']);
    now += 1000;
    await sm.send(new UpdateSecretCommand({ SecretId: 'zeta', Description: 'changed' }));
    expect(await listNames({ SortBy: 'last-changed-date' })).toEqual(['alpha', 'mid/one', 'zeta']);
    expect((await raw('ListSecrets', { SortOrder: 'sideways' })).body.__type).toBe('InvalidParameterException');
  });

  it('each entry is the secret metadata DescribeSecret answers, with SecretVersionsToStages', async () => {
    await makeThree();
    const [entry] = (await sm.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['zeta'] }] }))).SecretList!;
    const described = await describeSecret('zeta');
    expect(entry).toEqual({
      ARN: described.ARN,
      Name: 'zeta',
      Description: 'Last by name',
      RotationEnabled: false,
      LastChangedDate: described.LastChangedDate,
      CreatedDate: new Date(base),
      Tags: [{ Key: 'team', Value: 'blue' }],
      SecretVersionsToStages: described.VersionIdsToStages,
    });
  });

  it('hides secrets scheduled for deletion unless IncludePlannedDeletion (then with DeletedDate)', async () => {
    await makeThree();
    await sm.send(new DeleteSecretCommand({ SecretId: 'alpha', RecoveryWindowInDays: 7 }));
    expect(await listNames()).toEqual(['zeta', 'mid/one']);
    const all = (await sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true }))).SecretList!;
    expect(all.map((s) => s.Name)).toEqual(['zeta', 'alpha', 'mid/one']);
    expect(all[1]!.DeletedDate).toEqual(new Date(base + 2000 + 7 * DAY));
    expect(all[0]!.DeletedDate).toBeUndefined();
  });

  it('Filters: name, tag-key and tag-value by prefix (case-sensitive), description and all by prefix ignoring case, ! negates; filters AND, values OR', async () => {
    await makeThree();
    const filtered = (Key: string, ...Values: string[]) => listNames({ Filters: [{ Key: Key as never, Values }] });
    expect(await filtered('name', 'mid')).toEqual(['mid/one']);
    expect(await filtered('name', 'Mid')).toEqual([]);
    expect(await filtered('name', 'al', 'ze')).toEqual(['zeta', 'alpha']);
    expect(await filtered('name', '!al')).toEqual(['zeta', 'mid/one']);
    expect(await filtered('description', 'LAST')).toEqual(['zeta']);
    expect(await filtered('description', 'by name')).toEqual([]);
    expect(await filtered('tag-key', 'te')).toEqual(['zeta', 'mid/one']);
    expect(await filtered('tag-key', 'Team')).toEqual([]);
    expect(await filtered('tag-value', 're')).toEqual(['mid/one']);
    expect(await filtered('tag-value', '!blue')).toEqual(['alpha', 'mid/one']);
    expect(await filtered('all', 'PROD')).toEqual(['alpha']);
    expect(await filtered('all', 'first')).toEqual(['alpha']);
    expect(
      await listNames({
        Filters: [
          { Key: 'tag-key', Values: ['team'] },
          { Key: 'name', Values: ['!zeta'] },
        ],
      }),
    ).toEqual(['mid/one']);
    expect((await raw('ListSecrets', { Filters: [{ Key: 'colour', Values: ['x'] }] })).body.__type).toBe('InvalidParameterException');
    expect((await raw('ListSecrets', { Filters: [{ Key: 'name', Values: [] }] })).body.__type).toBe('InvalidParameterException');
  });

  it('MaxResults and NextToken walk every secret exactly once, in order; a NextToken this service did not give is InvalidNextTokenException', async () => {
    const names = Array.from({ length: 7 }, (_, i) => `page-${i}`);
    for (const name of names) {
      await create(name, { SecretString: name });
      now += 1000;
    }
    const seen: string[] = [];
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const page = await sm.send(new ListSecretsCommand({ MaxResults: 3, NextToken }));
      expect(page.SecretList!.length).toBeLessThanOrEqual(3);
      seen.push(...page.SecretList!.map((s) => s.Name!));
      NextToken = page.NextToken;
      pages++;
    } while (NextToken !== undefined && pages < 10);
    expect(seen).toEqual(names);
    expect(pages).toBe(3);
    await expectAwsError(sm.send(new ListSecretsCommand({ NextToken: 'not-a-token' })), 'InvalidNextTokenException');
    await expectAwsError(sm.send(new ListSecretsCommand({ MaxResults: 0 })), 'InvalidParameterException');
    await expectAwsError(sm.send(new ListSecretsCommand({ MaxResults: 101 })), 'InvalidParameterException');
  });
});

describe('ListSecretVersionIds', () => {
  beforeEach(async () => {
    await create('v', { ClientRequestToken: token('v1'), SecretString: '1' });
    for (const v of ['v2', 'v3', 'v4']) {
      now += 1000;
      await sm.send(new PutSecretValueCommand({ SecretId: 'v', ClientRequestToken: token(v), SecretString: v }));
    }
  });

  it('the labelled versions, or every version with IncludeDeprecated; each with its stages, CreatedDate and key', async () => {
    const listed = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'v' }));
    expect(listed.ARN).toMatch(ARN_OF('v'));
    expect(listed.Name).toBe('v');
    expect(listed.Versions!.map((v) => [v.VersionId, v.VersionStages])).toEqual([
      [token('v3'), ['AWSPREVIOUS']],
      [token('v4'), ['AWSCURRENT']],
    ]);
    expect(listed.Versions![1]!.CreatedDate).toEqual(new Date(base + 3000));
    expect(listed.Versions![1]!.KmsKeyIds).toHaveLength(1);
    const all = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'v', IncludeDeprecated: true }));
    expect(all.Versions!.map((v) => [v.VersionId, v.VersionStages])).toEqual([
      [token('v1'), []],
      [token('v2'), []],
      [token('v3'), ['AWSPREVIOUS']],
      [token('v4'), ['AWSCURRENT']],
    ]);
  });

  it('pages by MaxResults and NextToken; a bogus NextToken is InvalidNextTokenException; a secret that is not there ResourceNotFoundException', async () => {
    const seen: string[] = [];
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const page = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'v', IncludeDeprecated: true, MaxResults: 3, NextToken }));
      seen.push(...page.Versions!.map((v) => v.VersionId!));
      NextToken = page.NextToken;
      pages++;
    } while (NextToken !== undefined && pages < 10);
    expect(seen).toEqual(['v1', 'v2', 'v3', 'v4'].map(token));
    expect(pages).toBe(2);
    await expectAwsError(sm.send(new ListSecretVersionIdsCommand({ SecretId: 'v', NextToken: '???' })), 'InvalidNextTokenException');
    await expectAwsError(sm.send(new ListSecretVersionIdsCommand({ SecretId: 'nobody' })), 'ResourceNotFoundException');
  });
});

describe('UpdateSecret', () => {
  beforeEach(async () => {
    await create('u', { ClientRequestToken: token('v1'), SecretString: 'one', Description: 'before' });
    now += 1000;
  });

  it('Description alone: changed, no new version, no VersionId answered', async () => {
    const updated = await sm.send(new UpdateSecretCommand({ SecretId: 'u', Description: 'after' }));
    expect(updated).toMatchObject({ ARN: expect.stringMatching(ARN_OF('u')), Name: 'u' });
    expect(updated.VersionId).toBeUndefined();
    const described = await describeSecret('u');
    expect(described).toMatchObject({ Description: 'after', LastChangedDate: new Date(base + 1000), VersionIdsToStages: { [token('v1')]: ['AWSCURRENT'] } });
  });

  it('a value: a new AWSCURRENT version named by ClientRequestToken (the old one AWSPREVIOUS), idempotent for the same token and value', async () => {
    const updated = await sm.send(new UpdateSecretCommand({ SecretId: 'u', ClientRequestToken: token('v2'), SecretString: 'two', Description: 'both' }));
    expect(updated.VersionId).toBe(token('v2'));
    expect(await getValue('u')).toMatchObject({ VersionId: token('v2'), SecretString: 'two' });
    expect((await getValue('u', { VersionStage: 'AWSPREVIOUS' })).SecretString).toBe('one');
    expect((await describeSecret('u')).Description).toBe('both');
    expect((await sm.send(new UpdateSecretCommand({ SecretId: 'u', ClientRequestToken: token('v2'), SecretString: 'two' }))).VersionId).toBe(token('v2'));
    await expectAwsError(
      sm.send(new UpdateSecretCommand({ SecretId: 'u', ClientRequestToken: token('v2'), SecretString: 'other' })),
      'ResourceExistsException',
    );
    await expectAwsError(
      sm.send(new UpdateSecretCommand({ SecretId: 'u', SecretString: 'a', SecretBinary: new Uint8Array([1]) })),
      'InvalidParameterException',
    );
  });

  it('KmsKeyId: AWSCURRENT, AWSPREVIOUS and AWSPENDING are sealed again under the new key (readable with the old one disabled), a deprecated version keeps its key', async () => {
    const keyOf = async (VersionId: string) =>
      (await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'u', IncludeDeprecated: true }))).Versions!.find((v) => v.VersionId === VersionId)!.KmsKeyIds;
    // Under KEY_ID: v1 (deprecated once v2, v3 are made), v2 (AWSPREVIOUS), v3 (AWSCURRENT), v4 (AWSPENDING).
    await sm.send(new UpdateSecretCommand({ SecretId: 'u', KmsKeyId: ALIAS }));
    for (const [v, stages] of [
      ['v2', undefined],
      ['v3', undefined],
      ['v4', ['AWSPENDING']],
    ] as const) {
      await sm.send(
        new PutSecretValueCommand({ SecretId: 'u', ClientRequestToken: token(v), SecretString: v, ...(stages ? { VersionStages: [...stages] } : {}) }),
      );
    }
    const before = await keyOf(token('v1'));
    const other = await alibaba('CreateKey', {});
    const updated = await sm.send(new UpdateSecretCommand({ SecretId: 'u', KmsKeyId: other.KeyMetadata.KeyId }));
    expect(updated.VersionId).toBeUndefined();
    expect((await describeSecret('u')).KmsKeyId).toContain(other.KeyMetadata.KeyId);
    await alibaba('DisableKey', { KeyId: KEY_ID });
    expect((await getValue('u')).SecretString).toBe('v3');
    expect((await getValue('u', { VersionStage: 'AWSPREVIOUS' })).SecretString).toBe('v2');
    expect((await getValue('u', { VersionStage: 'AWSPENDING' })).SecretString).toBe('v4');
    for (const v of ['v2', 'v3', 'v4']) expect((await keyOf(token(v)))![0]).toContain(other.KeyMetadata.KeyId);
    expect(await keyOf(token('v1'))).toEqual(before);
    await expectAwsError(getValue('u', { VersionId: token('v1') }), 'DecryptionFailure');
    // New versions are sealed under the new key.
    await sm.send(new PutSecretValueCommand({ SecretId: 'u', ClientRequestToken: token('v5'), SecretString: 'v5' }));
    expect((await keyOf(token('v5')))![0]).toContain(other.KeyMetadata.KeyId);
  });

  it('a value and a KmsKeyId together: the new version is sealed under the new key', async () => {
    const updated = await sm.send(new UpdateSecretCommand({ SecretId: 'u', KmsKeyId: KEY_ID, ClientRequestToken: token('v2'), SecretString: 'two' }));
    expect(updated.VersionId).toBe(token('v2'));
    await alibaba('DisableKey', { KeyId: KEY_ID });
    await expectAwsError(getValue('u'), 'DecryptionFailure');
    await expectAwsError(getValue('u', { VersionStage: 'AWSPREVIOUS' }), 'DecryptionFailure');
  });

  it('a secret scheduled for deletion is InvalidRequestException; one that is not there ResourceNotFoundException', async () => {
    await sm.send(new DeleteSecretCommand({ SecretId: 'u' }));
    await expectAwsError(sm.send(new UpdateSecretCommand({ SecretId: 'u', Description: 'x' })), 'InvalidRequestException');
    await expectAwsError(sm.send(new UpdateSecretCommand({ SecretId: 'u', SecretString: 'x' })), 'InvalidRequestException');
    await expectAwsError(sm.send(new UpdateSecretCommand({ SecretId: 'nobody', Description: 'x' })), 'ResourceNotFoundException');
  });
});

describe('UpdateSecretVersionStage', () => {
  beforeEach(async () => {
    await create('st', { ClientRequestToken: token('v1'), SecretString: '1' });
    await sm.send(new PutSecretValueCommand({ SecretId: 'st', ClientRequestToken: token('v2'), SecretString: '2' }));
    await sm.send(new PutSecretValueCommand({ SecretId: 'st', ClientRequestToken: token('v3'), SecretString: '3', VersionStages: ['AWSPENDING'] }));
  });
  const stages = async () => (await describeSecret('st')).VersionIdsToStages;
  const move = (VersionStage: string, versions: { MoveToVersionId?: string; RemoveFromVersionId?: string }) =>
    sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'st', VersionStage, ...versions }));

  it('moving AWSCURRENT drags AWSPREVIOUS to the version it left', async () => {
    const moved = await move('AWSCURRENT', { MoveToVersionId: token('v3'), RemoveFromVersionId: token('v2') });
    expect(moved).toMatchObject({ ARN: expect.stringMatching(ARN_OF('st')), Name: 'st' });
    expect(await stages()).toEqual({ [token('v2')]: ['AWSPREVIOUS'], [token('v3')]: expect.arrayContaining(['AWSCURRENT', 'AWSPENDING']) });
    expect((await getValue('st')).SecretString).toBe('3');
    // Back: AWSPREVIOUS follows again.
    await move('AWSCURRENT', { MoveToVersionId: token('v1'), RemoveFromVersionId: token('v3') });
    expect(await stages()).toEqual({ [token('v1')]: ['AWSCURRENT'], [token('v3')]: expect.arrayContaining(['AWSPREVIOUS', 'AWSPENDING']) });
  });

  it('a stage on another version needs RemoveFromVersionId naming that version; AWSCURRENT cannot just be removed', async () => {
    await expectAwsError(move('AWSCURRENT', { MoveToVersionId: token('v3') }), 'InvalidParameterException');
    await expectAwsError(move('AWSCURRENT', { MoveToVersionId: token('v3'), RemoveFromVersionId: token('v1') }), 'InvalidParameterException');
    await expectAwsError(move('AWSCURRENT', { RemoveFromVersionId: token('v2') }), 'InvalidParameterException');
    await expectAwsError(move('AWSCURRENT', { MoveToVersionId: token('v9'), RemoveFromVersionId: token('v2') }), 'ResourceNotFoundException');
    const neither = await expectAwsError(move('custom', {}), 'InvalidParameterException');
    expect(neither).toContain('MoveToVersionId');
    expect((await getValue('st')).VersionId).toBe(token('v2'));
  });

  it('custom labels: added, moved and removed', async () => {
    await move('blue', { MoveToVersionId: token('v1') });
    expect((await getValue('st', { VersionStage: 'blue' })).SecretString).toBe('1');
    await move('blue', { MoveToVersionId: token('v3'), RemoveFromVersionId: token('v1') });
    expect((await getValue('st', { VersionStage: 'blue' })).SecretString).toBe('3');
    await move('AWSPENDING', { RemoveFromVersionId: token('v3') });
    expect(await stages()).toEqual({ [token('v1')]: ['AWSPREVIOUS'], [token('v2')]: ['AWSCURRENT'], [token('v3')]: ['blue'] });
    await move('blue', { RemoveFromVersionId: token('v3') });
    expect(await stages()).toEqual({ [token('v1')]: ['AWSPREVIOUS'], [token('v2')]: ['AWSCURRENT'] });
  });
});

describe('DeleteSecret and RestoreSecret', () => {
  beforeEach(async () => {
    await create('del', { ClientRequestToken: token('v1'), SecretString: 'one' });
  });

  it('a recovery window of 30 days by default: DeletionDate answered, reads refused (InvalidRequestException), restorable', async () => {
    const deleted = await sm.send(new DeleteSecretCommand({ SecretId: 'del' }));
    expect(deleted).toMatchObject({ ARN: expect.stringMatching(ARN_OF('del')), Name: 'del', DeletionDate: new Date(base + 30 * DAY) });
    await expectAwsError(getValue('del'), 'InvalidRequestException');
    await expectAwsError(sm.send(new PutSecretValueCommand({ SecretId: 'del', SecretString: 'x' })), 'InvalidRequestException');
    await expectAwsError(sm.send(new TagResourceCommand({ SecretId: 'del', Tags: [{ Key: 'a', Value: 'b' }] })), 'InvalidRequestException');
    await expectAwsError(sm.send(new DeleteSecretCommand({ SecretId: 'del' })), 'InvalidRequestException');
    await expectAwsError(create('del', { SecretString: 'again' }), 'InvalidRequestException');
    expect((await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'del' }))).Versions).toHaveLength(1);
    const restored = await sm.send(new RestoreSecretCommand({ SecretId: 'del' }));
    expect(restored).toMatchObject({ ARN: deleted.ARN, Name: 'del' });
    expect((await describeSecret('del')).DeletedDate).toBeUndefined();
    expect((await getValue('del')).SecretString).toBe('one');
  });

  it('RecoveryWindowInDays 7 to 30 (6 and 31 refused); with ForceDeleteWithoutRecovery it is InvalidParameterException', async () => {
    for (const RecoveryWindowInDays of [6, 31, 0]) {
      await expectAwsError(sm.send(new DeleteSecretCommand({ SecretId: 'del', RecoveryWindowInDays })), 'InvalidParameterException');
    }
    await expectAwsError(
      sm.send(new DeleteSecretCommand({ SecretId: 'del', RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true })),
      'InvalidParameterException',
    );
    expect((await describeSecret('del')).DeletedDate).toBeUndefined();
    expect((await sm.send(new DeleteSecretCommand({ SecretId: 'del', RecoveryWindowInDays: 7 }))).DeletionDate).toEqual(new Date(base + 7 * DAY));
    await sm.send(new RestoreSecretCommand({ SecretId: 'del' }));
    expect((await sm.send(new DeleteSecretCommand({ SecretId: 'del', RecoveryWindowInDays: 30 }))).DeletionDate).toEqual(new Date(base + 30 * DAY));
  });

  it('ForceDeleteWithoutRecovery: gone at once (also when already scheduled), not restorable, the name free again with a new ARN', async () => {
    const { ARN } = await describeSecret('del');
    await sm.send(new DeleteSecretCommand({ SecretId: 'del' }));
    const forced = await sm.send(new DeleteSecretCommand({ SecretId: 'del', ForceDeleteWithoutRecovery: true }));
    expect(forced.ARN).toBe(ARN);
    expect(forced.DeletionDate).toBeInstanceOf(Date);
    await expectAwsError(describeSecret('del'), 'ResourceNotFoundException');
    await expectAwsError(sm.send(new RestoreSecretCommand({ SecretId: 'del' })), 'ResourceNotFoundException');
    await expectAwsError(sm.send(new DeleteSecretCommand({ SecretId: 'del', ForceDeleteWithoutRecovery: true })), 'ResourceNotFoundException');
    const again = await create('del', { SecretString: 'again' });
    expect((await getValue('del')).SecretString).toBe('again');
    // The old full ARN names the old secret, not the new one (a new suffix; the odds of the same one are 62^-6).
    expect(again.ARN).not.toBe(ARN);
    await expectAwsError(getValue(ARN!), 'ResourceNotFoundException');
  });

  it('RestoreSecret of a secret that is not scheduled for deletion is InvalidRequestException', async () => {
    await expectAwsError(sm.send(new RestoreSecretCommand({ SecretId: 'del' })), 'InvalidRequestException');
    await expectAwsError(sm.send(new RestoreSecretCommand({ SecretId: 'nobody' })), 'ResourceNotFoundException');
  });
});

describe('TagResource and UntagResource', () => {
  beforeEach(async () => {
    await create('tg', { SecretString: 'x', Tags: [{ Key: 'env', Value: 'prod' }] });
  });
  const tagsOf = async () => (await describeSecret('tg')).Tags ?? [];

  it('adds tags (a key it carries gets the new value), removes the keys named (others ignored), by name or ARN', async () => {
    const { ARN } = await describeSecret('tg');
    expect(
      await sm.send(
        new TagResourceCommand({
          SecretId: ARN!,
          Tags: [
            { Key: 'team', Value: 'blue' },
            { Key: 'env', Value: 'dev' },
          ],
        }),
      ),
    ).toEqual({ $metadata: expect.anything() });
    expect(await tagsOf()).toEqual([
      { Key: 'env', Value: 'dev' },
      { Key: 'team', Value: 'blue' },
    ]);
    await sm.send(new UntagResourceCommand({ SecretId: 'tg', TagKeys: ['env', 'missing'] }));
    expect(await tagsOf()).toEqual([{ Key: 'team', Value: 'blue' }]);
    await sm.send(new UntagResourceCommand({ SecretId: partialArn('tg'), TagKeys: ['team'] }));
    expect(await tagsOf()).toEqual([]);
  });

  it('refuses: a secret that is not there, no tags, more than 20 tags on a secret (LimitExceededException)', async () => {
    await expectAwsError(sm.send(new TagResourceCommand({ SecretId: 'nobody', Tags: [{ Key: 'a', Value: 'b' }] })), 'ResourceNotFoundException');
    await expectAwsError(sm.send(new UntagResourceCommand({ SecretId: 'nobody', TagKeys: ['a'] })), 'ResourceNotFoundException');
    await expectAwsError(sm.send(new TagResourceCommand({ SecretId: 'tg', Tags: [] })), 'InvalidParameterException');
    await expectAwsError(sm.send(new UntagResourceCommand({ SecretId: 'tg', TagKeys: [] })), 'InvalidParameterException');
    await sm.send(new TagResourceCommand({ SecretId: 'tg', Tags: Array.from({ length: 19 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) }));
    await expectAwsError(sm.send(new TagResourceCommand({ SecretId: 'tg', Tags: [{ Key: 'one-more', Value: 'v' }] })), 'LimitExceededException');
    expect(await tagsOf()).toHaveLength(20);
  });
});

describe('the protocol: operations, signatures, error shapes', () => {
  it('an unknown secretsmanager.* operation is UnknownOperationException (400), after the signature is checked', async () => {
    const unknown = await raw('NotAnOperation', {});
    expect(unknown.status).toBe(400);
    expect(unknown.body.__type).toBe('UnknownOperationException');
    // A KMS operation's name under the Secrets Manager prefix is not served either.
    expect((await raw('Encrypt', { KeyId: KEY_ID, Plaintext: 'AA==' })).body.__type).toBe('UnknownOperationException');
  });

  it('a signature must be scoped to secretsmanager for a secretsmanager.* operation, and to kms for a TrentService.* one', async () => {
    await create('signed', { SecretString: 'x' });
    const kmsScoped = await raw('GetSecretValue', { SecretId: 'signed' }, ADMIN, { scopeService: 'kms' });
    expect(kmsScoped.status).toBe(400);
    expect(kmsScoped.body.__type).toMatch(/^(InvalidSignatureException|IncompleteSignatureException)$/);
    expect(kmsScoped.raw).not.toContain('SecretString');
    const smScoped = await t.call(signedAwsRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID }, { scopeService: 'secretsmanager' }));
    expect(smScoped.status).toBe(400);
    expect(smScoped.body.__type).toMatch(/^(InvalidSignatureException|IncompleteSignatureException)$/);
    expect((await raw('GetSecretValue', { SecretId: 'signed' })).body.SecretString).toBe('x');
  });

  it('a wrong secret access key is InvalidSignatureException, an unknown access key UnrecognizedClientException', async () => {
    await create('signed', { SecretString: 'x' });
    const wrong = inProcessSecretsManagerClient(t, { accessKeyId: ADMIN.accessKeyId, accessKeySecret: 'not-the-secret-0123456789' });
    await expectAwsError(getValue('signed', {}, wrong), 'InvalidSignatureException');
    const unknown = inProcessSecretsManagerClient(t, { accessKeyId: 'testNobody0001', accessKeySecret: 'whatever-0123456789' });
    await expectAwsError(getValue('signed', {}, unknown), 'UnrecognizedClientException');
  });

  it('a field that is wrong is named by its AWS name in the message', async () => {
    expect(await expectAwsError(create('bad name!', { SecretString: 'x' }), 'InvalidParameterException')).toContain('"Name"');
    expect(await expectAwsError(getValue('bad name!'), 'InvalidParameterException')).toContain('"SecretId"');
    await create('named', { SecretString: 'x' });
    const badToken = `${'x'.repeat(31)}\u0001`;
    expect(
      await expectAwsError(
        sm.send(new PutSecretValueCommand({ SecretId: 'named', SecretString: 'y', ClientRequestToken: badToken })),
        'InvalidParameterException',
      ),
    ).toContain('"ClientRequestToken"');
    expect(await expectAwsError(getValue('named', { VersionId: 'a\u0001' }), 'InvalidParameterException')).toContain('"VersionId"');
    expect(
      await expectAwsError(
        sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'named', VersionStage: 'x', MoveToVersionId: 'a\u0001' })),
        'InvalidParameterException',
      ),
    ).toContain('"MoveToVersionId"');
  });
});

describe('across protocols: one store', () => {
  it('a secret made through the SDK reads through Alibaba: binary as Base64 SecretData, stages ACSCurrent/ACSPrevious, the same version ids, tags and description', async () => {
    await create('cross/bin', {
      ClientRequestToken: token('v1'),
      SecretBinary: new Uint8Array([0, 1, 2, 255]),
      Description: 'from aws',
      Tags: [{ Key: 'team', Value: 'blue' }],
    });
    await sm.send(new PutSecretValueCommand({ SecretId: 'cross/bin', ClientRequestToken: token('v2'), SecretString: 'text now' }));
    expect(await alibaba('GetSecretValue', { SecretName: 'cross/bin', VersionStage: 'ACSPrevious' })).toMatchObject({
      SecretName: 'cross/bin',
      VersionId: token('v1'),
      SecretData: Buffer.from([0, 1, 2, 255]).toString('base64'),
      SecretDataType: 'binary',
      VersionStages: { VersionStage: ['ACSPrevious'] },
    });
    expect(await alibaba('GetSecretValue', { SecretName: 'cross/bin' })).toMatchObject({
      VersionId: token('v2'),
      SecretData: 'text now',
      SecretDataType: 'text',
      VersionStages: { VersionStage: ['ACSCurrent'] },
    });
    expect(await alibaba('DescribeSecret', { SecretName: 'cross/bin', FetchTags: 'true' })).toMatchObject({
      Arn: acsArn('cross/bin'),
      Description: 'from aws',
      Tags: { Tag: [{ TagKey: 'team', TagValue: 'blue' }] },
    });
  });

  it('a secret made through Alibaba reads through the SDK: stages spelled AWSCURRENT/AWSPREVIOUS, custom stages as they are, tags, description', async () => {
    await alibaba('CreateSecret', {
      SecretName: 'cross/ali',
      VersionId: 'a1',
      SecretData: Buffer.from([9, 8, 7]).toString('base64'),
      SecretDataType: 'binary',
      Description: 'from alibaba',
      Tags: '[{"TagKey":"env","TagValue":"prod"}]',
    });
    await alibaba('PutSecretValue', { SecretName: 'cross/ali', VersionId: 'a2', SecretData: 'two' });
    await alibaba('PutSecretValue', { SecretName: 'cross/ali', VersionId: 'a3', SecretData: 'three', VersionStages: '["blue"]' });
    expect(Buffer.from((await getValue('cross/ali', { VersionStage: 'AWSPREVIOUS' })).SecretBinary!)).toEqual(Buffer.from([9, 8, 7]));
    expect(await getValue('cross/ali')).toMatchObject({ VersionId: 'a2', SecretString: 'two', VersionStages: ['AWSCURRENT'] });
    const described = await describeSecret('cross/ali');
    expect(described).toMatchObject({
      Description: 'from alibaba',
      Tags: [{ Key: 'env', Value: 'prod' }],
      VersionIdsToStages: { a1: ['AWSPREVIOUS'], a2: ['AWSCURRENT'], a3: ['blue'] },
    });
    // A stage moved through the SDK is seen through Alibaba, in its spelling.
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'cross/ali', VersionStage: 'AWSCURRENT', MoveToVersionId: 'a3', RemoveFromVersionId: 'a2' }));
    expect(await alibaba('GetSecretValue', { SecretName: 'cross/ali' })).toMatchObject({
      VersionId: 'a3',
      VersionStages: { VersionStage: expect.arrayContaining(['ACSCurrent', 'blue']) },
    });
    expect((await alibaba('GetSecretValue', { SecretName: 'cross/ali', VersionStage: 'ACSPrevious' })).VersionId).toBe('a2');
  });

  it('deletion and restore cross: scheduled through Alibaba, hidden from ListSecrets and restored through the SDK', async () => {
    await alibaba('CreateSecret', { SecretName: 'cross/del', VersionId: 'a1', SecretData: 'x' });
    const { PlannedDeleteTime } = await alibaba('DeleteSecret', { SecretName: 'cross/del', RecoveryWindowInDays: '7' });
    expect((await describeSecret('cross/del')).DeletedDate).toEqual(new Date(PlannedDeleteTime));
    expect(await listNames()).toEqual([]);
    await expectAwsError(getValue('cross/del'), 'InvalidRequestException');
    await sm.send(new RestoreSecretCommand({ SecretId: 'cross/del' }));
    expect((await alibaba('GetSecretValue', { SecretName: 'cross/del' })).SecretData).toBe('x');
  });
});

describe('authorisation by policy', () => {
  const kmsClientOf = (credentials: Credentials) => inProcessKmsClient(t, credentials);

  beforeEach(async () => {
    for (const name of ['db-main', 'db/password', 'db/password2', 'db/password-old', 'app']) await create(name, { SecretString: `value of ${name}` });
  });

  /** Expects AccessDeniedException for the existing secret and for a missing one, with the same message but for the name. */
  async function expectDeniedAlike(call: (secretId: string) => Promise<unknown>, existing: string, missing: string) {
    const a = await expectAwsError(call(existing), 'AccessDeniedException');
    const b = await expectAwsError(call(missing), 'AccessDeniedException');
    expect(b.replaceAll(missing, 'X')).toBe(a.replaceAll(existing, 'X'));
  }

  it('an Allow conditioned on key tags (kms:tag/…) never allows a secret, and never tells an existing secret from a missing one', async () => {
    const { client, credentials } = await accessKey('testSmTagCond1', [
      {
        Effect: 'Allow',
        Action: ['kms:GetSecretValue', 'kms:DescribeSecret', 'kms:PutSecretValue'],
        Resource: '*',
        Condition: { StringEquals: { 'kms:tag/env': 'prod' } },
      },
    ]);
    await expectDeniedAlike((id) => getValue(id, {}, client), 'app', 'nobody');
    await expectDeniedAlike((id) => describeSecret(id, client), 'app', 'nobody');
    await expectDeniedAlike((id) => client.send(new PutSecretValueCommand({ SecretId: id, SecretString: 'x' })), 'app', 'nobody');
    // The same through Alibaba's protocol: 403 for both.
    for (const name of ['app', 'nobody']) expect((await t.call(signedRpcRequest(credentials, 'GetSecretValue', { SecretName: name }))).status, name).toBe(403);
  });

  it('BatchGetSecretValue with Filters filters only the secrets the caller may describe: the others are neither values nor Errors, whatever their descriptions and tags match', async () => {
    await create('public/a', { SecretString: 'open' });
    await create('hidden/payroll', { SecretString: 'closed', Description: 'root password for payroll', Tags: [{ Key: 'owner', Value: 'alice' }] });
    const { client } = await accessKey('testSmBatchFlt', [
      { Effect: 'Allow', Action: ['secretsmanager:ListSecrets', 'secretsmanager:BatchGetSecretValue'], Resource: '*' },
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: 'arn:aws:secretsmanager:*:*:secret:public/*' },
    ]);
    const probes: Array<{ Key: 'description' | 'tag-value' | 'name'; Values: string[] }> = [
      { Key: 'description', Values: ['root password'] },
      { Key: 'tag-value', Values: ['alice'] },
      { Key: 'name', Values: ['hidden'] },
    ];
    for (const filter of probes) {
      const got = await client.send(new BatchGetSecretValueCommand({ Filters: [filter] }));
      expect({ values: got.SecretValues, errors: got.Errors, next: got.NextToken }, filter.Key).toEqual({ values: [], errors: [], next: undefined });
    }
    const all = await client.send(new BatchGetSecretValueCommand({ Filters: [{ Key: 'all', Values: ['p'] }] }));
    expect(all.SecretValues!.map((v) => v.Name)).toEqual(['public/a']);
    expect(all.Errors).toEqual([]);
  });

  it('secretsmanager:GetSecretValue on arn:aws:secretsmanager:*:*:secret:db-*: reads that secret by name and ARN, is denied others (existing or not) and other operations', async () => {
    const { client } = await accessKey('testSmReader01', [
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:*:*:secret:db-*' },
    ]);
    const { ARN } = await describeSecret('db-main');
    for (const ref of ['db-main', ARN!, partialArn('db-main')]) expect((await getValue(ref, {}, client)).SecretString).toBe('value of db-main');
    await expectDeniedAlike((id) => getValue(id, {}, client), 'app', 'nobody');
    await expectDeniedAlike((id) => getValue(id, {}, client), 'db/password', 'db/nobody');
    await expectAwsError(describeSecret('db-main', client), 'AccessDeniedException');
    await expectAwsError(client.send(new PutSecretValueCommand({ SecretId: 'db-main', SecretString: 'x' })), 'AccessDeniedException');
    // A missing secret the policy could allow is not found.
    await expectAwsError(getValue('db-nobody', {}, client), 'ResourceNotFoundException');
  });

  it('a resource ending in -?????? (the ARN suffix) allows exactly that name', async () => {
    const { client } = await accessKey('testSmReader02', [
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:*:*:secret:db/password-??????' },
    ]);
    const { ARN } = await describeSecret('db/password');
    for (const ref of ['db/password', ARN!, partialArn('db/password')]) expect((await getValue(ref, {}, client)).SecretString).toBe('value of db/password');
    await expectDeniedAlike((id) => getValue(id, {}, client), 'db/password2', 'db/password3');
    await expectDeniedAlike((id) => getValue(id, {}, client), 'db/password-old', 'db/password-new');
  });

  it('kms:GetSecretValue on acs:kms:*:*:secret/db* allows AWS callers too', async () => {
    const { client } = await accessKey('testSmReader03', [{ Effect: 'Allow', Action: 'kms:GetSecretValue', Resource: 'acs:kms:*:*:secret/db*' }]);
    expect((await getValue('db/password', {}, client)).SecretString).toBe('value of db/password');
    expect((await getValue((await describeSecret('db-main')).ARN!, {}, client)).SecretString).toBe('value of db-main');
    await expectDeniedAlike((id) => getValue(id, {}, client), 'app', 'nobody');
  });

  it('a Deny wins over an Allow, in either spelling of action and resource', async () => {
    const { client } = await accessKey('testSmDenied01', [
      { Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' },
      { Effect: 'Deny', Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:*:*:secret:db-*' },
      { Effect: 'Deny', Action: 'kms:GetSecretValue', Resource: 'acs:kms:*:*:secret/app' },
    ]);
    await expectDeniedAlike((id) => getValue(id, {}, client), 'db-main', 'db-nobody');
    await expectAwsError(getValue('app', {}, client), 'AccessDeniedException');
    expect((await describeSecret('db-main', client)).Name).toBe('db-main');
    expect((await getValue('db/password', {}, client)).SecretString).toBe('value of db/password');
  });

  it('secretsmanager:TagResource on * tags secrets, not KMS keys; secretsmanager:* allows no KMS key operation', async () => {
    const { credentials, client } = await accessKey('testSmTagger01', [
      { Effect: 'Allow', Action: ['secretsmanager:TagResource', 'secretsmanager:*'], Resource: '*' },
    ]);
    await client.send(new TagResourceCommand({ SecretId: 'app', Tags: [{ Key: 'a', Value: 'b' }] }));
    expect((await describeSecret('app')).Tags).toEqual([{ Key: 'a', Value: 'b' }]);
    const kms = kmsClientOf(credentials);
    const { TagResourceCommand: KmsTag, EncryptCommand, DecryptCommand } = await import('@aws-sdk/client-kms');
    await expectAwsError(kms.send(new KmsTag({ KeyId: KEY_ID, Tags: [{ TagKey: 'a', TagValue: 'b' }] })), 'AccessDeniedException');
    const sealed = await kmsClientOf(ADMIN).send(new EncryptCommand({ KeyId: KEY_ID, Plaintext: new Uint8Array([1]) }));
    await expectAwsError(kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob })), 'AccessDeniedException');
    await expectAwsError(kms.send(new EncryptCommand({ KeyId: KEY_ID, Plaintext: new Uint8Array([1]) })), 'AccessDeniedException');
  });

  it('a policy naming secretsmanager:NotAnOperation is refused when it is set', async () => {
    await expect(accessKey('testSmTypo0001', [{ Effect: 'Allow', Action: 'secretsmanager:NotAnOperation', Resource: '*' }])).rejects.toThrow(/NotAnOperation/);
    await expect(accessKey('testSmTypo0002', [{ Effect: 'Allow', Action: 'secretsmanager:Get*', Resource: '*' }])).resolves.toBeDefined();
  });

  it('with a user KmsKeyId: kms:Decrypt on the key to read, kms:GenerateDataKey to write', async () => {
    await create('keyed', { SecretString: 'k', KmsKeyId: KEY_ID });
    const secretOnly = await accessKey('testSmKeyed001', [
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:CreateSecret'], Resource: '*' },
    ]);
    expect(await expectAwsError(getValue('keyed', {}, secretOnly.client), 'AccessDeniedException')).toContain('kms:Decrypt');
    expect(
      await expectAwsError(secretOnly.client.send(new PutSecretValueCommand({ SecretId: 'keyed', SecretString: 'x' })), 'AccessDeniedException'),
    ).toContain('kms:GenerateDataKey');
    await expectAwsError(secretOnly.client.send(new CreateSecretCommand({ Name: 'keyed2', SecretString: 'x', KmsKeyId: KEY_ID })), 'AccessDeniedException');
    // The default key needs no grant.
    expect((await getValue('app', {}, secretOnly.client)).SecretString).toBe('value of app');
    const withKey = await accessKey('testSmKeyed002', [
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'], Resource: 'arn:aws:secretsmanager:*:*:secret:keyed-*' },
      { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: keyArnOf(KEY_ID) },
    ]);
    await withKey.client.send(new PutSecretValueCommand({ SecretId: 'keyed', SecretString: 'k2' }));
    expect((await getValue('keyed', {}, withKey.client)).SecretString).toBe('k2');
  });

  it('BatchGetSecretValue needs secretsmanager:BatchGetSecretValue on *, then GetSecretValue per secret (a denied one is an entry of Errors)', async () => {
    const noBatch = await accessKey('testSmBatch001', [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' }]);
    await expectAwsError(noBatch.client.send(new BatchGetSecretValueCommand({ SecretIdList: ['db-main'] })), 'AccessDeniedException');
    const batch = await accessKey('testSmBatch002', [
      { Effect: 'Allow', Action: 'secretsmanager:BatchGetSecretValue', Resource: '*' },
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:*:*:secret:db-*' },
    ]);
    const got = await batch.client.send(new BatchGetSecretValueCommand({ SecretIdList: ['db-main', 'app', 'nobody'] }));
    expect(got.SecretValues!.map((v) => v.Name)).toEqual(['db-main']);
    expect(got.Errors).toEqual([
      expect.objectContaining({ SecretId: 'app', ErrorCode: 'AccessDeniedException' }),
      expect.objectContaining({ SecretId: 'nobody', ErrorCode: 'AccessDeniedException' }),
    ]);
    // Filters also need ListSecrets.
    await expectAwsError(batch.client.send(new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['db'] }] })), 'AccessDeniedException');
  });

  /**
   * Once the next request's Action has authorised `name` (it describes the secret first), the secret
   * is destroyed and made again under its name, with one version `versionId`.
   */
  function replaceOnceAuthorised(name: string, versionId: string): void {
    const { secrets } = t.service;
    const describe = secrets.describe.bind(secrets);
    secrets.describe = async (ref) => {
      const found = await describe(ref);
      secrets.describe = describe;
      await secrets.scheduleDeletion(name, { force: true });
      await secrets.create({ name, versionId, value: { type: 'text', bytes: Buffer.from('not yours') } });
      return found;
    };
  }

  it('a value is read from the secret that was authorised: one re-created under its name in between is not read', async () => {
    const { ARN } = await describeSecret('app');
    const { client } = await accessKey('testSmExact001', [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: ARN! }]);
    replaceOnceAuthorised('app', 'replaced');
    await expectAwsError(getValue('app', {}, client), 'ResourceNotFoundException');
    expect((await describeSecret('app')).ARN).not.toBe(ARN);
    await expectAwsError(getValue('app', {}, client), 'AccessDeniedException');
  });

  it.each([
    ['PutSecretValue', (c: SecretsManagerClient) => c.send(new PutSecretValueCommand({ SecretId: 'app', SecretString: 'written' }))],
    ['UpdateSecret', (c: SecretsManagerClient) => c.send(new UpdateSecretCommand({ SecretId: 'app', Description: 'changed' }))],
    [
      'UpdateSecretVersionStage',
      (c: SecretsManagerClient) =>
        c.send(new UpdateSecretVersionStageCommand({ SecretId: 'app', VersionStage: 'X', MoveToVersionId: 'replaced-version-0000000000000000000' })),
    ],
    ['TagResource', (c: SecretsManagerClient) => c.send(new TagResourceCommand({ SecretId: 'app', Tags: [{ Key: 'k', Value: 'v' }] }))],
    ['UntagResource', (c: SecretsManagerClient) => c.send(new UntagResourceCommand({ SecretId: 'app', TagKeys: ['k'] }))],
    ['DeleteSecret', (c: SecretsManagerClient) => c.send(new DeleteSecretCommand({ SecretId: 'app', RecoveryWindowInDays: 7 }))],
  ] as const)('%s changes only the secret that was authorised: one re-created under its name in between is left as it is', async (_op, send) => {
    const { ARN } = await describeSecret('app');
    const { client } = await accessKey('testSmExact002', [{ Effect: 'Allow', Action: 'secretsmanager:*', Resource: ARN! }]);
    replaceOnceAuthorised('app', 'replaced-version-0000000000000000000');
    await expectAwsError(send(client), 'ResourceNotFoundException');
    const after = await t.service.secrets.describe('app');
    expect(after.suffix).not.toBe(ARN!.slice(-6));
    expect({ description: after.description, tags: after.tags, plannedDeleteAt: after.plannedDeleteAt, versions: after.versions }).toEqual({
      description: '',
      tags: [],
      plannedDeleteAt: undefined,
      versions: [expect.objectContaining({ versionId: 'replaced-version-0000000000000000000', labels: ['ACSCurrent'] })],
    });
  });

  it('ListSecrets lists only the secrets the caller may DescribeSecret', async () => {
    const { client } = await accessKey('testSmLister01', [
      { Effect: 'Allow', Action: 'secretsmanager:ListSecrets', Resource: '*' },
      { Effect: 'Allow', Action: 'secretsmanager:DescribeSecret', Resource: 'arn:aws:secretsmanager:*:*:secret:db/*' },
    ]);
    expect((await listNames({ SortBy: 'name' }, client)).sort()).toEqual(['db/password', 'db/password-old', 'db/password2']);
  });

  it('CreateSecret is authorised on the name being made, in either ARN form', async () => {
    const { client } = await accessKey('testSmCreator1', [
      { Effect: 'Allow', Action: 'secretsmanager:CreateSecret', Resource: 'arn:aws:secretsmanager:*:*:secret:team/*' },
    ]);
    expect((await client.send(new CreateSecretCommand({ Name: 'team/new', SecretString: 'x' }))).ARN).toMatch(ARN_OF('team/new'));
    await expectAwsError(client.send(new CreateSecretCommand({ Name: 'other/new', SecretString: 'x' })), 'AccessDeniedException');
  });
});

describe('audit and logs', () => {
  it('no audit line, log line or error message holds a secret value; audit lines name the secret ARN, the version id and the operation', async () => {
    const VALUE = 'recognisable-secret-value-7f3a';
    const messages: string[] = [];
    const fails = async (promise: Promise<unknown>) => messages.push((await awsError(promise)).message);
    await create('audited', { ClientRequestToken: token('v1'), SecretString: VALUE });
    await sm.send(new PutSecretValueCommand({ SecretId: 'audited', ClientRequestToken: token('v2'), SecretString: `${VALUE}-2` }));
    await getValue('audited');
    await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['audited'] }));
    await sm.send(new UpdateSecretCommand({ SecretId: 'audited', ClientRequestToken: token('v3'), SecretBinary: Buffer.from(VALUE) }));
    await fails(sm.send(new PutSecretValueCommand({ SecretId: 'audited', ClientRequestToken: token('v2'), SecretString: `${VALUE}-other` })));
    await fails(create('audited', { SecretString: VALUE }));
    await fails(create('bad name!', { SecretString: VALUE }));
    await fails(create('both', { SecretString: VALUE, SecretBinary: Buffer.from(VALUE) }));
    await fails(sm.send(new PutSecretValueCommand({ SecretId: 'audited', SecretString: `${VALUE}`.repeat(3000) })));
    // The raw answer to a refused value, whole.
    const refused = await raw('PutSecretValue', { SecretId: 'audited', ClientRequestToken: token('v1'), SecretString: `${VALUE}-raw` });
    expect(refused.body.__type).toBe('ResourceExistsException');
    messages.push(refused.raw);
    await fails(sm.send(new UpdateSecretCommand({ SecretId: 'nobody', SecretString: VALUE })));
    expect(messages).toHaveLength(7);
    for (const message of messages) expect(message).not.toContain(VALUE);
    const base64 = Buffer.from(VALUE).toString('base64');
    const everything = [...auditRecords.map(auditLine), ...logLines].join('\n');
    expect(everything).not.toContain(VALUE);
    expect(everything).not.toContain(base64.slice(0, 16));

    const ok = auditRecords.filter((r) => r.code === 'OK' && r.awsOperation !== 'secretsmanager.BatchGetSecretValue');
    expect(ok.map((r) => [r.awsOperation, r.keyArn, r.keyVersionId])).toEqual([
      ['secretsmanager.CreateSecret', acsArn('audited'), token('v1')],
      ['secretsmanager.PutSecretValue', acsArn('audited'), token('v2')],
      ['secretsmanager.GetSecretValue', acsArn('audited'), token('v2')],
      ['secretsmanager.UpdateSecret', acsArn('audited'), token('v3')],
    ]);
    expect(auditRecords.find((r) => r.awsOperation === 'secretsmanager.BatchGetSecretValue')).toMatchObject({ action: 'BatchGetSecretValue', code: 'OK' });
  });
});
