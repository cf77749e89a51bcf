import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JournaledNonceStore } from '../../lib/keystore/file/nonce-journal.js';

const journal = async () => join(await mkdtemp(join(tmpdir(), 'kms-nonces-')), 'nonces.journal');

describe('Class: JournaledNonceStore', () => {
  it('when a nonce was claimed before a restart, the reopened store refuses it until it expires', async () => {
    const path = await journal();
    let now = 1_000_000;
    const first = await JournaledNonceStore.open(path, () => now);
    expect(await first.claim('AK1', 'n1', now + 60_000)).toBe(true);
    expect(await first.claim('AK1', 'n1', now + 60_000)).toBe(false);

    const reopened = await JournaledNonceStore.open(path, () => now);
    expect(await reopened.claim('AK1', 'n1', now + 60_000)).toBe(false);
    expect(await reopened.claim('AK2', 'n1', now + 60_000)).toBe(true);

    now += 61_000;
    const later = await JournaledNonceStore.open(path, () => now);
    expect(await later.claim('AK1', 'n1', now + 60_000)).toBe(true);
  });

  it('when many claims arrive in one turn, each is answered after the journal holds it, and a duplicate among them is refused once', async () => {
    const path = await journal();
    const store = await JournaledNonceStore.open(path);
    const expiresAt = Date.now() + 60_000;
    const results = await Promise.all([...Array.from({ length: 50 }, (_, i) => store.claim('AK', `n${i}`, expiresAt)), store.claim('AK', 'n0', expiresAt)]);
    expect(results.filter(Boolean)).toHaveLength(50);
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(50);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('when the journal holds expired and malformed lines, opening drops them and keeps the live ones', async () => {
    const path = await journal();
    const now = 5_000_000;
    await writeFile(path, `${now - 1}\tAK\told\ngarbage\n${now + 10_000}\tAK\tlive\n`);
    const store = await JournaledNonceStore.open(path, () => now);
    expect(await readFile(path, 'utf8')).toBe(`${now + 10_000}\tAK\tlive\n`);
    expect(await store.claim('AK', 'live', now + 10_000)).toBe(false);
    expect(await store.claim('AK', 'old', now + 10_000)).toBe(true);
  });

  it('when a nonce holds a tab or newline, it cannot forge another line of the journal', async () => {
    const path = await journal();
    const expiresAt = Date.now() + 60_000;
    const store = await JournaledNonceStore.open(path);
    expect(await store.claim('AK', `x\n${expiresAt}\tAK\tforged`, expiresAt)).toBe(true);
    const reopened = await JournaledNonceStore.open(path);
    expect(await reopened.claim('AK', 'forged', expiresAt)).toBe(true);
    expect(await reopened.claim('AK', `x\n${expiresAt}\tAK\tforged`, expiresAt)).toBe(false);
  });
});
