import { alibabaProtocol } from './alibaba/codec.js';
import { awsProtocol } from './aws/codec.js';
import type { ActionBindings, RequestHeaders, Protocol, ProtocolFactory, ProtocolScope } from './protocol.js';

/**
 * The wire protocols served, the first that matches a request speaking it: AWS JSON 1.1 (an
 * X-Amz-Target header), else Alibaba's RPC. A new protocol is one more codec here, ahead of the
 * Alibaba one, which takes whatever no other claims.
 */
const PROTOCOLS: readonly ProtocolFactory[] = [awsProtocol, alibabaProtocol];

/** The protocols for a set of Actions on one service, built once (a function's start, the dispatcher's). */
export function protocolsFor(actions: readonly ActionBindings[], scope: ProtocolScope | undefined): readonly Protocol[] {
  return PROTOCOLS.map((protocol) => protocol(actions, scope));
}

/** The protocol a request speaks: the one lookup per request. */
export function protocolOf(protocols: readonly Protocol[], headers: RequestHeaders): Protocol {
  for (const protocol of protocols) if (protocol.matches(headers)) return protocol;
  return protocols[protocols.length - 1]!;
}

/** Protocols that can only answer (an adapter's refusal of a request it could not read, before any service exists). */
const ANSWERING = protocolsFor([], undefined);

/** The protocol of headers as a platform hands them over (any case, a value or a list), for an answer without a service. */
export function answeringProtocolOf(headers: Readonly<Record<string, string | string[] | undefined>> | undefined | null): Protocol {
  const lower: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(headers ?? {}))
    if (value !== undefined) lower[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  return protocolOf(ANSWERING, lower);
}
