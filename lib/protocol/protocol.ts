import type { AuditRecord } from '../audit/audit-log.js';
import type { Claim, Claimed } from '../auth/claim.js';
import type { BlobForm } from '../crypto/envelope.js';
import type { KmsError } from '../errors.js';
import type { OperationOutput } from '../operation.js';
import type { RpcRequest, RpcResponse } from '../rpc/request.js';
import type { AlibabaBinding } from './alibaba/binding.js';
import type { AwsBinding } from './aws/binding.js';
import type { AwsScope } from '../service.js';

/**
 * A wire protocol, the only code that knows a wire format (Hono's adapters, for protocols): chosen
 * once per request by {@link protocolOf}, it reads the request into the Action's typed input and
 * writes the Action's output, or an error, as its body and status. The stack between (authenticate,
 * authorise, run, audit) is the same for every protocol and never asks which one it is.
 *
 * One instance serves one set of Actions (a function's own, or every Action for the dispatcher)
 * for one service; it is built once, never per request. `Wire` is what it keeps of one request.
 *
 * The calls for one request, in order: `open` (never throws) → `route` (the dispatcher only) →
 * `decode` (the envelope, before authentication) → `claim` (the signature's fields) → `input`
 * (after authentication: the Action's typed input) → `ok` or `fail`.
 */
export interface Protocol<Wire = unknown> {
  /** For logs and the docs: `alibaba` (RPC and ACS3), `aws` (AWS JSON 1.1). */
  readonly name: string;
  /** How the protocol carries plaintexts and data keys: text (Alibaba), bytes (AWS); it is bound into every blob. */
  readonly blobForm: BlobForm;
  /** Whether a request speaks this protocol (lower-case header names). */
  matches(headers: RequestHeaders): boolean;
  /** What `fail` needs even before anything was read (the Host a request used). Never throws. */
  open(request: RpcRequest): Wire;
  /** The Action a request names, read without verifying anything, to pick its stack; undefined when none served here. Never throws. */
  route(request: RpcRequest, wire: Wire): string | undefined;
  /** Reads the envelope (parameters, format, version; a body's shape) before authentication. */
  decode(request: RpcRequest, wire: Wire): void;
  /** The signature's claim, with the Action the request asks for (after `decode`). */
  claim(request: RpcRequest, wire: Wire, claimed: Claimed): Claim;
  /** The typed input of `action` (the request's, authenticated), and whether it is a dry run. */
  input(request: RpcRequest, wire: Wire, action: string): { input: unknown; dryRun: boolean };
  /** The answer of a success. */
  ok(exchange: Exchange<Wire>, output: OperationOutput): RpcResponse | Promise<RpcResponse>;
  /** The answer of an error (`wire` absent: the request was never opened). */
  fail(exchange: Partial<Exchange<Wire>> & { requestId: string }, error: KmsError): RpcResponse;
  /** Fields of the audit line only this protocol knows (AWS: the operation that an Action served). */
  auditFields?(wire: Wire): Partial<AuditRecord>;
}

/** Request headers, names in lower case. */
export type RequestHeaders = Readonly<Record<string, string | undefined>>;

/** What a protocol is told of one request between reading it and answering it. */
export interface Exchange<Wire = unknown> {
  readonly requestId: string;
  readonly wire: Wire;
  /** The region of the verified signature's credential scope (SigV4). */
  signedRegion?: string;
  /** The first key ARN the operation was authorised on. */
  keyArn?: string;
}

/** What a protocol reads of the service it is built for. */
export interface ProtocolScope {
  /** The AWS protocol's: this account, the regions a SigV4 scope may name, the Alibaba ARN region. */
  aws: AwsScope;
  now(): number;
}

/** What a protocol reads of the Actions it serves: each Action's name and its binding in each protocol it speaks. */
export interface ActionBindings {
  name: string;
  alibaba?: AlibabaBinding<unknown>;
  aws?: readonly AwsBinding<unknown, unknown>[];
}

/** Builds a protocol for a set of Actions and a service; without a scope it can only answer errors. */
export type ProtocolFactory = (actions: readonly ActionBindings[], scope: ProtocolScope | undefined) => Protocol<unknown>;
