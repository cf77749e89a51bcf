import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllGateways, makeTempDir, type ReadyGateway, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { AWS_CLI, MISSING_AWS_CLIENTS, MISSING_AWS_CLIENTS_MESSAGE, PYTHON } from '../helpers/aws-clients.js';
import { runProcess } from '../helpers/cli-process.js';
import { ACCOUNT_ID, ADMIN, KEY_ID, OTHER_KEY_ID, TEST_SEED } from '../helpers/service.js';
import type { Credentials } from '../helpers/sign.js';

/*
 * The AWS protocol through clients no one here wrote, as users run them: Debian's AWS CLI v2
 * (/usr/bin/aws) and boto3 (/usr/bin/python3), against the real gateway process. Neither signs a
 * per-request id, so identical calls in one second are byte-identical and must all be served.
 * .ci/run installs both (awscli, python3-boto3); without them this suite fails, never skips.
 */

const REGION = 'us-east-1';
const arnOf = (keyId: string) => `arn:aws:kms:${REGION}:${ACCOUNT_ID}:key/${keyId}`;

let dir: string;
let gateway: ReadyGateway;
let endpoint: string;

it('the AWS CLI v2 and boto3 are installed (a missing client fails this suite, never skips it)', () => {
  expect(MISSING_AWS_CLIENTS, MISSING_AWS_CLIENTS_MESSAGE).toEqual([]);
});

/** An environment of the AWS clients' own, nothing inherited: no profile, config or credentials file of this machine is read. */
function clientEnv(credentials: Credentials): Record<string, string> {
  return {
    PATH: '/usr/bin:/bin',
    HOME: dir,
    LANG: 'C.UTF-8',
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.accessKeySecret,
    AWS_DEFAULT_REGION: REGION,
    AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
}

const run = (command: string, args: readonly string[], env: Record<string, string>) => runProcess(command, args, { cwd: dir, env });

/** `aws kms …args` against the gateway. */
const aws = (args: readonly string[], credentials: Credentials = ADMIN) =>
  run(AWS_CLI, ['--endpoint-url', endpoint, '--output', 'json', 'kms', ...args], clientEnv(credentials));

/** `aws kms …args` that must succeed; its JSON output (or its text with `--output text`). */
async function awsOk(args: readonly string[]): Promise<any> {
  const r = await aws(args);
  expect(r.code, `aws kms ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return args.includes('text') ? r.stdout.trim() : r.stdout.trim() === '' ? {} : JSON.parse(r.stdout);
}

/**
 * One python process for many boto3 calls (a process start is most of a call's cost). It prints
 * one JSON document of what it saw; the assertions are here.
 */
// biome-ignore lint/complexity/noUselessStringRaw: Python source; a backslash added to it later must reach Python as written
const BOTO3_SCRIPT = String.raw`
import base64, json, os, sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

kms = boto3.client('kms', endpoint_url=os.environ['KMS_E2E_ENDPOINT'], config=Config(retries={'max_attempts': 1}))
out = {}

def error(call):
    try:
        call()
        return None
    except ClientError as e:
        return {'code': e.response['Error']['Code'], 'message': e.response['Error']['Message'], 'status': e.response['ResponseMetadata']['HTTPStatusCode']}

key_id = os.environ['KMS_E2E_KEY_ID']
context = {'tenant': 'acme', 'purpose': 'boto3'}

# 30 identical calls in a loop: boto3 signs no per-request id, so calls in one second are the same bytes.
keys = []
for _ in range(30):
    r = kms.generate_data_key(KeyId=key_id, KeySpec='AES_256', EncryptionContext=context)
    keys.append(r)
out['identical'] = {
    'count': len(keys),
    'distinctBlobs': len({k['CiphertextBlob'] for k in keys}),
    'decrypted': sum(1 for k in keys if kms.decrypt(CiphertextBlob=k['CiphertextBlob'], EncryptionContext=context)['Plaintext'] == k['Plaintext']),
}
out['wrongContext'] = error(lambda: kms.decrypt(CiphertextBlob=keys[0]['CiphertextBlob'], EncryptionContext={'tenant': 'other', 'purpose': 'boto3'}))

created = kms.create_key(Description='made by boto3')['KeyMetadata']
new_key = created['KeyId']
kms.create_alias(AliasName='alias/boto3-e2e', TargetKeyId=new_key)
blob = kms.encrypt(KeyId='alias/boto3-e2e', Plaintext=bytes(range(256)))['CiphertextBlob']
moved = kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=key_id)
out['roundTrip'] = kms.decrypt(CiphertextBlob=moved['CiphertextBlob'])['Plaintext'] == bytes(range(256))
out['reEncrypt'] = {'KeyId': moved['KeyId'], 'SourceKeyId': moved['SourceKeyId']}

out['pagedKeys'] = [k['KeyId'] for page in kms.get_paginator('list_keys').paginate(PaginationConfig={'PageSize': 1}) for k in page['Keys']]
out['pagedKeyPages'] = sum(1 for _ in kms.get_paginator('list_keys').paginate(PaginationConfig={'PageSize': 1}))
out['allKeys'] = [k['KeyId'] for k in kms.list_keys(Limit=100)['Keys']]
out['pagedAliases'] = [a['AliasName'] for page in kms.get_paginator('list_aliases').paginate(PaginationConfig={'PageSize': 1}) for a in page['Aliases']]

kms.enable_key_rotation(KeyId=new_key)
out['rotation'] = kms.get_key_rotation_status(KeyId=new_key)['KeyRotationEnabled']
kms.disable_key(KeyId=new_key)
out['disabled'] = kms.describe_key(KeyId=new_key)['KeyMetadata']['KeyState']
out['disabledUse'] = error(lambda: kms.generate_data_key(KeyId=new_key, NumberOfBytes=16))
kms.enable_key(KeyId=new_key)
kms.schedule_key_deletion(KeyId=new_key, PendingWindowInDays=7)
out['pending'] = kms.describe_key(KeyId=new_key)['KeyMetadata']['KeyState']
kms.cancel_key_deletion(KeyId=new_key)
out['cancelled'] = kms.describe_key(KeyId=new_key)['KeyMetadata']['KeyState']
out['random'] = len(kms.generate_random(NumberOfBytes=64)['Plaintext'])
out['notFound'] = error(lambda: kms.describe_key(KeyId='alias/none-such'))

bad = boto3.client('kms', endpoint_url=os.environ['KMS_E2E_ENDPOINT'], aws_access_key_id=os.environ['AWS_ACCESS_KEY_ID'], aws_secret_access_key='not-the-secret-0000000000', config=Config(retries={'max_attempts': 1}))
out['badSignature'] = error(lambda: bad.list_keys())

json.dump(out, sys.stdout)
`;

describe('with the real clients', () => {
  beforeAll(async () => {
    if (MISSING_AWS_CLIENTS.length > 0) throw new Error(MISSING_AWS_CLIENTS_MESSAGE);
    dir = await makeTempDir('kms-e2e-aws-cli-');
    gateway = await startGateway({ dataDir: join(dir, 'data'), seedFile: await writeSeedFile(dir, TEST_SEED) });
    endpoint = `http://127.0.0.1:${gateway.port}`;
  });

  afterAll(async () => {
    if (gateway) expect(await gateway.stop('SIGTERM')).toBe(0);
    await killAllGateways();
    if (dir) await removeDir(dir);
  });

  describe('the AWS CLI v2 against the gateway', () => {
    let keyId: string;
    const alias = 'alias/cli-e2e';

    it('create-key twice in quick succession (identical requests): both keys made; create-alias names one', async () => {
      const [a, b] = await Promise.all([
        awsOk(['create-key', '--description', 'made by the AWS CLI']),
        awsOk(['create-key', '--description', 'made by the AWS CLI']),
      ]);
      expect(a.KeyMetadata).toMatchObject({ KeyState: 'Enabled', Description: 'made by the AWS CLI', Arn: arnOf(a.KeyMetadata.KeyId) });
      expect(b.KeyMetadata.KeyId).not.toBe(a.KeyMetadata.KeyId);
      keyId = a.KeyMetadata.KeyId;
      await awsOk(['create-alias', '--alias-name', alias, '--target-key-id', keyId]);
      expect((await awsOk(['describe-key', '--key-id', alias])).KeyMetadata.KeyId).toBe(keyId);
    });

    it('generate-data-key with --encryption-context; decrypt of the blob from a file (fileb://) needs the same context', async () => {
      const generated = await awsOk(['generate-data-key', '--key-id', alias, '--key-spec', 'AES_256', '--encryption-context', 'purpose=e2e,team=a']);
      expect(generated.KeyId).toBe(arnOf(keyId));
      expect(Buffer.from(generated.Plaintext, 'base64')).toHaveLength(32);
      await writeFile(join(dir, 'data-key.blob'), Buffer.from(generated.CiphertextBlob, 'base64'));
      const decrypted = await awsOk(['decrypt', '--ciphertext-blob', 'fileb://data-key.blob', '--encryption-context', 'team=a,purpose=e2e']);
      expect(decrypted).toMatchObject({ Plaintext: generated.Plaintext, KeyId: arnOf(keyId) });
      const wrongContext = await aws(['decrypt', '--ciphertext-blob', 'fileb://data-key.blob', '--encryption-context', 'purpose=e2e,team=b']);
      expect(wrongContext.code).toBe(254);
      expect(wrongContext.stderr).toContain('InvalidCiphertextException');
    });

    it('encrypt a binary file, decrypt it back, re-encrypt it under another key', async () => {
      const plaintext = randomBytes(3000);
      await writeFile(join(dir, 'plain.bin'), plaintext);
      const blob = await awsOk(['encrypt', '--key-id', keyId, '--plaintext', 'fileb://plain.bin', '--query', 'CiphertextBlob', '--output', 'text']);
      await writeFile(join(dir, 'plain.enc'), Buffer.from(blob, 'base64'));
      const back = await awsOk(['decrypt', '--ciphertext-blob', 'fileb://plain.enc', '--query', 'Plaintext', '--output', 'text']);
      expect(Buffer.from(back, 'base64').equals(plaintext)).toBe(true);

      const moved = await awsOk(['re-encrypt', '--ciphertext-blob', 'fileb://plain.enc', '--destination-key-id', OTHER_KEY_ID]);
      expect(moved).toMatchObject({ KeyId: arnOf(OTHER_KEY_ID), SourceKeyId: arnOf(keyId) });
      await writeFile(join(dir, 'moved.enc'), Buffer.from(moved.CiphertextBlob, 'base64'));
      const movedBack = await awsOk(['decrypt', '--ciphertext-blob', 'fileb://moved.enc']);
      expect(movedBack.KeyId).toBe(arnOf(OTHER_KEY_ID));
      expect(Buffer.from(movedBack.Plaintext, 'base64').equals(plaintext)).toBe(true);
    });

    it('list-keys and list-aliases with --page-size 1 walk every page', async () => {
      const [keysPaged, keysAll, aliasesPaged, aliasesAll] = await Promise.all([
        awsOk(['list-keys', '--page-size', '1']),
        awsOk(['list-keys', '--no-paginate', '--limit', '100']),
        awsOk(['list-aliases', '--page-size', '1']),
        awsOk(['list-aliases', '--no-paginate', '--limit', '100']),
      ]);
      const keyIds = (r: any) => (r.Keys as Array<{ KeyId: string }>).map((k) => k.KeyId);
      expect(keysAll.Truncated).toBe(false);
      expect(keyIds(keysAll).length).toBeGreaterThanOrEqual(4);
      expect(keyIds(keysPaged)).toEqual(keyIds(keysAll));
      expect(keyIds(keysPaged)).toEqual(expect.arrayContaining([KEY_ID, OTHER_KEY_ID, keyId]));
      const aliasNames = (r: any) => (r.Aliases as Array<{ AliasName: string }>).map((a) => a.AliasName);
      expect(aliasNames(aliasesAll).length).toBeGreaterThanOrEqual(2);
      expect(aliasNames(aliasesPaged)).toEqual(aliasNames(aliasesAll));
      expect(aliasNames(aliasesPaged)).toContain(alias);
    });

    it('enable-key-rotation and its status; disable-key and enable-key', async () => {
      await awsOk(['enable-key-rotation', '--key-id', keyId]);
      expect(await awsOk(['get-key-rotation-status', '--key-id', keyId])).toMatchObject({ KeyRotationEnabled: true });
      await awsOk(['disable-key', '--key-id', keyId]);
      expect((await awsOk(['describe-key', '--key-id', keyId])).KeyMetadata).toMatchObject({ KeyState: 'Disabled', Enabled: false });
      const refused = await aws(['generate-data-key', '--key-id', keyId, '--key-spec', 'AES_256']);
      expect([refused.code, refused.stderr.includes('DisabledException')]).toEqual([254, true]);
      await awsOk(['enable-key', '--key-id', keyId]);
    });

    it('schedule-key-deletion, then cancel-key-deletion leaves the key Disabled, as AWS documents', async () => {
      const scheduled = await awsOk(['schedule-key-deletion', '--key-id', keyId, '--pending-window-in-days', '7']);
      expect(scheduled).toMatchObject({ KeyId: arnOf(keyId), KeyState: 'PendingDeletion', PendingWindowInDays: 7 });
      expect(await awsOk(['cancel-key-deletion', '--key-id', keyId])).toEqual({ KeyId: arnOf(keyId) });
      expect((await awsOk(['describe-key', '--key-id', keyId])).KeyMetadata).toMatchObject({ KeyState: 'Disabled', Enabled: false });
    });

    it('generate-random', async () => {
      expect(Buffer.from(await awsOk(['generate-random', '--number-of-bytes', '48', '--query', 'Plaintext', '--output', 'text']), 'base64')).toHaveLength(48);
    });

    it('errors: an unknown key is NotFoundException (exit 254); a wrong secret is InvalidSignatureException in AWS’s words', async () => {
      const [unknown, badSecret] = await Promise.all([
        aws(['describe-key', '--key-id', '99999999-2222-4333-8444-555555555555']),
        aws(['list-keys'], { ...ADMIN, accessKeySecret: 'not-the-secret-0000000000' }),
      ]);
      expect(unknown.code).toBe(254);
      expect(unknown.stderr).toContain('An error occurred (NotFoundException) when calling the DescribeKey operation');
      expect(badSecret.code).toBe(254);
      expect(badSecret.stderr).toContain('(InvalidSignatureException)');
      expect(badSecret.stderr).toContain('signature we calculated does not match');
      for (const r of [unknown, badSecret]) expect(r.stderr).not.toMatch(/Alibaba|AccessKeySecret/);
    });
  });

  describe('boto3 against the gateway', () => {
    it('30 identical generate_data_key calls all served; contexts, files of bytes, re-encrypt, paging by 1, rotation, disable/enable, deletion and its cancel, random, errors', async () => {
      const r = await run(PYTHON, ['-c', BOTO3_SCRIPT], { ...clientEnv(ADMIN), KMS_E2E_ENDPOINT: endpoint, KMS_E2E_KEY_ID: KEY_ID });
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);

      expect(out.identical).toEqual({ count: 30, distinctBlobs: 30, decrypted: 30 });
      expect(out.wrongContext).toMatchObject({ code: 'InvalidCiphertextException', status: 400 });
      expect(out.roundTrip).toBe(true);
      expect(out.reEncrypt.KeyId).toBe(arnOf(KEY_ID));

      expect(out.allKeys.length).toBeGreaterThanOrEqual(3);
      expect(out.pagedKeys).toEqual(out.allKeys);
      expect(out.pagedKeyPages).toBe(out.allKeys.length);
      expect(out.pagedAliases).toContain('alias/boto3-e2e');
      expect(new Set(out.pagedAliases).size).toBe(out.pagedAliases.length);

      expect(out.rotation).toBe(true);
      expect(out.disabled).toBe('Disabled');
      expect(out.disabledUse).toMatchObject({ code: 'DisabledException' });
      expect(out.pending).toBe('PendingDeletion');
      expect(out.cancelled).toBe('Disabled');
      expect(out.random).toBe(64);
      expect(out.notFound).toMatchObject({ code: 'NotFoundException', status: 400 });
      expect(out.badSignature).toMatchObject({ code: 'InvalidSignatureException', status: 400 });
      expect(out.badSignature.message).not.toMatch(/Alibaba|AccessKeySecret/);
    });
  });
});
