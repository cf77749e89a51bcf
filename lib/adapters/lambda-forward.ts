import { randomUUID } from 'node:crypto';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import { FUNCTION_NAME_PREFIX } from '../config/service.js';
import { ActionNotFoundError, FunctionUnavailableError, KmsError, MissingParameterError } from '../errors.js';
import { createLogger, isLogLevel } from '../logger.js';
import type { ActionBindings, Protocol } from '../protocol/protocol.js';
import { protocolOf, protocolsFor } from '../protocol/protocols.js';
import { rpcParams } from '../rpc/params.js';
import type { RpcRequest } from '../rpc/request.js';
import { fromLambdaEvent, type LambdaHttpEvent, type LambdaHttpResult, toLambdaResult } from './aws-lambda.js';
import { countServerError } from './lambda-metrics.js';
import { assertBodyWithinLimit } from '../rpc/body-limit.js';
import { unreadableRequestResponse } from './unreadable-request.js';

/** The dispatcher's variable: the deployed name of an Action's function is this prefix and the function's name. */
export const FUNCTION_NAME_PREFIX_VARIABLE = FUNCTION_NAME_PREFIX.name;

/** An Action the dispatcher forwards, and the function that serves it (its name in serverless.yml). */
export interface ForwardRoute {
  bindings: ActionBindings;
  functionName: string;
}

export interface ForwarderOptions {
  routes: readonly ForwardRoute[];
  /** Prepended to a route's function name: `kms-<stage>-` (see {@link FUNCTION_NAME_PREFIX_VARIABLE}); empty, every forward fails. */
  functionNamePrefix: string;
  /** Built on the first request when absent (the region and credentials are the function's own). */
  client?: LambdaClient;
  /** Told why a forward failed (never the request's content). */
  onFailure?: (fields: { action: string; functionName: string; reason: string }) => void;
}

/** Time kept back from the invocation's own deadline to answer 503 before Lambda cuts it off. */
const ANSWER_MARGIN_MS = 1000;

/**
 * The dispatcher on AWS Lambda: it reads only which Action a request names — the Action query
 * parameter, the x-acs-action header or the form body (Alibaba), the X-Amz-Target header (AWS KMS's
 * `TrentService.*`, AWS Secrets Manager's `secretsmanager.*`) and, for an operation several Actions
 * serve (ListAliases), the body (AWS) — and forwards the unchanged
 * event to that Action's own function (Lambda Invoke, RequestResponse), whose answer it returns.
 * It verifies nothing and touches no state: the Action's function authenticates the request and
 * refuses one whose signed Action is not its own, as it does behind its own listener rules.
 *
 * An Action no function serves is answered here in the request's protocol (InvalidAction.NotFound,
 * MissingParameter Action, or the envelope's error); a forward that fails (the function cannot be
 * invoked, throws, or answers nothing usable) is a 503 in the protocol's words, never a 502.
 */
export function lambdaForwarder(options: ForwarderOptions) {
  const bindings = options.routes.map((route) => route.bindings);
  const functionOf = new Map(options.routes.map((route) => [route.bindings.name, `${options.functionNamePrefix}${route.functionName}`]));
  // Without a service: the protocols only route and answer errors.
  const protocols = protocolsFor(bindings, undefined);
  let client = options.client;
  const albQueryDecoded = process.env.IS_OFFLINE === 'true';

  return async (event: LambdaHttpEvent, context?: Context): Promise<LambdaHttpResult> => {
    let request: RpcRequest;
    try {
      request = fromLambdaEvent(event, { albQueryDecoded });
      assertBodyWithinLimit(request);
    } catch (err) {
      return toLambdaResult(event, unreadableRequestResponse(err, (event as { headers?: Record<string, string | undefined> } | null)?.headers));
    }
    const protocol = protocolOf(protocols, request.headers);
    const wire = protocol.open(request);
    const action = protocol.route(request, wire);
    const functionName = action === undefined ? undefined : functionOf.get(action);
    if (action === undefined || functionName === undefined) {
      return toLambdaResult(event, protocol.fail({ requestId: newRequestId(), wire }, refusal(protocol, request, wire)));
    }
    try {
      if (!options.functionNamePrefix) throw new ForwardFailure(`${FUNCTION_NAME_PREFIX_VARIABLE} is not set: the function cannot be named`);
      client ??= new LambdaClient({});
      const remainingMs = context?.getRemainingTimeInMillis?.();
      const out = await client.send(
        new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(event)) }),
        remainingMs === undefined ? {} : { abortSignal: AbortSignal.timeout(Math.max(remainingMs - ANSWER_MARGIN_MS, 1)) },
      );
      if (out.FunctionError !== undefined) throw new ForwardFailure(`the function failed (${out.FunctionError})`);
      return answerOf(out.Payload);
    } catch (err) {
      const reason = err instanceof ForwardFailure ? err.message : `the invoke failed: ${(err as Error)?.name ?? 'Error'}`;
      options.onFailure?.({ action, functionName, reason });
      countServerError();
      return toLambdaResult(event, protocol.fail({ requestId: newRequestId(), wire }, new FunctionUnavailableError()));
    }
  };
}

/** A forward that reached no usable answer (its message names no request content). */
class ForwardFailure extends Error {}

/** The invoked function's answer: an HTTP result (it was built from the same event, so its shape fits). */
function answerOf(payload: Uint8Array | undefined): LambdaHttpResult {
  let answer: unknown;
  try {
    answer = JSON.parse(Buffer.from(payload ?? []).toString('utf8'));
  } catch {
    throw new ForwardFailure('the function answered something other than JSON');
  }
  if (typeof answer !== 'object' || answer === null || typeof (answer as { statusCode?: unknown }).statusCode !== 'number') {
    throw new ForwardFailure('the function answered no HTTP result');
  }
  return answer as LambdaHttpResult;
}

/** Why a request names no Action served here, as its protocol says it before authentication. */
function refusal(protocol: Protocol, request: RpcRequest, wire: unknown): KmsError {
  try {
    // The envelope's own errors first (AWS: an unknown X-Amz-Target; Alibaba: a bad Format or Version).
    protocol.decode(request, wire);
  } catch (err) {
    if (err instanceof KmsError) return err;
  }
  let named = request.headers['x-acs-action'];
  try {
    named ??= rpcParams(request).all.get('Action');
  } catch (err) {
    if (err instanceof KmsError) return err;
  }
  return named === undefined ? new MissingParameterError('Action') : new ActionNotFoundError(named);
}

const newRequestId = () => randomUUID().toUpperCase();

/** The deployed dispatcher: routes from the table, the prefix from {@link FUNCTION_NAME_PREFIX_VARIABLE}, failures logged. */
export function lambdaForwarderFromEnvironment(routes: readonly ForwardRoute[], env: NodeJS.ProcessEnv = process.env) {
  const level = env.KMS_LOG_LEVEL;
  const logger = createLogger({ level: level && isLogLevel(level) ? level : 'info' });
  // Unset: every forward is a 503 that says so in the log, rather than an invoke of a guessed name.
  return lambdaForwarder({
    routes,
    functionNamePrefix: env[FUNCTION_NAME_PREFIX_VARIABLE] ?? '',
    onFailure: (fields) => logger.error('forward failed', fields),
  });
}
