import type { Context } from 'aws-lambda';
import type { Request } from '@middy/core';
import type { Principal } from '../access-keys.js';
import type { Exchange, Protocol } from '../protocol/protocol.js';
import type { RpcRequest, RpcResponse } from '../rpc/request.js';

/** Per-request state the middlewares and the handler share, keyed by the request itself. */
export interface RequestState extends Exchange {
  /** The protocol the request speaks, chosen once; `wire` is what it keeps of the request. */
  protocol: Protocol;
  startedAt: number;
  principal?: Principal;
  /**
   * The access key id the request claimed (RPC `AccessKeyId`, the ACS3 or SigV4 `Credential`), once
   * its signed fields parsed, and whether the signature matched that key's secret: set before the
   * request is refused or admitted, so every audit and access line names whose key was used.
   */
  claimedAccessKey?: { accessKeyId: string; verified: boolean };
  /** The Action the signature asks for. */
  action?: string;
  /**
   * The nonce claim, when it runs beside the operation (an Action that changes nothing: see
   * authentication()); the operation's handler awaits it before it answers.
   */
  nonceClaimed?: Promise<void>;
  /** `OK`, or the Code of the error answered (set by the last middleware). */
  code?: string;
  /** For the audit line: the version the operation used, the context's keys, DryRun (and `keyArn`: the first key ARN authorised on). */
  keyVersionId?: string;
  encryptionContextKeys?: string[];
  dryRun?: boolean;
}

export type KmsMiddyRequest = Request<RpcRequest, RpcResponse, Error, Context>;

/**
 * Kept on the request under symbols of this module rather than in a WeakMap: a WeakMap entry per
 * short-lived request costs more to add, find and collect (≈ 0.6 µs a request, measured). With the
 * request it belongs to: a copy of the request (a spread copies symbol-named members too) has no
 * state, as with a WeakMap.
 */
const STATE = Symbol('request state');
const STATE_OF = Symbol('request state of');

type WithState = RpcRequest & { [STATE]?: RequestState; [STATE_OF]?: RpcRequest };

export function initState(event: RpcRequest, state: RequestState): void {
  const own = event as WithState;
  own[STATE] = state;
  own[STATE_OF] = event;
}

export function stateOf(event: RpcRequest): RequestState {
  const own = event as WithState;
  const state = own[STATE_OF] === event ? own[STATE] : undefined;
  if (!state) throw new Error('request state is missing: the stack must open the request first');
  return state;
}
