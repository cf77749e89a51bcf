import { sigV4Claim } from '../../auth/sigv4.js';
import { ActionNotFoundError } from '../../errors.js';
import { operationInput, type ParamList, rpcParams } from '../../rpc/params.js';
import type { RpcRequest } from '../../rpc/request.js';
import { validateInput } from '../alibaba/schema.js';
import type { ActionBindings, Protocol, ProtocolFactory, ProtocolScope } from '../protocol.js';
import { AWS_OPERATIONS, type AwsBody, type AwsOperation } from './operations.js';
import { AWS_CONTENT_TYPE, AWS_TARGET_PREFIX, AwsSerializationError, awsErrorResponse, awsSuccessResponse, parseAwsBody } from './wire.js';

/** What the AWS protocol keeps of one request. */
export interface AwsWire {
  /** X-Amz-Target. */
  target: string;
  /** The operation it names, once decoded. */
  operation?: AwsOperation;
  /** The Action that serves this request of the operation. */
  action?: string;
  /** The JSON body, parsed once (the dispatcher and the stack both read it), or why it could not be. */
  body?: AwsBody;
  bodyError?: unknown;
  /** What the signature covers of the query string (none from an AWS SDK). */
  query?: ParamList;
  params?: ReadonlyMap<string, string>;
}

const EMPTY_BODY = Buffer.alloc(0);

/**
 * The AWS KMS JSON protocol (awsJson1_1): `POST /`, the operation named by `X-Amz-Target:
 * TrentService.<Operation>`, a JSON body, SigV4. Each operation is served by an Action; its JSON
 * becomes that Action's input, its output AWS's JSON. Any request with an X-Amz-Target header
 * speaks it.
 */
export const awsProtocol: ProtocolFactory = (actions: readonly ActionBindings[], scope: ProtocolScope | undefined): Protocol<AwsWire> => {
  const byName = new Map(actions.map((a) => [a.action, a]));
  const operationOf = (target: string) => {
    if (!target.startsWith(AWS_TARGET_PREFIX)) return undefined;
    const name = target.slice(AWS_TARGET_PREFIX.length);
    return AWS_OPERATIONS.find((o) => o.target === name);
  };
  const bodyOf = (request: RpcRequest, wire: AwsWire): AwsBody | undefined => {
    if (wire.body === undefined && wire.bodyError === undefined) {
      try {
        wire.body = parseAwsBody(request.body);
      } catch (err) {
        wire.bodyError = err;
      }
    }
    return wire.body;
  };
  const servingAction = (operation: AwsOperation, body: AwsBody | undefined) => (body !== undefined && operation.route?.(body)) || operation.action;
  return {
    name: 'aws',
    blobForm: 'binary',
    matches: (headers) => headers['x-amz-target'] !== undefined,
    open: (request) => ({ target: request.headers['x-amz-target'] ?? '' }),
    route(request, wire) {
      const operation = operationOf(wire.target);
      if (!operation) return undefined;
      const action = servingAction(operation, bodyOf(request, wire));
      return byName.has(action) ? action : undefined;
    },
    /*
     * The envelope (operation, method, path, content type) is checked here, before authentication;
     * a body that cannot be read or translated is answered only after the signature has been
     * checked (the signature covers the raw bytes), as the Alibaba protocol answers a bad
     * parameter: so an unsigned caller learns nothing of the input rules, and the refusal's audit
     * line names the access key that sent it.
     */
    decode(request, wire) {
      const operation = operationOf(wire.target);
      if (!operation) throw new ActionNotFoundError(wire.target.startsWith(AWS_TARGET_PREFIX) ? wire.target.slice(AWS_TARGET_PREFIX.length) : wire.target);
      if (request.method !== 'POST' || request.path !== '/') throw new AwsSerializationError('The AWS KMS protocol is POST / with a JSON body.');
      const contentType = request.headers['content-type'] ?? '';
      if (!contentType.startsWith(AWS_CONTENT_TYPE) && !contentType.startsWith('application/x-amz-json-1.0')) {
        throw new AwsSerializationError(`The content type must be ${AWS_CONTENT_TYPE}.`);
      }
      wire.query = rpcParams({ ...request, body: EMPTY_BODY }).query;
      wire.operation = operation;
      const body = bodyOf(request, wire);
      wire.action = servingAction(operation, body);
      if (body !== undefined) {
        try {
          wire.params = operation.input(body, scope!.aws);
        } catch (err) {
          wire.bodyError = err;
        }
      }
    },
    claim: (request, wire, claimed) => sigV4Claim(request, wire.query!, wire.action!, scope!.aws.regions, claimed),
    input(_request, wire, action) {
      if (wire.bodyError !== undefined) throw wire.bodyError;
      const input = validateInput(byName.get(action)!.input, operationInput(wire.params!));
      return { input, dryRun: wire.params!.get('DryRun') === 'true' };
    },
    async ok(exchange, output) {
      const { wire } = exchange;
      const keyArn = exchange.keyArn;
      const body = await wire.operation!.output(output, {
        ...scope!.aws,
        region: exchange.signedRegion ?? scope!.aws.alibabaRegion,
        body: wire.body!,
        now: scope!.now(),
        authorizedKeyId: keyArn?.includes(':key/') ? keyArn.slice(keyArn.indexOf(':key/') + ':key/'.length) : undefined,
      });
      return awsSuccessResponse(exchange.requestId, body);
    },
    fail: (exchange, error) =>
      awsErrorResponse(exchange.requestId, error, exchange.signedRegion && scope ? { alibabaRegion: scope.aws.alibabaRegion, region: exchange.signedRegion } : undefined),
    auditFields: (wire) => (wire.operation ? { awsOperation: wire.operation.target } : {}),
  };
};
