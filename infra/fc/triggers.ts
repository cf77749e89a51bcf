/**
 * The triggers of a Function Compute 3.0 deployment, as the FC API takes them (`triggerConfig` is
 * a JSON string there).
 */
export interface TriggerSpec {
  triggerName: string;
  triggerType: 'http' | 'timer' | 'eventbridge';
  triggerConfig: Record<string, unknown>;
}

/**
 * Every request function's trigger: no public address (`disableURLInternet`), reached only by the
 * API gateway over Alibaba Cloud's internal network, so that every request passes the gateway's
 * throttling, IP rules and WAF. Anonymous at FC's level because FC's own trigger authentication
 * (`function`) requires an FC signature in the `Authorization` header, the very header an
 * ACS3-HMAC-SHA256 KMS request carries its own signature in, so no KMS client could call through
 * it; the function verifies the KMS signature itself (access key, timestamp window, nonce) before
 * any operation runs. GET and POST are the methods the RPC and V3 styles use.
 */
export function httpTrigger(): TriggerSpec {
  return { triggerName: 'http', triggerType: 'http', triggerConfig: { authType: 'anonymous', disableURLInternet: true, methods: ['GET', 'POST'] } };
}

export function timerTrigger(schedule: string): TriggerSpec {
  return { triggerName: 'schedule', triggerType: 'timer', triggerConfig: { cronExpression: cronFromRate(schedule), enable: true } };
}

/** Where partition events come from and where those that keep failing go (both MNS queues, in the function's region). */
export interface PartitionEventQueues {
  region: string;
  accountId: string;
  /** The queue producers send `PartitionCreated` events to (one event, a list, or a CloudEvent, as JSON text). */
  queue: string;
  /** Where an event goes when it could not be delivered or kept failing: watch it (alarm on its message count). */
  deadLetterQueue: string;
}

/**
 * The provisioner's event source, as the AWS side has an SQS queue fed by an EventBridge rule: an
 * EventBridge trigger reading an MNS queue, one event per invocation (`event-driven`: a CloudEvent
 * whose `data.messageBody` is the message), invoked asynchronously so that FC's async retries and
 * its on-failure destination apply (see {@link asyncInvokeConfig}); what EventBridge itself could
 * not deliver goes to the same dead-letter queue.
 */
export function partitionEventsTrigger(queues: PartitionEventQueues): TriggerSpec {
  return {
    triggerName: 'partition-events',
    triggerType: 'eventbridge',
    triggerConfig: {
      triggerEnable: true,
      asyncInvocationType: true,
      eventRuleFilterPattern: '{}',
      eventSourceConfig: {
        eventSourceType: 'MNS',
        eventSourceParameters: { sourceMNSParameters: { RegionId: queues.region, QueueName: queues.queue, IsBase64Decode: false } },
      },
      runOptions: {
        mode: 'event-driven',
        retryStrategy: { PushRetryStrategy: 'EXPONENTIAL_DECAY_RETRY' },
        errorsTolerance: 'ALL',
        deadLetterQueue: { Arn: `acs:mns:${queues.region}:${queues.accountId}:/queues/${queues.deadLetterQueue}` },
      },
    },
  };
}

/** Retries of a failed asynchronous invocation, then the dead-letter queue. */
export const PROVISIONER_ASYNC = { maxAsyncRetryAttempts: 3, maxAsyncEventAgeInSeconds: 86_400 } as const;

/** The provisioner's asynchronous invocation: retried, then sent to the dead-letter queue (its role may send there). */
export function asyncInvokeConfig(queues: PartitionEventQueues) {
  return {
    ...PROVISIONER_ASYNC,
    destinationConfig: { onFailure: { destination: `acs:mns:${queues.region}:${queues.accountId}:/queues/${queues.deadLetterQueue}/messages` } },
  };
}

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const MINUTES: Record<string, number> = { minute: 1, minutes: 1, hour: 60, hours: 60, day: 1440, days: 1440 };

/** `rate(1 hour)` → `@every 60m`, FC's interval form of a timer trigger's cronExpression. */
export function cronFromRate(schedule: string): string {
  const match = RATE.exec(schedule);
  if (!match || Number(match[1]) < 1) throw new Error(`unsupported schedule "${schedule}": expected rate(<n> minute(s)|hour(s)|day(s))`);
  return `@every ${Number(match[1]) * MINUTES[match[2]!]!}m`;
}
