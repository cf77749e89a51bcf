import type { Context } from 'aws-lambda';
import type { Request } from '@middy/core';
import type { Principal } from '../auth/access-keys.js';
import type { RpcParams } from '../rpc/params.js';
import type { RpcRequest, RpcResponse } from '../rpc/request.js';
import type { ResponseFormat } from '../rpc/serialize.js';
import type { AwsOperation } from '../aws/operations.js';

/** Per-request state the middlewares and the handler share, keyed by the request itself. */
export interface RequestState {
  requestId: string;
  /** The API the request speaks: Alibaba's RPC, or the AWS KMS JSON protocol (an X-Amz-Target header). */
  protocol: 'alibaba' | 'aws';
  /**
   * AWS protocol: the operation named by X-Amz-Target, the Alibaba Action that serves this request
   * of it, and (once authenticated) the region of the signature's credential scope.
   */
  aws?: { operation: AwsOperation; action: string; region?: string };
  startedAt: number;
  format: ResponseFormat;
  hostId: string;
  params?: RpcParams;
  principal?: Principal;
  /**
   * The access key id the request claimed (RPC `AccessKeyId`, the ACS3 or SigV4 `Credential`), once
   * its signed fields parsed, and whether the signature matched that key's secret: set before the
   * request is refused or admitted, so every audit and access line names whose key was used.
   */
  claimedAccessKey?: { accessKeyId: string; verified: boolean };
  /** AWS protocol: why the body could not be read as the operation's input, answered once the request is authenticated. */
  inputError?: unknown;
  /** The Action the signature covers. */
  action?: string;
  /** `OK`, or the Code of the error answered (set by the last middleware). */
  code?: string;
  /** For the audit line: the first key ARN the operation authorised on, the version it used, the context's keys, DryRun. */
  keyArn?: string;
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
  if (!state) throw new Error('request state is missing: requestContext must run first');
  return state;
}
