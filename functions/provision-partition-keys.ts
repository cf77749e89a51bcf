import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, EventBridgeEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createLogger, isLogLevel } from '../lib/logger.js';
import { failureOf, partitionIdOf, type Provisioner } from '@alibaba-kms-compatible/client';
import { provisionerFromEnvironment } from '../lib/provisioner/from-environment.js';
import { isAuthenticationFailure } from '../lib/provisioner/secret-credentials.js';
import { partitionEventsOf } from '../lib/provisioner/trigger-events.js';

/*
 * Event-triggered (not an RPC Action): the key provider. Each event names a partition that needs a
 * data key; see provision.ts in the client package. Configured by KMS_ENDPOINT, its access key
 * (KMS_PROVISIONER_SECRET — a managed secret read at run time: on AWS the stage's Secrets Manager
 * secret, on Function Compute an Alibaba Cloud KMS secret (alibaba-kms-secret:<name>) — or else
 * KMS_PROVISIONER_ACCESS_KEY_ID and KMS_PROVISIONER_ACCESS_KEY_SECRET), KMS_PARTITION_REGISTRY and
 * KMS_PARTITION_KEY_ID. `kms partitions invoke` runs these same handlers on an event file.
 */

/** What the handlers are built from: the deployed ones use the environment; `kms partitions invoke` its own options. */
export interface ProvisionHandlerOptions {
  /** Builds the provisioner, once, on the first event (a failure is retried on the next). */
  provisioner: () => Promise<Provisioner>;
  /** Told why an SQS message failed: the batch response names only the message. */
  onMessageFailure?: (messageId: string, err: unknown) => void;
}

/** The trigger handlers over one provisioner: `handler` for AWS Lambda, `fcHandler` for Function Compute. */
export function provisionHandlers(options: ProvisionHandlerOptions) {
  let provisioner: Promise<Provisioner> | undefined;
  const provisionerOnce = () =>
    (provisioner ??= options.provisioner().catch((err: unknown) => {
      provisioner = undefined;
      throw err;
    }));
  const processor = new BatchProcessor(EventType.SQS);

  /**
   * One event. When the KMS refuses the access key (rotated, or deleted), the provisioner is built
   * again — reading its credentials again — and the event tried once more with it; concurrent
   * refusals share that one rebuild.
   */
  async function provisionOne(event: unknown): Promise<'created' | 'existing'> {
    const current = provisionerOnce();
    try {
      return await (await current).provision(event);
    } catch (err) {
      if (!isAuthenticationFailure(err)) throw err;
      if (provisioner === current) provisioner = undefined;
      return (await provisionerOnce()).provision(event);
    }
  }

  async function provisionAll(delivered: unknown): Promise<{ created: number; existing: number }> {
    await provisionerOnce();
    const outcome = { created: 0, existing: 0 };
    for (const event of partitionEventsOf(delivered)) outcome[await provisionOne(event)] += 1;
    return outcome;
  }

  async function provisionRecord(record: SQSRecord): Promise<void> {
    try {
      await provisionAll(record.body);
    } catch (err) {
      options.onMessageFailure?.(record.messageId, err);
      throw err;
    }
  }

  return {
    /**
     * AWS Lambda: an SQS batch (each message one event; the ones that fail are reported as
     * `batchItemFailures`, so only they are retried and, after the queue's limit, dead-lettered), or
     * an EventBridge `PartitionCreated` event (a failure throws, and EventBridge retries).
     */
    async handler(event: SQSEvent | EventBridgeEvent<string, unknown>, context: Context): Promise<SQSBatchResponse | { created: number; existing: number }> {
      // A batch where every record failed is reported like any other, not thrown (the same retries follow).
      if ('Records' in event) return processPartialResponse(event, provisionRecord, processor, { context, throwOnFullBatchFailure: false });
      return provisionAll(event);
    },

    /**
     * Alibaba Function Compute event trigger (the event arrives as a buffer: one event, an array, or
     * an EventBridge/CloudEvents envelope). Answers the summary; any failure fails the invocation (FC
     * retries it; provisioning is idempotent) with every failed event named.
     */
    async fcHandler(event: Buffer | string, _context?: unknown): Promise<{ created: number; existing: number }> {
      await provisionerOnce();
      const summary = { created: 0, existing: 0 };
      const failed: ReturnType<typeof failureOf>[] = [];
      const events = partitionEventsOf(event);
      for (const [index, item] of events.entries()) {
        try {
          summary[await provisionOne(item)] += 1;
        } catch (err) {
          failed.push(failureOf(err, index, partitionIdOf(item)));
        }
      }
      if (failed.length > 0) throw new Error(`${failed.length} of ${events.length} partition events failed: ${JSON.stringify(failed)}`);
      return summary;
    },
  };
}

const level = process.env.KMS_LOG_LEVEL;
const logger = createLogger({ level: level && isLogLevel(level) ? level : 'info' });

// A message that keeps failing ends in the dead-letter queue: the log says why (codes and messages never carry a key).
export const { handler, fcHandler } = provisionHandlers({
  provisioner: () => provisionerFromEnvironment(),
  onMessageFailure: (messageId, err) => {
    const { code, message } = failureOf(err, 0, undefined);
    logger.warn('partition event failed', { messageId, code, reason: message });
  },
});
