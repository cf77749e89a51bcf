import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKmsClient, InvalidRecordError, openPartitionKeys, provisionPartitions } from '../../lib/index.js';
import { type CliRun, runKms } from '../helpers/cli-process.js';
import { killAllGateways, makeTempDir, type ReadyGateway, removeDir, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
import { ADMIN, ALIAS, CONSUMER, KEY_ID, PROVIDER, TEST_SEED } from '../helpers/service.js';
import type { Credentials } from '../helpers/sign.js';

/*
 * Partition data keys end to end, on the local gateway (`npm start`) with the `kms` command and the
 * library: the provider provisions with GenerateDataKeyWithoutPlaintext only, producers and
 * consumers Decrypt only, a consumer limited by a policy condition to its partitions.
 */

/** May Decrypt only the data keys of partitions named orders-*. */
const ORDERS_CONSUMER: Credentials = { accessKeyId: 'testOrdersOnly1', accessKeySecret: 'orders-only-secret-0123456789' };

let dir: string;
let registryDir: string;
let registry: string;
let gateway: ReadyGateway;

beforeAll(async () => {
  dir = await makeTempDir('kms-partitions-e2e-');
  registryDir = join(dir, 'registry');
  registry = `file:${registryDir}`;
  const seed = {
    ...TEST_SEED,
    accessKeys: [
      ...TEST_SEED.accessKeys!,
      {
        ...ORDERS_CONSUMER,
        policy: {
          Version: '1',
          Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*', Condition: { StringLike: { 'kms:EncryptionContext:partition': ['orders-*'] } } }],
        },
      },
    ],
  };
  gateway = await startGateway({ dataDir: join(dir, 'data'), seedFile: await writeSeedFile(dir, seed) });
}, 60_000);

afterAll(async () => {
  await killAllGateways();
  await removeDir(dir);
});

const kms = (args: string[], who: Credentials, stdin?: Buffer): Promise<CliRun> =>
  runKms(args, { endpoint: gateway.url, credentials: who, env: { KMS_PARTITION_REGISTRY: registry }, ...(stdin ? { stdin } : {}) });
const options = (who: Credentials) => ({ endpoint: gateway.url, accessKeyId: who.accessKeyId, accessKeySecret: who.accessKeySecret, registry });

describe('provisioning 1,000 events from a file with the kms command', () => {
  const valid = [...Array.from({ length: 475 }, (_, i) => `orders-${i}`), ...Array.from({ length: 475 }, (_, i) => `billing-${i}`)];

  it('creates exactly the valid partitions, counts duplicates as existing, and reports every malformed line; a second run creates nothing', async () => {
    const lines: string[] = valid.map((partitionId, i) => JSON.stringify(i % 7 === 0 ? { partitionId, encryptionContext: { tenant: `t${i % 3}` } } : { partitionId }));
    for (let i = 0; i < 30; i++) lines.splice(10 + i * 31, 0, JSON.stringify({ partitionId: valid[i * 13]! }));
    const malformed = ['not json', '{"partitionId":"bad id"}', '{"partitionId":"orders-x","encryptionContext":{"partition":"orders-y"}}', '{"keyId":"alias/test"}', '[1,2]'];
    for (let i = 0; i < 20; i++) lines.splice(5 + i * 47, 0, malformed[i % malformed.length]!);
    expect(lines).toHaveLength(1_000);
    const file = join(dir, 'events.jsonl');
    await writeFile(file, `${lines.join('\n')}\n`);

    const first = await kms(['partitions', 'provision', '--file', file, '--key', ALIAS, '--concurrency', '16'], PROVIDER);
    expect(first.code, first.stderr).toBe(1);
    const summary = JSON.parse(first.stdout);
    expect(summary.created).toBe(950);
    expect(summary.existing).toBe(30);
    expect(summary.failed).toHaveLength(20);
    const failedLines = summary.failed.map((f: { index: number }) => lines[f.index]);
    expect(failedLines.every((line: string) => malformed.includes(line))).toBe(true);
    for (const f of summary.failed) expect(f.code).toBe('InvalidParameter');

    const list = await kms(['partitions', 'list'], PROVIDER);
    expect(JSON.parse(list.stdout)).toEqual([...valid].sort());

    const again = JSON.parse((await kms(['partitions', 'provision', '--file', file, '--key', ALIAS], PROVIDER)).stdout);
    expect(again).toMatchObject({ created: 0, existing: 980 });
    expect(again.failed).toHaveLength(20);

    const entry = JSON.parse((await kms(['partitions', 'get', 'orders-7'], PROVIDER)).stdout);
    expect(entry).toMatchObject({ partitionId: 'orders-7', keyId: KEY_ID, encryptionContext: { partition: 'orders-7', tenant: 't1' } });
    expect(Object.keys(entry).sort()).toEqual(['ciphertextBlob', 'createdAt', 'encryptionContext', 'keyId', 'keyVersionId', 'partitionId']);
    const missing = await kms(['partitions', 'get', 'never'], PROVIDER);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^PartitionNotFound: /);
  }, 120_000);

  it('reads CSV too (a partitionId column, an optional keyId, other columns as context)', async () => {
    const file = join(dir, 'events.csv');
    // With the byte-order mark a spreadsheet's "CSV UTF-8" starts with.
    await writeFile(file, '\uFEFFpartitionId,keyId,tenant\ncsv-1,,acme\n"csv-2",alias/test,"a,b"\nbad id,,\n');
    const run = await kms(['partitions', 'provision', '--file', file, '--key', KEY_ID], PROVIDER);
    expect(JSON.parse(run.stdout)).toMatchObject({ created: 2, existing: 0, failed: [{ index: 2, code: 'InvalidParameter' }] });
    expect(JSON.parse((await kms(['partitions', 'get', 'csv-2'], PROVIDER)).stdout).encryptionContext).toEqual({ partition: 'csv-2', tenant: 'a,b' });
  });
});

describe('the library against the gateway', () => {
  it('when 50 duplicates of one partition arrive at once, one data key exists', async () => {
    const summary = await provisionPartitions({ ...options(PROVIDER), keyId: ALIAS, concurrency: 50 }, Array.from({ length: 50 }, () => ({ partitionId: 'hot-partition' })));
    expect(summary).toEqual({ created: 1, existing: 49, failed: [] });
  });

  it('a producer encrypts records for every partition and a consumer decrypts them all; a record moved to another partition fails', async () => {
    const ids = JSON.parse((await kms(['partitions', 'list'], CONSUMER)).stdout) as string[];
    expect(ids.length).toBeGreaterThanOrEqual(950);
    const producer = openPartitionKeys(options(CONSUMER));
    const consumer = openPartitionKeys(options(CONSUMER));
    const records = new Map<string, Buffer>();
    for (const id of ids) records.set(id, await producer.encryptRecord(id, `record of ${id}`, Buffer.from(id)));
    for (const [id, record] of records) expect((await consumer.decryptRecord(record, Buffer.from(id))).toString()).toBe(`record of ${id}`);
    const moved = Buffer.from(records.get('orders-1')!);
    moved.write('orders-2', 5, 'ascii');
    await expect(consumer.decryptRecord(moved, Buffer.from('orders-1'))).rejects.toBeInstanceOf(InvalidRecordError);
    producer.close();
    consumer.close();
  }, 120_000);

  it("the provider's credential may not GenerateDataKey nor Decrypt a partition key", async () => {
    const provider = createKmsClient(options(PROVIDER));
    await expect(provider.call('GenerateDataKey', { KeyId: KEY_ID })).rejects.toMatchObject({ code: 'Forbidden.NoPermission' });
    const entry = JSON.parse(await readFile(join(registryDir, 'orders-1.json'), 'utf8'));
    await expect(provider.call('Decrypt', { CiphertextBlob: entry.ciphertextBlob, EncryptionContext: JSON.stringify(entry.encryptionContext) })).rejects.toMatchObject({
      code: 'Forbidden.NoPermission',
    });
    const keys = openPartitionKeys(options(PROVIDER));
    await expect(keys.encryptRecord('orders-1', 'x')).rejects.toMatchObject({ code: 'Forbidden.NoPermission' });
    keys.close();
  });

  it('a consumer whose policy allows only orders-* partitions decrypts an orders record but not a billing one', async () => {
    const producer = openPartitionKeys(options(CONSUMER));
    const orders = await producer.encryptRecord('orders-3', 'orders data');
    const billing = await producer.encryptRecord('billing-3', 'billing data');
    producer.close();
    const limited = openPartitionKeys(options(ORDERS_CONSUMER));
    expect((await limited.decryptRecord(orders)).toString()).toBe('orders data');
    await expect(limited.decryptRecord(billing)).rejects.toMatchObject({ code: 'Forbidden.NoPermission' });
    limited.close();
  });
});

describe('files under a partition key with the kms command', () => {
  it('a Decrypt-only producer writes a file with --partition; decrypt-file finds the partition in the header, and --context / --partition require what the file must hold', async () => {
    const plain = join(dir, 'report.bin');
    const sealed = join(dir, 'report.kms');
    const content = randomBytes(200_000);
    await writeFile(plain, content);
    const enc = await kms(['encrypt-file', plain, sealed, '--partition', 'orders-7'], CONSUMER);
    expect(enc.code, enc.stderr).toBe(0);

    const out = join(dir, 'report.out');
    expect((await kms(['decrypt-file', sealed, out], CONSUMER)).code).toBe(0);
    expect(await readFile(out)).toEqual(content);
    expect((await kms(['decrypt-file', sealed, out, '--partition', 'orders-7', '--context', 'tenant=t1'], ORDERS_CONSUMER)).code).toBe(0);

    for (const args of [['--partition', 'orders-8'], ['--context', 'tenant=t2'], ['--context', 'partition=billing-7']]) {
      const refused = await kms(['decrypt-file', sealed, join(dir, 'never.out'), ...args], CONSUMER);
      expect(refused.code, args.join(' ')).toBe(4);
      expect(refused.stderr).toMatch(/does not hold/);
    }
    const billing = join(dir, 'billing.kms');
    expect((await kms(['encrypt-file', plain, billing, '--partition', 'billing-7'], CONSUMER)).code).toBe(0);
    const denied = await kms(['decrypt-file', billing, join(dir, 'never.out')], ORDERS_CONSUMER);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^Forbidden\.NoPermission: /);

    expect((await kms(['encrypt-file', plain, sealed, '--partition', 'orders-7', '--key', ALIAS], CONSUMER)).code).toBe(2);

    // Anyone may write partition=orders-7 into a context; only the provider's key is orders-7's.
    const forged = join(dir, 'forged.kms');
    expect((await kms(['encrypt-file', plain, forged, '--key', ALIAS, '--context', 'partition=orders-7'], ADMIN)).code).toBe(0);
    const refused = await kms(['decrypt-file', forged, join(dir, 'never.out'), '--partition', 'orders-7'], CONSUMER);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/not partition orders-7's/);
  });
});
