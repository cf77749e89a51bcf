import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { startScheduledJobs } from '../../infra/gateway/scheduler.js';
import type { KeyStore } from '../../lib/keystore/key-store.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import { destroyDueKeys, rotateDueKeys, ScheduledJobError } from '../../lib/operations/scheduled.js';
import { KeyStoreUnavailableError } from '../../lib/keystore/store-errors.js';
import { createTestService, DISABLED_KEY_ID, KEY_ID } from '../helpers/service.js';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A store whose writes of one key's entries fail as an outage would, while everything else works. */
function failingFor(inner: KeyStore, keyId: string, operations: ReadonlyArray<keyof KeyStore>, armed: { on: boolean }): KeyStore {
  const fail = (name: string, op: keyof KeyStore) => {
    if (armed.on && operations.includes(op) && name.includes(keyId)) throw new KeyStoreUnavailableError('io', op, name);
  };
  return {
    create: async (name, value, options) => {
      fail(name, 'create');
      return inner.create(name, value, options);
    },
    get: (name) => inner.get(name),
    update: async (name, revision, value) => {
      fail(name, 'update');
      return inner.update(name, revision, value);
    },
    delete: async (name, revision) => {
      fail(name, 'delete');
      return inner.delete(name, revision);
    },
    destroy: async (name) => {
      fail(name, 'destroy');
      return inner.destroy(name);
    },
    list: (prefix) => inner.list(prefix),
    changes: inner.changes,
  };
}

async function twoDueKeys(operations: ReadonlyArray<keyof KeyStore>) {
  const clock = { now: Date.now() };
  const inner = new MemoryKeyStore();
  const logLines: string[] = [];
  const armed = { on: false };
  const t = { ...(await createTestService({ store: failingFor(inner, DISABLED_KEY_ID, operations, armed), now: () => clock.now, logLines })), logLines };
  for (const keyId of [KEY_ID, DISABLED_KEY_ID]) {
    await t.service.keyring.updateKey(keyId, (r) => ({
      ...r,
      state: 'Enabled',
      automaticRotation: 'Enabled',
      rotationInterval: 7 * 86_400,
      nextRotationDate: iso(clock.now + 7 * DAY),
    }));
  }
  armed.on = true;
  return { t, clock, armed };
}

describe('Scheduled jobs report failure instead of success', () => {
  it('when one due key cannot be rotated, the others are rotated and the run throws ScheduledJobError naming the failed key', async () => {
    const { t, clock } = await twoDueKeys(['create']);
    clock.now += 8 * DAY;
    const failure = await rotateDueKeys(t.service).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(ScheduledJobError);
    expect((failure as ScheduledJobError).failed).toEqual([DISABLED_KEY_ID]);
    expect((failure as ScheduledJobError).done).toEqual([KEY_ID]);
    expect((failure as Error).message).toContain(DISABLED_KEY_ID);
    expect((await t.service.keyring.listVersions(KEY_ID)).length).toBe(2);
  });

  it('when one due key cannot be destroyed, the run throws after destroying the others', async () => {
    const { t, clock, armed } = await twoDueKeys(['destroy']);
    armed.on = false;
    for (const keyId of [KEY_ID, DISABLED_KEY_ID]) {
      await t.service.keyring.updateKey(keyId, (r) => ({ ...r, state: 'PendingDeletion', deleteDate: iso(clock.now + DAY) }));
    }
    armed.on = true;
    clock.now += 2 * DAY;
    await expect(destroyDueKeys(t.service)).rejects.toMatchObject({ name: 'ScheduledJobError', job: 'deletion', failed: [DISABLED_KEY_ID], done: [KEY_ID] });
    expect(await t.service.keyring.getKey(KEY_ID)).toBeUndefined();
  });

  it('when a deletion is cancelled between the listing and the claim, the key is kept and the run does not fail', async () => {
    const { t, clock, armed } = await twoDueKeys([]);
    armed.on = false;
    await t.service.keyring.updateKey(KEY_ID, (r) => ({ ...r, state: 'PendingDeletion', deleteDate: iso(clock.now + DAY) }));
    clock.now += 2 * DAY;
    const destroy = t.service.keyring.destroyKey.bind(t.service.keyring);
    t.service.keyring.destroyKey = async (keyId, nowIso) => {
      // CancelKeyDeletion lands first.
      await t.service.keyring.updateKey(keyId, (r) => {
        const { deleteDate: _d, ...rest } = r;
        return { ...rest, state: 'Enabled' };
      });
      return destroy(keyId, nowIso);
    };
    expect(await destroyDueKeys(t.service)).toEqual([]);
    expect(await t.service.keyring.getKey(KEY_ID)).toMatchObject({ state: 'Enabled' });
  });

  it('when nothing is due, or everything due succeeds, the run returns the key ids and does not throw', async () => {
    const { t, clock } = await twoDueKeys([]);
    expect(await rotateDueKeys(t.service)).toEqual([]);
    clock.now += 8 * DAY;
    expect((await rotateDueKeys(t.service)).sort()).toEqual([KEY_ID, DISABLED_KEY_ID].sort());
  });

  it('in the gateway, a failing rotation neither stops the deletion job nor the timer', async () => {
    const { t, clock } = await twoDueKeys(['create']);
    await t.service.keyring.updateKey(KEY_ID, (r) => ({ ...r, state: 'PendingDeletion', deleteDate: iso(clock.now + DAY) }));
    // KEY_ID is due for deletion; DISABLED_KEY_ID for a rotation that fails.
    clock.now += 8 * DAY;
    const stop = startScheduledJobs(t.service, 60_000);
    await stop();
    expect(await t.service.keyring.getKey(KEY_ID)).toBeUndefined();
    expect(t.logLines.join('\n')).toContain('scheduled job failed');
  });
});

describe('Scheduled functions (Lambda handlers)', () => {
  it('when the run cannot even start (no usable store), the handler rejects, so the platform counts an error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kms-scheduled-fn-'));
    await writeFile(join(dir, 'not-a-directory'), '');
    Object.assign(process.env, { KMS_DATA_DIR: join(dir, 'not-a-directory', 'data'), KMS_LOG_LEVEL: 'silent' });
    vi.resetModules();
    const rotate = await import('../../functions/rotate-keys.js');
    const remove = await import('../../functions/delete-expired-keys.js');
    await expect(rotate.handler()).rejects.toThrow();
    await expect(remove.handler()).rejects.toThrow();
  });

  it('when nothing fails, the handlers return what they did', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kms-scheduled-fn-'));
    Object.assign(process.env, { KMS_DATA_DIR: dir, KMS_LOG_LEVEL: 'silent' });
    vi.resetModules();
    const rotate = await import('../../functions/rotate-keys.js');
    const remove = await import('../../functions/delete-expired-keys.js');
    await expect(rotate.handler()).resolves.toEqual({ rotated: [] });
    await expect(remove.handler()).resolves.toEqual({ destroyed: [] });
  });
});
