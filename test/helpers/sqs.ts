import type { SQSEvent } from 'aws-lambda';

/** An SQS event delivering `bodies` as messages `m-0`, `m-1`, … from the stage's partition-event queue. */
export function sqsBatch(bodies: string[]): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `m-${i}`,
      receiptHandle: `r-${i}`,
      body,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 's', ApproximateFirstReceiveTimestamp: '0' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-central-1:123456789012:kms-dev-partition-events',
      awsRegion: 'eu-central-1',
    })),
  };
}
