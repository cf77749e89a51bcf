import { hash, randomBytes } from 'node:crypto';

/** Slots at first; the table doubles (or shrinks) as the number of held nonces requires. */
const MIN_CAPACITY = 1 << 10;

/** A pair's fingerprint in a {@link NonceTable} (see NonceTable.fingerprint): only that table's. */
export type Fingerprint = readonly [hi: number, lo: number];
/** Empty slot; a slot whose nonce was released (a tombstone); anything else is an expiry (epoch ms). */
const EMPTY = 0;
const RELEASED = 1;

/**
 * Used nonces in little memory: an open-addressing table of 64-bit fingerprints and expiries in
 * typed arrays — 16 bytes a slot, a quarter to half of the slots used, so 32–64 bytes per nonce held
 * (a Map of strings took ≈ 130). A replay window of 15 minutes at thousands of requests a second
 * holds millions of nonces; this is where they go.
 *
 * Fingerprints are SHA-256 of a per-process random salt and the (access key, nonce) pair, so no
 * caller can aim at another's entry or at one chain of the table. Two different nonces share a
 * fingerprint with probability 2⁻⁶⁴ per pair held: the cost would be one request refused as a
 * replay, never one served twice. Expired entries are slots like released ones: reused by the next
 * claim that probes them, dropped when the table is rebuilt.
 */
export class NonceTable {
  /** Hex, so the hashed text is unambiguous: the salt never holds the separator. */
  readonly #salt = randomBytes(16).toString('hex');
  #hi = new Uint32Array(MIN_CAPACITY);
  #lo = new Uint32Array(MIN_CAPACITY);
  #expiry = new Float64Array(MIN_CAPACITY);
  /** Slots not EMPTY: held, expired or released. */
  #used = 0;
  /** Slots holding a nonce (some may have expired since). */
  #held = 0;

  /** Nonces held (some may have expired and not been dropped yet). */
  get size(): number {
    return this.#held;
  }

  /** Bytes the table's arrays take. */
  get bytes(): number {
    return this.#hi.byteLength + this.#lo.byteLength + this.#expiry.byteLength;
  }

  /** Records the pair until `expiresAt`; false when it is held and has not expired (a replay). */
  claim(accessKeyId: string, nonce: string, expiresAt: number, now: number): boolean {
    return this.claimFingerprint(this.fingerprint(accessKeyId, nonce), expiresAt, now);
  }

  /** {@link claim} of a pair by its {@link fingerprint}: a caller that looks a pair up before it claims it hashes it once. */
  claimFingerprint([hi, lo]: Fingerprint, expiresAt: number, now: number): boolean {
    const mask = this.#hi.length - 1;
    let reusable = -1;
    for (let i = lo & mask; ; i = (i + 1) & mask) {
      const expiry = this.#expiry[i]!;
      if (expiry === EMPTY) {
        const slot = reusable === -1 ? i : reusable;
        if (slot === i) this.#used++;
        this.#put(slot, hi, lo, expiresAt);
        if (this.#used * 2 > this.#hi.length) this.#rebuild(now);
        return true;
      }
      if (this.#hi[i] === hi && this.#lo[i] === lo && expiry !== RELEASED) {
        if (expiry > now) return false;
        // Held before, expired since: claimed anew in place.
        this.#expiry[i] = expiresAt;
        return true;
      }
      if (reusable === -1 && (expiry === RELEASED || expiry <= now)) reusable = i;
    }
  }

  /** Whether the pair is held and not expired. */
  has(accessKeyId: string, nonce: string, now: number): boolean {
    return this.hasFingerprint(this.fingerprint(accessKeyId, nonce), now);
  }

  hasFingerprint(fingerprint: Fingerprint, now: number): boolean {
    const i = this.#find(fingerprint);
    return i !== -1 && this.#expiry[i]! > now;
  }

  /** Forgets a claim (one that could not be made durable), so its request can be retried. */
  release(accessKeyId: string, nonce: string): void {
    this.releaseFingerprint(this.fingerprint(accessKeyId, nonce));
  }

  releaseFingerprint(fingerprint: Fingerprint): void {
    const i = this.#find(fingerprint);
    if (i === -1) return;
    this.#expiry[i] = RELEASED;
    this.#held--;
  }

  #find([hi, lo]: Fingerprint): number {
    const mask = this.#hi.length - 1;
    for (let i = lo & mask; ; i = (i + 1) & mask) {
      const expiry = this.#expiry[i]!;
      if (expiry === EMPTY) return -1;
      if (this.#hi[i] === hi && this.#lo[i] === lo && expiry !== RELEASED) return i;
    }
  }

  #put(slot: number, hi: number, lo: number, expiresAt: number): void {
    const previous = this.#expiry[slot]!;
    // A reused slot held an expired nonce (no longer counted once replaced) or a released one.
    if (previous !== EMPTY && previous !== RELEASED) this.#held--;
    this.#hi[slot] = hi;
    this.#lo[slot] = lo;
    this.#expiry[slot] = Math.max(expiresAt, RELEASED + 1);
    this.#held++;
  }

  /** Re-lays the table for the nonces still live: at least three slots for each (so it doubles when full of live ones). */
  #rebuild(now: number): void {
    const [hi, lo, expiry] = [this.#hi, this.#lo, this.#expiry];
    let live = 0;
    for (let i = 0; i < expiry.length; i++) if (expiry[i]! > now) live++;
    let capacity = MIN_CAPACITY;
    while (capacity < live * 3) capacity *= 2;
    this.#hi = new Uint32Array(capacity);
    this.#lo = new Uint32Array(capacity);
    this.#expiry = new Float64Array(capacity);
    this.#used = 0;
    this.#held = 0;
    const mask = capacity - 1;
    for (let i = 0; i < expiry.length; i++) {
      if (!(expiry[i]! > now)) continue;
      let j = lo[i]! & mask;
      while (this.#expiry[j] !== EMPTY) j = (j + 1) & mask;
      this.#hi[j] = hi[i]!;
      this.#lo[j] = lo[i]!;
      this.#expiry[j] = expiry[i]!;
      this.#used++;
      this.#held++;
    }
  }

  /** The pair's 64-bit salted fingerprint, as the table holds it. */
  fingerprint(accessKeyId: string, nonce: string): Fingerprint {
    // One-shot hash: no Hash object per request (this runs on every signed request).
    const digest = hash('sha256', `${this.#salt}\n${accessKeyId}\n${nonce}`, 'buffer');
    return [digest.readUInt32LE(0), digest.readUInt32LE(4)];
  }
}
