import { sigV4SigningKey } from '@alibaba-kms-compatible/client/signing';

/** Signing keys kept at most: a few per access key in use (its day and the next, each region served). */
export const MAX_SIGNING_KEYS = 1024;

/**
 * The SigV4 signing keys of the secrets verified lately, by day, region and service: a key is four HMACs
 * of the secret, the same for every request of its day, so it is derived once rather than per
 * request. Only keys of verified callers' secrets are asked for (the access key is looked up, and
 * the scope's region and date checked, first), so the map stays small; past
 * {@link MAX_SIGNING_KEYS} the oldest is dropped and zeroed. Keyed by the secret itself: a key's
 * new secret never meets the old one's signing key.
 */
export class SigningKeys {
  readonly #keys = new Map<string, Buffer>();
  readonly #max: number;

  constructor(max = MAX_SIGNING_KEYS) {
    this.#max = max;
  }

  get size(): number {
    return this.#keys.size;
  }

  of(secret: string, scope: { date: string; region: string; service?: string }): Buffer {
    const id = `${scope.date}/${scope.region}/${scope.service ?? 'kms'}/${secret}`;
    let key = this.#keys.get(id);
    if (key === undefined) {
      key = sigV4SigningKey(secret, scope);
      if (this.#keys.size >= this.#max) {
        const [oldest, oldestKey] = this.#keys.entries().next().value as [string, Buffer];
        this.#keys.delete(oldest);
        oldestKey.fill(0);
      }
      this.#keys.set(id, key);
    }
    return key;
  }
}
