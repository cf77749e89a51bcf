import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startGateway, type Gateway } from '../../infra/gateway/server.js';
import { FileRegistry } from '../../packages/client/src/partitions/registry/file-registry.js';
import { partitionEventsOf } from '../../lib/provisioner/trigger-events.js';
import { createTestService, KEY_ID, PROVIDER } from '../helpers/service.js';
import { sqsBatch } from '../helpers/sqs.js';

/**
 * The event-triggered provisioner (functions/provision-partition-keys.ts) as Lambda and Function
 * Compute invoke it, configured only by its environment, against a real gateway.
 */

let gateway: Gateway;
let registryDir: string;
let fn: typeof import('../../functions/provision-partition-keys.js');

beforeAll(async () => {
  const t = await createTestService();
  gateway = await startGateway({ service: t.service, host: '127.0.0.1', port: 0 });
  registryDir = await mkdtemp(join(tmpdir(), 'kms-trigger-'));
  Object.assign(process.env, {
    KMS_ENDPOINT: gateway.url,
    KMS_PROVISIONER_ACCESS_KEY_ID: PROVIDER.accessKeyId,
    KMS_PROVISIONER_ACCESS_KEY_SECRET: PROVIDER.accessKeySecret,
    KMS_PARTITION_REGISTRY: `file:${registryDir}`,
    KMS_PARTITION_KEY_ID: KEY_ID,
  });
  fn = await import('../../functions/provision-partition-keys.js');
});

afterAll(async () => {
  for (const name of ['KMS_ENDPOINT', 'KMS_PROVISIONER_ACCESS_KEY_ID', 'KMS_PROVISIONER_ACCESS_KEY_SECRET', 'KMS_PARTITION_REGISTRY', 'KMS_PARTITION_KEY_ID'])
    delete process.env[name];
  await gateway.close();
});

const context = { functionName: 'provisionPartitionKeys', awsRequestId: 'req-1' } as Context;

describe('Function: provision-partition-keys', () => {
  it('when an SQS batch mixes good, duplicate and bad messages, only the bad ones are reported as batchItemFailures', async () => {
    const result = await fn.handler(
      sqsBatch([
        JSON.stringify({ partitionId: 'sqs-1' }),
        'not json',
        JSON.stringify({ partitionId: 'sqs-2', encryptionContext: { tenant: 'acme' } }),
        JSON.stringify({ partitionId: 'bad id' }),
        JSON.stringify({ partitionId: 'sqs-1' }),
        JSON.stringify({ 'detail-type': 'PartitionCreated', detail: { partitionId: 'sqs-3' } }),
        JSON.stringify({ partitionId: 'sqs-4', keyId: 'alias/no-such' }),
      ]),
      context,
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-3' }, { itemIdentifier: 'm-6' }] });
    expect(await new FileRegistry(registryDir).list()).toEqual(expect.arrayContaining(['sqs-1', 'sqs-2', 'sqs-3']));
    expect(await new FileRegistry(registryDir).get('sqs-4')).toBeUndefined();
  });

  it('when an SQS message fails, a warning names the message and why (the batch response names only the message)', async () => {
    let out = '';
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += chunk.toString();
      return true;
    });
    try {
      await fn.handler(sqsBatch([JSON.stringify({ partitionId: 'logged-1' }), 'not json']), context);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      write.mockRestore();
    }
    const lines = out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: 'partition event failed',
        messageId: 'm-1',
        code: 'InvalidParameter',
        reason: 'the event is not valid JSON',
      }),
    ]);
  });

  it('when EventBridge delivers PartitionCreated, the partition gets its key; another detail-type is refused', async () => {
    await expect(fn.handler({ 'detail-type': 'PartitionCreated', detail: { partitionId: 'eb-1' } } as never, context)).resolves.toEqual({
      created: 1,
      existing: 0,
    });
    await expect(fn.handler({ 'detail-type': 'PartitionCreated', detail: { partitionId: 'eb-1' } } as never, context)).resolves.toEqual({
      created: 0,
      existing: 1,
    });
    await expect(fn.handler({ 'detail-type': 'SomethingElse', detail: { partitionId: 'eb-2' } } as never, context)).rejects.toMatchObject({
      code: 'InvalidParameter',
    });
  });

  it('when Function Compute delivers a buffer (one event, a list, a CloudEvent, an MNS message), it provisions each and fails the invocation naming the bad ones', async () => {
    await expect(fn.fcHandler(Buffer.from(JSON.stringify({ partitionId: 'fc-1' })))).resolves.toEqual({ created: 1, existing: 0 });
    await expect(fn.fcHandler(Buffer.from(JSON.stringify([{ partitionId: 'fc-2' }, { partitionId: 'fc-1' }])))).resolves.toEqual({ created: 1, existing: 1 });
    await expect(fn.fcHandler(JSON.stringify({ specversion: '1.0', type: 'PartitionCreated', data: { partitionId: 'fc-3' } }))).resolves.toEqual({
      created: 1,
      existing: 0,
    });
    // From the MNS queue of the deployment's EventBridge trigger (infra/fc/triggers.ts): the message text in data.messageBody.
    await expect(fn.fcHandler(Buffer.from(JSON.stringify(mnsMessage('{"partitionId":"fc-5"}'))))).resolves.toEqual({ created: 1, existing: 0 });
    await expect(fn.fcHandler(Buffer.from(JSON.stringify([{ partitionId: 'fc-4' }, { partitionId: '' }])))).rejects.toThrow(
      /1 of 2 partition events failed.*"index":1/,
    );
    expect(await new FileRegistry(registryDir).get('fc-4')).toBeDefined();
  });
});

/** A message of an MNS queue as Function Compute's MNS trigger delivers it (event-driven mode). */
function mnsMessage(messageBody: string) {
  return {
    id: 'c2g71017-6f65-fhcf-a814-a396fc8d0001',
    source: 'MNS-kms-dev-provisionPartitionKeys-partition-events',
    specversion: '1.0',
    type: 'mns:Queue:SendMessage',
    datacontenttype: 'application/json; charset=utf-8',
    subject: 'acs:mns:cn-hangzhou:1234567890123456:queues/kms-dev-partitions',
    time: '2026-01-01T00:00:00.000Z',
    data: { requestId: '606EA3074344430D4C810001', messageId: 'C6DB60D1574661357FA2272774450001', messageBody },
  };
}

describe('Function: partitionEventsOf', () => {
  it.each([
    ['a plain event', { partitionId: 'a' }, [{ partitionId: 'a' }]],
    ['a list', [{ partitionId: 'a' }, { partitionId: 'b' }], [{ partitionId: 'a' }, { partitionId: 'b' }]],
    ['an EventBridge event', { 'detail-type': 'PartitionCreated', detail: { partitionId: 'a' } }, [{ partitionId: 'a' }]],
    ['a CloudEvent with JSON text data', { specversion: '1.0', type: 'PartitionCreated', data: '{"partitionId":"a"}' }, [{ partitionId: 'a' }]],
    ['an MNS queue message holding an event', mnsMessage('{"partitionId":"a"}'), [{ partitionId: 'a' }]],
    ['an MNS queue message holding a list', mnsMessage('[{"partitionId":"a"},{"partitionId":"b"}]'), [{ partitionId: 'a' }, { partitionId: 'b' }]],
    [
      'an MNS queue message holding a PartitionCreated CloudEvent',
      mnsMessage(JSON.stringify({ specversion: '1.0', type: 'PartitionCreated', data: { partitionId: 'a' } })),
      [{ partitionId: 'a' }],
    ],
  ])('reads %s', (_name, delivered, expected) => {
    expect(partitionEventsOf(delivered)).toEqual(expected);
    expect(partitionEventsOf(JSON.stringify(delivered))).toEqual(expected);
  });

  it.each([
    '',
    'null',
    '42',
    '"text"',
    '{"detail-type":"Other"}',
    JSON.stringify(mnsMessage('not json')),
    JSON.stringify({ ...mnsMessage(''), data: { messageId: 'm-1' } }),
  ])('refuses %j with InvalidParameter', (text) => {
    expect(() => partitionEventsOf(text)).toThrow(expect.objectContaining({ code: 'InvalidParameter' }));
  });
});
