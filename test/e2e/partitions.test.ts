import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKmsClient, InvalidRecordError, openPartitionKeys, provisionPartitions } from '@alibaba-kms-compatible/client';
import { type CliRun, runKms } from '../helpers/cli-process.js';
import { FileRegistry } from '../../packages/client/src/partitions/registry/file-registry.js';
import { killAllGateways, makeTempDir, type ReadyGateway, removeDir, REPO_ROOT, startGateway, writeSeedFile } from '../helpers/gateway-process.js';
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
          Statement: [
            { Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*', Condition: { StringLike: { 'kms:EncryptionContext:partition': ['orders-*'] } } },
          ],
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
    const lines: string[] = valid.map((partitionId, i) =>
      JSON.stringify(i % 7 === 0 ? { partitionId, encryptionContext: { tenant: `t${i % 3}` } } : { partitionId }),
    );
    for (let i = 0; i < 30; i++) lines.splice(10 + i * 31, 0, JSON.stringify({ partitionId: valid[i * 13]! }));
    const malformed = [
      'not json',
      '{"partitionId":"bad id"}',
      '{"partitionId":"orders-x","encryptionContext":{"partition":"orders-y"}}',
      '{"keyId":"alias/test"}',
      '[1,2]',
    ];
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
    const summary = await provisionPartitions(
      { ...options(PROVIDER), keyId: ALIAS, concurrency: 50 },
      Array.from({ length: 50 }, () => ({ partitionId: 'hot-partition' })),
    );
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
    await expect(
      provider.call('Decrypt', { CiphertextBlob: entry.ciphertextBlob, EncryptionContext: JSON.stringify(entry.encryptionContext) }),
    ).rejects.toMatchObject({
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
    expect((await kms(['decrypt-file', sealed, out, '--partition', 'orders-7', '--context', 'tenant=t1', '--force'], ORDERS_CONSUMER)).code).toBe(0);

    for (const args of [
      ['--partition', 'orders-8'],
      ['--context', 'tenant=t2'],
      ['--context', 'partition=billing-7'],
    ]) {
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

describe('kms partitions invoke: the event-triggered provisioner on the sample events of examples/events/', () => {
  const sample = (name: string) => join(REPO_ROOT, 'examples', 'events', name);
  let registries = 0;
  /** A registry of its own, so each run shows exactly what it created. */
  const freshRegistry = () => join(dir, `invoke-registry-${++registries}`);
  const invoke = (file: string, registryDir: string, ...more: string[]) =>
    runKms(['partitions', 'invoke', file, '--key', ALIAS, '--registry', `file:${registryDir}`, ...more], { endpoint: gateway.url, credentials: PROVIDER });

  it.each([
    ['sqs.json', 'aws', 'sqs', { batchItemFailures: [] }, { batchItemFailures: [] }, { 'orders-2026-01': {}, 'orders-2026-02': { tenant: 'acme' } }],
    ['eventbridge.json', 'aws', 'eventbridge', { created: 1, existing: 0 }, { created: 0, existing: 1 }, { 'orders-2026-03': { tenant: 'acme' } }],
    ['fc-eventbridge.json', 'fc', 'fc', { created: 1, existing: 0 }, { created: 0, existing: 1 }, { 'orders-2026-04': {} }],
    [
      'fc-invoke.json',
      'fc',
      'fc',
      { created: 2, existing: 0 },
      { created: 0, existing: 2 },
      { 'orders-2026-05': {}, 'orders-2026-06': { tenant: 'acme', region: 'cn-hangzhou' } },
    ],
  ] as const)(
    '%s: the %s handler (%s) gives every partition a data key a consumer can use; run again, it creates none',
    async (file, platform, trigger, first, second, partitions) => {
      const registryDir = freshRegistry();
      const run = await invoke(sample(file), registryDir);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({ platform, trigger, result: first });
      const registry = new FileRegistry(registryDir);
      expect(await registry.list()).toEqual(Object.keys(partitions).sort());
      const consumer = openPartitionKeys({ ...options(CONSUMER), registry: `file:${registryDir}` });
      for (const [partitionId, context] of Object.entries(partitions)) {
        expect(await registry.get(partitionId)).toMatchObject({ partitionId, keyId: KEY_ID, encryptionContext: { ...context, partition: partitionId } });
        const key = await consumer.dataKey(partitionId);
        expect(key.plaintext).toHaveLength(32);
        key.plaintext.fill(0);
      }
      consumer.close();
      const again = await invoke(sample(file), registryDir);
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout).result).toEqual(second);
    },
  );

  it('a malformed event file is a usage error naming it (exit 2): not JSON, empty, an SQS event without bodies, --platform aws on a plain event', async () => {
    const write = async (name: string, text: string) => {
      const path = join(dir, name);
      await writeFile(path, text);
      return path;
    };
    const registryDir = freshRegistry();
    for (const [path, message, more] of [
      [await write('not-json.json', '{"Records": ['), /^the event file .*not-json\.json is not JSON: /, []],
      [await write('empty.json', ''), /^the event file .*empty\.json is not JSON: /, []],
      [
        await write('no-body.json', JSON.stringify({ Records: [{ messageId: 'm-1' }] })),
        /^the event file .*no-body\.json is not an SQS event: Records\[0\] needs a string "messageId" and a string "body"\n$/,
        [],
      ],
      [await write('no-records.json', JSON.stringify({ Records: [] })), /is not an SQS event: "Records" must be a list of messages\n$/, []],
      [sample('fc-invoke.json'), /^--platform aws takes an SQS event/, ['--platform', 'aws']],
    ] as const) {
      const run = await invoke(path, registryDir, ...more);
      expect(run.code, `${path}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stdout).toBe('');
    }
    const missing = await invoke(join(dir, 'no-such-event.json'), registryDir);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^cannot read the event file .*no-such-event\.json: ENOENT\n$/);
    expect(await new FileRegistry(registryDir).list()).toEqual([]);
  });

  it('events the handler refuses: exit 1, saying which and why, as the platform would retry them; the good ones still get their keys', async () => {
    const registryDir = freshRegistry();
    const sqs = join(dir, 'sqs-mixed.json');
    await writeFile(
      sqs,
      JSON.stringify({
        Records: [
          { messageId: 'good', body: '{"partitionId":"mixed-1"}' },
          { messageId: 'bad', body: 'not json' },
          { messageId: 'bad-id', body: '{"partitionId":"bad id"}' },
        ],
      }),
    );
    const mixed = await invoke(sqs, registryDir);
    expect(mixed.code).toBe(1);
    expect(JSON.parse(mixed.stdout)).toEqual({
      platform: 'aws',
      trigger: 'sqs',
      result: { batchItemFailures: [{ itemIdentifier: 'bad' }, { itemIdentifier: 'bad-id' }] },
    });
    expect(mixed.stderr).toMatch(
      /^2 of 3 messages failed and would be received again, then dead-lettered: bad \(InvalidParameter: the event is not valid JSON\); bad-id \(InvalidParameter: partitionId .*\)\n$/,
    );

    const eventBridge = join(dir, 'eb-other.json');
    await writeFile(eventBridge, JSON.stringify({ 'detail-type': 'PartitionDeleted', source: 'kms.partitions', detail: { partitionId: 'mixed-2' } }));
    const other = await invoke(eventBridge, registryDir);
    expect(other.code).toBe(1);
    expect(other.stderr).toBe('InvalidParameter: detail-type must be PartitionCreated\n');

    const fc = join(dir, 'fc-mixed.json');
    await writeFile(fc, JSON.stringify([{ partitionId: 'mixed-3' }, { partitionId: '' }]));
    const failed = await invoke(fc, registryDir);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      /^the invocation failed \(Function Compute retries it\): 1 of 2 partition events failed: \[\{"index":1,.*"code":"InvalidParameter"/,
    );

    expect(await new FileRegistry(registryDir).list()).toEqual(['mixed-1', 'mixed-3']);
  });
});
