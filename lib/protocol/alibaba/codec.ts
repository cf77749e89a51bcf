import type { Claim, Claimed } from '../../auth/claim.js';
import { rpcClaim } from '../../auth/rpc-signature.js';
import { v3Claim } from '../../auth/v3-signature.js';
import { ActionNotFoundError, InvalidParameterError } from '../../errors.js';
import { assertFormBodyWithinLimit } from '../../rpc/body-limit.js';
import { operationInput, type RpcParams, rpcParams } from '../../rpc/params.js';
import type { RpcRequest } from '../../rpc/request.js';
import type { ActionBindings, Protocol, ProtocolFactory } from '../protocol.js';
import { validateInput } from './validate.js';
import { errorResponse, parseFormat, type ResponseFormat, successResponse } from './serialize.js';

/** What the Alibaba protocol keeps of one request. */
export interface AlibabaWire {
  /** JSON until Format is read, so even an error before it is JSON. */
  format: ResponseFormat;
  /** Echoes the endpoint the caller used, when it looks like a host name. */
  hostId: string;
  params?: RpcParams;
}

const HOST = /^[A-Za-z0-9.\-:[\]]{1,255}$/;

/**
 * Alibaba Cloud's RPC API (2016-01-20): parameters in the query string or a form body, signed
 * with HMAC-SHA1 (`Signature` among them) or ACS3-HMAC-SHA256 (an `Authorization` header, the
 * Action in `x-acs-action`); answers in JSON or XML (`Format`). Any request no other protocol
 * claims speaks it.
 */
export const alibabaProtocol: ProtocolFactory = (actions: readonly ActionBindings[]): Protocol<AlibabaWire> => {
  const bindings = new Map(actions.flatMap((a) => (a.alibaba ? [[a.name, a.alibaba] as const] : [])));
  return {
    name: 'alibaba',
    blobForm: 'text',
    matches: () => true,
    open(request) {
      const host = request.headers.host;
      return { format: 'JSON', hostId: host !== undefined && HOST.test(host) ? host : 'kms' };
    },
    route(request) {
      let action: string | undefined = request.headers['x-acs-action'];
      if (action === undefined) {
        try {
          action = rpcParams(request).all.get('Action');
        } catch {
          return undefined;
        }
      }
      return action !== undefined && bindings.has(action) ? action : undefined;
    },
    decode(request, wire) {
      const params = rpcParams(request);
      wire.params = params;
      const format = parseFormat(params.all.get('Format'));
      if (!format) throw new InvalidParameterError('Format', 'It must be JSON or XML.');
      wire.format = format;
      const version = params.all.get('Version') ?? request.headers['x-acs-version'];
      if (version !== undefined && version !== '2016-01-20') throw new InvalidParameterError('Version', 'This service implements API version 2016-01-20.');
    },
    claim: (request, wire, claimed) => alibabaClaim(request, wire.params!, claimed),
    input(request, wire, action) {
      // A form read under the larger limit (its Action was inside it) keeps its body only for an
      // Action that writes a secret value; checked after the signature, as any parameter is.
      assertFormBodyWithinLimit(action, request.body.length);
      const all = wire.params!.all;
      const binding = bindings.get(action);
      if (!binding) throw new ActionNotFoundError(action);
      const input = validateInput(binding.params, operationInput(all));
      // Every Action honours DryRun, also those whose parameters do not name it: a caller who asks
      // for a dry run of ScheduleKeyDeletion or DeleteKeyMaterial must never get the real thing.
      return { input, dryRun: dryRunOf(all.get('DryRun')) };
    },
    ok: (exchange, output) => successResponse(exchange.wire.format, exchange.requestId, output),
    fail: (exchange, error) => errorResponse(exchange.wire?.format ?? 'JSON', exchange.requestId, exchange.wire?.hostId ?? 'kms', error),
  };
};

/** The Alibaba schemes: ACS3-HMAC-SHA256 when an `Authorization` header is present, else the RPC signature. */
export function alibabaClaim(request: RpcRequest, params: RpcParams, claimed: Claimed): Claim {
  const authorization = request.headers.authorization;
  return authorization !== undefined ? v3Claim(request, params, authorization, claimed) : rpcClaim(request, params, claimed);
}

/** The DryRun parameter: `true` or `false` in any case, absent is false; anything else is a 400 naming it. */
function dryRunOf(value: string | undefined): boolean {
  if (value === undefined) return false;
  if (!/^(true|false)$/i.test(value)) throw new InvalidParameterError('DryRun', 'It must be true or false.');
  return value.toLowerCase() === 'true';
}
