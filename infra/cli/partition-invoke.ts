import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Context, EventBridgeEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { type Command, Option } from 'commander';
import { createProvisioner, failureOf, KmsApiError, KmsConnectionError, PartitionKeysError } from '@alibaba-kms-compatible/client';
import { clientOf, connectionOf } from './common.js';
import { CliError, EXIT, usageError } from './exit-codes.js';
import { emit } from './output.js';
import { registryOf, registryOption } from './registry-option.js';

type Platform = 'aws' | 'fc';
type Trigger = 'sqs' | 'eventbridge' | 'fc';

/**
 * `kms partitions invoke <event-file>`: runs the provisioner's own trigger handlers
 * (functions/provision-partition-keys.ts) on an event file, as the platform would deliver it, so
 * the event-triggered provisioning can be tried locally: an SQS batch or an EventBridge event goes
 * to the AWS Lambda `handler`, anything else (a partition event, a list of them, an Alibaba
 * EventBridge CloudEvent) to the Function Compute `fcHandler`, as the file's bytes. Samples are in
 * examples/events/. Credentials are the command's (the provider's access key), not the function's
 * KMS_PROVISIONER_* variables.
 */
export function registerPartitionInvoke(partitions: Command): void {
  partitions
    .command('invoke')
    .description(
      "run the provisioner's trigger handler on an event file (SQS, EventBridge, Function Compute), as the platform would; prints what the handler returns",
    )
    .argument('<event-file>', 'a JSON event as the platform delivers it (see examples/events/), or - for stdin')
    .option('--key <key>', 'the CMK for events that name none (KMS_PARTITION_KEY_ID)', process.env.KMS_PARTITION_KEY_ID)
    .addOption(registryOption())
    .addOption(
      new Option('--platform <platform>', 'whose handler: aws (Lambda handler) or fc (Function Compute fcHandler); default: by the event').choices([
        'aws',
        'fc',
      ]),
    )
    .action(async (path: string, options: { key?: string; registry: string; platform?: Platform }, command: Command) => {
      const bytes = await readEventFile(path);
      const event = parseEvent(path, bytes);
      const trigger = triggerOf(event, options.platform);
      if (trigger === 'sqs') checkSqsEvent(path, event);
      const connection = connectionOf(command);
      const registry = await registryOf(options.registry);
      const reasons = new Map<string, string>();
      const { provisionHandlers } = await import('../../functions/provision-partition-keys.js');
      const { handler, fcHandler } = provisionHandlers({
        provisioner: () => createProvisioner({ ...connection, kms: clientOf(command), registry, ...(options.key ? { keyId: options.key } : {}) }),
        onMessageFailure: (messageId, err) => {
          const { code, message } = failureOf(err, 0, undefined);
          reasons.set(messageId, `${code}: ${message}`);
        },
      });
      const platform: Platform = trigger === 'fc' ? 'fc' : 'aws';
      let result: unknown;
      try {
        result = platform === 'fc' ? await fcHandler(bytes) : await handler(event as SQSEvent | EventBridgeEvent<string, unknown>, lambdaContext());
      } catch (err) {
        // The API's refusals, the library's typed errors and an unreachable endpoint keep their own report (exit 1, 3).
        if (err instanceof KmsApiError || err instanceof PartitionKeysError || err instanceof KmsConnectionError) throw err;
        const retry = platform === 'fc' ? 'Function Compute retries it' : 'EventBridge retries it';
        throw new CliError(EXIT.REFUSED, `the invocation failed (${retry}): ${err instanceof Error ? err.message : String(err)}`);
      }
      emit(command, { platform, trigger, result });
      const failures = (result as SQSBatchResponse).batchItemFailures ?? [];
      if (failures.length > 0) {
        const total = (event as SQSEvent).Records.length;
        const named = failures.map((f) => `${f.itemIdentifier} (${reasons.get(f.itemIdentifier) ?? 'failed'})`).join('; ');
        throw new CliError(EXIT.REFUSED, `${failures.length} of ${total} messages failed and would be received again, then dead-lettered: ${named}`);
      }
    });
}

async function readEventFile(path: string): Promise<Buffer> {
  try {
    if (path !== '-') return await readFile(path);
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } catch (err) {
    throw new CliError(EXIT.UNAVAILABLE, `cannot read the event file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function parseEvent(path: string, bytes: Buffer): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw usageError(`the event file ${path} is not JSON: an event file holds one event as the platform delivers it (see examples/events/)`);
  }
}

/** Which trigger delivered an event, by its shape (or the platform asked for). */
function triggerOf(event: unknown, platform: Platform | undefined): Trigger {
  const object = typeof event === 'object' && event !== null && !Array.isArray(event) ? event : undefined;
  if (platform === 'fc') return 'fc';
  if (object && 'Records' in object) return 'sqs';
  if (object && 'detail-type' in object) return 'eventbridge';
  if (platform === 'aws')
    throw usageError('--platform aws takes an SQS event ({"Records": […]}) or an EventBridge event ({"detail-type": "PartitionCreated", "detail": {…}})');
  return 'fc';
}

/** An SQS event has records with a message id and a body; anything else would fail inside the batch library, unexplained. */
function checkSqsEvent(path: string, event: unknown): void {
  const records = (event as { Records?: unknown }).Records;
  if (!Array.isArray(records) || records.length === 0) throw usageError(`the event file ${path} is not an SQS event: "Records" must be a list of messages`);
  records.forEach((record: unknown, i) => {
    const r = record as { messageId?: unknown; body?: unknown } | null;
    if (typeof r?.messageId !== 'string' || typeof r.body !== 'string') {
      throw usageError(`the event file ${path} is not an SQS event: Records[${i}] needs a string "messageId" and a string "body"`);
    }
  });
}

/** What Lambda passes a handler, for a local run. */
function lambdaContext(): Context {
  const name = 'provisionPartitionKeys';
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${name}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'kms-partitions-invoke',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
