import { randomUUID } from 'node:crypto';
import type { AuditRecord } from '../audit/audit-log.js';
import { AuditLogUnavailableError } from '../errors.js';
import { metrics } from '../metrics/metrics.js';
import type { RpcRequest } from '../rpc/request.js';
import { awsErrorResponse } from '../aws/protocol.js';
import { errorResponse } from '../rpc/serialize.js';
import type { Service } from '../service.js';
import type { RpcHandler } from './stack.js';
import { stateOf } from './state.js';

/**
 * Around the stack: every answer is counted (requests by Action and Code, latency) and audited.
 * The audit fails closed, as Vault's audit devices do: while the audit log is known to be broken a
 * request is refused before it runs, and an answer whose audit line cannot be written is replaced
 * by 503 — a data key never leaves without its line.
 *
 * `action` is the stack's own Action (`''` for the dispatcher's fallback): metric labels come from
 * the table of Actions, never from what a caller sent.
 */
export function audited(action: string, service: Service, handle: RpcHandler): RpcHandler {
  const label = action || 'Unknown';
  return async (request, context) => {
    const audit = service.audit;
    if (audit) {
      try {
        await audit.ready();
      } catch {
        metrics.auditFailure();
        metrics.request(label, 'ServiceUnavailableTemporary');
        const requestId = randomUUID().toUpperCase();
        return request.headers['x-amz-target'] !== undefined
          ? awsErrorResponse(requestId, new AuditLogUnavailableError())
          : errorResponse('JSON', requestId, 'kms', new AuditLogUnavailableError());
      }
    }
    const response = await handle(request, context);
    const state = stateOf(request);
    const code = state.code ?? (response.statusCode < 400 ? 'OK' : 'InternalFailure');
    const latencyMs = service.now() - state.startedAt;
    metrics.request(label, response.statusCode < 400 ? 'OK' : code, latencyMs / 1000);
    if (!audit) return response;
    try {
      await audit.write(auditRecordOf(request, state, action, code, response.statusCode, latencyMs, service.now()));
      return response;
    } catch {
      metrics.auditFailure();
      service.logger.error('audit log unavailable: the request was refused', { requestId: state.requestId });
      return state.protocol === 'aws'
        ? awsErrorResponse(state.requestId, new AuditLogUnavailableError())
        : errorResponse(state.format, state.requestId, state.hostId, new AuditLogUnavailableError());
    }
  };
}

function auditRecordOf(
  request: RpcRequest,
  state: ReturnType<typeof stateOf>,
  action: string,
  code: string,
  status: number,
  latencyMs: number,
  now: number,
): AuditRecord {
  return {
    time: new Date(now).toISOString(),
    type: 'request',
    requestId: state.requestId,
    ...(state.claimedAccessKey ? { accessKeyId: state.claimedAccessKey.accessKeyId, accessKeyVerified: state.claimedAccessKey.verified } : {}),
    ...(request.sourceIp ? { sourceIp: request.sourceIp } : {}),
    ...(state.action || action ? { action: state.action || action } : {}),
    ...(state.aws ? { awsOperation: state.aws.operation.target } : {}),
    ...(state.keyArn ? { keyArn: state.keyArn } : {}),
    ...(state.keyVersionId ? { keyVersionId: state.keyVersionId } : {}),
    ...(state.encryptionContextKeys ? { encryptionContextKeys: state.encryptionContextKeys } : {}),
    ...(state.dryRun ? { dryRun: true } : {}),
    code,
    status,
    latencyMs,
  };
}
