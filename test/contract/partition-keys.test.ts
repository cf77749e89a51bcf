import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  InvalidRecordError,
  type KmsApi,
  KmsApiError,
  openPartitionKeys,
  PARTITION_KEYS_DEFAULTS,
  PartitionMismatchError,
  PartitionNotFoundError,
  PROVISION_DEFAULTS,
  provisionPartitions,
  readRecordHeader,
} from '@alibaba-kms-compatible/client';
import { FileRegistry } from '../../packages/client/src/partitions/registry/file-registry.js';
import { ADMIN, ALIAS, CONSUMER, createTestService, KEY_ID, PROVIDER, type TestService } from '../helpers/service.js';
import { type Credentials, signedRpcRequest } from '../helpers/sign.js';

/**
 * The partition-key library against the real operations (in process): the provider provisions
 * with GenerateDataKeyWithoutPlaintext only, producers and consumers Decrypt only.
 */

/** A KmsApi that signs as `who` and calls the in-process service; counts calls per Action. */
function kmsAs(t: TestService, who: Credentials, calls: Map<string, number> = new Map()): KmsApi & { calls: Map<string, number> } {
  return {
    calls,
    async call(action, params = {}) {
      calls.set(action, (calls.get(action) ?? 0) + 1);
      const r = await t.call(signedRpcRequest(who, action, params));
      if (r.status >= 400) throw new KmsApiError(r.body.Code, r.body.Message, r.status, r.body.RequestId);
      return r.body;
    },
  };
}

const credentials = (c: Credentials) => ({ accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret });

describe('provisionPartitions', () => {
  let t: TestService;
  let registry: FileRegistry;
  beforeEach(async () => {
    t = await createTestService();
    registry = new FileRegistry(await mkdtemp(join(tmpdir(), 'kms-partitions-')));
  });
  const provision = (events: unknown[], options: { keyId?: string; concurrency?: number } = {}) =>
    provisionPartitions({ ...credentials(PROVIDER), registry, keyId: ALIAS, kms: kmsAs(t, PROVIDER), ...options }, events as never);

  it('when events name new, duplicate and malformed partitions, exactly the valid ones get one key each, and the summary says so', async () => {
    const summary = await provision([
      { partitionId: 'orders-1' },
      { partitionId: 'orders-2', encryptionContext: { tenant: 'acme' } },
      { partitionId: 'orders-1' },
      { partitionId: 'bad id with spaces' },
      { nothing: true },
      'not an object',
      { partitionId: 'orders-3', encryptionContext: { partition: 'orders-9' } },
      { partitionId: 'x'.repeat(129) },
      { partitionId: 'orders-4', encryptionContext: { n: 1 } },
    ]);
    expect(summary.created).toBe(2);
    expect(summary.existing).toBe(1);
    expect(summary.failed.map((f) => [f.index, f.code])).toEqual([
      [3, 'InvalidParameter'],
      [4, 'InvalidParameter'],
      [5, 'InvalidParameter'],
      [6, 'InvalidParameter'],
      [7, 'InvalidParameter'],
      [8, 'InvalidParameter'],
    ]);
    expect(summary.failed[0]).toMatchObject({ partitionId: 'bad id with spaces' });
    expect(summary.failed[3]!.message).toContain('orders-9');
    expect(await registry.list()).toEqual(['orders-1', 'orders-2']);
    const entry = (await registry.get('orders-2'))!;
    expect({ ...entry.encryptionContext }).toEqual({ tenant: 'acme', partition: 'orders-2' });
    expect(entry.keyId).toBe(KEY_ID);
    expect(JSON.stringify(entry)).not.toMatch(/plaintext/i);
  });

  it('when an event and the options name no CMK, it fails that event only', async () => {
    const summary = await provision([{ partitionId: 'p1' }, { partitionId: 'p2', keyId: KEY_ID }], { keyId: undefined });
    expect(summary).toMatchObject({ created: 1, existing: 0, failed: [{ index: 0, partitionId: 'p1', code: 'InvalidParameter' }] });
  });

  it('when 50 duplicates of one partition arrive at once, one data key exists and it is the one every consumer gets', async () => {
    const summary = await provision(
      Array.from({ length: 50 }, () => ({ partitionId: 'hot' })),
      { concurrency: 50 },
    );
    expect(summary.created).toBe(1);
    expect(summary.existing).toBe(49);
    expect(summary.failed).toEqual([]);
    const keys = openPartitionKeys({ ...credentials(CONSUMER), registry, kms: kmsAs(t, CONSUMER) });
    const record = await keys.encryptRecord('hot', 'x');
    expect((await keys.decryptRecord(record)).toString()).toBe('x');
    keys.close();
  });

  it('when the KMS refuses (a CMK the provider may not use, a key that does not exist), the event fails with the API Code', async () => {
    const summary = await provision([
      { partitionId: 'p1', keyId: 'alias/no-such' },
      { partitionId: 'p2', keyId: '99999999-2222-4333-8444-555555555555' },
    ]);
    expect(summary.failed.map((f) => f.code)).toEqual(['Forbidden.AliasNotFound', 'Forbidden.KeyNotFound']);
  });

  it('when the events are an async iterable, they are provisioned as they come', async () => {
    async function* events() {
      for (let i = 0; i < 20; i++) yield { partitionId: `stream-${i}` };
    }
    const summary = await provisionPartitions({ ...credentials(PROVIDER), registry, keyId: KEY_ID, kms: kmsAs(t, PROVIDER) }, events());
    expect(summary).toEqual({ created: 20, existing: 0, failed: [] });
  });

  it('uses GenerateDataKeyWithoutPlaintext only, and a redelivered event costs no KMS call', async () => {
    const kms = kmsAs(t, PROVIDER);
    await provisionPartitions({ ...credentials(PROVIDER), registry, keyId: KEY_ID, kms }, [{ partitionId: 'once' }]);
    await provisionPartitions({ ...credentials(PROVIDER), registry, keyId: KEY_ID, kms }, [{ partitionId: 'once' }]);
    expect([...kms.calls]).toEqual([['GenerateDataKeyWithoutPlaintext', 1]]);
  });

  it('has its defaults declared once', () => {
    expect(PROVISION_DEFAULTS).toEqual({ concurrency: 8, maxConcurrency: 64 });
    expect(PARTITION_KEYS_DEFAULTS).toEqual({ cacheTtlMs: 300_000, maxUses: 1_000_000 });
  });
});

describe('openPartitionKeys', () => {
  let t: TestService;
  let registry: FileRegistry;
  beforeEach(async () => {
    t = await createTestService();
    registry = new FileRegistry(await mkdtemp(join(tmpdir(), 'kms-partitions-')));
    await provisionPartitions({ ...credentials(PROVIDER), registry, keyId: KEY_ID, kms: kmsAs(t, PROVIDER) }, [
      { partitionId: 'orders-1' },
      { partitionId: 'orders-2', encryptionContext: { tenant: 'acme' } },
    ]);
  });

  it('when a producer encrypts and a consumer decrypts, records round-trip, with and without aad, and the header names the partition', async () => {
    const producer = openPartitionKeys({ ...credentials(CONSUMER), registry, kms: kmsAs(t, CONSUMER) });
    const consumer = openPartitionKeys({ ...credentials(CONSUMER), registry, kms: kmsAs(t, CONSUMER) });
    const aad = Buffer.from('row 17');
    const record = await producer.encryptRecord('orders-2', 'secret order', aad);
    expect(readRecordHeader(record).partitionId).toBe('orders-2');
    expect(record.includes(Buffer.from('secret order'))).toBe(false);
    expect((await consumer.decryptRecord(record, aad)).toString()).toBe('secret order');
    const binary = Buffer.from([0, 1, 2, 255]);
    expect(await consumer.decryptRecord(await producer.encryptRecord('orders-1', binary))).toEqual(binary);
    producer.close();
    consumer.close();
  });

  it('when a record is changed in any way — another partition named in its header, a flipped byte, another aad, truncated — it is refused', async () => {
    const keys = openPartitionKeys({ ...credentials(CONSUMER), registry, kms: kmsAs(t, CONSUMER) });
    const record = await keys.encryptRecord('orders-1', 'payload', Buffer.from('a'));
    const moved = Buffer.from(record);
    moved.write('orders-2', 5, 'ascii');
    await expect(keys.decryptRecord(moved, Buffer.from('a'))).rejects.toBeInstanceOf(InvalidRecordError);
    for (const at of [0, 3, 4, 14, 30, record.length - 1]) {
      const flipped = Buffer.from(record);
      flipped[at] = flipped[at]! ^ 1;
      // A changed length byte may name a partition that does not exist: refused either way.
      await expect(keys.decryptRecord(flipped, Buffer.from('a'))).rejects.toMatchObject({ code: expect.stringMatching(/^(InvalidRecord|PartitionNotFound)$/) });
    }
    await expect(keys.decryptRecord(record, Buffer.from('b'))).rejects.toBeInstanceOf(InvalidRecordError);
    await expect(keys.decryptRecord(record)).rejects.toBeInstanceOf(InvalidRecordError);
    await expect(keys.decryptRecord(record.subarray(0, 30), Buffer.from('a'))).rejects.toBeInstanceOf(InvalidRecordError);
    await expect(keys.decryptRecord(record, Buffer.from('a'), { partitionId: 'orders-2' })).rejects.toBeInstanceOf(PartitionMismatchError);
    expect((await keys.decryptRecord(record, Buffer.from('a'), { partitionId: 'orders-1' })).toString()).toBe('payload');
    keys.close();
  });

  it('when a partition was never provisioned, it answers PartitionNotFound; a credential that may not Decrypt gets the API Code', async () => {
    const keys = openPartitionKeys({ ...credentials(CONSUMER), registry, kms: kmsAs(t, CONSUMER) });
    await expect(keys.encryptRecord('never', 'x')).rejects.toBeInstanceOf(PartitionNotFoundError);
    const provider = openPartitionKeys({ ...credentials(PROVIDER), registry, kms: kmsAs(t, PROVIDER) });
    await expect(provider.encryptRecord('orders-1', 'x')).rejects.toMatchObject({ code: 'Forbidden.NoPermission' });
    keys.close();
    provider.close();
  });

  it('when a key is used, it is decrypted once and cached; after maxUses it is decrypted afresh', async () => {
    const kms = kmsAs(t, CONSUMER);
    const keys = openPartitionKeys({ ...credentials(CONSUMER), registry, kms, maxUses: 3 });
    await Promise.all(Array.from({ length: 3 }, () => keys.encryptRecord('orders-1', 'x')));
    expect(kms.calls.get('Decrypt')).toBe(1);
    await keys.encryptRecord('orders-1', 'x');
    expect(kms.calls.get('Decrypt')).toBe(2);
    keys.close();
  });

  it('when the TTL passes, the key is decrypted afresh', async () => {
    const kms = kmsAs(t, CONSUMER);
    const keys = openPartitionKeys({ ...credentials(CONSUMER), registry, kms, cacheTtlMs: 30 });
    await keys.encryptRecord('orders-1', 'x');
    await new Promise((r) => setTimeout(r, 60));
    await keys.encryptRecord('orders-1', 'x');
    expect(kms.calls.get('Decrypt')).toBe(2);
    keys.close();
  });

  it('when dataKey is asked, the caller gets its own copy (zeroing it harms nothing); after close nothing works', async () => {
    const keys = openPartitionKeys({ ...credentials(CONSUMER), registry, kms: kmsAs(t, CONSUMER) });
    const first = await keys.dataKey('orders-1');
    expect(first).toMatchObject({ partitionId: 'orders-1', keyId: KEY_ID });
    expect(first.plaintext).toHaveLength(32);
    const copy = Buffer.from(first.plaintext);
    first.plaintext.fill(0);
    expect((await keys.dataKey('orders-1')).plaintext).toEqual(copy);
    const record = await keys.encryptRecord('orders-1', 'still fine');
    expect((await keys.decryptRecord(record)).toString()).toBe('still fine');
    keys.close();
    await expect(keys.encryptRecord('orders-1', 'x')).rejects.toMatchObject({ code: 'InvalidParameter' });
  });

  it('when the CMK is rotated, records and keys made before still decrypt', async () => {
    const keys = openPartitionKeys({ ...credentials(CONSUMER), registry, kms: kmsAs(t, CONSUMER) });
    const record = await keys.encryptRecord('orders-1', 'before rotation');
    keys.close();
    expect((await t.call(signedRpcRequest(ADMIN, 'CreateKeyVersion', { KeyId: KEY_ID }))).status).toBe(200);
    const after = openPartitionKeys({ ...credentials(CONSUMER), registry, kms: kmsAs(t, CONSUMER) });
    expect((await after.decryptRecord(record)).toString()).toBe('before rotation');
    after.close();
  });
});
