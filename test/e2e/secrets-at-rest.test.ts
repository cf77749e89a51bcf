import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ListTablesCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStateTable } from '../../lib/keystore/dynamodb/table.js';
import { type Dynalite, startDynalite } from '../helpers/dynalite.js';
import { killAllGateways, makeTempDir, type ReadyGateway, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { itemBytes } from '../helpers/sealed-dynamodb.js';
import { ADMIN, ALIAS, TEST_SEED } from '../helpers/service.js';

/*
 * Secret values at rest, written through the AWS Secrets Manager protocol (the official
 * @aws-sdk/client-secrets-manager against the real gateway process): whatever the store — the file
 * store's data directory, a PostgreSQL database (pg_dump of it), a DynamoDB table (a Scan of every
 * table of dynalite) — no form of a value is found in it: its bytes, Base64 (standard and URL-safe,
 * at any alignment in a longer text), hex (either case), UTF-16 (text), nor inside a Base64 or hex
 * run decoded. One gateway per store.
 */

const execFileAsync = promisify(execFile);

/** Recognisable values: text (ASCII and not), and bytes that are no text. */
const TEXT = 'AwsProtocolSecretAtRest-5c1f-plain-text-value';
const TEXT_2 = 'AwsProtocolSecretAtRest-second-version-9e07 — ünïcode 🔑';
const TEXT_UPDATED = 'AwsProtocolSecretAtRest-updated-by-UpdateSecret-41aa';
const TEXT_KEYED = 'AwsProtocolSecretAtRest-under-a-customer-key-77b3';
const TEXT_DELETED = 'AwsProtocolSecretAtRest-scheduled-for-deletion-d2c8';
const BYTES = Buffer.concat([Buffer.from('AwsProtocolBinarySecretAtRest'), Buffer.from([0, 1, 2, 0xfe, 0xff]), Buffer.from('-tail-6b90')]);
const BYTES_2 = Buffer.concat([Buffer.from([0xff, 0x00]), Buffer.from('AwsProtocolBinarySecondVersion-a14e'), Buffer.from([0x80, 0x81])]);
const TEXTS = [TEXT, TEXT_2, TEXT_UPDATED, TEXT_KEYED, TEXT_DELETED];

/**
 * Versions written (each a value entry `secrets/value/<uid>/<entry>`: lib/secrets/records.ts): the
 * scans must have met at least this many, or they looked in the wrong place.
 */
const VERSIONS_WRITTEN = 7;
const VALUE_ENTRY = /secrets[/!]value[/!][^/!\s]+[/!][^/!\s]+/g;
const valueEntriesIn = (text: string) => new Set(text.match(VALUE_ENTRY) ?? []).size;

/** ClientRequestTokens given, to read each version back by its id. */
const TOKENS = {
  text1: 'at-rest-text-version-1-0123456789abcdef',
  text2: 'at-rest-text-version-2-0123456789abcdef',
  binary1: 'at-rest-binary-version-1-0123456789abcdef',
  binary2: 'at-rest-binary-version-2-0123456789abcdef',
};

/** A value's forms as they could sit in stored bytes. */
function formsOf(value: Buffer, isText: boolean): Array<{ form: string; bytes: Buffer }> {
  const out: Array<{ form: string; bytes: Buffer }> = [
    { form: 'bytes', bytes: value },
    { form: 'hex', bytes: Buffer.from(value.toString('hex')) },
    { form: 'HEX', bytes: Buffer.from(value.toString('hex').toUpperCase()) },
  ];
  // Base64 of the value after 0, 1 or 2 other bytes: the characters that depend on the value alone
  // (past the first group when it shares one, short of the last group) are in any Base64 text
  // holding the value at that alignment.
  for (const skip of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(skip), value]).toString('base64');
    const stable = encoded.slice(skip === 0 ? 0 : 4, -4);
    out.push({ form: `base64+${skip}`, bytes: Buffer.from(stable) });
    out.push({ form: `base64url+${skip}`, bytes: Buffer.from(stable.replace(/\+/g, '-').replace(/\//g, '_')) });
  }
  if (isText) {
    const text = value.toString('utf8');
    out.push({ form: 'utf16le', bytes: Buffer.from(text, 'utf16le') });
    out.push({ form: 'utf16be', bytes: Buffer.from(text, 'utf16le').swap16() });
  }
  return out;
}

const FORMS = [
  ...TEXTS.map((t) => ({ what: t, forms: formsOf(Buffer.from(t, 'utf8'), true) })),
  ...[BYTES, BYTES_2].map((b) => ({ what: `binary ${b.toString('hex')}`, forms: formsOf(b, false) })),
];

/** What stored bytes hold and what their Base64 and hex runs decode to, two levels deep. */
function haystacks(bytes: Buffer, depth = 2): Buffer[] {
  const out = [bytes];
  if (depth === 0) return out;
  const text = bytes.toString('latin1');
  for (const run of text.match(/[A-Za-z0-9+/_-]{24,}={0,2}/g) ?? []) {
    const decoded = Buffer.from(run.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (decoded.length > 0) out.push(...haystacks(decoded, depth - 1));
  }
  for (const run of text.match(/(?:[0-9a-fA-F]{2}){16,}/g) ?? []) out.push(...haystacks(Buffer.from(run, 'hex'), depth - 1));
  return out;
}

/** The value forms found in `bytes`, as "<value>: <form>" (none, at rest). */
function valuesIn(bytes: Buffer): string[] {
  const found: string[] = [];
  for (const hay of haystacks(bytes))
    for (const { what, forms } of FORMS) for (const { form, bytes: b } of forms) if (hay.includes(b)) found.push(`${what}: ${form}`);
  return [...new Set(found)];
}

it('the scan finds a value in each form it claims to look for (a check of the check)', () => {
  const embedded = (prefix: number) => Buffer.concat([Buffer.alloc(prefix, 0x41), Buffer.from(TEXT_2), Buffer.from('!!')]);
  const samples = [
    Buffer.from(`{"v":"${TEXT}"}`),
    Buffer.from(`{"v":"${Buffer.concat([Buffer.from('xy'), BYTES]).toString('base64')}"}`),
    Buffer.from(`{"v":"${embedded(1).toString('base64url')}"}`),
    Buffer.from(`{"v":"${embedded(2).toString('base64')}"}`),
    Buffer.from(`\\x00ff${BYTES_2.toString('hex')}00`),
    Buffer.from(TEXT_KEYED, 'utf16le'),
    // Base64 of a JSON document that holds the value in Base64.
    Buffer.from(Buffer.from(JSON.stringify({ inner: Buffer.from(`..${TEXT_UPDATED}`).toString('base64') })).toString('base64')),
  ];
  for (const sample of samples) expect(valuesIn(sample), sample.toString('latin1')).not.toEqual([]);
  expect(valuesIn(randomBytes(4096))).toEqual([]);
});

/** Writes every kind of value through the AWS protocol and reads each back (so each was stored, and is the value looked for). */
async function writeThroughAwsProtocol(gateway: ReadyGateway): Promise<void> {
  const sm = new SecretsManagerClient({
    endpoint: `http://127.0.0.1:${gateway.port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: ADMIN.accessKeyId, secretAccessKey: ADMIN.accessKeySecret },
    maxAttempts: 1,
  });
  try {
    await sm.send(new CreateSecretCommand({ Name: 'rest/text', SecretString: TEXT, ClientRequestToken: TOKENS.text1 }));
    await sm.send(new PutSecretValueCommand({ SecretId: 'rest/text', SecretString: TEXT_2, ClientRequestToken: TOKENS.text2 }));
    await sm.send(new UpdateSecretCommand({ SecretId: 'rest/text', SecretString: TEXT_UPDATED }));
    await sm.send(new CreateSecretCommand({ Name: 'rest/binary', SecretBinary: BYTES, ClientRequestToken: TOKENS.binary1 }));
    await sm.send(new PutSecretValueCommand({ SecretId: 'rest/binary', SecretBinary: BYTES_2, ClientRequestToken: TOKENS.binary2, VersionStages: ['STAGED'] }));
    await sm.send(new CreateSecretCommand({ Name: 'rest/keyed', SecretString: TEXT_KEYED, KmsKeyId: ALIAS }));
    await sm.send(new CreateSecretCommand({ Name: 'rest/deleted', SecretString: TEXT_DELETED }));
    await sm.send(new DeleteSecretCommand({ SecretId: 'rest/deleted', RecoveryWindowInDays: 7 }));

    const get = (SecretId: string, VersionId?: string) => sm.send(new GetSecretValueCommand({ SecretId, ...(VersionId ? { VersionId } : {}) }));
    expect((await get('rest/text')).SecretString).toBe(TEXT_UPDATED);
    expect((await get('rest/text', TOKENS.text1)).SecretString).toBe(TEXT);
    expect((await get('rest/text', TOKENS.text2)).SecretString).toBe(TEXT_2);
    expect(Buffer.from((await get('rest/binary')).SecretBinary!).equals(BYTES)).toBe(true);
    expect(Buffer.from((await get('rest/binary', TOKENS.binary2)).SecretBinary!).equals(BYTES_2)).toBe(true);
    const batch = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['rest/keyed', 'rest/text'] }));
    expect(batch.SecretValues?.map((v) => v.SecretString).sort()).toEqual([TEXT_KEYED, TEXT_UPDATED].sort());
  } finally {
    sm.destroy();
  }
}

/** Every file under `dir`. */
async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await allFiles(path)));
    else out.push(path);
  }
  return out;
}

let root: string;
beforeAll(async () => {
  root = await makeTempDir('kms-secrets-at-rest-');
});
afterAll(async () => {
  await killAllGateways();
  if (root) await removeDir(root);
});

describe('the file store', () => {
  it('no file of the data directory holds a secret value written through the AWS protocol, in any form; the value entries of all its versions were read', async () => {
    const dataDir = join(root, 'file');
    const gateway = await startGateway({ dataDir, seedFile: await writeSeedFile(root, TEST_SEED, 'file-seed.json') });
    await writeThroughAwsProtocol(gateway);
    expect(await gateway.stop('SIGTERM')).toBe(0);

    const files = await allFiles(dataDir);
    const found: string[] = [];
    for (const file of files) for (const value of valuesIn(await readFile(file))) found.push(`${file}: ${value}`);
    expect(found).toEqual([]);
    // The scan read the versions' value entries.
    expect(valueEntriesIn(files.join('\n'))).toBeGreaterThanOrEqual(VERSIONS_WRITTEN);
  });
});

/** pg_dump beside the newest server binaries (as test/helpers/postgres.ts picks them), else on PATH. */
async function pgDumpBinary(): Promise<string> {
  const versions = (await readdir('/usr/lib/postgresql').catch(() => [] as string[])).sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  return versions.length > 0 ? join('/usr/lib/postgresql', versions[0]!, 'bin', 'pg_dump') : 'pg_dump';
}

describe('the PostgreSQL store', () => {
  let postgres: TestPostgres;
  beforeAll(async () => {
    postgres = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await killAllGateways();
    await postgres?.stop();
  });

  it('a pg_dump of the database holds no secret value written through the AWS protocol, in any form; the value entries of all its versions are in it', async () => {
    const gateway = await startGateway({
      dataDir: join(root, 'pg'),
      seedFile: await writeSeedFile(root, TEST_SEED, 'pg-seed.json'),
      env: { KMS_KEY_STORE: 'postgres', KMS_POSTGRES_URL: postgres.url, KMS_POSTGRES_SCHEMA: 'secrets_at_rest' },
    });
    await writeThroughAwsProtocol(gateway);
    expect(await gateway.stop('SIGTERM')).toBe(0);

    const { stdout } = await execFileAsync(await pgDumpBinary(), ['--dbname', postgres.url, '--no-owner'], { encoding: 'buffer', maxBuffer: 64 << 20 });
    const dump = stdout as Buffer;
    expect(dump.toString('utf8')).toContain('COPY secrets_at_rest.');
    expect(valuesIn(dump)).toEqual([]);
    expect(valueEntriesIn(dump.toString('utf8'))).toBeGreaterThanOrEqual(VERSIONS_WRITTEN);
  });
});

describe('the DynamoDB store (dynalite)', () => {
  let dynalite: Dynalite;
  beforeAll(async () => {
    dynalite = await startDynalite();
  });
  afterAll(async () => {
    await killAllGateways();
    await dynalite?.stop();
  });

  it('a Scan of every table holds no secret value written through the AWS protocol, in any form; the value entries of all its versions are in it', async () => {
    const client = dynalite.client();
    await createStateTable(client, 'kms-secrets-at-rest', { timeToLive: false });
    // A table shared beyond one machine gets no root key made for it: a local one is given its file.
    const rootKeyFile = join(root, 'dynamodb-root.key');
    await writeFile(rootKeyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const gateway = await startGateway({
      dataDir: join(root, 'dynamodb'),
      seedFile: await writeSeedFile(root, TEST_SEED, 'dynamodb-seed.json'),
      env: {
        KMS_KEY_STORE: 'dynamodb',
        KMS_STATE_TABLE: 'kms-secrets-at-rest',
        KMS_ROOT_KEY_FILE: rootKeyFile,
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
        AWS_ACCESS_KEY_ID: 'x',
        AWS_SECRET_ACCESS_KEY: 'x',
      },
    });
    await writeThroughAwsProtocol(gateway);
    expect(await gateway.stop('SIGTERM')).toBe(0);

    const tables = (await client.send(new ListTablesCommand({}))).TableNames ?? [];
    expect(tables).toContain('kms-secrets-at-rest');
    const items: Array<Record<string, AttributeValue>> = [];
    for (const TableName of tables) {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(new ScanCommand({ TableName, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
    }
    expect(items.length).toBeGreaterThan(10);
    const found: string[] = [];
    for (const item of items) for (const value of valuesIn(itemBytes(item))) found.push(`${item.pk?.S} ${item.sk?.S}: ${value}`);
    expect(found).toEqual([]);
    expect(valueEntriesIn(items.map((item) => item.sk?.S ?? '').join('\n'))).toBeGreaterThanOrEqual(VERSIONS_WRITTEN);
  });
});
