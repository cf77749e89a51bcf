import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileKeyStore } from '../../lib/keystore/file/file-store.js';
import { ROTATION_LEASE_SECONDS, rotateDueKeys } from '../../lib/operations/scheduled.js';
import { createTestService, KEY_ID } from '../helpers/service.js';

const DAY = 86_400_000;

/** Two services over one directory (two instances of the scheduled function), with one clock. */
async function twoInstances() {
  const dir = await mkdtemp(join(tmpdir(), 'kms-rotation-'));
  const clock = { now: Date.now() };
  const now = () => clock.now;
  const a = await createTestService({ store: new FileKeyStore(dir), now });
  const b = await createTestService({ store: new FileKeyStore(dir), now });
  // KEY_ID rotates every 7 days; then the clock moves 8 days on, so it is due once.
  await a.service.keyring.updateKey(KEY_ID, (r) => ({
    ...r,
    automaticRotation: 'Enabled',
    rotationInterval: 7 * 86_400,
    nextRotationDate: new Date(clock.now + 7 * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  }));
  clock.now += 8 * DAY;
  return { a, b, clock };
}

describe('Job: scheduled rotation on several instances', () => {
  it('when two instances run at once, a due key is rotated exactly once', async () => {
    const { a, b } = await twoInstances();
    const before = (await a.service.keyring.listVersions(KEY_ID)).length;
    const [ra, rb] = await Promise.all([rotateDueKeys(a.service), rotateDueKeys(b.service)]);
    expect([...ra, ...rb]).toEqual([KEY_ID]);
    expect((await a.service.keyring.listVersions(KEY_ID)).length).toBe(before + 1);
    const record = await a.service.keyring.updateKey(KEY_ID, (r) => r);
    expect(record.rotationClaimedUntil).toBeUndefined();
    expect(record.nextRotationDate! > record.lastRotationDate!).toBe(true);
  });

  it('when a run claimed a key and died before rotating it, another run takes over once the lease lapses', async () => {
    const { a, b, clock } = await twoInstances();
    const before = (await a.service.keyring.listVersions(KEY_ID)).length;
    // The state a crash leaves: the lease is taken, no version was added.
    const leaseUntil = new Date(clock.now + ROTATION_LEASE_SECONDS * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await a.service.keyring.updateKey(KEY_ID, (r) => ({ ...r, rotationClaimedUntil: leaseUntil }));
    expect(await rotateDueKeys(b.service)).toEqual([]);
    clock.now += (ROTATION_LEASE_SECONDS + 1) * 1000;
    expect(await rotateDueKeys(b.service)).toEqual([KEY_ID]);
    expect((await a.service.keyring.listVersions(KEY_ID)).length).toBe(before + 1);
  });
});
