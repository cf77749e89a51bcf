import { describe, expect, it } from 'vitest';
import { InvalidPartitionEventError, InvalidRegistryEntryError, type PartitionEntry, type PartitionRegistry } from '@alibaba-kms-compatible/client';
import { entryFileName } from '../../packages/client/src/partitions/entry.js';

/** A registry to test, and a way around it to store what a damaged or foreign writer would. */
export interface RegistryUnderTest {
  registry: PartitionRegistry;
  /** Stores `text` under `name` (a file name; an object key without the prefix), behind the registry's back. */
  putRaw(name: string, text: string): Promise<void>;
}

/** A valid entry for `partitionId`; `n` makes entries of one partition differ. */
export function entryOf(partitionId: string, n = 0): PartitionEntry {
  return {
    partitionId,
    keyId: 'key-0a1b2c3d-4e5f-6789-abcd-ef0123456789',
    keyVersionId: `version-${n}`,
    ciphertextBlob: Buffer.from(`encrypted data key ${n} of ${partitionId}`).toString('base64'),
    encryptionContext: { partition: partitionId, tenant: 'acme' },
    createdAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
  };
}

/** Runs `tasks` at most `width` at a time. */
async function inBatches<T>(tasks: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < tasks.length; i += width) results.push(...(await Promise.all(tasks.slice(i, i + width).map((task) => task()))));
  return results;
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * The contract of the client package's partitions/registry/registry.ts, run against every backend.
 * `makeRegistry` must return a fresh, empty registry each call.
 */
export function partitionRegistryConformance(name: string, makeRegistry: () => Promise<RegistryUnderTest>): void {
  describe(`Module: partition registry conformance (${name})`, () => {
    describe('method create / get', () => {
      it('when an entry is created, get returns it exactly (every field, a context with several pairs)', async () => {
        const { registry } = await makeRegistry();
        const entry: PartitionEntry = {
          ...entryOf('orders-2026-11'),
          encryptionContext: { partition: 'orders-2026-11', tenant: 'acme "east"', region: 'eu-central-1', note: 'ümlaut ✓ \\ / \n' },
        };
        expect(await registry.create(entry)).toBe('created');
        expect(await registry.get('orders-2026-11')).toEqual(entry);
        expect(await registry.list()).toEqual(['orders-2026-11']);
      });

      it('when the partition has an entry, a second create is existing and the first entry stays as it was (same or different content)', async () => {
        const { registry } = await makeRegistry();
        const first = entryOf('p1', 1);
        expect(await registry.create(first)).toBe('created');
        expect(await registry.create(entryOf('p1', 2))).toBe('existing');
        expect(await registry.create({ ...first, encryptionContext: { partition: 'p1' } })).toBe('existing');
        expect(await registry.create(first)).toBe('existing');
        expect(await registry.get('p1')).toEqual(first);
        expect(await registry.list()).toEqual(['p1']);
      });

      it('when 50 creates of one partition race, exactly one is created, 49 are existing, and the stored entry is the winner’s, whole', async () => {
        const { registry } = await makeRegistry();
        const entries = Array.from({ length: 50 }, (_, i) => entryOf('race', i));
        const outcomes = await Promise.all(entries.map((entry) => registry.create(entry)));
        expect(outcomes.filter((o) => o === 'created')).toHaveLength(1);
        expect(outcomes.filter((o) => o === 'existing')).toHaveLength(49);
        expect(await registry.get('race')).toEqual(entries[outcomes.indexOf('created')]);
        expect(await registry.list()).toEqual(['race']);
      });

      it('when the partition has no entry, get returns undefined (also in a registry nothing was ever written to)', async () => {
        const { registry } = await makeRegistry();
        expect(await registry.get('absent')).toBeUndefined();
        expect(await registry.list()).toEqual([]);
        await registry.create(entryOf('present'));
        expect(await registry.get('absent')).toBeUndefined();
        expect(await registry.get('presen')).toBeUndefined();
        expect(await registry.get('present/')).toBeUndefined();
      });

      it.each([
        ['its context binds another partition', { ...entryOf('p'), encryptionContext: { partition: 'q' } }],
        ['it has an unknown field', { ...entryOf('p'), plaintext: 'never stored' }],
        ['its keyId is empty', { ...entryOf('p'), keyId: '' }],
        ['its partition id is not one', { ...entryOf('p'), partitionId: 'with space', encryptionContext: { partition: 'with space' } }],
      ])('when the entry is not valid (%s), create throws InvalidPartitionEventError and stores nothing', async (_case, entry) => {
        const { registry } = await makeRegistry();
        const error = await registry.create(entry as PartitionEntry).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidPartitionEventError);
        expect(String((error as Error).message)).not.toContain('never stored');
        expect(await registry.list()).toEqual([]);
        expect(await registry.get('p')).toBeUndefined();
      });
    });

    describe('partition ids', () => {
      const ids = [
        'a/b',
        'tenant/acme/month=2026-11',
        'x:y',
        'k=v',
        'a+b',
        'a.b',
        '.',
        '..',
        '...',
        './..',
        '../escape',
        '/',
        '//',
        'A',
        'a',
        '_',
        '-',
        'Z9_z-',
        'a'.repeat(128),
      ];

      it('when ids hold / : = + . (and look like . or ..), each round-trips and list returns exactly them, in byte order', async () => {
        const { registry } = await makeRegistry();
        for (const [i, id] of ids.entries()) expect(await registry.create(entryOf(id, i))).toBe('created');
        for (const [i, id] of ids.entries()) expect(await registry.get(id)).toEqual(entryOf(id, i));
        expect(await registry.list()).toEqual([...ids].sort(byteOrder));
        // One entry each: "a/b" is not under "a", "." is not the registry itself.
        expect(await registry.create(entryOf('a', 99))).toBe('existing');
        expect(await registry.create(entryOf('.', 99))).toBe('existing');
      });
    });

    describe('method list', () => {
      it('when 300 partitions are created, list returns all of them, sorted', async () => {
        const { registry } = await makeRegistry();
        const ids = Array.from({ length: 300 }, (_, i) => [`p-${i}`, `tenant/${i % 7}/month=${i}`, `a.b+${i}:x`][i % 3]!);
        const outcomes = await inBatches(
          ids.map((id, i) => () => registry.create(entryOf(id, i))),
          30,
        );
        expect(outcomes.every((o) => o === 'created')).toBe(true);
        const listed = await registry.list();
        expect(listed).toEqual([...ids].sort(byteOrder));
        expect(new Set(listed).size).toBe(300);
      });

      it('when the registry holds names no entry has (temporary files, strangers, mis-encoded names), list skips them', async () => {
        const under = await makeRegistry();
        await under.registry.create(entryOf('kept'));
        for (const stranger of ['README.txt', 'notes', '%41.json', 'a/b.json', '%2.json', '.json', 'kept.json.bak', '.tmp-0123456789abcdef']) {
          await under.putRaw(stranger, JSON.stringify(entryOf('kept')));
        }
        expect(await under.registry.list()).toEqual(['kept']);
      });
    });

    describe('damaged entries', () => {
      const CANARY = 'SECRET-CANARY-3f9a';
      const damaged: Array<[string, (id: string) => string]> = [
        ['not JSON', () => `{"partitionId": "${CANARY}`],
        ['empty', () => ''],
        ['JSON but not an object', () => JSON.stringify([CANARY])],
        ['missing fields', (id) => JSON.stringify({ partitionId: id, ciphertextBlob: CANARY })],
        ['an unknown field', (id) => JSON.stringify({ ...entryOf(id), secret: CANARY })],
        ['a context that binds another partition', (id) => JSON.stringify({ ...entryOf(id), encryptionContext: { partition: CANARY } })],
        ['the entry of another partition', () => JSON.stringify(entryOf('other', 7))],
      ];

      it.each(damaged)(
        'when the stored entry is %s, get throws InvalidRegistryEntryError without echoing it, and create never overwrites it',
        async (_case, text) => {
          const under = await makeRegistry();
          await under.putRaw(entryFileName('broken'), text('broken'));
          const error = await under.registry.get('broken').catch((e: unknown) => e);
          expect(error).toBeInstanceOf(InvalidRegistryEntryError);
          expect((error as InvalidRegistryEntryError).code).toBe('InvalidRegistryEntry');
          expect((error as Error).message).toContain('broken');
          expect((error as Error).message).not.toContain(CANARY);
          expect(await under.registry.create(entryOf('broken'))).toBe('existing');
          await expect(under.registry.get('broken')).rejects.toBeInstanceOf(InvalidRegistryEntryError);
          expect(await under.registry.list()).toEqual(['broken']);
        },
      );
    });
  });
}
