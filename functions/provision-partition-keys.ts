import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, EventBridgeEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Provisioner } from '../lib/partitions/provision.js';
import { failureOf, partitionIdOf } from '../lib/partitions/provision.js';
import { provisionerFromEnvironment } from '../lib/partitions/provisioner-from-env.js';
import { partitionEventsOf } from '../lib/partitions/trigger-events.js';

/*
 * Event-triggered (not an RPC Action): the key provider. Each event names a partition that needs a
 * data key; see lib/partitions/provision.ts. Configured by KMS_ENDPOINT,
 * KMS_PROVISIONER_ACCESS_KEY_ID, KMS_PROVISIONER_ACCESS_KEY_SECRET, KMS_PARTITION_REGISTRY and
 * KMS_PARTITION_KEY_ID.
 */

let provisioner: Promise<Provisioner> | undefined;
const provisionerOnce = () =>
  (provisioner ??= provisionerFromEnvironment().catch((err: unknown) => {
    provisioner = undefined;
    throw err;
  }));

const processor = new BatchProcessor(EventType.SQS);

async function provisionAll(delivered: unknown): Promise<{ created: number; existing: number }> {
  const p = await provisionerOnce();
  const outcome = { created: 0, existing: 0 };
  for (const event of partitionEventsOf(delivered)) outcome[await p.provision(event)] += 1;
  return outcome;
}

async function provisionRecord(record: SQSRecord): Promise<void> {
  await provisionAll(record.body);
}

/**
 * AWS Lambda: an SQS batch (each message one event; the ones that fail are reported as
 * `batchItemFailures`, so only they are retried and, after the queue's limit, dead-lettered), or
 * an EventBridge `PartitionCreated` event (a failure throws, and EventBridge retries).
 */
export async function handler(event: SQSEvent | EventBridgeEvent<string, unknown>, context: Context): Promise<SQSBatchResponse | { created: number; existing: number }> {
  // A batch where every record failed is reported like any other, not thrown (the same retries follow).
  if ('Records' in event) return processPartialResponse(event, provisionRecord, processor, { context, throwOnFullBatchFailure: false });
  return provisionAll(event);
}

/**
 * Alibaba Function Compute event trigger (the event arrives as a buffer: one event, an array, or
 * an EventBridge/CloudEvents envelope). Answers the summary; any failure fails the invocation (FC
 * retries it; provisioning is idempotent) with every failed event named.
 */
export async function fcHandler(event: Buffer | string, _context?: unknown): Promise<{ created: number; existing: number }> {
  const p = await provisionerOnce();
  const summary = { created: 0, existing: 0 };
  const failed: ReturnType<typeof failureOf>[] = [];
  const events = partitionEventsOf(event);
  for (const [index, item] of events.entries()) {
    try {
      summary[await p.provision(item)] += 1;
    } catch (err) {
      failed.push(failureOf(err, index, partitionIdOf(item)));
    }
  }
  if (failed.length > 0) throw new Error(`${failed.length} of ${events.length} partition events failed: ${JSON.stringify(failed)}`);
  return summary;
}
