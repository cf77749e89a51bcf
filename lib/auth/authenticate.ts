import {
  AccessKeyInactiveError,
  AccessKeyNotFoundError,
  IllegalTimestampError,
  SignatureDoesNotMatchError,
  SignatureNonceUsedError,
  TimestampExpiredError,
} from '../errors.js';
import type { AccessKeyRegistry, Principal } from '../access-keys.js';
import type { Claim, Claimed } from './claim.js';
import type { NonceStore } from '../keystore/nonce-store.js';

export { SIGNED_FIELD_LIMITS } from './claim.js';

/** How far a request's timestamp may be from the server clock, either way. */
export const TIMESTAMP_WINDOW_MS = 15 * 60_000;

export interface AuthenticationDeps {
  accessKeys: Pick<AccessKeyRegistry, 'lookup'>;
  nonces: NonceStore;
  now: () => number;
  /** Admission of a verified request before its nonce is claimed (rate limits): throws or rejects to refuse. */
  admit?: (principal: Principal, action: string) => void | Promise<void>;
  /**
   * Told the access key id the request claims as soon as its signed fields parse (`verified`
   * false), and again once the signature matched that key's secret (`verified` true), so that a
   * request refused later (timestamp, unknown or inactive key, signature, throttling, nonce) is
   * still attributed. The id is at most SIGNED_FIELD_LIMITS.accessKeyIdChars characters.
   */
  attribute?: (accessKeyId: string, verified: boolean) => void;
  /**
   * Return before the nonce claim is decided, with the claim in {@link Authenticated.nonceClaimed}:
   * for an Action that changes nothing, whose work may overlap the claim. The caller must await
   * it before the request has any effect or gets any answer.
   */
  claimConcurrently?: boolean;
}

/** The verified caller, and the Action the signature covers. */
export interface Authenticated {
  principal: Principal;
  action: string;
  /** SigV4: the region of the credential scope. */
  region?: string;
  /**
   * With `claimConcurrently`: the nonce claim, still running. Rejects with SignatureNonceUsedError
   * for a nonce used before (or the replay store's error): then that is the request's answer.
   */
  nonceClaimed?: Promise<void>;
}

/**
 * Verifies a request's signature claim, read by its protocol's scheme (RPC HMAC-SHA1, ACS3-HMAC-SHA256,
 * SigV4: lib/auth/*-signature.ts, sigv4.ts): its timestamp window and its nonce. There is no unsigned mode.
 *
 * Order: cheap syntactic checks (`readClaim`), then the access key, then the signature, then the
 * key's status, and only a verified request consumes its nonce (an unverified one cannot burn a
 * caller's nonce). The claim is awaited here, unless `claimConcurrently` hands it to the caller.
 */
export async function authenticate(readClaim: (claimed: Claimed) => Claim, deps: AuthenticationDeps): Promise<Authenticated> {
  // Attributed as soon as the id is read: a request refused for any later part of its claim still names it.
  const claim = readClaim((accessKeyId) => {
    deps.attribute?.(accessKeyId, false);
    return accessKeyId;
  });

  const at = claim.at ?? parseTimestamp(claim.timestamp, claim.timestampParameter);
  const now = deps.now();
  if (Math.abs(now - at) > TIMESTAMP_WINDOW_MS) throw new TimestampExpiredError(TIMESTAMP_WINDOW_MS / 60_000);

  const principal = await deps.accessKeys.lookup(claim.accessKeyId);
  if (!principal) throw new AccessKeyNotFoundError();
  if (!claim.verify(principal.secret)) throw new SignatureDoesNotMatchError();
  deps.attribute?.(principal.accessKeyId, true);
  if (!principal.enabled) throw new AccessKeyInactiveError();
  // Rate limits, before any write: a refused request costs the backend nothing.
  const admitted = deps.admit?.(principal, claim.action);
  if (admitted) await admitted;

  // Members assigned, not spread: this runs for every request.
  const authenticated: Authenticated = { principal, action: claim.action };
  if (claim.region) authenticated.region = claim.region;
  if (claim.nonce !== undefined) {
    // Remembered until no timestamp that could carry it is inside the window any more.
    const claimed = deps.nonces.claim(principal.accessKeyId, claim.nonce, Math.max(at, now) + TIMESTAMP_WINDOW_MS).then((fresh) => {
      if (!fresh) throw new SignatureNonceUsedError();
    });
    if (deps.claimConcurrently) {
      // Awaited by the caller; a rejection is never left unhandled if the caller fails first.
      claimed.catch(() => undefined);
      authenticated.nonceClaimed = claimed;
      return authenticated;
    }
    await claimed;
  }
  return authenticated;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,3})?Z$/;

/** `yyyy-MM-ddTHH:mm:ssZ` in UTC (milliseconds tolerated); anything else is an IllegalTimestamp. */
function parseTimestamp(value: string, parameter: string): number {
  const m = TIMESTAMP.exec(value);
  if (!m) throw new IllegalTimestampError(parameter);
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new IllegalTimestampError(parameter);
  return at;
}
