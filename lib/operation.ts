import type { Principal } from './access-keys.js';
import type { BlobForm } from './crypto/envelope.js';
import type { Service } from './service.js';

/** What an operation may use. It knows nothing of HTTP. */
export interface OperationContext {
  service: Service;
  principal: Principal;
  requestId: string;
  /** The RPC Action being served. */
  action: string;
  /** How the request's protocol carries plaintexts and data keys: text (Alibaba's) or bytes (AWS's); see BlobForm. */
  blobForm: BlobForm;
  /**
   * Checks the caller's policy for `action` (default: the operation's own, `kms:<Action>`) on a
   * resource ARN; throws `denied` when given, else NoPermissionError naming the action and the
   * resource. Every operation must call it at least once in `resolve`: the stack refuses to run
   * one that did not (fail closed).
   *
   * Policy conditions see the request's source address and transport, the service's clock, and an
   * EncryptionContext: `options.encryptionContext` when given, else the validated input's
   * `EncryptionContext` parameter (empty when the operation has none). An operation with several
   * contexts (ReEncrypt) passes the one that goes with each resource.
   */
  authorize(resource: string, action?: string, denied?: () => Error, options?: AuthorizeOptions): void;
  /**
   * Before anything that depends on whether a resource exists (a store read): throws as
   * `authorize` would (`denied`, else NoPermissionError naming `scope.resource`) unless the
   * caller's policy could allow `action` on some resource of the scope: `resource` itself, or
   * with `suffix`, any resource whose ARN is `resource` followed by characters of that class (an
   * alias's key: see `anyKeyScope`; with `suffixLength`, exactly that many). With `awsArnPrefixes`, `resource` is matched as written and
   * the resource's AWS ARNs are those prefixes followed by characters of `suffix` (a secret's
   * ARNs before its suffix is read). So a caller who may not act on any such resource gets the
   * same answer, on the same path, whether or not the resource exists. It authorises nothing:
   * `authorize` must still be called on the resource found.
   */
  authorizeAny(
    scope: { resource: string; suffix?: RegExp; suffixLength?: number; awsArnPrefixes?: readonly string[] },
    action?: string,
    denied?: () => Error,
    options?: AuthorizeOptions,
  ): void;
}

export interface AuthorizeOptions {
  /** The EncryptionContext `kms:EncryptionContext:<key>` conditions read; default: the input's `EncryptionContext`. */
  encryptionContext?: ReadonlyMap<string, string>;
  /** The tags `kms:tag/<TagKey>` conditions read: the resource key's (CreateKey: the requested ones); default none. */
  resourceTags?: ReadonlyMap<string, string>;
  /** The resource's AWS ARNs, when its acs ARN does not give them (a secret's carry its suffix); default: derived. */
  awsArns?: readonly string[];
}

/** Response fields besides RequestId, in the order they are serialised. */
export type OperationOutput = Record<string, unknown>;

/** The RAM action that names an RPC Action. */
export function permissionOf(action: string): string {
  return `kms:${action}`;
}
