import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPERATIONS } from '../../functions/actions.js';
import { applySeed } from '../../lib/seed.js';
import type { AuditLog } from '../../lib/audit/audit-log.js';
import { MemoryNonceStore, type NonceStore } from '../../lib/keystore/nonce-store.js';
import { ServiceUnavailableError } from '../../lib/errors.js';
import { CHANGES_DIR, FileKeyStore } from '../../lib/keystore/file/file-store.js';
import { type KeyStore, RevisionConflictError } from '../../lib/keystore/key-store.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import { KeyStoreAccessDeniedError, KeyStoreUnavailableError } from '../../lib/keystore/store-errors.js';
import { CLAIM_VOUCHES_FOR_MS, PROBE_ACCESS_KEY_ID, Readiness, WRITE_FAILURE_HOLDS_FOR_MS } from '../../lib/readiness.js';
import { createLogger } from '../../lib/logger.js';
import { createDispatcher } from '../../lib/middleware/dispatch.js';
import { createService } from '../../lib/service.js';
import { ADMIN, KEY_ID, TEST_SEED } from '../helpers/service.js';
import { signedRpcRequest } from '../helpers/sign.js';

/*
 * Readiness follows what the stores do with writes, not only whether they answer a read: a full
 * disk or a read-only database makes every request a 503 while reads still work.
 */

/** A replay store whose disk can be made to refuse, counting the claims that reach it. */
class FlakyNonces implements NonceStore {
  failing = false;
  claims: string[] = [];
  readonly #inner = new MemoryNonceStore();
  async claim(accessKeyId: string, nonce: string, expiresAt: number): Promise<boolean> {
    this.claims.push(accessKeyId);
    if (this.failing) throw new ServiceUnavailableError({ cause: Object.assign(new Error('no space'), { code: 'ENOSPC' }) });
    return this.#inner.claim(accessKeyId, nonce, expiresAt);
  }
}

function setup() {
  let now = 1_000_000;
  const clock = { advance: (ms: number) => (now += ms) };
  const readiness = new Readiness(() => now);
  const flaky = new FlakyNonces();
  const nonces = readiness.watchNonces(flaky);
  const inner = new MemoryKeyStore();
  const store = readiness.watchStore(inner);
  const check = () => readiness.check(() => store.get('meta/ready-probe'), nonces);
  const probeClaims = () => flaky.claims.filter((id) => id === PROBE_ACCESS_KEY_ID).length;
  return { clock, flaky, nonces, inner, store, check, probeClaims };
}

describe('Readiness', () => {
  it('when idle, the probe claims a nonce of its own (a write), at most once per second; a recent request claim vouches instead', async () => {
    const t = setup();
    await t.check();
    expect(t.probeClaims()).toBe(1);
    t.clock.advance(CLAIM_VOUCHES_FOR_MS - 1);
    await t.check();
    expect(t.probeClaims()).toBe(1);
    t.clock.advance(1);
    await t.check();
    expect(t.probeClaims()).toBe(2);
    t.clock.advance(CLAIM_VOUCHES_FOR_MS * 10);
    await t.nonces.claim('LTAIcaller', 'n-1', Date.now() + 60_000);
    await t.check();
    expect(t.probeClaims()).toBe(2);
  });

  it('when claims fail (a full disk under the journal), it is unready at once and stays so while they fail, with no traffic; ready again once a claim succeeds', async () => {
    const t = setup();
    await t.nonces.claim('LTAIcaller', 'n-1', Date.now() + 60_000);
    await t.check();
    t.flaky.failing = true;
    await expect(t.nonces.claim('LTAIcaller', 'n-2', Date.now() + 60_000)).rejects.toBeInstanceOf(ServiceUnavailableError);
    // The earlier success no longer vouches: the latest claim failed.
    await expect(t.check()).rejects.toBeInstanceOf(ServiceUnavailableError);
    for (let i = 0; i < 3; i++) {
      t.clock.advance(10_000);
      await expect(t.check()).rejects.toBeInstanceOf(ServiceUnavailableError);
    }
    t.flaky.failing = false;
    await t.check();
    await t.check();
  });

  it('when the disk fills while idle, the next probe past the vouching window notices it', async () => {
    const t = setup();
    await t.check();
    t.flaky.failing = true;
    t.clock.advance(CLAIM_VOUCHES_FOR_MS);
    await expect(t.check()).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it('a replay refused is an answer of the store, not a failure', async () => {
    const t = setup();
    await t.nonces.claim('LTAIcaller', 'same', Date.now() + 60_000);
    expect(await t.nonces.claim('LTAIcaller', 'same', Date.now() + 60_000)).toBe(false);
    const before = t.probeClaims();
    await t.check();
    expect(t.probeClaims()).toBe(before);
  });

  it('a key-store write refused as unavailable makes it unready for a while, unless a later write succeeds; conflicts are answers', async () => {
    const t = setup();
    await t.store.create('keys/a', Buffer.from('a'), { writeOnce: false });
    const refuse = () => {
      t.inner.update = async (name) => {
        throw new KeyStoreUnavailableError('io', 'update', name, { detail: 'ENOSPC' });
      };
    };
    const conflict = () => {
      t.inner.update = async (name) => {
        throw new RevisionConflictError(name);
      };
    };
    refuse();
    await expect(t.store.update('keys/a', 1, Buffer.from('b'))).rejects.toBeInstanceOf(KeyStoreUnavailableError);
    await expect(t.check()).rejects.toBeInstanceOf(ServiceUnavailableError);
    t.clock.advance(WRITE_FAILURE_HOLDS_FOR_MS - 1);
    await expect(t.check()).rejects.toBeInstanceOf(ServiceUnavailableError);
    t.clock.advance(1);
    await t.check();

    // A later write that succeeds clears it at once.
    await expect(t.store.update('keys/a', 1, Buffer.from('b'))).rejects.toBeInstanceOf(KeyStoreUnavailableError);
    await expect(t.check()).rejects.toBeInstanceOf(ServiceUnavailableError);
    await t.store.create('keys/b', Buffer.from('b'), { writeOnce: false });
    await t.check();

    conflict();
    await expect(t.store.update('keys/a', 1, Buffer.from('c'))).rejects.toBeInstanceOf(RevisionConflictError);
    await t.check();
  });

  const contention: Array<[string, () => Error]> = [
    ['busy (a file entry lock held past the wait, a PostgreSQL serialization failure)', () => new KeyStoreUnavailableError('busy', 'update', 'keys/a')],
    ['throttled (DynamoDB, Secrets Manager)', () => new KeyStoreUnavailableError('throttled', 'update', 'keys/a')],
    ['throttled, as a caching store reports it', () => new ServiceUnavailableError({ cause: new KeyStoreUnavailableError('throttled', 'update', 'keys/a') })],
  ];
  const cannotWrite: Array<[string, () => Error]> = [
    ['io (a full or read-only disk)', () => new KeyStoreUnavailableError('io', 'update', 'keys/a', { detail: 'ENOSPC' })],
    ['network (unreachable)', () => new KeyStoreUnavailableError('network', 'update', 'keys/a')],
    ['timeout', () => new KeyStoreUnavailableError('timeout', 'update', 'keys/a')],
    ['server (a read-only database)', () => new KeyStoreUnavailableError('server', 'update', 'keys/a')],
    ['unknown-outcome', () => new KeyStoreUnavailableError('unknown-outcome', 'update', 'keys/a')],
    ['denied', () => new KeyStoreAccessDeniedError('update', 'keys/a')],
    ['io, as a caching store reports it', () => new ServiceUnavailableError({ cause: new KeyStoreUnavailableError('io', 'update', 'keys/a') })],
  ];

  it.each(contention)('a key-store write that met contention — %s — counts neither way: ready stays ready, unready stays unready', async (_reason, error) => {
    const t = setup();
    await t.store.create('keys/a', Buffer.from('a'), { writeOnce: false });
    const update = t.inner.update.bind(t.inner);
    let failure: (() => Error) | undefined;
    t.inner.update = async (name, revision, value) => {
      if (failure) throw failure();
      return update(name, revision, value);
    };
    await t.check();
    failure = error;
    for (let i = 0; i < 3; i++) await expect(t.store.update('keys/a', 1, Buffer.from('b'))).rejects.toThrow();
    await t.check();

    failure = () => new KeyStoreUnavailableError('io', 'update', 'keys/a', { detail: 'ENOSPC' });
    await expect(t.store.update('keys/a', 1, Buffer.from('b'))).rejects.toThrow();
    await expect(t.check()).rejects.toBeInstanceOf(ServiceUnavailableError);
    failure = error;
    await expect(t.store.update('keys/a', 1, Buffer.from('b'))).rejects.toThrow();
    await expect(t.check()).rejects.toBeInstanceOf(ServiceUnavailableError);
    failure = undefined;
    await t.store.update('keys/a', 1, Buffer.from('b'));
    await t.check();
  });

  it.each(cannotWrite)('a key-store write refused because the store cannot take writes — %s — makes it unready', async (_reason, error) => {
    const t = setup();
    await t.store.create('keys/a', Buffer.from('a'), { writeOnce: false });
    t.inner.update = async () => {
      throw error();
    };
    await t.check();
    await expect(t.store.update('keys/a', 1, Buffer.from('b'))).rejects.toThrow();
    await expect(t.check()).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  it('a read that fails is unready, whatever the writes did', async () => {
    const t = setup();
    t.inner.get = async (name) => {
      throw new KeyStoreUnavailableError('network', 'get', name);
    };
    await expect(t.check()).rejects.toBeInstanceOf(KeyStoreUnavailableError);
  });
});

describe('Service.probe', () => {
  it('rejects while the replay store refuses, or the audit log cannot be written; resolves again after', async () => {
    const flaky = new FlakyNonces();
    let auditBroken = false;
    const audit: AuditLog = {
      write: async () => undefined,
      ready: async () => {
        if (auditBroken) throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
      },
      close: async () => undefined,
    };
    const service = createService({ store: new MemoryKeyStore(), nonces: flaky, audit });
    await service.probe();
    flaky.failing = true;
    await expect(service.nonces.claim('LTAIcaller', 'n', Date.now() + 60_000)).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(service.probe()).rejects.toBeInstanceOf(ServiceUnavailableError);
    flaky.failing = false;
    await service.probe();
    auditBroken = true;
    await expect(service.probe()).rejects.toThrow('no space');
    auditBroken = false;
    await service.probe();
  });

  it('the service’s stores are the watched ones: a write refused through the keyring makes the probe reject', async () => {
    const store = new MemoryKeyStore();
    const service = createService({ store });
    const created = await service.keyring.createKey({});
    store.update = async (name) => {
      throw new KeyStoreUnavailableError('io', 'update', name, { detail: 'ENOSPC' });
    };
    await expect(service.keyring.updateKey(created.keyId, (key) => ({ ...key, state: 'Disabled' }))).rejects.toBeInstanceOf(KeyStoreUnavailableError);
    await expect(service.probe()).rejects.toBeInstanceOf(ServiceUnavailableError);
  });

  /** A seeded service on `store`, and the status of a DescribeKey through it. */
  async function seeded(store: KeyStore) {
    const service = createService({ store, logger: createLogger({ level: 'silent' }) });
    await applySeed(TEST_SEED, service);
    const dispatch = createDispatcher(service, OPERATIONS);
    const describeKey = async () => (await dispatch(signedRpcRequest(ADMIN, 'DescribeKey', { KeyId: KEY_ID }))).statusCode;
    return { service, describeKey };
  }

  it('rejects while the store’s change marker cannot be read (every request is then a 503), and resolves again once it can: a file store whose marker became a directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kms-ready-marker-'));
    try {
      const { service, describeKey } = await seeded(new FileKeyStore(dir));
      expect(await describeKey()).toBe(200);
      await service.probe();
      const marker = join(dir, CHANGES_DIR, 'marker');
      await rename(marker, `${marker}.aside`);
      await mkdir(marker);
      expect(await describeKey()).toBe(503);
      await expect(service.probe()).rejects.toBeInstanceOf(KeyStoreUnavailableError);
      await rm(marker, { recursive: true });
      await rename(`${marker}.aside`, marker);
      expect(await describeKey()).toBe(200);
      await service.probe();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects while the change marker cannot be read on any store (an outage of the marker alone), and resolves again once it can', async () => {
    const store = new MemoryKeyStore();
    let failing = false;
    const read = store.changes.read;
    (store.changes as { read: () => Promise<string> }).read = () =>
      failing ? Promise.reject(new KeyStoreUnavailableError('network', 'changes', undefined)) : read();
    const { service, describeKey } = await seeded(store);
    await service.probe();
    failing = true;
    expect(await describeKey()).toBe(503);
    await expect(service.probe()).rejects.toBeInstanceOf(KeyStoreUnavailableError);
    failing = false;
    expect(await describeKey()).toBe(200);
    await service.probe();
  });
});
