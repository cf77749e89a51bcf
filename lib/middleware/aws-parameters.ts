import { ActionNotFoundError } from '../errors.js';
import { awsOperationOf, type AwsBody, servingAction } from '../aws/operations.js';
import { AWS_CONTENT_TYPE, AwsSerializationError, parseAwsBody } from '../aws/protocol.js';
import { rpcParams } from '../rpc/params.js';
import type { RpcRequest } from '../rpc/request.js';
import type { Service } from '../service.js';
import type { RequestState } from './state.js';

const parsedBodies = new WeakMap<RpcRequest, AwsBody>();

/** The JSON body of an AWS-protocol request, parsed once (the dispatcher and the stack both read it). */
export function awsBodyOf(request: RpcRequest): AwsBody {
  let body = parsedBodies.get(request);
  if (!body) {
    body = parseAwsBody(request.body);
    parsedBodies.set(request, body);
  }
  return body;
}

/**
 * The AWS protocol's counterpart of the RPC parameters: `POST /` with a JSON body, the operation
 * named by X-Amz-Target, its input translated into the serving Alibaba Action's parameters.
 *
 * The envelope (operation, method, path, content type) is checked here, before authentication; a
 * body that cannot be read or translated is kept in `state.inputError` and answered only after the
 * signature has been checked (the signature covers the raw bytes), as the Alibaba protocol answers
 * a bad parameter: so an unsigned caller learns nothing of the input rules, and the refusal's audit
 * line names the access key that sent it. Until then the Action is the operation's own (a body may
 * only move ListAliases to ListAliasesByKeyId, both in the `read` rate-limit group).
 */
export function readAwsParameters(request: RpcRequest, state: RequestState, service: Service): void {
  const target = request.headers['x-amz-target']!;
  const operation = awsOperationOf(target);
  if (!operation) throw new ActionNotFoundError(target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : target);
  if (request.method !== 'POST' || request.path !== '/') throw new AwsSerializationError('The AWS KMS protocol is POST / with a JSON body.');
  const contentType = request.headers['content-type'] ?? '';
  if (!contentType.startsWith(AWS_CONTENT_TYPE) && !contentType.startsWith('application/x-amz-json-1.0')) {
    throw new AwsSerializationError(`The content type must be ${AWS_CONTENT_TYPE}.`);
  }
  // The query string (none from an AWS SDK) is still what the signature covers.
  const { query } = rpcParams({ ...request, body: Buffer.alloc(0) });
  let all: ReadonlyMap<string, string> = new Map();
  let action = operation.action;
  try {
    const body = awsBodyOf(request);
    all = operation.input(body, service.aws);
    action = servingAction(operation, body);
  } catch (err) {
    state.inputError = err;
  }
  state.params = { query, form: [], all };
  state.aws = { operation, action };
}
