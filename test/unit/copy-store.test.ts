import { describe, expect, it } from 'vitest';
import { copyStore } from '../../lib/keystore/copy-store.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';

const bytes = (text: string) => Buffer.from(text);

describe('copyStore: moving a store to another backend', () => {
  it('copies every entry with its write-once flag, and a second run finds them all present', async () => {
    const source = new MemoryKeyStore();
    await source.create('keys/k1', bytes('meta'), { writeOnce: false });
    await source.create('key-versions/k1/v1', bytes('material'), { writeOnce: true });
    await source.create('aliases/a', bytes('k1'), { writeOnce: false });
    const target = new MemoryKeyStore();
    expect(await copyStore(source, target)).toEqual({ copied: 3, present: 0, conflicts: [] });
    expect(await target.get('key-versions/k1/v1')).toMatchObject({ writeOnce: true, value: bytes('material') });
    expect(await target.get('keys/k1')).toMatchObject({ writeOnce: false, value: bytes('meta') });
    expect(await copyStore(source, target)).toEqual({ copied: 0, present: 3, conflicts: [] });
  });

  it('leaves an entry the target holds with another value as it is, and names it', async () => {
    const source = new MemoryKeyStore();
    await source.create('keys/k1', bytes('mine'), { writeOnce: false });
    await source.create('keys/k2', bytes('two'), { writeOnce: false });
    const target = new MemoryKeyStore();
    await target.create('keys/k1', bytes('theirs'), { writeOnce: false });
    expect(await copyStore(source, target)).toEqual({ copied: 1, present: 0, conflicts: ['keys/k1'] });
    expect((await target.get('keys/k1'))!.value).toEqual(bytes('theirs'));
  });
});
