import { sigV4Claim } from '../../auth/sigv4.js';
import { ActionNotFoundError } from '../../errors.js';
import { type ParamList, queryParams } from '../../rpc/params.js';
import type { RpcRequest } from '../../rpc/request.js';
import type { ActionBindings, Protocol, ProtocolFactory, ProtocolScope } from '../protocol.js';
import { AWS_TARGET_PREFIXES, type AwsBinding, type AwsBody, awsTargetOf } from './binding.js';
import { bool } from './json.js';
import { AWS_CONTENT_TYPE, AwsSerializationError, awsErrorResponse, awsSuccessResponse, parseAwsBody } from './wire.js';

/** What the AWS protocol keeps of one request. */
export interface AwsWire {
  /** X-Amz-Target. */
  target: string;
  /** The Action that serves this request of the operation, and how it speaks it (once decoded). */
  served?: Served;
  /** The JSON body, parsed once (the dispatcher and the stack both read it), or why it could not be. */
  body?: AwsBody;
  bodyError?: unknown;
  /** What the signature covers of the query string (none from an AWS SDK). */
  query?: ParamList;
}

interface Served {
  action: string;
  binding: AwsBinding<unknown, unknown>;
}

/**
 * The AWS JSON protocol (awsJson1_1) of AWS KMS and AWS Secrets Manager: `POST /`, the operation
 * named by `X-Amz-Target: TrentService.<Operation>` (KMS) or `secretsmanager.<Operation>`, a JSON
 * body, SigV4 for the operation's service (`kms`, `secretsmanager`). Each operation is served by
 * the Action that declares it (functions/<action>.ts, `aws`): its JSON becomes that Action's typed
 * input, the Action's output its JSON. Any request with an X-Amz-Target header speaks it.
 */
export const awsProtocol: ProtocolFactory = (actions: readonly ActionBindings[], scope: ProtocolScope | undefined): Protocol<AwsWire> => {
  // X-Amz-Target → the Actions serving it, in table order (more than one: each says which requests are its own).
  const targets = new Map<string, Served[]>();
  for (const action of actions) {
    for (const binding of action.aws ?? []) {
      const target = awsTargetOf(binding);
      const list = targets.get(target) ?? [];
      list.push({ action: action.name, binding });
      targets.set(target, list);
    }
  }
  const servedBy = (wire: AwsWire) => targets.get(wire.target);
  /** The operation a target names, for an error: the name after a known service's prefix, else the target. */
  const operationOf = (target: string) => {
    for (const prefix of Object.values(AWS_TARGET_PREFIXES)) if (target.startsWith(prefix)) return target.slice(prefix.length);
    return target;
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
  // A body that cannot be read is the first Action's to refuse.
  const choose = (candidates: readonly Served[], body: AwsBody | undefined) =>
    (body !== undefined && candidates.find((c) => c.binding.when?.(body) ?? true)) || candidates[0]!;
  return {
    name: 'aws',
    blobForm: 'binary',
    matches: (headers) => headers['x-amz-target'] !== undefined,
    open: (request) => ({ target: request.headers['x-amz-target'] ?? '' }),
    route(request, wire) {
      const candidates = servedBy(wire);
      if (!candidates) return undefined;
      wire.served = choose(candidates, bodyOf(request, wire));
      return wire.served.action;
    },
    /*
     * The envelope (operation, method, path, content type) is checked here, before authentication;
     * a body that cannot be read is answered only after the signature has been checked (the
     * signature covers the raw bytes), as a bad field is, and as the Alibaba protocol answers a bad
     * parameter: so an unsigned caller learns nothing of the input rules, and the refusal's audit
     * line names the access key that sent it.
     */
    decode(request, wire) {
      const candidates = servedBy(wire);
      if (!candidates) throw new ActionNotFoundError(operationOf(wire.target));
      if (request.method !== 'POST' || request.path !== '/') throw new AwsSerializationError('The AWS JSON protocol is POST / with a JSON body.');
      const contentType = request.headers['content-type'] ?? '';
      if (!contentType.startsWith(AWS_CONTENT_TYPE) && !contentType.startsWith('application/x-amz-json-1.0')) {
        throw new AwsSerializationError(`The content type must be ${AWS_CONTENT_TYPE}.`);
      }
      wire.query = queryParams(request.rawQuery);
      wire.served ??= choose(candidates, bodyOf(request, wire));
    },
    claim: (request, wire, claimed) =>
      sigV4Claim(request, wire.query!, wire.served!.action, scope!.aws.regions, claimed, wire.served!.binding.service ?? 'kms'),
    input(_request, wire) {
      if (wire.bodyError !== undefined) throw wire.bodyError;
      const { binding } = wire.served!;
      const input = binding.input(wire.body!, scope!.aws);
      return { input, dryRun: binding.dryRun === true && bool(wire.body!, 'DryRun') === true };
    },
    async ok(exchange, output) {
      const { wire, keyArn } = exchange;
      const aws = scope!.aws;
      // Members named, not a spread of the scope: this runs for every answer.
      const body = await wire.served!.binding.output(output, {
        accountId: aws.accountId,
        regions: aws.regions,
        alibabaRegion: aws.alibabaRegion,
        region: exchange.signedRegion ?? aws.alibabaRegion,
        body: wire.body!,
        now: scope!.now(),
        authorizedKeyId: keyArn?.includes(':key/') ? keyArn.slice(keyArn.indexOf(':key/') + ':key/'.length) : undefined,
      });
      return awsSuccessResponse(exchange.requestId, body);
    },
    fail(exchange, error) {
      // Before routing, the service is the one the target's prefix names.
      const binding = exchange.wire?.served?.binding;
      const service = binding?.service ?? (exchange.wire?.target.startsWith(AWS_TARGET_PREFIXES.secretsmanager) ? 'secretsmanager' : 'kms');
      return awsErrorResponse(
        exchange.requestId,
        error,
        exchange.signedRegion && scope ? { alibabaRegion: scope.aws.alibabaRegion, region: exchange.signedRegion } : undefined,
        { service, ...(binding?.keyStateError ? { keyStateError: binding.keyStateError } : {}) },
      );
    },
    // A Secrets Manager operation is named with its prefix (its TagResource is not KMS's).
    auditFields: (wire) =>
      wire.served ? { awsOperation: wire.served.binding.service === 'secretsmanager' ? awsTargetOf(wire.served.binding) : wire.served.binding.target } : {},
  };
};
