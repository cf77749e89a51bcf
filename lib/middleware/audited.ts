import { randomUUID } from 'node:crypto';
import type { AuditRecord } from '../audit/audit-log.js';
import { AuditLogUnavailableError } from '../errors.js';
import { metrics } from '../metrics/metrics.js';
import type { Protocol } from '../protocol/protocol.js';
import type { RpcRequest, RpcResponse } from '../rpc/request.js';
import type { Service } from '../service.js';
import { initState, type RequestState } from './state.js';

/** The stack inside: one request in its protocol, one response, never a throw. */
export type OpenedHandler = (request: RpcRequest, context: unknown) => Promise<RpcResponse>;

/**
 * Around the stack: the request is opened in its protocol (chosen by the caller, once), and every
 * answer is counted (requests by Action and Code, latency) and audited. The audit fails closed, as
 * Vault's audit devices do: while the audit log is known to be broken a request is refused before
 * it runs, and an answer whose audit line cannot be written is replaced by 503 — a data key never
 * leaves without its line.
 *
 * `action` is the stack's own Action (`''` for the dispatcher's fallback): metric labels come from
 * the table of Actions, never from what a caller sent.
 */
export function audited(action: string, service: Service, handle: OpenedHandler) {
  const label = action || 'Unknown';
  return async (request: RpcRequest, context: unknown, protocol: Protocol, wire: unknown): Promise<RpcResponse> => {
    const audit = service.audit;
    if (audit) {
      try {
        await audit.ready();
      } catch {
        metrics.auditFailure();
        metrics.request(label, 'ServiceUnavailableTemporary');
        return protocol.fail({ requestId: randomUUID().toUpperCase() }, new AuditLogUnavailableError());
      }
    }
    const state: RequestState = { requestId: randomUUID().toUpperCase(), protocol, wire, startedAt: service.now() };
    initState(request, state);
    const response = await handle(request, context);
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
      return protocol.fail(state, new AuditLogUnavailableError());
    }
  };
}

function auditRecordOf(request: RpcRequest, state: RequestState, action: string, code: string, status: number, latencyMs: number, now: number): AuditRecord {
  return {
    time: new Date(now).toISOString(),
    type: 'request',
    requestId: state.requestId,
    ...(state.claimedAccessKey ? { accessKeyId: state.claimedAccessKey.accessKeyId, accessKeyVerified: state.claimedAccessKey.verified } : {}),
    ...(request.sourceIp ? { sourceIp: request.sourceIp } : {}),
    ...(state.action || action ? { action: state.action || action } : {}),
    ...state.protocol.auditFields?.(state.wire),
    ...(state.keyArn ? { keyArn: state.keyArn } : {}),
    ...(state.keyVersionId ? { keyVersionId: state.keyVersionId } : {}),
    ...(state.encryptionContextKeys ? { encryptionContextKeys: state.encryptionContextKeys } : {}),
    ...(state.dryRun ? { dryRun: true } : {}),
    code,
    status,
    latencyMs,
  };
}
