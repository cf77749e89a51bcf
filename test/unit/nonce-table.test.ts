import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NonceTable } from '../../lib/keystore/nonce-table.js';

describe('NonceTable: used nonces in typed arrays', () => {
  it('refuses a nonce held until its expiry, takes it again from then on, and keeps pairs of different keys apart', () => {
    const table = new NonceTable();
    expect(table.claim('AK1', 'n', 2_000, 1_000)).toBe(true);
    expect(table.claim('AK1', 'n', 3_000, 1_999)).toBe(false);
    expect(table.claim('AK2', 'n', 3_000, 1_999)).toBe(true);
    expect(table.fingerprint('AK1', 'n')).toEqual(table.fingerprint('AK1', 'n'));
    expect(table.fingerprint('AK1', 'n')).not.toEqual(table.fingerprint('AK2', 'n'));
    expect(table.fingerprint('AK1', 'n')).not.toEqual(new NonceTable().fingerprint('AK1', 'n'));
    expect(table.has('AK1', 'n', 1_999)).toBe(true);
    expect(table.has('AK1', 'n', 2_000)).toBe(false);
    expect(table.claim('AK1', 'n', 5_000, 2_000)).toBe(true);
    expect(table.claim('AK1', 'n', 6_000, 4_999)).toBe(false);
  });

  it('forgets a released claim, so its request can be retried', () => {
    const table = new NonceTable();
    expect(table.claim('AK', 'n', 10_000, 0)).toBe(true);
    table.release('AK', 'n');
    expect(table.has('AK', 'n', 1)).toBe(false);
    expect(table.claim('AK', 'n', 10_000, 1)).toBe(true);
    expect(table.claim('AK', 'n', 10_000, 2)).toBe(false);
  });

  it('holds 200,000 nonces in about 32 bytes each, every one refused again, and drops the expired when it grows', () => {
    const table = new NonceTable();
    for (let i = 0; i < 200_000; i++) expect(table.claim('AK', `nonce-${i}`, 1_000_000, 0)).toBe(true);
    expect(table.size).toBe(200_000);
    expect(table.bytes / table.size).toBeLessThanOrEqual(64);
    for (let i = 0; i < 200_000; i += 997) expect(table.claim('AK', `nonce-${i}`, 1_000_000, 1)).toBe(false);
    // All expired: new claims reuse their slots and growth rebuilds without them.
    for (let i = 0; i < 200_000; i++) table.claim('AK', `later-${i}`, 3_000_000, 2_000_000);
    expect(table.size).toBeLessThanOrEqual(200_000 + 1);
    expect(table.has('AK', 'nonce-5', 2_000_000)).toBe(false);
    expect(table.has('AK', 'later-5', 2_000_000)).toBe(true);
  });

  describe('while a rebuild moves the nonces to a new table a few at a time (each claim moves some)', () => {
    /** A table whose 513th claim filled more than half of its 1,024 slots, so a rebuild has just started; its nonces in `order`. */
    const rebuilding = (order: 'forward' | 'backward') => {
      const table = new NonceTable({ minCapacity: 1024 });
      const nonces = Array.from({ length: 513 }, (_, i) => `n${i}`);
      for (const nonce of nonces) expect(table.claim('AK', nonce, 10_000, 0)).toBe(true);
      return { table, nonces: order === 'forward' ? nonces : nonces.reverse() };
    };

    it.each(['forward', 'backward'] as const)('every nonce is found and refused, whichever table holds it (%s)', (order) => {
      const { table, nonces } = rebuilding(order);
      for (const nonce of nonces) {
        expect(table.has('AK', nonce, 1)).toBe(true);
        expect(table.claim('AK', nonce, 10_000, 1)).toBe(false);
      }
      expect(table.size).toBe(513);
    });

    it.each(['forward', 'backward'] as const)('a released nonce is forgotten, and can be claimed once again (%s)', (order) => {
      const { table, nonces } = rebuilding(order);
      for (const nonce of nonces.slice(0, 100)) table.release('AK', nonce);
      expect(table.size).toBe(413);
      for (const nonce of nonces.slice(0, 100)) {
        expect(table.has('AK', nonce, 2)).toBe(false);
        expect(table.claim('AK', nonce, 10_000, 2)).toBe(true);
        expect(table.claim('AK', nonce, 10_000, 2)).toBe(false);
      }
      expect(table.size).toBe(513);
    });

    it.each(['forward', 'backward'] as const)('an expired nonce is claimed anew, once, and counted once (%s)', (order) => {
      const { table, nonces } = rebuilding(order);
      for (const nonce of nonces) expect(table.claim('AK', nonce, 30_000, 20_000)).toBe(true);
      expect(table.size).toBe(513);
      for (const nonce of nonces) expect(table.claim('AK', nonce, 30_000, 20_001)).toBe(false);
      // The move is over: what it carried over is as claimed, and nothing expired came back.
      for (let i = 0; i < 2_000; i++) table.claim('AK', `more-${i}`, 30_000, 20_002);
      for (const nonce of nonces) expect(table.has('AK', nonce, 20_003)).toBe(true);
      expect(table.size).toBe(2_513);
    });
  });

  it('when the clock steps back during a rebuild, claims still return, and nonces dropped as expired at the rebuild stay dropped', () => {
    const table = new NonceTable({ minCapacity: 16 });
    let now = 1_000;
    let n = 0;
    // Nonces valid until 2,000, until a rebuild starts with more than 300 of them held…
    let capacity = 0;
    for (;;) {
      const bytes = table.bytes;
      table.claim('AK', `n${n++}`, 2_000, now);
      if (table.bytes > bytes && n > 300) {
        capacity = (table.bytes - bytes) / 16;
        break;
      }
    }
    // …and on until its new table is exactly half full.
    for (let used = n; used < capacity / 2; used++) table.claim('AK', `n${n++}`, 2_000, now);
    // The clock jumps forward (all of them look expired) until the next rebuild starts: its table is sized for none of them.
    now = 10_000_000;
    const before = table.bytes;
    let k = 0;
    while (table.bytes <= before) table.claim('AK', `forward-${k++}`, now + 1_000, now);
    // And back: they would look live again, but none may be moved into a table sized without them
    // (it would fill up, and a claim would probe it for ever).
    now = 1_500;
    for (let j = 0; j < 200; j++) expect(table.claim('AK', `back-${j}`, 3_000, now)).toBe(true);
    expect(table.size).toBe(k + 200);
    for (let j = 0; j < 200; j++) expect(table.claim('AK', `back-${j}`, 3_000, now)).toBe(false);
  });

  it.each([
    ['a table that never grows', 1024, 40, 200],
    ['a table of 4 slots at first, rebuilt over and over while claims go on (grown, and cleared of the expired)', 4, 400, 20_000],
  ])('agrees with a plain map on any sequence of claims, releases and times, by name or by fingerprint alike: %s', (_, minCapacity, keys, maxTtl) => {
    const step = fc.record({
      byFingerprint: fc.boolean(),
      op: fc.constantFrom('claim', 'claim', 'claim', 'release', 'has'),
      key: fc.integer({ min: 0, max: keys }),
      advance: fc.integer({ min: 0, max: 50 }),
      ttl: fc.integer({ min: 1, max: maxTtl }),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 800 }), (steps) => {
        const table = new NonceTable({ minCapacity });
        const model = new Map<number, number>();
        let now = 10;
        for (const s of steps) {
          now += s.advance;
          const nonce = `n${s.key}`;
          if (s.op === 'claim') {
            const held = (model.get(s.key) ?? 0) > now;
            const claimed = s.byFingerprint
              ? table.claimFingerprint(table.fingerprint('AK', nonce), now + s.ttl, now)
              : table.claim('AK', nonce, now + s.ttl, now);
            expect(claimed).toBe(!held);
            if (!held) model.set(s.key, now + s.ttl);
          } else if (s.op === 'release') {
            if (s.byFingerprint) table.releaseFingerprint(table.fingerprint('AK', nonce));
            else table.release('AK', nonce);
            model.delete(s.key);
          } else {
            // Held ones only: the table counts those it has not dropped yet, expired or not.
            expect(table.size).toBeGreaterThanOrEqual([...model.values()].filter((expiresAt) => expiresAt > now).length);
            const held = s.byFingerprint ? table.hasFingerprint(table.fingerprint('AK', nonce), now) : table.has('AK', nonce, now);
            expect(held).toBe((model.get(s.key) ?? 0) > now);
          }
        }
      }),
      { seed: 0x7ab1e, numRuns: 300 },
    );
  });
});
