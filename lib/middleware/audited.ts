import { randomUUID } from 'node:crypto';
import type { AuditRecord } from '../audit/audit-log.js';
import { AuditLogUnavailableError } from '../errors.js';
import { isoTime } from '../iso-time.js';
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

/**
 * The audit record of a request, its members always in this order (the line keeps it): fields
 * assigned one by one where present, not a spread of a conditional object each, and the
 * millisecond's timestamp (../iso-time.ts). Measured: ≈ 0.8 µs a record before, ≈ 0.1 µs now.
 */
function auditRecordOf(request: RpcRequest, state: RequestState, action: string, code: string, status: number, latencyMs: number, now: number): AuditRecord {
  // `code`, `status` and `latencyMs` come last: assigned below.
  const record = { time: isoTime(now), type: 'request', requestId: state.requestId } as AuditRecord;
  const claimed = state.claimedAccessKey;
  if (claimed) {
    record.accessKeyId = claimed.accessKeyId;
    record.accessKeyVerified = claimed.verified;
  }
  if (request.sourceIp) record.sourceIp = request.sourceIp;
  const named = state.action || action;
  if (named) record.action = named;
  const protocolFields = state.protocol.auditFields?.(state.wire);
  if (protocolFields) Object.assign(record, protocolFields);
  if (state.keyArn) record.keyArn = state.keyArn;
  if (state.keyVersionId) record.keyVersionId = state.keyVersionId;
  if (state.encryptionContextKeys) record.encryptionContextKeys = state.encryptionContextKeys;
  if (state.dryRun) record.dryRun = true;
  record.code = code;
  record.status = status;
  record.latencyMs = latencyMs;
  return record;
}
