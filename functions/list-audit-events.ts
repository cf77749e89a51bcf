import * as z from '../lib/zod.js';
import { fcHttpHandler } from '../lib/adapters/alibaba-fc/adapter.js';
import { lambdaHandler } from '../lib/adapters/aws-lambda.js';
import { defineAction } from '../lib/action.js';
import type { AuditRecord } from '../lib/audit/audit-log.js';
import { AuditEventsNotKeptError, AuditTrailUnavailableError, KmsError } from '../lib/errors.js';
import { page } from '../lib/operations/paging.js';
import { displayableText } from '../lib/operations/stored-text.js';
import { pagingParameters } from '../lib/protocol/alibaba/schema.js';

/** One audit record as ListAuditEvents answers it: the fields the record has, nothing else. */
export interface AuditEvent {
  Time: string;
  Type: AuditRecord['type'];
  RequestId?: string;
  Action?: string;
  AwsOperation?: string;
  AccessKeyId?: string;
  AccessKeyVerified?: boolean;
  SourceIp?: string;
  KeyArn?: string;
  KeyVersionId?: string;
  /** `OK`, or the error Code answered (`Failed` for a job). */
  Result: string;
  HttpStatus?: number;
  LatencyMs?: number;
}

type ListAuditEventsOutput = { AuditEvents: { AuditEvent: AuditEvent[] }; TotalCount: number; PageNumber: number; PageSize: number };

/**
 * The wire form of a record, field by field: a field the record lacks is left out, and nothing the
 * record holds besides these is answered (the EncryptionContext's keys, DryRun stay in the log).
 * What the request claimed (its Action, operation, access key id) is shown with the characters XML
 * cannot carry replaced, so one request cannot make every Format=XML listing fail.
 */
export function auditEventOf(record: AuditRecord): AuditEvent {
  const event = { Time: record.time, Type: record.type } as AuditEvent;
  if (record.requestId !== undefined) event.RequestId = record.requestId;
  if (record.action !== undefined) event.Action = displayableText(record.action);
  if (record.awsOperation !== undefined) event.AwsOperation = displayableText(record.awsOperation);
  if (record.accessKeyId !== undefined) event.AccessKeyId = displayableText(record.accessKeyId);
  if (record.accessKeyVerified !== undefined) event.AccessKeyVerified = record.accessKeyVerified;
  if (record.sourceIp !== undefined) event.SourceIp = record.sourceIp;
  if (record.keyArn !== undefined) event.KeyArn = displayableText(record.keyArn);
  if (record.keyVersionId !== undefined) event.KeyVersionId = record.keyVersionId;
  event.Result = record.code;
  if (record.status !== undefined) event.HttpStatus = record.status;
  if (record.latencyMs !== undefined) event.LatencyMs = record.latencyMs;
  return event;
}

/**
 * ListAuditEvents: the deployment's recent audit records (requests, failed ones included, and
 * scheduled jobs), newest first, paged. Only where they are kept (the local gateway: every
 * process's); elsewhere UnsupportedOperation. Authorised on `*`.
 */
export const action = defineAction({
  name: 'ListAuditEvents',
  group: 'read',
  store: 'reads',
  alibaba: { params: z.object(pagingParameters) },
  async resolve(_input, context) {
    context.authorize('*');
    const trail = context.service.auditTrail;
    if (!trail) throw new AuditEventsNotKeptError();
    return trail;
  },
  async execute(input, trail, _context): Promise<ListAuditEventsOutput> {
    let records: AuditRecord[];
    try {
      records = await trail.newestFirst();
    } catch (err) {
      if (err instanceof KmsError) throw err;
      throw new AuditTrailUnavailableError({ cause: err });
    }
    const { items, ...paging } = page(records, input);
    return { AuditEvents: { AuditEvent: items.map(auditEventOf) }, ...paging };
  },
});

export const handler = lambdaHandler(action);
export const fcHandler = fcHttpHandler(action);
