import { InvalidPartitionEventError } from '@alibaba-kms-compatible/client';

/** The EventBridge `detail-type` of a partition to provision. */
export const PARTITION_CREATED = 'PartitionCreated';

/** The CloudEvent type prefix of a message from an MNS queue (`mns:Queue:SendMessage`). */
const MNS_QUEUE_EVENT = 'mns:Queue:';

/**
 * The partition event(s) a trigger delivered, unvalidated (the provisioner validates each):
 * - a partition event itself (`{"partitionId": …}`), or a JSON array of them;
 * - an EventBridge event (`detail-type: PartitionCreated`, the event in `detail`), as EventBridge
 *   invokes a function or delivers to an SQS queue;
 * - a CloudEvent (Alibaba EventBridge, `type: PartitionCreated`, the event in `data`);
 * - a CloudEvent of an MNS queue (Function Compute's MNS trigger, `type: mns:Queue:…`): the message
 *   text in `data.messageBody`, itself any of these forms.
 * Text (an SQS body, a Function Compute event buffer) is parsed as JSON first. Anything else is an
 * {@link InvalidPartitionEventError}.
 */
export function partitionEventsOf(delivered: unknown): unknown[] {
  const value = typeof delivered === 'string' || Buffer.isBuffer(delivered) ? parseJson(delivered.toString()) : delivered;
  if (Array.isArray(value)) return value.flatMap((item) => partitionEventsOf(item));
  if (typeof value !== 'object' || value === null) throw new InvalidPartitionEventError('the event is not a JSON object');
  const event = value as Record<string, unknown>;
  if ('detail-type' in event) {
    if (event['detail-type'] !== PARTITION_CREATED) throw new InvalidPartitionEventError(`detail-type must be ${PARTITION_CREATED}`);
    return [event.detail];
  }
  if ('specversion' in event && typeof event.type === 'string' && event.type.startsWith(MNS_QUEUE_EVENT)) {
    const body = (event.data as { messageBody?: unknown } | null | undefined)?.messageBody;
    if (typeof body !== 'string') throw new InvalidPartitionEventError('the MNS message has no messageBody text');
    return partitionEventsOf(body);
  }
  if ('specversion' in event && 'type' in event) {
    if (event.type !== PARTITION_CREATED) throw new InvalidPartitionEventError(`the CloudEvent type must be ${PARTITION_CREATED}`);
    return [typeof event.data === 'string' ? parseJson(event.data) : event.data];
  }
  return [event];
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidPartitionEventError('the event is not valid JSON');
  }
}
