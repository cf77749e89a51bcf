import { hash, randomBytes } from 'node:crypto';

/** Slots at first; the table doubles (or shrinks) as the number of held nonces requires. */
const MIN_CAPACITY = 1 << 10;

/** A pair's fingerprint in a {@link NonceTable} (see NonceTable.fingerprint): only that table's. */
export type Fingerprint = readonly [hi: number, lo: number];
/**
 * Empty slot; a slot whose nonce was released (a tombstone); a slot of the table being rebuilt whose
 * nonce was moved to the new one (a tombstone too); anything else is an expiry (epoch ms).
 */
const EMPTY = 0;
const RELEASED = 1;
const MOVED = 2;

/** A table's slots: fingerprint halves and expiries, in typed arrays of one power-of-two length. */
interface Slots {
  hi: Uint32Array;
  lo: Uint32Array;
  expiry: Float64Array;
}

const slotsOf = (capacity: number): Slots => ({ hi: new Uint32Array(capacity), lo: new Uint32Array(capacity), expiry: new Float64Array(capacity) });

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
 *
 * The table is rebuilt (grown, or cleared of the expired) a little at a time: each claim moves a
 * few slots of the old table to the new one, and until all are moved a pair is looked for in both.
 * Rebuilding in one go held the claim that started it for a time proportional to the nonces held
 * (measured: 133 ms at a million, and every request of the process waited with it).
 */
export class NonceTable {
  /** Hex, so the hashed text is unambiguous: the salt never holds the separator. */
  readonly #salt = randomBytes(16).toString('hex');
  readonly #minCapacity: number;
  /** The table claims go to. */
  #slots: Slots;
  /** During a rebuild, the table being moved out of; its slots below {@link #cursor} are moved. */
  #old: Slots | undefined;
  #cursor = 0;
  /** Old slots moved per claim, so that the move ends well before the new table needs a rebuild. */
  #step = 0;
  /**
   * When the rebuild started: a nonce expired by then is not moved, even if a later claim's `now`
   * is earlier (a clock stepped back). The new table was sized for the others only.
   */
  #rebuiltAt = 0;
  /** Slots of the current table not EMPTY: held, expired or released. */
  #used = 0;
  /** Slots holding a nonce in either table (some may have expired since). */
  #held = 0;

  /** `minCapacity`: slots at first, a power of two (tests make it small, to rebuild often). */
  constructor(options: { minCapacity?: number } = {}) {
    this.#minCapacity = options.minCapacity ?? MIN_CAPACITY;
    this.#slots = slotsOf(this.#minCapacity);
  }

  /** Nonces held (some may have expired and not been dropped yet). */
  get size(): number {
    return this.#held;
  }

  /** Bytes the table's arrays take (both tables', during a rebuild). */
  get bytes(): number {
    const bytesOf = (slots: Slots) => slots.hi.byteLength + slots.lo.byteLength + slots.expiry.byteLength;
    return bytesOf(this.#slots) + (this.#old ? bytesOf(this.#old) : 0);
  }

  /** Records the pair until `expiresAt`; false when it is held and has not expired (a replay). */
  claim(accessKeyId: string, nonce: string, expiresAt: number, now: number): boolean {
    return this.claimFingerprint(this.fingerprint(accessKeyId, nonce), expiresAt, now);
  }

  /** {@link claim} of a pair by its {@link fingerprint}: a caller that looks a pair up before it claims it hashes it once. */
  claimFingerprint(fingerprint: Fingerprint, expiresAt: number, now: number): boolean {
    const old = this.#old;
    if (old) {
      this.#move(old, this.#step, now);
      const i = find(old, fingerprint);
      if (i !== -1) {
        if (old.expiry[i]! > now) return false;
        // Expired there: claimed anew in the current table, and never moved back to life.
        old.expiry[i] = MOVED;
        this.#held--;
      }
    }
    const [hi, lo] = fingerprint;
    const { hi: his, lo: los, expiry: expiries } = this.#slots;
    const mask = his.length - 1;
    let reusable = -1;
    for (let i = lo & mask; ; i = (i + 1) & mask) {
      const expiry = expiries[i]!;
      if (expiry === EMPTY) {
        const slot = reusable === -1 ? i : reusable;
        if (slot === i) this.#used++;
        this.#put(slot, hi, lo, expiresAt);
        if (this.#used * 2 > his.length) this.#rebuild(now);
        return true;
      }
      if (his[i] === hi && los[i] === lo && expiry !== RELEASED) {
        if (expiry > now) return false;
        // Held before, expired since: claimed anew in place.
        expiries[i] = expiresAt;
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
    const i = find(this.#slots, fingerprint);
    if (i !== -1) return this.#slots.expiry[i]! > now;
    const old = this.#old;
    if (!old) return false;
    const j = find(old, fingerprint);
    return j !== -1 && old.expiry[j]! > now;
  }

  /** Forgets a claim (one that could not be made durable), so its request can be retried. */
  release(accessKeyId: string, nonce: string): void {
    this.releaseFingerprint(this.fingerprint(accessKeyId, nonce));
  }

  releaseFingerprint(fingerprint: Fingerprint): void {
    for (const slots of this.#old ? [this.#slots, this.#old] : [this.#slots]) {
      const i = find(slots, fingerprint);
      if (i === -1) continue;
      slots.expiry[i] = RELEASED;
      this.#held--;
      return;
    }
  }

  #put(slot: number, hi: number, lo: number, expiresAt: number): void {
    const { expiry } = this.#slots;
    const previous = expiry[slot]!;
    // A reused slot held an expired nonce (no longer counted once replaced) or a released one.
    if (previous !== EMPTY && previous !== RELEASED) this.#held--;
    this.#slots.hi[slot] = hi;
    this.#slots.lo[slot] = lo;
    // Never one of the markers, whatever a caller passes.
    expiry[slot] = Math.max(expiresAt, MOVED + 1);
    this.#held++;
  }

  /**
   * Starts a new table for the nonces still live: at least three slots for each (so it doubles when
   * full of live ones). A rebuild still under way is finished first. The live ones are counted now
   * (one pass in order, which is quick); they are moved by the claims that follow.
   */
  #rebuild(now: number): void {
    if (this.#old) this.#move(this.#old, Number.POSITIVE_INFINITY, now);
    const current = this.#slots;
    let live = 0;
    for (let i = 0; i < current.expiry.length; i++) if (current.expiry[i]! > now) live++;
    let capacity = this.#minCapacity;
    while (capacity < live * 3) capacity *= 2;
    this.#old = current;
    this.#cursor = 0;
    this.#rebuiltAt = now;
    this.#slots = slotsOf(capacity);
    this.#used = 0;
    // Claims before the new table is half full, less the live ones to move: the move takes at most half of them.
    const room = Math.max(1, Math.floor((capacity / 2 - live) / 2));
    this.#step = Math.max(16, Math.ceil(current.expiry.length / room));
  }

  /** Moves up to `count` slots of the old table, from where the move is, and ends the rebuild after the last. */
  #move(old: Slots, count: number, now: number): void {
    const end = Math.min(old.expiry.length, this.#cursor + count);
    const { hi, lo, expiry } = this.#slots;
    const mask = hi.length - 1;
    for (let i = this.#cursor; i < end; i++) {
      const expiresAt = old.expiry[i]!;
      // An empty slot stays empty: probes that stop there never went past it.
      if (expiresAt === EMPTY || expiresAt === RELEASED || expiresAt === MOVED) continue;
      old.expiry[i] = MOVED;
      if (!(expiresAt > now && expiresAt > this.#rebuiltAt)) {
        this.#held--;
        continue;
      }
      const l = old.lo[i]!;
      let j = l & mask;
      while (expiry[j] !== EMPTY) j = (j + 1) & mask;
      hi[j] = old.hi[i]!;
      lo[j] = l;
      expiry[j] = expiresAt;
      this.#used++;
    }
    this.#cursor = end;
    if (end === old.expiry.length) this.#old = undefined;
  }

  /** The pair's 64-bit salted fingerprint, as the table holds it. */
  fingerprint(accessKeyId: string, nonce: string): Fingerprint {
    // One-shot hash: no Hash object per request (this runs on every signed request).
    const digest = hash('sha256', `${this.#salt}\n${accessKeyId}\n${nonce}`, 'buffer');
    return [digest.readUInt32LE(0), digest.readUInt32LE(4)];
  }
}

/** The slot holding the pair (held, expired or moved-from skipped), or -1. */
function find(slots: Slots, [hi, lo]: Fingerprint): number {
  const { hi: his, lo: los, expiry: expiries } = slots;
  const mask = his.length - 1;
  for (let i = lo & mask; ; i = (i + 1) & mask) {
    const expiry = expiries[i]!;
    if (expiry === EMPTY) return -1;
    if (his[i] === hi && los[i] === lo && expiry !== RELEASED && expiry !== MOVED) return i;
  }
}
