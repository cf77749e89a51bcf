import { runKmsHere } from '../helpers/cli-in-process.js';
import { CreateSecretCommand, DeleteSecretCommand, GetSecretValueCommand, ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { InternalServiceError } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../infra/cli/exit-codes.js';
import { Keyring } from '../../lib/keyring/keyring.js';
import { openDynamoDbBackend, openMaterialMigration } from '../../lib/keystore/dynamodb/dynamodb-backend.js';
import { dynamoDbBackend } from '../../lib/keystore/dynamodb/config.js';
import type { KeyStore } from '../../lib/keystore/key-store.js';
import { type LegacySecrets, migrateMaterial } from '../../lib/keystore/material-migration.js';
import { MaterialFallbackStore } from '../../lib/keystore/material-fallback-store.js';
import { openSecretsManagerStore } from '../../lib/keystore/secrets-manager/secrets-manager-backend.js';
import { SplitKeyStore } from '../../lib/keystore/split-store.js';
import { createLogger } from '../../lib/logger.js';
import { destroyDueKeys } from '../../lib/operations/scheduled.js';
import { copyStore } from '../../lib/keystore/copy-store.js';
import { openKeyStoreFromEnvironment, serviceFromEnvironment } from '../../lib/service-from-env.js';
import { UnsealedStoreError } from '../../lib/keystore/sealed-store.js';
import { itemBytes, ROOT_KEY_SECRET, type SealedStage, startSealedStage } from '../helpers/sealed-dynamodb.js';

/*
 * The AWS deployment's store: everything, key material included, in one DynamoDB table (dynalite,
 * through the real SDK), sealed under the stage's root key (one Secrets Manager secret: a stateful
 * fake behind aws-sdk-client-mock). No secret per key version any more; a stage that kept
 * material in per-version secrets keeps working (KMS_SECRETS_PREFIX: read-through) until
 * `kms store migrate-material` has copied it into the table.
 */

let stage: SealedStage;
const PREFIX = 'kms/test/';
const logger = createLogger({ level: 'silent' });

beforeAll(async () => {
  stage = await startSealedStage();
});

afterAll(async () => {
  await stage.stop();
});

beforeEach(() => {
  stage.sm.resetHistory();
  stage.fakeSm.failure = undefined;
});

const secretsOfKeys = () => stage.fakeSm.names().filter((n) => n !== ROOT_KEY_SECRET);

/**
 * A stage of the earlier layout: an unsealed table, each version's material a secret under
 * PREFIX (the SplitKeyStore the `dynamodb` backend used with KMS_SECRETS_PREFIX), with `keys`
 * keys of `versions` versions. Returns each version's material by version id.
 */
async function earlierStage(table: string, keys: number, versions: number, options: { sealed: boolean } = { sealed: true }): Promise<Map<string, Buffer>> {
  const config = dynamoDbBackend.fromEnvironment(stage.env(table, { KMS_SECRETS_PREFIX: PREFIX })).legacyMaterial!;
  const raw = await openDynamoDbBackend({ tableName: table, region: 'us-east-1' });
  const store = new SplitKeyStore({ material: openSecretsManagerStore(config, logger), state: raw.store });
  const keyring = new Keyring(store, { region: 'cn-hangzhou', accountId: '1234567890123456', cacheTtlMs: 0 });
  const material = new Map<string, Buffer>();
  for (let k = 0; k < keys; k++) {
    const key = await keyring.createKey({});
    for (let v = 1; v < versions; v++) await keyring.createVersion(key);
    for (const version of await keyring.listVersions(key.keyId)) {
      material.set(version.keyVersionId, Buffer.from((await keyring.versions.find(version.keyVersionId))!.material));
    }
  }
  await raw.close();
  // The upgrade's first step: the operator seals the table in place (`kms store seal`).
  if (options.sealed)
    await (await openKeyStoreFromEnvironment(stage.env(table, { KMS_SECRETS_PREFIX: PREFIX }), logger, { mustExist: true, sealInPlace: true })).close();
  return material;
}

/** Each version's material as a store shows it (through a keyring of its own, nothing cached). */
async function materialOf(store: KeyStore, versionIds: Iterable<string>): Promise<Map<string, Buffer | undefined>> {
  const keyring = new Keyring(store, { region: 'cn-hangzhou', accountId: '1234567890123456', cacheTtlMs: 0 });
  const found = new Map<string, Buffer | undefined>();
  for (const id of versionIds) found.set(id, (await keyring.versions.find(id))?.material);
  return found;
}

describe('KMS_KEY_STORE=dynamodb: key material sealed in the table', () => {
  it('when 30 keys of 3 versions (and one of 1) are made, no secret is created: the only secret is the root key, whatever the number of keys and versions', async () => {
    const table = await stage.newTable();
    const a = await serviceFromEnvironment(stage.env(table));
    const b = await serviceFromEnvironment(stage.env(table));
    const created = async () => stage.sm.commandCalls(CreateSecretCommand).length;
    await a.keyring.createKey({});
    expect(await created()).toBe(0);
    const versionIds = (
      await Promise.all(
        Array.from({ length: 29 }, async () => {
          const key = await a.keyring.createKey({});
          await a.keyring.createVersion(key);
          await a.keyring.createVersion(key);
          return (await a.keyring.listVersions(key.keyId)).map((v) => v.keyVersionId);
        }),
      )
    ).flat();
    expect(versionIds).toHaveLength(87);
    expect(await created()).toBe(0);
    expect(secretsOfKeys()).toEqual([]);
    // Another instance reads every version from the table (Secrets Manager is read for the root key alone).
    stage.sm.resetHistory();
    for (const id of versionIds) expect((await b.keyring.versions.find(id))?.material).toHaveLength(32);
    expect(stage.sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(stage.sm.commandCalls(ListSecretsCommand)).toHaveLength(0);
  });

  it('when a key past its deletion window is destroyed, its material leaves the table, and no secret is touched', async () => {
    const table = await stage.newTable();
    const service = await serviceFromEnvironment(stage.env(table));
    const key = await service.keyring.createKey({});
    await service.keyring.updateKey(key.keyId, (r) => ({
      ...r,
      state: 'PendingDeletion',
      deleteDate: new Date(Date.now() - 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    }));
    expect(await destroyDueKeys(service)).toContain(key.keyId);
    expect((await stage.rawItems(table)).filter((item) => item.sk?.S?.startsWith(`key-versions/${key.keyId}/`))).toEqual([]);
    expect(stage.sm.commandCalls(DeleteSecretCommand)).toHaveLength(0);
  });
});

describe('KMS_KEY_STORE=dynamodb with KMS_SECRETS_PREFIX: a stage of the earlier layout, upgraded', () => {
  it('when the service opens it before the operator sealed it, it is refused (UnsealedStoreError): a value in the clear is never taken in; `kms store seal` seals it, once, and it opens', async () => {
    const table = await stage.newTable();
    const earlier = await earlierStage(table, 1, 2, { sealed: false });
    const env = stage.env(table, { KMS_SECRETS_PREFIX: PREFIX });
    await expect(serviceFromEnvironment(env)).rejects.toBeInstanceOf(UnsealedStoreError);
    const before = await stage.rawItems(table);
    expect(before.filter((item) => item.kind?.S === 'entry').some((item) => Buffer.from(item.value!.B!).subarray(0, 4).toString('latin1') !== 'KMSS')).toBe(
      true,
    );
    const cli = cliRunner();
    for (let run = 0; run < 2; run++) {
      const sealed = await cli(env, ['store', 'seal']);
      expect(sealed.code, sealed.stderr).toBe(0);
      // The answer is all of stdout; the store's warning that KMS_SECRETS_PREFIX is set goes to stderr.
      expect(JSON.parse(sealed.stdout)).toEqual({ Sealed: true });
      expect(sealed.stderr).toMatch(/KMS_SECRETS_PREFIX is set/);
    }
    const service = await serviceFromEnvironment(env);
    for (const [id, material] of earlier) expect((await service.keyring.versions.find(id))?.material).toEqual(material);
  });

  it('when the operator has sealed it, the upgraded service opens it, every earlier version is read from its secret, and new versions go to the table', async () => {
    const table = await stage.newTable();
    const earlier = await earlierStage(table, 2, 2);
    const secretsBefore = secretsOfKeys();
    expect(secretsBefore.filter((n) => [...earlier.keys()].some((id) => n.endsWith(id)))).toHaveLength(4);
    const service = await serviceFromEnvironment(stage.env(table, { KMS_SECRETS_PREFIX: PREFIX }));
    // Sealed in place: every entry value starts with the seal's prefix.
    const entries = (await stage.rawItems(table)).filter((item) => item.kind?.S === 'entry');
    for (const item of entries) expect(Buffer.from(item.value!.B!).subarray(0, 4).toString('latin1'), item.sk?.S).toBe('KMSS');
    for (const [id, material] of earlier) expect((await service.keyring.versions.find(id))?.material).toEqual(material);
    const owner = (await service.keyring.versions.owner([...earlier.keys()][0]!))!;
    stage.sm.resetHistory();
    const rotated = await service.keyring.createVersion({ keyId: owner });
    expect(stage.sm.commandCalls(CreateSecretCommand)).toHaveLength(0);
    expect((await service.keyring.listVersions(owner)).map((v) => v.keyVersionId)).toContain(rotated.keyVersionId);
    expect(await service.keyring.listVersions(owner)).toHaveLength(3);
    expect(secretsOfKeys()).toEqual(secretsBefore);
  });

  it('when a key of the earlier layout is destroyed, its material goes from the table and its secrets are removed', async () => {
    const table = await stage.newTable();
    const earlier = await earlierStage(table, 1, 2);
    const service = await serviceFromEnvironment(stage.env(table, { KMS_SECRETS_PREFIX: PREFIX }));
    const keyId = (await service.keyring.versions.owner([...earlier.keys()][0]!))!;
    await service.keyring.createVersion({ keyId });
    await service.keyring.updateKey(keyId, (r) => ({
      ...r,
      state: 'PendingDeletion',
      deleteDate: new Date(Date.now() - 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    }));
    expect(await destroyDueKeys(service)).toContain(keyId);
    expect(secretsOfKeys().filter((n) => n.includes(keyId))).toEqual([]);
    expect((await stage.rawItems(table)).filter((item) => item.sk?.S?.includes(keyId) && item.sk.S.startsWith('key-versions/'))).toEqual([]);
  });
});

describe('A stage from before the state table (KMS_KEY_STORE=secrets-manager)', () => {
  it('when `store copy` moves it into the table, its material is copied into the sealed table too; nothing in Secrets Manager is created or removed', async () => {
    const legacyEnv = {
      KMS_KEY_STORE: 'secrets-manager',
      AWS_REGION: 'us-east-1',
      KMS_SECRETS_PREFIX: 'kms/legacy/',
      KMS_NONCE_STORE: 'memory',
      KMS_LOG_LEVEL: 'silent',
    };
    const legacy = await serviceFromEnvironment(legacyEnv);
    const key = await legacy.keyring.createKey({});
    const [version] = await legacy.keyring.listVersions(key.keyId);
    const material = Buffer.from((await legacy.keyring.versions.find(version!.keyVersionId))!.material);
    const secretsBefore = stage.fakeSm.names().filter((n) => n.startsWith('kms/legacy/'));
    const table = await stage.newTable();
    const source = await openKeyStoreFromEnvironment(legacyEnv);
    const target = await openKeyStoreFromEnvironment(stage.env(table, { KMS_SECRETS_PREFIX: 'kms/legacy/' }));
    stage.sm.resetHistory();
    const report = await copyStore(source.store, target.store);
    expect(report.conflicts).toEqual([]);
    await Promise.all([source.close(), target.close()]);
    expect(stage.sm.commandCalls(CreateSecretCommand)).toHaveLength(0);
    expect(stage.sm.commandCalls(DeleteSecretCommand)).toHaveLength(0);
    expect(stage.fakeSm.names().filter((n) => n.startsWith('kms/legacy/'))).toEqual(secretsBefore);
    // The table holds the material itself: the stage runs without the prefix, and a migration finds nothing to do.
    const migrated = await serviceFromEnvironment(stage.env(table));
    expect((await migrated.keyring.getKey(key.keyId))?.primaryKeyVersion).toBe(version!.keyVersionId);
    expect((await migrated.keyring.versions.find(version!.keyVersionId))?.material).toEqual(material);
    const config = dynamoDbBackend.fromEnvironment(stage.env(table, { KMS_SECRETS_PREFIX: 'kms/legacy/' }));
    const opened = await openMaterialMigration({ ...config, legacyMaterial: config.legacyMaterial! }, logger);
    expect(await migrateMaterial({ table: opened.table, secrets: opened.secrets })).toMatchObject({ versions: 0, copied: 0 });
    await opened.close();
  });
});

describe('Command: kms store migrate-material', () => {
  async function migration(table: string) {
    const config = dynamoDbBackend.fromEnvironment(stage.env(table, { KMS_SECRETS_PREFIX: PREFIX }));
    return openMaterialMigration({ ...config, legacyMaterial: config.legacyMaterial! }, logger);
  }

  it('copies every version into the sealed table, verified; a second run copies nothing; the stage then works without KMS_SECRETS_PREFIX', async () => {
    const table = await stage.newTable();
    const earlier = await earlierStage(table, 3, 2);
    const opened = await migration(table);
    const first = await migrateMaterial({ table: opened.table, secrets: opened.secrets });
    expect(first).toEqual({ versions: 6, copied: 6, present: 0, missing: [], conflicts: [], secretsDeleted: 0 });
    const second = await migrateMaterial({ table: opened.table, secrets: opened.secrets });
    expect(second).toEqual({ versions: 6, copied: 0, present: 6, missing: [], conflicts: [], secretsDeleted: 0 });
    await opened.close();
    // Nothing deleted unless asked.
    expect(stage.sm.commandCalls(DeleteSecretCommand)).toHaveLength(0);
    expect(secretsOfKeys().filter((n) => [...earlier.keys()].some((id) => n.endsWith(id)))).toHaveLength(6);
    // Without the prefix, Secrets Manager is not read for material at all.
    const after = await openKeyStoreFromEnvironment(stage.env(table));
    stage.sm.resetHistory();
    expect(await materialOf(after.store, earlier.keys())).toEqual(earlier);
    expect(stage.sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    await after.close();
    // The material in the table is sealed: not one version's bytes lie in it in the clear.
    const items = (await stage.rawItems(table)).map(itemBytes);
    for (const material of earlier.values()) {
      for (const form of [material, Buffer.from(material.toString('base64'))]) expect(items.some((bytes) => bytes.includes(form))).toBe(false);
    }
  });

  it('when Secrets Manager fails half-way, the run stops with the error; running it again finishes, counting what was copied before as present', async () => {
    const table = await stage.newTable();
    const earlier = await earlierStage(table, 5, 1);
    const opened = await migration(table);
    let reads = 0;
    stage.fakeSm.failure = (command) =>
      command === 'GetSecretValue' && ++reads > 2 ? new InternalServiceError({ $metadata: {}, message: 'injected outage' }) : undefined;
    await expect(migrateMaterial({ table: opened.table, secrets: opened.secrets })).rejects.toThrow(/unavailable/i);
    stage.fakeSm.failure = undefined;
    const resumed = await migrateMaterial({ table: opened.table, secrets: opened.secrets });
    expect(resumed).toMatchObject({ versions: 5, present: 2, copied: 3, missing: [], conflicts: [] });
    await opened.close();
    const after = await openKeyStoreFromEnvironment(stage.env(table));
    expect(await materialOf(after.store, earlier.keys())).toEqual(earlier);
    await after.close();
  });

  it('when the table holds other material under a version, it is a conflict, left as it is; a version in neither place is reported missing', async () => {
    const table = await stage.newTable();
    const earlier = await earlierStage(table, 2, 1);
    const [victim, other] = [...earlier.keys()];
    const opened = await migration(table);
    const keyOf = async (id: string) => (await opened.table.get(`version-index/${id}`))!.value.toString('utf8');
    const victimName = `key-versions/${await keyOf(victim!)}/${victim}`;
    await opened.table.create(victimName, Buffer.from('{"planted":true}'), { writeOnce: true });
    const otherName = `key-versions/${await keyOf(other!)}/${other}`;
    stage.fakeSm.failure = undefined;
    // The other version's secret is gone (deleted by hand) and never reached the table.
    await opened.secrets.retire(otherName, 7);
    const report = await migrateMaterial({ table: opened.table, secrets: opened.secrets });
    expect(report).toMatchObject({ versions: 2, copied: 0, present: 0, conflicts: [victimName], missing: [otherName] });
    expect((await opened.table.get(victimName))!.value.toString()).toBe('{"planted":true}');
    await opened.close();
  });

  it("with --delete-secrets, each verified version's secret is scheduled for deletion with the recovery window, its index entry goes, and a rerun is a no-op", async () => {
    const table = await stage.newTable();
    const earlier = await earlierStage(table, 2, 2);
    const opened = await migration(table);
    const report = await migrateMaterial({ table: opened.table, secrets: opened.secrets, deleteSecrets: { recoveryWindowDays: 14 } });
    expect(report).toMatchObject({ versions: 4, copied: 4, secretsDeleted: 4 });
    const deletes = stage.sm.commandCalls(DeleteSecretCommand).map((c) => c.args[0].input);
    expect(deletes).toHaveLength(4);
    for (const input of deletes) expect(input).toEqual({ SecretId: expect.stringMatching(/^kms\/test\/key-versions\//), RecoveryWindowInDays: 14 });
    expect(await opened.table.list('material-index/')).toEqual([]);
    expect(await migrateMaterial({ table: opened.table, secrets: opened.secrets, deleteSecrets: { recoveryWindowDays: 14 } })).toMatchObject({
      versions: 0,
      copied: 0,
      secretsDeleted: 0,
    });
    await opened.close();
    const after = await openKeyStoreFromEnvironment(stage.env(table, { KMS_SECRETS_PREFIX: PREFIX }));
    expect(await materialOf(after.store, earlier.keys())).toEqual(earlier);
    await after.close();
  });

  /** The material entry of an earlier-layout version (its key from the owner index). */
  const materialName = async (table: KeyStore, versionId: string) =>
    `key-versions/${(await table.get(`version-index/${versionId}`))!.value.toString('utf8')}/${versionId}`;

  /** The migration's secrets, calling `meanwhile` after each read of `name` and before the copy. */
  const readThen = (secrets: LegacySecrets, name: string, meanwhile: () => Promise<void>): LegacySecrets => ({
    get: async (n) => {
      const secret = await secrets.get(n);
      if (n === name) await meanwhile();
      return secret;
    },
    retire: (n, days) => secrets.retire(n, days),
  });

  it.each([
    ['DeleteKeyMaterial (the material alone)', (keyring: Keyring, keyId: string, versionId: string) => keyring.versions.destroyMaterial(keyId, versionId)],
    ['the deletion job (every version of the key)', (keyring: Keyring, keyId: string) => keyring.versions.destroyAll(keyId)],
  ])(
    'when %s destroys a version between the migration reading its secret and creating its copy, the copy is removed again and reported missing, not copied',
    async (_, destroy) => {
      const table = await stage.newTable();
      // Two keys of one version: the victim's key and another one.
      const earlier = await earlierStage(table, 2, 1);
      const [victim, survivor] = [...earlier.keys()];
      const opened = await migration(table);
      const name = await materialName(opened.table, victim!);
      const keyId = name.split('/')[1]!;
      // The service's store (the fallback over the table and the old secrets), as the functions open it.
      const service = await openKeyStoreFromEnvironment(stage.env(table, { KMS_SECRETS_PREFIX: PREFIX }), logger);
      const keyring = new Keyring(service.store, { region: 'cn-hangzhou', accountId: '1234567890123456', cacheTtlMs: 0 });
      const secrets = readThen(opened.secrets, name, () => destroy(keyring, keyId, victim!));
      const report = await migrateMaterial({ table: opened.table, secrets });
      expect(report).toMatchObject({ versions: 2, copied: 1, missing: [name], conflicts: [] });
      expect(await opened.table.get(name)).toBeUndefined();
      expect(secretsOfKeys().filter((n) => n.endsWith(victim!))).toEqual([]);
      expect((await stage.rawItems(table)).filter((item) => item.sk?.S === name)).toEqual([]);
      // The other key's version is copied as usual.
      expect((await materialOf(service.store, [survivor!])).get(survivor!)).toEqual(earlier.get(survivor!));
      expect(await opened.table.get(await materialName(opened.table, survivor!))).toBeDefined();
      await service.close();
      await opened.close();
    },
  );

  it('when a destruction is half done as the migration copies (the secret and its index entry go first), the copy never outlives it', async () => {
    const table = await stage.newTable();
    const earlier = await earlierStage(table, 1, 1);
    const [victim] = [...earlier.keys()];
    const opened = await migration(table);
    const name = await materialName(opened.table, victim!);
    // The migration has read the secret and waits; the destruction runs up to the table's entry,
    // lets the migration copy and check, and only then removes the table's entry.
    let resume!: () => void;
    let read!: () => void;
    const resumed = new Promise<void>((r) => {
      resume = r;
    });
    const hasRead = new Promise<void>((r) => {
      read = r;
    });
    let migrated!: Promise<unknown>;
    const inner = opened.table;
    const hookedTable: KeyStore = {
      changes: inner.changes,
      create: (n, value, options) => inner.create(n, value, options),
      get: (n) => inner.get(n),
      update: (n, revision, value) => inner.update(n, revision, value),
      delete: (n, revision) => inner.delete(n, revision),
      list: (prefix) => inner.list(prefix),
      destroy: async (n) => {
        if (n === name) {
          resume();
          await migrated;
        }
        return inner.destroy(n);
      },
    };
    const fallback = new MaterialFallbackStore({ table: hookedTable, secrets: opened.secrets as unknown as KeyStore });
    migrated = migrateMaterial({
      table: opened.table,
      secrets: readThen(opened.secrets, name, async () => {
        read();
        await resumed;
      }),
    });
    await hasRead;
    await fallback.destroy(name);
    expect(await migrated).toMatchObject({ copied: 0, missing: [name] });
    expect(await opened.table.get(name)).toBeUndefined();
    expect(secretsOfKeys().filter((n) => n.endsWith(victim!))).toEqual([]);
    expect(await opened.table.list('material-index/')).toEqual([]);
    await opened.close();
  });

  it('is listed in kms store --help, and through the command reports its counts as JSON; refused without KMS_SECRETS_PREFIX or on another backend', async () => {
    const table = await stage.newTable();
    await earlierStage(table, 1, 2);
    const kms = cliRunner();
    const help = await kms({}, ['store', '--help']);
    expect(help.stdout).toMatch(/migrate-material/);
    const ran = await kms(stage.env(table, { KMS_SECRETS_PREFIX: PREFIX }), ['store', 'migrate-material']);
    expect(ran.code, ran.stderr).toBe(EXIT.OK);
    expect(JSON.parse(ran.stdout)).toEqual({
      SecretsPrefix: PREFIX,
      Versions: 2,
      Copied: 2,
      AlreadyPresent: 0,
      SecretsDeleted: 0,
      Missing: [],
      Conflicts: [],
    });
    const again = await kms(stage.env(table, { KMS_SECRETS_PREFIX: PREFIX }), ['store', 'migrate-material', '--delete-secrets', '--recovery-window-days', '7']);
    expect(JSON.parse(again.stdout)).toMatchObject({ Copied: 0, AlreadyPresent: 2, SecretsDeleted: 2 });
    expect(stage.sm.commandCalls(DeleteSecretCommand).map((c) => c.args[0].input.RecoveryWindowInDays)).toEqual([7, 7]);
    const noPrefix = await kms(stage.env(table), ['store', 'migrate-material']);
    expect(noPrefix.code).toBe(EXIT.USAGE);
    expect(noPrefix.stderr).toMatch(/needs KMS_SECRETS_PREFIX/);
    const file = await kms({ KMS_KEY_STORE: 'file' }, ['store', 'migrate-material']);
    expect(file.code).toBe(EXIT.USAGE);
    expect(file.stderr).toMatch(/needs KMS_KEY_STORE=dynamodb/);
    const window = await kms(stage.env(table, { KMS_SECRETS_PREFIX: PREFIX }), [
      'store',
      'migrate-material',
      '--delete-secrets',
      '--recovery-window-days',
      '3',
    ]);
    expect(window.code).toBe(EXIT.USAGE);
  });
});

/** Runs `kms` in this process over `env` (on top of the test's), returning its exit code and output. */
function cliRunner() {
  return (env: Record<string, string>, args: string[]) => runKmsHere(args, env);
}
