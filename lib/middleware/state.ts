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

const states = new WeakMap<RpcRequest, RequestState>();

export function initState(event: RpcRequest, state: RequestState): void {
  states.set(event, state);
}

export function stateOf(event: RpcRequest): RequestState {
  const state = states.get(event);
  if (!state) throw new Error('request state is missing: the stack must open the request first');
  return state;
}
