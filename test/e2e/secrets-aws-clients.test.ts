import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_CLI, MISSING_AWS_CLIENTS, MISSING_AWS_CLIENTS_MESSAGE, PYTHON } from '../helpers/aws-clients.js';
import { runProcess } from '../helpers/cli-process.js';
import { createKmsSdkClient, KmsSdk } from '../helpers/clients.js';
import { killAllGateways, makeTempDir, type ReadyGateway, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { ACCOUNT_ID, ADMIN, REGION as ALIBABA_REGION, TEST_SEED } from '../helpers/service.js';

/*
 * The AWS Secrets Manager protocol through clients no one here wrote, against the real gateway
 * process: Debian's AWS CLI v2 (/usr/bin/aws secretsmanager …) and boto3 (/usr/bin/python3), and,
 * across the two protocols, those against the official Alibaba client (@alicloud/kms20160120).
 * .ci/run installs awscli and python3-boto3; without them this suite fails, never skips.
 *
 * Debian's clients (awscli 2.9.19, botocore 1.29.27) predate BatchGetSecretValue (November 2023):
 * their model of Secrets Manager has no such operation. The CLI takes a newer model with
 * `aws configure add-model` (~/.aws/models, which boto3's loader reads too), so beforeAll adds the
 * operation's shapes from AWS's published model (botocore's data/secretsmanager/2017-10-17) to the
 * model the installed CLI ships; the request is still built, signed and parsed by the vendors' code.
 */

const REGION = 'us-east-1';
/** An AWS secret ARN: the name, a hyphen and six characters of its own (AWS's suffix). */
const ARN_OF = (name: string) => new RegExp(`^arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:${name.replace(/[/.+]/g, '\\$&')}-[A-Za-z0-9]{6}$`);
const acsArnOf = (name: string) => `acs:kms:${ALIBABA_REGION}:${ACCOUNT_ID}:secret/${name}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** The CLI's dates (`--output json`): ISO 8601 with an offset. */
const CLI_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00$/;
/** Every byte value once: a binary secret no text form could carry. */
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

let dir: string;
let gateway: ReadyGateway;
let endpoint: string;

it('the AWS CLI v2 and boto3 are installed (a missing client fails this suite, never skips it)', () => {
  expect(MISSING_AWS_CLIENTS, MISSING_AWS_CLIENTS_MESSAGE).toEqual([]);
});

/** The AWS clients' own environment, nothing inherited: no profile, config or credentials file of this machine is read; HOME is the test's (its ~/.aws/models). */
function clientEnv(): Record<string, string> {
  return {
    PATH: '/usr/bin:/bin',
    HOME: dir,
    LANG: 'C.UTF-8',
    AWS_ACCESS_KEY_ID: ADMIN.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ADMIN.accessKeySecret,
    AWS_DEFAULT_REGION: REGION,
    AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
}

const run = (command: string, args: readonly string[], env: Record<string, string> = clientEnv(), stdin?: Buffer) =>
  runProcess(command, args, { cwd: dir, env, ...(stdin ? { stdin } : {}) });

/** `aws secretsmanager …args` against the gateway, `--output json`. */
const sm = (args: readonly string[]) => run(AWS_CLI, ['--endpoint-url', endpoint, '--output', 'json', 'secretsmanager', ...args]);

/** `aws secretsmanager …args` that must succeed: its JSON output ({} when it printed nothing). */
async function smOk(args: readonly string[]): Promise<any> {
  const r = await sm(args);
  expect(r.code, `aws secretsmanager ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout.trim() === '' ? {} : JSON.parse(r.stdout);
}

/** `aws secretsmanager …args` that must fail as the service answered: exit 254 and the error code on stderr. */
async function smRefused(args: readonly string[], code: string, operation: string): Promise<string> {
  const r = await sm(args);
  expect([r.code, r.stdout], r.stderr).toEqual([254, '']);
  expect(r.stderr).toContain(`An error occurred (${code}) when calling the ${operation} operation`);
  return r.stderr;
}

/**
 * BatchGetSecretValue as AWS's model has it (botocore data/secretsmanager/2017-10-17/service-2.json,
 * documentation left out): the operation and the shapes older models lack.
 */
const BATCH_GET_MODEL = {
  operation: {
    name: 'BatchGetSecretValue',
    http: { method: 'POST', requestUri: '/' },
    input: { shape: 'BatchGetSecretValueRequest' },
    output: { shape: 'BatchGetSecretValueResponse' },
    errors: [
      { shape: 'ResourceNotFoundException' },
      { shape: 'InvalidParameterException' },
      { shape: 'InvalidRequestException' },
      { shape: 'DecryptionFailure' },
      { shape: 'InternalServiceError' },
      { shape: 'InvalidNextTokenException' },
    ],
  },
  shapes: {
    BatchGetSecretValueRequest: {
      type: 'structure',
      members: {
        SecretIdList: { shape: 'SecretIdListType' },
        Filters: { shape: 'FiltersListType' },
        MaxResults: { shape: 'MaxResultsBatchType', box: true },
        NextToken: { shape: 'NextTokenType' },
      },
    },
    SecretIdListType: { type: 'list', member: { shape: 'SecretIdType' }, max: 20, min: 1 },
    MaxResultsBatchType: { type: 'integer', box: true, max: 20, min: 1 },
    BatchGetSecretValueResponse: {
      type: 'structure',
      members: { SecretValues: { shape: 'SecretValuesType' }, NextToken: { shape: 'NextTokenType' }, Errors: { shape: 'APIErrorListType' } },
    },
    SecretValuesType: { type: 'list', member: { shape: 'SecretValueEntry' } },
    SecretValueEntry: {
      type: 'structure',
      members: {
        ARN: { shape: 'SecretARNType' },
        Name: { shape: 'SecretNameType' },
        VersionId: { shape: 'SecretVersionIdType' },
        SecretBinary: { shape: 'SecretBinaryType' },
        SecretString: { shape: 'SecretStringType' },
        VersionStages: { shape: 'SecretVersionStagesType' },
        CreatedDate: { shape: 'CreatedDateType', box: true },
      },
    },
    APIErrorListType: { type: 'list', member: { shape: 'APIErrorType' } },
    APIErrorType: {
      type: 'structure',
      members: { SecretId: { shape: 'SecretIdType' }, ErrorCode: { shape: 'ErrorCode' }, Message: { shape: 'ErrorMessage' } },
    },
    ErrorCode: { type: 'string' },
  },
};

/** Prints the installed CLI's Secrets Manager model with BatchGetSecretValue added (kept as it is when it has one). */
const EXTEND_MODEL_SCRIPT = `
import json, sys
try:
    from awscli.botocore.loaders import Loader
except ImportError:
    from botocore.loaders import Loader
extra = json.load(sys.stdin)
model = Loader().load_service_model('secretsmanager', 'service-2')
model['operations'].setdefault('BatchGetSecretValue', extra['operation'])
for name, shape in extra['shapes'].items():
    model['shapes'].setdefault(name, shape)
json.dump(model, sys.stdout)
`;

/** Teaches the CLI (and boto3, through ~/.aws/models under this HOME) BatchGetSecretValue, the documented way. */
async function addBatchGetToModel(): Promise<void> {
  const extended = await run(PYTHON, ['-c', EXTEND_MODEL_SCRIPT], clientEnv(), Buffer.from(JSON.stringify(BATCH_GET_MODEL)));
  expect(extended.code, extended.stderr).toBe(0);
  await writeFile(join(dir, 'secretsmanager-model.json'), extended.stdout);
  const added = await run(AWS_CLI, ['configure', 'add-model', '--service-model', 'file://secretsmanager-model.json', '--service-name', 'secretsmanager']);
  expect(added.code, added.stderr).toBe(0);
}

beforeAll(async () => {
  if (MISSING_AWS_CLIENTS.length > 0) throw new Error(MISSING_AWS_CLIENTS_MESSAGE);
  dir = await makeTempDir('kms-e2e-sm-clients-');
  gateway = await startGateway({ dataDir: join(dir, 'data'), seedFile: await writeSeedFile(dir, TEST_SEED) });
  endpoint = `http://127.0.0.1:${gateway.port}`;
  await addBatchGetToModel();
});

afterAll(async () => {
  if (gateway) expect(await gateway.stop('SIGTERM')).toBe(0);
  await killAllGateways();
  if (dir) await removeDir(dir);
});

describe('the AWS CLI v2 (aws secretsmanager) against the gateway', () => {
  const name = 'cli/app/db';
  let arn: string;
  let first: string;
  let second: string;
  let binaryArn: string;

  it('create-secret answers the AWS ARN (name + six-character suffix) and a UUID VersionId; get-secret-value by name, by that ARN and by the ARN without its suffix reads the value as AWSCURRENT', async () => {
    const created = await smOk([
      'create-secret',
      '--name',
      name,
      '--secret-string',
      '{"user":"app","password":"pässwörd 🔑"}',
      '--description',
      'made by the CLI',
    ]);
    expect(created).toEqual({ ARN: expect.stringMatching(ARN_OF(name)), Name: name, VersionId: expect.stringMatching(UUID) });
    arn = created.ARN;
    first = created.VersionId;

    const [byName, byArn, byPartialArn] = await Promise.all([
      smOk(['get-secret-value', '--secret-id', name]),
      smOk(['get-secret-value', '--secret-id', arn]),
      smOk(['get-secret-value', '--secret-id', arn.slice(0, -7)]),
    ]);
    expect(byName).toEqual({
      ARN: arn,
      Name: name,
      VersionId: first,
      SecretString: '{"user":"app","password":"pässwörd 🔑"}',
      VersionStages: ['AWSCURRENT'],
      CreatedDate: expect.stringMatching(CLI_DATE),
    });
    expect(byArn).toEqual(byName);
    expect(byPartialArn).toEqual(byName);
  });

  it('put-secret-value makes the new version AWSCURRENT and the old one AWSPREVIOUS; get-secret-value reads each by --version-stage and by --version-id', async () => {
    const token = 'cli-put-0123456789abcdef0123456789abcdef';
    const put = await smOk(['put-secret-value', '--secret-id', name, '--secret-string', 'second value', '--client-request-token', token]);
    expect(put).toEqual({ ARN: arn, Name: name, VersionId: token, VersionStages: ['AWSCURRENT'] });
    second = token;
    const [current, previous, byId] = await Promise.all([
      smOk(['get-secret-value', '--secret-id', name]),
      smOk(['get-secret-value', '--secret-id', name, '--version-stage', 'AWSPREVIOUS']),
      smOk(['get-secret-value', '--secret-id', arn, '--version-id', first]),
    ]);
    expect(current).toMatchObject({ VersionId: second, SecretString: 'second value', VersionStages: ['AWSCURRENT'] });
    expect(previous).toMatchObject({ VersionId: first, SecretString: '{"user":"app","password":"pässwörd 🔑"}', VersionStages: ['AWSPREVIOUS'] });
    expect(byId).toEqual(previous);
  });

  it('--secret-binary fileb:// round-trips all 256 byte values (create-secret and put-secret-value), answered as SecretBinary, never SecretString', async () => {
    await writeFile(join(dir, 'all-bytes.bin'), ALL_BYTES);
    await writeFile(join(dir, 'reversed.bin'), Buffer.from(ALL_BYTES).reverse());
    const created = await smOk(['create-secret', '--name', 'cli/binary', '--secret-binary', 'fileb://all-bytes.bin']);
    expect(created.ARN).toMatch(ARN_OF('cli/binary'));
    binaryArn = created.ARN;
    const got = await smOk(['get-secret-value', '--secret-id', 'cli/binary']);
    expect(got.SecretString).toBeUndefined();
    expect(Buffer.from(got.SecretBinary, 'base64').equals(ALL_BYTES)).toBe(true);

    const put = await smOk(['put-secret-value', '--secret-id', 'cli/binary', '--secret-binary', 'fileb://reversed.bin', '--version-stages', 'STAGED']);
    expect(put.VersionStages).toEqual(['STAGED']);
    const staged = await smOk(['get-secret-value', '--secret-id', 'cli/binary', '--version-stage', 'STAGED']);
    expect(staged).toMatchObject({ VersionId: put.VersionId, VersionStages: ['STAGED'] });
    expect(Buffer.from(staged.SecretBinary, 'base64').equals(Buffer.from(ALL_BYTES).reverse())).toBe(true);
  });

  it('tag-resource adds tags; describe-secret, list-secrets (--filters by name, by tag key and value) and list-secret-version-ids agree on the versions and their stages', async () => {
    await smOk(['tag-resource', '--secret-id', name, '--tags', 'Key=env,Value=prod', 'Key=team,Value=payments']);
    const described = await smOk(['describe-secret', '--secret-id', arn]);
    expect(described).toMatchObject({
      ARN: arn,
      Name: name,
      Description: 'made by the CLI',
      CreatedDate: expect.stringMatching(CLI_DATE),
      LastChangedDate: expect.stringMatching(CLI_DATE),
      VersionIdsToStages: { [first]: ['AWSPREVIOUS'], [second]: ['AWSCURRENT'] },
    });
    expect(described.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'env', Value: 'prod' },
        { Key: 'team', Value: 'payments' },
      ]),
    );
    expect(described.Tags).toHaveLength(2);
    expect(described.DeletedDate).toBeUndefined();

    const [byName, byTag, versions] = await Promise.all([
      smOk(['list-secrets', '--filters', 'Key=name,Values=cli/app/']),
      smOk(['list-secrets', '--filters', 'Key=tag-key,Values=team', 'Key=tag-value,Values=payments']),
      smOk(['list-secret-version-ids', '--secret-id', name]),
    ]);
    expect(byName.SecretList).toHaveLength(1);
    expect(byName.SecretList[0]).toMatchObject({ ARN: arn, Name: name, SecretVersionsToStages: described.VersionIdsToStages });
    expect(byTag.SecretList.map((s: { Name: string }) => s.Name)).toEqual([name]);
    expect(versions).toMatchObject({ ARN: arn, Name: name });
    expect(Object.fromEntries(versions.Versions.map((v: { VersionId: string; VersionStages: string[] }) => [v.VersionId, v.VersionStages]))).toEqual(
      described.VersionIdsToStages,
    );
    for (const v of versions.Versions) expect(v.CreatedDate).toMatch(CLI_DATE);
  });

  it('update-secret-version-stage moves AWSCURRENT to a STAGED version; AWSPREVIOUS follows to the version it left, and a version left without a stage is listed only with --include-deprecated', async () => {
    const staged = await smOk(['put-secret-value', '--secret-id', name, '--secret-string', 'third value', '--version-stages', 'STAGED']);
    const third: string = staged.VersionId;
    expect(
      await smOk([
        'update-secret-version-stage',
        '--secret-id',
        name,
        '--version-stage',
        'AWSCURRENT',
        '--move-to-version-id',
        third,
        '--remove-from-version-id',
        second,
      ]),
    ).toEqual({
      ARN: arn,
      Name: name,
    });
    const [current, listed, all] = await Promise.all([
      smOk(['get-secret-value', '--secret-id', name]),
      smOk(['list-secret-version-ids', '--secret-id', name]),
      smOk(['list-secret-version-ids', '--secret-id', name, '--include-deprecated']),
    ]);
    expect(current).toMatchObject({ VersionId: third, SecretString: 'third value' });
    expect([...current.VersionStages].sort()).toEqual(['AWSCURRENT', 'STAGED']);
    const stagesOf = (r: any) =>
      Object.fromEntries(r.Versions.map((v: { VersionId: string; VersionStages: string[] }) => [v.VersionId, [...v.VersionStages].sort()]));
    expect(stagesOf(listed)).toEqual({ [second]: ['AWSPREVIOUS'], [third]: ['AWSCURRENT', 'STAGED'] });
    expect(stagesOf(all)).toEqual({ [first]: [], [second]: ['AWSPREVIOUS'], [third]: ['AWSCURRENT', 'STAGED'] });
  });

  it('untag-resource removes a tag; update-secret with --secret-string and --description makes a new AWSCURRENT version and changes the description', async () => {
    expect(await smOk(['untag-resource', '--secret-id', name, '--tag-keys', 'team'])).toEqual({});
    const updated = await smOk(['update-secret', '--secret-id', name, '--secret-string', 'fourth value', '--description', 'described again']);
    expect(updated).toEqual({ ARN: arn, Name: name, VersionId: expect.stringMatching(UUID) });
    const described = await smOk(['describe-secret', '--secret-id', name]);
    expect(described).toMatchObject({ Description: 'described again', Tags: [{ Key: 'env', Value: 'prod' }] });
    expect(described.VersionIdsToStages[updated.VersionId]).toEqual(['AWSCURRENT']);
  });

  it('delete-secret --recovery-window-in-days 7 schedules the deletion 7 days out: reads are InvalidRequestException, list-secrets shows it only with --include-planned-deletion; restore-secret brings it back', async () => {
    const before = Date.now();
    const deleted = await smOk(['delete-secret', '--secret-id', name, '--recovery-window-in-days', '7']);
    expect(deleted).toEqual({ ARN: arn, Name: name, DeletionDate: expect.stringMatching(CLI_DATE) });
    const days = (Date.parse(deleted.DeletionDate) - before) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThan(7.01);

    const [refused, listed, listedAll] = await Promise.all([
      smRefused(['get-secret-value', '--secret-id', name], 'InvalidRequestException', 'GetSecretValue'),
      smOk(['list-secrets', '--filters', 'Key=name,Values=cli/app/']),
      smOk(['list-secrets', '--filters', 'Key=name,Values=cli/app/', '--include-planned-deletion']),
    ]);
    expect(refused).not.toContain('fourth value');
    expect(listed.SecretList).toEqual([]);
    expect(listedAll.SecretList).toEqual([expect.objectContaining({ Name: name, DeletedDate: expect.stringMatching(CLI_DATE) })]);

    expect(await smOk(['restore-secret', '--secret-id', name])).toEqual({ ARN: arn, Name: name });
    expect((await smOk(['get-secret-value', '--secret-id', name])).SecretString).toBe('fourth value');
  });

  it('delete-secret --force-delete-without-recovery removes it at once: ResourceNotFoundException after; the name is free again under a new ARN suffix, which the old ARN does not reach', async () => {
    const made = await smOk(['create-secret', '--name', 'cli/short-lived', '--secret-string', 'gone soon']);
    const deleted = await smOk(['delete-secret', '--secret-id', made.ARN, '--force-delete-without-recovery']);
    expect(deleted).toMatchObject({ ARN: made.ARN, Name: 'cli/short-lived' });
    await smRefused(['describe-secret', '--secret-id', 'cli/short-lived'], 'ResourceNotFoundException', 'DescribeSecret');

    const again = await smOk(['create-secret', '--name', 'cli/short-lived', '--secret-string', 'born again']);
    expect(again.ARN).toMatch(ARN_OF('cli/short-lived'));
    expect(again.ARN).not.toBe(made.ARN);
    const [old, renewed] = await Promise.all([
      smRefused(['get-secret-value', '--secret-id', made.ARN], 'ResourceNotFoundException', 'GetSecretValue'),
      smOk(['get-secret-value', '--secret-id', again.ARN]),
    ]);
    expect(old).not.toContain('born again');
    expect(renewed.SecretString).toBe('born again');
  });

  it('batch-get-secret-value --secret-id-list reads a text secret by name and a binary one by ARN, a missing one reported in Errors; --filters selects by name', async () => {
    const listed = await smOk(['batch-get-secret-value', '--secret-id-list', name, binaryArn, 'cli/none-such']);
    const values = listed.SecretValues as Array<Record<string, any>>;
    expect(values.map((v) => v.Name).sort()).toEqual(['cli/app/db', 'cli/binary']);
    expect(values.find((v) => v.Name === name)).toMatchObject({ ARN: arn, SecretString: 'fourth value', VersionStages: ['AWSCURRENT'] });
    const binary = values.find((v) => v.Name === 'cli/binary')!;
    expect(binary.ARN).toBe(binaryArn);
    expect(binary.SecretString).toBeUndefined();
    expect(Buffer.from(binary.SecretBinary, 'base64').equals(ALL_BYTES)).toBe(true);
    expect(listed.Errors).toEqual([{ SecretId: 'cli/none-such', ErrorCode: 'ResourceNotFoundException', Message: expect.any(String) }]);

    const filtered = await smOk(['batch-get-secret-value', '--filters', 'Key=name,Values=cli/app/']);
    expect(filtered.SecretValues.map((v: { Name: string; SecretString: string }) => [v.Name, v.SecretString])).toEqual([[name, 'fourth value']]);
  });

  it('the largest values AWS takes, a SecretString and a SecretBinary of 65,536 bytes each (file:// and fileb://), are stored and read back', async () => {
    // AWS's limit for both, and the one lib/protocol/aws/secrets.ts (MAX_AWS_SECRET_BYTES) checks.
    const text = 'Abc-123_xyz.'.repeat(6000).slice(0, 65_536);
    const bytes = Buffer.alloc(65_536, ALL_BYTES);
    await writeFile(join(dir, 'max.txt'), text);
    await writeFile(join(dir, 'max.bin'), bytes);
    const [madeText, madeBinary] = await Promise.all([
      smOk(['create-secret', '--name', 'cli/max-text', '--secret-string', 'file://max.txt']),
      smOk(['create-secret', '--name', 'cli/max-binary', '--secret-binary', 'fileb://max.bin']),
    ]);
    const read = await smOk(['batch-get-secret-value', '--secret-id-list', madeText.ARN, madeBinary.ARN]);
    const byName = Object.fromEntries((read.SecretValues as Array<Record<string, string>>).map((v) => [v.Name, v]));
    expect(byName['cli/max-text']!.SecretString).toBe(text);
    expect(Buffer.from(byName['cli/max-binary']!.SecretBinary!, 'base64').equals(bytes)).toBe(true);
  });

  it('errors: a missing secret is ResourceNotFoundException (exit 254), an existing name ResourceExistsException; a VersionId under 32 characters never leaves the CLI (exit 252)', async () => {
    const [missing, exists, short] = await Promise.all([
      smRefused(['get-secret-value', '--secret-id', 'cli/none-such'], 'ResourceNotFoundException', 'GetSecretValue'),
      smRefused(['create-secret', '--name', name, '--secret-string', 'x'], 'ResourceExistsException', 'CreateSecret'),
      sm(['get-secret-value', '--secret-id', name, '--version-id', 'v1']),
    ]);
    expect(missing).toContain('cli/none-such');
    expect(exists).not.toContain('fourth value');
    expect(short.code).toBe(252);
    expect(short.stderr).toContain('Invalid length for parameter VersionId');
    for (const stderr of [missing, exists]) expect(stderr).not.toMatch(/Alibaba|AccessKeySecret|Forbidden\.|Rejected\./);
  });
});

/**
 * One python process for the boto3 calls (a process start is most of a call's cost). It prints one
 * JSON document of what it saw; the assertions are here.
 */
// biome-ignore lint/complexity/noUselessStringRaw: Python source; a backslash added to it later must reach Python as written
const BOTO3_SCRIPT = String.raw`
import base64, json, os, sys
import boto3
from botocore.config import Config

sm = boto3.client('secretsmanager', endpoint_url=os.environ['KMS_E2E_ENDPOINT'], config=Config(retries={'max_attempts': 1}))
out = {}
def plain(r):
    return {k: (base64.b64encode(v).decode() if isinstance(v, bytes) else v.isoformat() if hasattr(v, 'isoformat') else v) for k, v in r.items() if k != 'ResponseMetadata'}

created = sm.create_secret(Name='boto3/db', SecretString='first from boto3', Description='boto3', Tags=[{'Key': 'owner', 'Value': 'boto3'}])
out['created'] = plain(created)
out['get'] = plain(sm.get_secret_value(SecretId='boto3/db'))
out['put'] = plain(sm.put_secret_value(SecretId=created['ARN'], SecretBinary=bytes(range(256)), ClientRequestToken='boto3-second-version-0123456789abcdef'))
out['current'] = plain(sm.get_secret_value(SecretId='boto3/db'))
out['previous'] = plain(sm.get_secret_value(SecretId='boto3/db', VersionStage='AWSPREVIOUS'))
out['binaryIsBytes'] = sm.get_secret_value(SecretId='boto3/db')['SecretBinary'] == bytes(range(256))
out['describe'] = plain(sm.describe_secret(SecretId='boto3/db'))
sm.create_secret(Name='boto3/other', SecretString='other')
out['listed'] = [s['Name'] for page in sm.get_paginator('list_secrets').paginate(Filters=[{'Key': 'name', 'Values': ['boto3/']}], PaginationConfig={'PageSize': 1}) for s in page['SecretList']]
out['listedByTag'] = [s['Name'] for s in sm.list_secrets(Filters=[{'Key': 'tag-value', 'Values': ['boto3']}])['SecretList']]
out['batch'] = [plain(v) for v in sm.batch_get_secret_value(SecretIdList=['boto3/db', 'boto3/other'])['SecretValues']]
out['deleted'] = plain(sm.delete_secret(SecretId='boto3/db', RecoveryWindowInDays=7))
try:
    sm.get_secret_value(SecretId='boto3/db')
    out['whileDeleted'] = None
except sm.exceptions.InvalidRequestException as e:
    out['whileDeleted'] = e.response['Error']['Code']
out['restored'] = plain(sm.restore_secret(SecretId='boto3/db'))
out['afterRestore'] = plain(sm.get_secret_value(SecretId='boto3/db'))
try:
    sm.get_secret_value(SecretId='boto3/none-such')
    out['notFound'] = None
except sm.exceptions.ResourceNotFoundException as e:
    out['notFound'] = {'code': e.response['Error']['Code'], 'message': e.response['Error']['Message'], 'status': e.response['ResponseMetadata']['HTTPStatusCode']}
json.dump(out, sys.stdout)
`;

describe('boto3 against the gateway', () => {
  it('create, get, put (binary), get AWSPREVIOUS, describe, list with a Filter (paged by 1), batch get, delete and restore; a missing secret raises client.exceptions.ResourceNotFoundException', async () => {
    const r = await run(PYTHON, ['-c', BOTO3_SCRIPT], { ...clientEnv(), KMS_E2E_ENDPOINT: endpoint });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const arn = out.created.ARN;
    expect(out.created).toEqual({ ARN: expect.stringMatching(ARN_OF('boto3/db')), Name: 'boto3/db', VersionId: expect.stringMatching(UUID) });
    expect(out.get).toMatchObject({
      ARN: arn,
      Name: 'boto3/db',
      VersionId: out.created.VersionId,
      SecretString: 'first from boto3',
      VersionStages: ['AWSCURRENT'],
    });
    expect(out.put).toEqual({ ARN: arn, Name: 'boto3/db', VersionId: 'boto3-second-version-0123456789abcdef', VersionStages: ['AWSCURRENT'] });
    expect(out.current).toMatchObject({
      VersionId: 'boto3-second-version-0123456789abcdef',
      SecretBinary: ALL_BYTES.toString('base64'),
      VersionStages: ['AWSCURRENT'],
    });
    expect(out.current.SecretString).toBeUndefined();
    expect(out.binaryIsBytes).toBe(true);
    expect(out.previous).toMatchObject({ VersionId: out.created.VersionId, SecretString: 'first from boto3', VersionStages: ['AWSPREVIOUS'] });
    expect(out.describe).toMatchObject({
      ARN: arn,
      Description: 'boto3',
      Tags: [{ Key: 'owner', Value: 'boto3' }],
      VersionIdsToStages: { [out.created.VersionId]: ['AWSPREVIOUS'], 'boto3-second-version-0123456789abcdef': ['AWSCURRENT'] },
    });
    expect(out.listed.sort()).toEqual(['boto3/db', 'boto3/other']);
    expect(out.listedByTag).toEqual(['boto3/db']);
    expect(out.batch.map((v: { Name: string }) => v.Name).sort()).toEqual(['boto3/db', 'boto3/other']);
    expect(out.batch.find((v: { Name: string }) => v.Name === 'boto3/db').SecretBinary).toBe(ALL_BYTES.toString('base64'));
    expect(out.deleted).toMatchObject({ ARN: arn, Name: 'boto3/db' });
    expect(out.whileDeleted).toBe('InvalidRequestException');
    expect(out.restored).toEqual({ ARN: arn, Name: 'boto3/db' });
    expect(out.afterRestore.VersionId).toBe('boto3-second-version-0123456789abcdef');
    expect(out.notFound).toMatchObject({ code: 'ResourceNotFoundException', status: 400 });
    expect(out.notFound.message).toContain('boto3/none-such');
  });
});

describe('across the protocols, with the vendors’ clients only', () => {
  const alibaba = () => createKmsSdkClient({ port: gateway.port }, ADMIN);

  it('a text and a binary secret made with `aws secretsmanager create-secret` are read by the official Alibaba client (typed getSecretValue) with the same version ids, ACSCurrent/ACSPrevious and SecretDataType text/binary', async () => {
    const text = await smOk(['create-secret', '--name', 'cross/from-aws', '--secret-string', 'made by the AWS CLI ✓']);
    await writeFile(join(dir, 'cross.bin'), ALL_BYTES);
    const binary = await smOk(['create-secret', '--name', 'cross/from-aws-binary', '--secret-binary', 'fileb://cross.bin']);
    const sdk = alibaba();

    const gotText = await sdk.getSecretValue(new KmsSdk.GetSecretValueRequest({ secretName: 'cross/from-aws' }));
    expect(gotText).toMatchObject({ secretName: 'cross/from-aws', versionId: text.VersionId, secretData: 'made by the AWS CLI ✓', secretDataType: 'text' });
    expect(gotText.versionStages.versionStage).toEqual(['ACSCurrent']);
    const gotBinary = await sdk.getSecretValue(new KmsSdk.GetSecretValueRequest({ secretName: 'cross/from-aws-binary' }));
    expect(gotBinary).toMatchObject({ versionId: binary.VersionId, secretDataType: 'binary', secretData: ALL_BYTES.toString('base64') });
    expect((await sdk.describeSecret(new KmsSdk.DescribeSecretRequest({ secretName: 'cross/from-aws' }))).arn).toBe(acsArnOf('cross/from-aws'));

    const put = await smOk(['put-secret-value', '--secret-id', text.ARN, '--secret-string', 'second by the AWS CLI']);
    const [current, previous] = await Promise.all([
      sdk.getSecretValue(new KmsSdk.GetSecretValueRequest({ secretName: 'cross/from-aws' })),
      sdk.getSecretValue(new KmsSdk.GetSecretValueRequest({ secretName: 'cross/from-aws', versionStage: 'ACSPrevious' })),
    ]);
    expect(current).toMatchObject({ versionId: put.VersionId, secretData: 'second by the AWS CLI' });
    expect(previous).toMatchObject({ versionId: text.VersionId, secretData: 'made by the AWS CLI ✓' });
    expect(previous.versionStages.versionStage).toEqual(['ACSPrevious']);
  });

  it('a binary secret made with the Alibaba client (SecretDataType=binary, a 40-character VersionId) is read by the AWS CLI as SecretBinary, by that version id too; an Alibaba put is seen as AWSCURRENT, the first as AWSPREVIOUS', async () => {
    const sdk = alibaba();
    const versionId = 'alibaba-binary-v1-0123456789abcdef012345';
    expect(versionId).toHaveLength(40);
    await sdk.createSecret(
      new KmsSdk.CreateSecretRequest({ secretName: 'cross/from-alibaba', versionId, secretData: ALL_BYTES.toString('base64'), secretDataType: 'binary' }),
    );
    const [byName, byVersion] = await Promise.all([
      smOk(['get-secret-value', '--secret-id', 'cross/from-alibaba']),
      smOk(['get-secret-value', '--secret-id', 'cross/from-alibaba', '--version-id', versionId]),
    ]);
    expect(byName).toMatchObject({
      ARN: expect.stringMatching(ARN_OF('cross/from-alibaba')),
      Name: 'cross/from-alibaba',
      VersionId: versionId,
      VersionStages: ['AWSCURRENT'],
    });
    expect(byName.SecretString).toBeUndefined();
    expect(Buffer.from(byName.SecretBinary, 'base64').equals(ALL_BYTES)).toBe(true);
    expect(byVersion).toEqual(byName);

    const second = 'alibaba-text-v2-0123456789abcdef0123456789';
    await sdk.putSecretValue(new KmsSdk.PutSecretValueRequest({ secretName: 'cross/from-alibaba', versionId: second, secretData: 'text from Alibaba' }));
    const [current, previous] = await Promise.all([
      smOk(['get-secret-value', '--secret-id', byName.ARN]),
      smOk(['get-secret-value', '--secret-id', byName.ARN, '--version-stage', 'AWSPREVIOUS']),
    ]);
    expect(current).toMatchObject({ VersionId: second, SecretString: 'text from Alibaba', VersionStages: ['AWSCURRENT'] });
    expect(current.SecretBinary).toBeUndefined();
    expect(previous).toMatchObject({ VersionId: versionId, VersionStages: ['AWSPREVIOUS'] });
    expect(Buffer.from(previous.SecretBinary, 'base64').equals(ALL_BYTES)).toBe(true);
  });
});
