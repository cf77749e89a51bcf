import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  InvalidParameterError,
  KeyDisabledError,
  MissingParameterError,
  SecretExistsError,
  SecretInDeleteWindowError,
  SecretLimitExceededError,
  SecretNotFoundError,
  SecretNotPendingDeletionError,
  SecretStageRuleError,
  SecretVersionExistsError,
  SecretVersionNotFoundError,
} from '../../lib/errors.js';
import { Keyring } from '../../lib/keyring/keyring.js';
import type { KeyStore } from '../../lib/keystore/key-store.js';
import { FileKeyStore } from '../../lib/keystore/file/file-store.js';
import { MemoryKeyStore } from '../../lib/keystore/memory-store.js';
import { awsSecretArn } from '../../lib/secrets/names.js';
import { secretEntryNames } from '../../lib/secrets/records.js';
import { SecretStore, type SecretValue } from '../../lib/secrets/secret-store.js';
import { CURRENT, PENDING, PREVIOUS } from '../../lib/secrets/stages.js';

const REGION = 'cn-hangzhou';
const ACCOUNT = '1234567890123456';
const DAY = 86_400_000;
const text = (s: string): SecretValue => ({ type: 'text', bytes: Buffer.from(s, 'utf8') });
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const STORES: Array<[string, () => Promise<KeyStore>]> = [
  ['the in-memory store', async () => new MemoryKeyStore()],
  [
    'the file store',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'secrets-store-'));
      dirs.push(dir);
      return FileKeyStore.open(dir);
    },
  ],
];

async function setup(makeStore: () => Promise<KeyStore>) {
  const store = await makeStore();
  const clock = { now: Date.parse('2026-03-01T00:00:00Z') };
  const keyring = new Keyring(store, { region: REGION, accountId: ACCOUNT, cacheTtlMs: 0, now: () => clock.now });
  const defaultKey = await keyring.createKey({ description: 'default secrets key' });
  const userKey = await keyring.createKey({ description: 'user key' });
  const secrets = new SecretStore(store, keyring, {
    scope: { region: REGION, accountId: ACCOUNT, awsRegions: new Set(['us-east-1']) },
    defaultKeyId: async () => defaultKey.keyId,
    now: () => clock.now,
  });
  const value = async (ref: string, select?: { versionId?: string; stage?: string }) => (await secrets.getValue(ref, select)).value.toString('utf8');
  const labels = async (ref: string) =>
    Object.fromEntries((await secrets.listVersions(ref, { includeDeprecated: true })).versions.map((v) => [v.versionId, [...v.labels].sort()]));
  return { store, keyring, secrets, clock, defaultKey, userKey, value, labels };
}

describe.each(STORES)('Module: secret store over %s', (_name, makeStore) => {
  describe('create and read', () => {
    it('creates a secret whose first version is Current, readable by every form of reference', async () => {
      const { secrets, value, defaultKey } = await setup(makeStore);
      const { secret, versionId, created } = await secrets.create({
        name: 'db/pass',
        versionId: 'v1',
        value: text('p1'),
        description: 'the db',
        tags: [['env', 'prod']],
      });
      expect({ versionId, created }).toEqual({ versionId: 'v1', created: true });
      expect(secret).toMatchObject({ name: 'db/pass', arn: `acs:kms:${REGION}:${ACCOUNT}:secret/db/pass`, description: 'the db', tags: [['env', 'prod']] });
      expect(secret.kmsKeyId).toBeUndefined();
      expect(secret.suffix).toMatch(/^[A-Za-z0-9]{6}$/);
      const read = await secrets.getValue('db/pass');
      expect(read.version).toMatchObject({ versionId: 'v1', labels: [CURRENT], type: 'text', keyId: defaultKey.keyId });
      for (const ref of [
        'db/pass',
        secret.arn,
        awsSecretArn({ region: 'us-east-1', accountId: ACCOUNT }, 'db/pass', secret.suffix),
        `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:db/pass`,
      ]) {
        expect(await value(ref), ref).toBe('p1');
      }
      await expect(secrets.getValue(awsSecretArn({ region: 'us-east-1', accountId: ACCOUNT }, 'db/pass', 'ZZZZZZ'))).rejects.toThrow(SecretNotFoundError);
    });

    it('AWS may create a secret without a value; its first put becomes Current', async () => {
      const { secrets, value } = await setup(makeStore);
      const { versionId } = await secrets.create({ name: 'empty' });
      expect(versionId).toBeUndefined();
      await expect(secrets.getValue('empty')).rejects.toThrow(SecretVersionNotFoundError);
      await secrets.putValue('empty', { versionId: 'v1', value: text('x'), stages: ['AWSPENDING'] });
      expect(await value('empty', { stage: 'AWSCURRENT' })).toBe('x');
      expect((await secrets.getValue('empty')).version.labels.sort()).toEqual([CURRENT, PENDING].sort());
    });

    it('a name in use is refused, an exact repeat of name, version and value succeeds', async () => {
      const { secrets } = await setup(makeStore);
      const first = await secrets.create({ name: 'a', versionId: 'v1', value: text('x') });
      const again = await secrets.create({ name: 'a', versionId: 'v1', value: text('x') });
      expect(again).toMatchObject({ created: false, versionId: 'v1' });
      expect(again.secret.suffix).toBe(first.secret.suffix);
      await expect(secrets.create({ name: 'a', versionId: 'v1', value: text('y') })).rejects.toThrow(SecretExistsError);
      await expect(secrets.create({ name: 'a', versionId: 'v2', value: text('x') })).rejects.toThrow(SecretExistsError);
      await expect(secrets.create({ name: 'a', versionId: 'v1', value: { type: 'binary', bytes: Buffer.from('x') } })).rejects.toThrow(SecretExistsError);
      await expect(secrets.create({ name: 'a' })).rejects.toThrow(SecretExistsError);
    });

    it('names are case-sensitive: Secret and secret are two secrets', async () => {
      const { secrets, value } = await setup(makeStore);
      await secrets.create({ name: 'Secret', versionId: 'v1', value: text('upper') });
      await secrets.create({ name: 'secret', versionId: 'v1', value: text('lower') });
      expect([await value('Secret'), await value('secret')]).toEqual(['upper', 'lower']);
    });

    it('refuses bad input before writing anything', async () => {
      const { secrets, store } = await setup(makeStore);
      const before = await store.list('secrets/');
      await expect(secrets.create({ name: 'acs/x', versionId: 'v', value: text('x') })).rejects.toThrow(InvalidParameterError);
      await expect(secrets.create({ name: 'a', value: text('x') })).rejects.toThrow(MissingParameterError);
      await expect(secrets.create({ name: 'a', versionId: 'x'.repeat(65), value: text('x') })).rejects.toThrow(InvalidParameterError);
      await expect(secrets.create({ name: 'a', versionId: 'v', value: text('x'), description: 'd'.repeat(2049) })).rejects.toThrow(InvalidParameterError);
      await expect(secrets.create({ name: 'a', versionId: 'v', value: text('x'), tags: [['aliyun-x', 'v']] })).rejects.toThrow(InvalidParameterError);
      await expect(secrets.create({ name: 'a', versionId: 'v', value: text('x'), kmsKeyId: 'key-nope00000' })).rejects.toThrow();
      expect(await store.list('secrets/')).toEqual(before);
    });

    it('a user key is kept and used; a disabled key fails puts and reads with the key-state error', async () => {
      const { secrets, keyring, userKey } = await setup(makeStore);
      const { secret } = await secrets.create({ name: 'k', versionId: 'v1', value: text('x'), kmsKeyId: userKey.keyId });
      expect(secret.kmsKeyId).toBe(userKey.keyId);
      expect((await secrets.getValue('k')).version.keyId).toBe(userKey.keyId);
      await keyring.updateKey(userKey.keyId, (r) => ({ ...r, state: 'Disabled' }));
      await expect(secrets.getValue('k')).rejects.toThrow(KeyDisabledError);
      await expect(secrets.putValue('k', { versionId: 'v2', value: text('y') })).rejects.toThrow(KeyDisabledError);
      await expect(secrets.create({ name: 'k2', versionId: 'v1', value: text('x'), kmsKeyId: userKey.keyId })).rejects.toThrow(KeyDisabledError);
      expect((await secrets.describe('k')).versions).toHaveLength(1);
    });

    it('binary values keep their bytes; a put may change the type', async () => {
      const { secrets } = await setup(makeStore);
      const bytes = Buffer.from([0, 255, 1, 254, 0]);
      await secrets.create({ name: 'b', versionId: 'v1', value: { type: 'binary', bytes } });
      const read = await secrets.getValue('b');
      expect(read.version.type).toBe('binary');
      expect(read.value.equals(bytes)).toBe(true);
      await secrets.putValue('b', { versionId: 'v2', value: text('now text') });
      expect((await secrets.getValue('b')).version.type).toBe('text');
    });

    it('no plaintext is stored anywhere', async () => {
      const { secrets, store } = await setup(makeStore);
      const plaintext = 'plaintext-that-must-not-be-stored-0123456789';
      await secrets.create({ name: 'p', versionId: 'v1', value: text(plaintext) });
      await secrets.putValue('p', { versionId: 'v2', value: text(`${plaintext}!`) });
      for (const name of await store.list('')) {
        const entry = await store.get(name);
        if (!entry) continue;
        expect(entry.value.includes(Buffer.from(plaintext)), name).toBe(false);
        expect(entry.value.includes(Buffer.from(Buffer.from(plaintext).toString('base64').slice(0, 40))), name).toBe(false);
      }
    });
  });

  describe('versions and stages', () => {
    it('put without stages: Current moves, Previous follows; reads by id and by stage in either spelling', async () => {
      const { secrets, value, labels } = await setup(makeStore);
      await secrets.create({ name: 's', versionId: 'v1', value: text('one') });
      const put = await secrets.putValue('s', { versionId: 'v2', value: text('two') });
      expect(put).toMatchObject({ created: true, version: { versionId: 'v2', labels: [CURRENT] } });
      await secrets.putValue('s', { versionId: 'v3', value: text('three') });
      expect(await labels('s')).toEqual({ v1: [], v2: [PREVIOUS], v3: [CURRENT] });
      expect(await value('s')).toBe('three');
      expect(await value('s', { stage: 'AWSPREVIOUS' })).toBe('two');
      expect(await value('s', { stage: 'ACSPrevious' })).toBe('two');
      expect(await value('s', { versionId: 'v1' })).toBe('one');
      expect(await value('s', { versionId: 'v3', stage: 'AWSCURRENT' })).toBe('three');
      await expect(secrets.getValue('s', { versionId: 'v1', stage: CURRENT })).rejects.toThrow(SecretVersionNotFoundError);
      await expect(secrets.getValue('s', { versionId: 'nope' })).rejects.toThrow(SecretVersionNotFoundError);
      await expect(secrets.getValue('s', { stage: 'nobody' })).rejects.toThrow(SecretVersionNotFoundError);
      expect((await secrets.listVersions('s')).versions.map((v) => v.versionId)).toEqual(['v2', 'v3']);
      expect((await secrets.listVersions('s', { includeDeprecated: true })).versions.map((v) => v.versionId)).toEqual(['v1', 'v2', 'v3']);
    });

    it('puts are idempotent: same id and value is no change, another value or type is refused', async () => {
      const { secrets, labels } = await setup(makeStore);
      await secrets.create({ name: 's', versionId: 'v1', value: text('one') });
      await secrets.putValue('s', { versionId: 'v2', value: text('two') });
      const before = await secrets.describe('s');
      expect(await secrets.putValue('s', { versionId: 'v1', value: text('one') })).toMatchObject({
        created: false,
        version: { versionId: 'v1', labels: [PREVIOUS] },
      });
      expect(await secrets.describe('s')).toEqual(before);
      await expect(secrets.putValue('s', { versionId: 'v1', value: text('other') })).rejects.toThrow(SecretVersionExistsError);
      await expect(secrets.putValue('s', { versionId: 'v1', value: { type: 'binary', bytes: Buffer.from('one') } })).rejects.toThrow(SecretVersionExistsError);
      expect(await labels('s')).toEqual({ v1: [PREVIOUS], v2: [CURRENT] });
    });

    it('a staged rotation: put Pending, then move Current to it (Previous follows)', async () => {
      const { secrets, value, labels } = await setup(makeStore);
      await secrets.create({ name: 's', versionId: 'v1', value: text('old') });
      await secrets.putValue('s', { versionId: 'v2', value: text('new'), stages: ['ACSPending'] });
      expect(await value('s')).toBe('old');
      await expect(secrets.moveStage('s', { stage: 'AWSCURRENT', moveToVersion: 'v2' })).rejects.toThrow(SecretStageRuleError);
      await secrets.moveStage('s', { stage: 'AWSCURRENT', moveToVersion: 'v2', removeFromVersion: 'v1' });
      expect(await labels('s')).toEqual({ v1: [PREVIOUS], v2: [CURRENT, PENDING].sort() });
      await secrets.moveStage('s', { stage: 'AWSPENDING', removeFromVersion: 'v2' });
      expect(await value('s')).toBe('new');
      await expect(secrets.moveStage('s', { stage: CURRENT, removeFromVersion: 'v2' })).rejects.toThrow(SecretStageRuleError);
      await expect(secrets.moveStage('s', { stage: '', moveToVersion: 'v2' })).rejects.toThrow(InvalidParameterError);
      await expect(secrets.putValue('s', { versionId: 'v3', value: text('x'), stages: ['x'.repeat(257)] })).rejects.toThrow(InvalidParameterError);
    });

    it('the limits are the caller’s: 8 per secret through Alibaba, 20 per version through AWS', async () => {
      const { secrets } = await setup(makeStore);
      await secrets.create({ name: 's', versionId: 'v1', value: text('x') });
      await secrets.putValue('s', { versionId: 'v2', value: text('y'), stages: ['a', 'b', 'c', 'd', 'e', 'f'], limits: { labelsPerSecret: 8 } });
      await expect(secrets.putValue('s', { versionId: 'v3', value: text('z'), stages: ['g', 'h'], limits: { labelsPerSecret: 8 } })).rejects.toThrow(
        SecretLimitExceededError,
      );
      await expect(secrets.moveStage('s', { stage: 'g', moveToVersion: 'v1' }, { labelsPerSecret: 8 })).resolves.toBeDefined();
      await expect(secrets.moveStage('s', { stage: 'h', moveToVersion: 'v1' }, { labelsPerSecret: 8 })).rejects.toThrow(SecretLimitExceededError);
      // The failed put left no version behind.
      expect((await secrets.listVersions('s', { includeDeprecated: true })).versions.map((v) => v.versionId)).toEqual(['v1', 'v2']);
    });

    it('keeps at most 100 deprecated versions, dropping the oldest and their values; labelled ones stay', async () => {
      const { secrets, store } = await setup(makeStore);
      const { secret } = await secrets.create({ name: 's', versionId: 'v0', value: text('x') });
      await secrets.putValue('s', { versionId: 'keep', value: text('k'), stages: ['pinned'] });
      for (let i = 1; i <= 103; i++) await secrets.putValue('s', { versionId: `v${i}`, value: text(`x${i}`) });
      const versions = (await secrets.listVersions('s', { includeDeprecated: true })).versions;
      const deprecated = versions.filter((v) => v.labels.length === 0).map((v) => v.versionId);
      expect(deprecated).toHaveLength(100);
      expect(deprecated[0]).toBe('v2');
      expect(versions.map((v) => v.versionId)).toContain('keep');
      expect(versions.map((v) => v.versionId)).not.toContain('v0');
      // The dropped versions' values are destroyed with them.
      expect(await store.list(secretEntryNames.valuesOf(uidOf(await store.get(secretEntryNames.meta(secret.name)))))).toHaveLength(versions.length);
    }, 60_000);

    it('two concurrent puts both land as versions with consistent labels', async () => {
      const { secrets, labels } = await setup(makeStore);
      await secrets.create({ name: 's', versionId: 'v0', value: text('zero') });
      await Promise.all([
        secrets.putValue('s', { versionId: 'a', value: text('A') }),
        secrets.putValue('s', { versionId: 'b', value: text('B') }),
        secrets.putValue('s', { versionId: 'c', value: text('C'), stages: ['x'] }),
      ]);
      const map = await labels('s');
      expect(Object.keys(map).sort()).toEqual(['a', 'b', 'c', 'v0']);
      const all = Object.values(map).flat();
      expect(new Set(all).size).toBe(all.length);
      expect(all.filter((l) => l === CURRENT)).toHaveLength(1);
      expect(all.filter((l) => l === PREVIOUS)).toHaveLength(1);
      expect(map.c).toEqual(['x']);
      // Whichever landed last is Current, the other Previous.
      const current = Object.entries(map).find(([, l]) => l.includes(CURRENT))![0];
      expect(['a', 'b']).toContain(current);
      expect(map[current === 'a' ? 'b' : 'a']).toEqual([PREVIOUS]);
    });

    it('two concurrent puts of one version id: same value both succeed with one version; another value is refused', async () => {
      const { secrets, store } = await setup(makeStore);
      await secrets.create({ name: 's', versionId: 'v0', value: text('zero') });
      const same = await Promise.all([
        secrets.putValue('s', { versionId: 'v1', value: text('one') }),
        secrets.putValue('s', { versionId: 'v1', value: text('one') }),
      ]);
      expect(same.map((r) => r.created).sort()).toEqual([false, true]);
      const results = await Promise.allSettled([
        secrets.putValue('s', { versionId: 'v2', value: text('two') }),
        secrets.putValue('s', { versionId: 'v2', value: text('TWO') }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.find((r) => r.status === 'rejected')!.reason).toBeInstanceOf(SecretVersionExistsError);
      // Losers' value entries are gone: one entry per version.
      const versions = (await secrets.listVersions('s', { includeDeprecated: true })).versions;
      expect(await store.list(secretEntryNames.valuesOf(uidOf(await store.get(secretEntryNames.meta('s')))))).toHaveLength(versions.length);
    });
  });

  describe('metadata', () => {
    it('describe, list, update description and key, tags', async () => {
      const { secrets, clock, userKey, value } = await setup(makeStore);
      await secrets.create({ name: 'b', versionId: 'v1', value: text('x') });
      await secrets.create({ name: 'a', versionId: 'v1', value: text('y'), tags: [['t1', 'v']] });
      expect((await secrets.list()).map((s) => s.name)).toEqual(['a', 'b']);
      clock.now += 5000;
      const updated = await secrets.updateDescription('a', 'new');
      expect(updated.description).toBe('new');
      expect(updated.updatedAt > updated.createdAt).toBe(true);
      await secrets.updateKey('a', userKey.keyId);
      await secrets.putValue('a', { versionId: 'v2', value: text('z') });
      const described = await secrets.describe('a');
      expect(described.kmsKeyId).toBe(userKey.keyId);
      expect(described.versions.map((v) => v.keyId)).toEqual([userKey.keyId, userKey.keyId]);
      expect(await value('a', { versionId: 'v1' })).toBe('y');
      expect((await secrets.updateKey('a', undefined)).kmsKeyId).toBeUndefined();
      expect(
        (
          await secrets.tag('a', [
            ['t2', 'w'],
            ['t1', 'changed'],
          ])
        ).tags,
      ).toEqual([
        ['t1', 'changed'],
        ['t2', 'w'],
      ]);
      expect((await secrets.untag('a', ['t1', 'absent'])).tags).toEqual([['t2', 'w']]);
      const many = Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v'] as [string, string]);
      await expect(secrets.tag('a', many)).rejects.toThrow(SecretLimitExceededError);
      await expect(secrets.tag('a', [['acs:x', 'v']])).rejects.toThrow(InvalidParameterError);
      await expect(secrets.describe('nope')).rejects.toThrow(SecretNotFoundError);
    });
  });

  describe('a new key (UpdateSecret KmsKeyId)', () => {
    it('seals Current, Previous and Pending again under the new key; other versions keep theirs; old entries are destroyed', async () => {
      const { secrets, store, keyring, userKey, defaultKey, value } = await setup(makeStore);
      await secrets.create({ name: 's', versionId: 'v1', value: text('one') });
      await secrets.putValue('s', { versionId: 'v2', value: text('two') });
      await secrets.putValue('s', { versionId: 'v3', value: text('three') });
      await secrets.putValue('s', { versionId: 'v4', value: text('four'), stages: ['AWSPENDING'] });
      await secrets.putValue('s', { versionId: 'v5', value: text('five'), stages: ['custom'] });
      const uid = uidOf(await store.get(secretEntryNames.meta('s')));
      const before = await store.list(secretEntryNames.valuesOf(uid));
      const view = await secrets.updateKey('s', userKey.keyId);
      expect(view.kmsKeyId).toBe(userKey.keyId);
      const keys = Object.fromEntries(view.versions.map((v) => [v.versionId, v.keyId]));
      expect(keys).toEqual({ v1: defaultKey.keyId, v2: userKey.keyId, v3: userKey.keyId, v4: userKey.keyId, v5: defaultKey.keyId });
      const after = await store.list(secretEntryNames.valuesOf(uid));
      expect(after).toHaveLength(5);
      expect(after.filter((e) => before.includes(e))).toHaveLength(2);
      for (const [id, expected] of Object.entries({ v1: 'one', v2: 'two', v3: 'three', v4: 'four', v5: 'five' })) {
        expect(await value('s', { versionId: id })).toBe(expected);
      }
      // The labelled versions no longer need the old key.
      await keyring.updateKey(defaultKey.keyId, (r) => ({ ...r, state: 'Disabled' }));
      expect(await value('s')).toBe('three');
      await expect(secrets.getValue('s', { versionId: 'v1' })).rejects.toThrow(KeyDisabledError);
    });

    it('a new key that cannot seal, or an old key that cannot open, changes nothing', async () => {
      const { secrets, store, keyring, userKey, defaultKey } = await setup(makeStore);
      await secrets.create({ name: 's', versionId: 'v1', value: text('one') });
      const uid = uidOf(await store.get(secretEntryNames.meta('s')));
      const before = await secrets.describe('s');
      const entries = await store.list(secretEntryNames.valuesOf(uid));
      await keyring.updateKey(userKey.keyId, (r) => ({ ...r, state: 'Disabled' }));
      await expect(secrets.updateKey('s', userKey.keyId)).rejects.toThrow(KeyDisabledError);
      await keyring.updateKey(userKey.keyId, (r) => ({ ...r, state: 'Enabled' }));
      await keyring.updateKey(defaultKey.keyId, (r) => ({ ...r, state: 'Disabled' }));
      await expect(secrets.updateKey('s', userKey.keyId)).rejects.toThrow(KeyDisabledError);
      expect(await secrets.describe('s')).toEqual(before);
      expect(await store.list(secretEntryNames.valuesOf(uid))).toEqual(entries);
    });
  });

  describe('deletion', () => {
    it('a scheduled secret is listed, described and restorable, and refuses everything else', async () => {
      const { secrets, clock, value } = await setup(makeStore);
      await secrets.create({ name: 's', versionId: 'v1', value: text('x') });
      const { plannedDeleteAt } = await secrets.scheduleDeletion('s', { windowDays: 7 });
      expect(plannedDeleteAt).toBe(new Date(clock.now + 7 * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z'));
      expect((await secrets.describe('s')).plannedDeleteAt).toBe(plannedDeleteAt);
      expect((await secrets.list()).map((s) => s.name)).toEqual(['s']);
      expect(await secrets.list({ includePlannedDeletion: false })).toEqual([]);
      expect((await secrets.listVersions('s')).versions).toHaveLength(1);
      for (const refused of [
        () => secrets.getValue('s'),
        () => secrets.putValue('s', { versionId: 'v2', value: text('y') }),
        () => secrets.updateDescription('s', 'd'),
        () => secrets.moveStage('s', { stage: 'x', moveToVersion: 'v1' }),
        () => secrets.tag('s', [['a', 'b']]),
        () => secrets.untag('s', ['a']),
        () => secrets.updateKey('s', undefined),
        () => secrets.scheduleDeletion('s'),
        () => secrets.create({ name: 's', versionId: 'v1', value: text('x') }),
      ]) {
        await expect(refused()).rejects.toThrow(SecretInDeleteWindowError);
      }
      const restored = await secrets.restore('s');
      expect(restored.plannedDeleteAt).toBeUndefined();
      expect(await value('s')).toBe('x');
      await expect(secrets.restore('s')).rejects.toThrow(SecretNotPendingDeletionError);
    });

    it.each([6, 31, 7.5])('a window of %s days is InvalidParameter; so is a window with force', async (days) => {
      const { secrets } = await setup(makeStore);
      await secrets.create({ name: 's', versionId: 'v1', value: text('x') });
      await expect(secrets.scheduleDeletion('s', { windowDays: days })).rejects.toThrow(InvalidParameterError);
      await expect(secrets.scheduleDeletion('s', { windowDays: 7, force: true })).rejects.toThrow(InvalidParameterError);
      expect((await secrets.scheduleDeletion('s', { windowDays: 30 })).plannedDeleteAt).toBeDefined();
    });

    it('destroyExpired destroys due secrets only: values, then metadata; the name is free again, with a new ARN suffix', async () => {
      const { secrets, clock, store } = await setup(makeStore);
      const { secret } = await secrets.create({ name: 'gone', versionId: 'v1', value: text('x') });
      await secrets.putValue('gone', { versionId: 'v2', value: text('y') });
      await secrets.create({ name: 'later', versionId: 'v1', value: text('x') });
      await secrets.create({ name: 'live', versionId: 'v1', value: text('x') });
      const uid = uidOf(await store.get(secretEntryNames.meta('gone')));
      await secrets.scheduleDeletion('gone', { windowDays: 7 });
      await secrets.scheduleDeletion('later', { windowDays: 30 });
      clock.now += 7 * DAY - 1000;
      expect(await secrets.destroyExpired()).toEqual([]);
      clock.now += 1000;
      await expect(secrets.restore('gone')).rejects.toThrow(SecretNotFoundError);
      expect(await secrets.destroyExpired()).toEqual(['gone']);
      expect(await store.list(secretEntryNames.valuesOf(uid))).toEqual([]);
      expect(await store.get(secretEntryNames.meta('gone'))).toBeUndefined();
      await expect(secrets.describe('gone')).rejects.toThrow(SecretNotFoundError);
      expect((await secrets.list()).map((s) => s.name)).toEqual(['later', 'live']);
      expect(await secrets.destroyExpired()).toEqual([]);
      const again = await secrets.create({ name: 'gone', versionId: 'v1', value: text('new') });
      expect(again.secret.suffix).not.toBe(secret.suffix);
      await expect(secrets.getValue(awsSecretArn({ region: 'us-east-1', accountId: ACCOUNT }, 'gone', secret.suffix))).rejects.toThrow(SecretNotFoundError);
    });

    it('a forced deletion destroys at once, pending or not, and cannot be restored', async () => {
      const { secrets, store } = await setup(makeStore);
      await secrets.create({ name: 'f', versionId: 'v1', value: text('x') });
      await secrets.create({ name: 'g', versionId: 'v1', value: text('x') });
      await secrets.scheduleDeletion('g');
      await secrets.scheduleDeletion('f', { force: true });
      await secrets.scheduleDeletion('g', { force: true });
      expect(await store.list('secrets/')).toEqual([]);
      await expect(secrets.restore('f')).rejects.toThrow(SecretNotFoundError);
      await expect(secrets.scheduleDeletion('f', { force: true })).rejects.toThrow(SecretNotFoundError);
    });

    it('a destruction that died half-way (claimed, some values gone) is finished by the next run', async () => {
      const { secrets, clock, store } = await setup(makeStore);
      await secrets.create({ name: 's', versionId: 'v1', value: text('x') });
      await secrets.putValue('s', { versionId: 'v2', value: text('y') });
      await secrets.scheduleDeletion('s', { windowDays: 7 });
      const meta = (await store.get(secretEntryNames.meta('s')))!;
      const record = JSON.parse(meta.value.toString('utf8'));
      await store.update(secretEntryNames.meta('s'), meta.revision, Buffer.from(JSON.stringify({ ...record, destructionStarted: 'x' })));
      await store.destroy(secretEntryNames.value(record.uid, record.versions[0].entry));
      await expect(secrets.describe('s')).rejects.toThrow(SecretNotFoundError);
      clock.now += 7 * DAY;
      expect(await secrets.destroyExpired()).toEqual(['s']);
      expect(await store.list('secrets/')).toEqual([]);
    });
  });
});

function uidOf(entry: { value: Buffer } | undefined): string {
  return JSON.parse(entry!.value.toString('utf8')).uid;
}
