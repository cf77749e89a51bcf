import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { EntryExistsError, EntryNotFoundError, RevisionConflictError, WriteOnceViolationError } from '../../lib/keystore/key-store.js';
import { classifyAwsError, translateAwsError } from '../../lib/keystore/aws-errors.js';
import { KIND_TAG, PENDING_STAGE, SecretsManagerStore, type SecretsManagerStoreOptions } from '../../lib/keystore/secrets-manager/secrets-manager-store.js';
import { KeyStoreAccessDeniedError, KeyStoreFailureError, KeyStoreUnavailableError } from '../../lib/keystore/store-errors.js';
import { awsErrors, serviceError } from '../keystore/aws-errors.js';
import { keyStoreConformance } from '../keystore/conformance.js';
import { incrementCounter } from '../keystore/counter.js';
import { FakeSecretsManager, type FakeSecretsManagerOptions, fingerprint } from '../keystore/secrets-manager-fake.js';

const PREFIX = 'kms/test/';
const client = new SecretsManagerClient({ region: 'us-east-1' });
const sm = mockClient(client);
afterAll(() => sm.restore());

const noSleep = async () => undefined;

/** A fresh fake behind the mock, and a store over it. */
function setup(fakeOptions: FakeSecretsManagerOptions = {}, storeOptions: Partial<SecretsManagerStoreOptions> = {}) {
  sm.reset();
  const fake = new FakeSecretsManager(fakeOptions).install(sm);
  const store = new SecretsManagerStore({ client, prefix: PREFIX, sleep: noSleep, ...storeOptions });
  return { fake, store };
}

keyStoreConformance('SecretsManagerStore over a stateful fake', async () => setup({ pageSize: 2 }).store);

const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('Module: secrets-manager-store', () => {
  describe('class SecretsManagerStore: how entries map to secrets', () => {
    it('when a write-once entry is created, it is one CreateSecret named prefix+name, tagged write-once, and never PutSecretValue-d', async () => {
      const { store, fake } = setup();
      await store.create('key-versions/k/v1', bytes('material'), { writeOnce: true });
      expect(sm).toHaveReceivedCommandTimes(CreateSecretCommand, 1);
      expect(sm).toHaveReceivedCommandWith(CreateSecretCommand, {
        Name: 'kms/test/key-versions/k/v1',
        Tags: [{ Key: KIND_TAG, Value: 'write-once' }],
      });
      const body = JSON.parse(fake.versions('kms/test/key-versions/k/v1')[0]!.secretString!);
      expect(body).toEqual({ kms: 1, revision: 1, writeOnce: true, value: bytes('material').toString('base64') });

      // Every way of changing it is refused before any write reaches Secrets Manager.
      await expect(store.update('key-versions/k/v1', 1, bytes('other'))).rejects.toBeInstanceOf(WriteOnceViolationError);
      await expect(store.delete('key-versions/k/v1', 1)).rejects.toBeInstanceOf(WriteOnceViolationError);
      await expect(store.create('key-versions/k/v1', bytes('other'), { writeOnce: true })).rejects.toBeInstanceOf(EntryExistsError);
      expect(sm).not.toHaveReceivedCommand(PutSecretValueCommand);
      expect(sm).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
      expect(sm).not.toHaveReceivedCommand(DeleteSecretCommand);
      expect(fake.versions('kms/test/key-versions/k/v1')).toHaveLength(1);
    });

    it('when a mutable entry is created, it is tagged mutable', async () => {
      const { store } = setup();
      await store.create('keys/k', bytes('m'), { writeOnce: false });
      expect(sm).toHaveReceivedCommandWith(CreateSecretCommand, { Name: 'kms/test/keys/k', Tags: [{ Key: KIND_TAG, Value: 'mutable' }] });
    });

    it('when a customer-managed KMS key is configured, new secrets use it', async () => {
      const { store } = setup({}, { kmsKeyId: 'alias/kms-store' });
      await store.create('keys/k', bytes('m'), { writeOnce: false });
      expect(sm).toHaveReceivedCommandWith(CreateSecretCommand, { KmsKeyId: 'alias/kms-store' });
    });

    it('when a mutable entry is updated, it is a PutSecretValue with a pending label, then AWSCURRENT moved from the version that was read', async () => {
      const { store, fake } = setup();
      await store.create('keys/k', bytes('v1'), { writeOnce: false });
      const first = fake.versions('kms/test/keys/k')[0]!.id;
      expect(await store.update('keys/k', 1, bytes('v2'))).toBe(2);
      expect(sm).toHaveReceivedCommandWith(PutSecretValueCommand, { VersionStages: [PENDING_STAGE] });
      const put = sm.commandCalls(PutSecretValueCommand)[0]!.args[0].input;
      expect(put.SecretId).toMatch(/^arn:aws:secretsmanager:us-east-1:123456789012:secret:kms\/test\/keys\/k-[A-Za-z0-9]{6}$/);
      expect(sm).toHaveReceivedCommandWith(UpdateSecretVersionStageCommand, {
        SecretId: put.SecretId,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: put.ClientRequestToken,
        RemoveFromVersionId: first,
      });
      const versions = fake.versions('kms/test/keys/k');
      expect(versions.find((v) => v.id === first)!.stages).toEqual(['AWSPREVIOUS']);
      expect(versions.find((v) => v.id === put.ClientRequestToken)!.stages).toEqual(['AWSCURRENT', PENDING_STAGE]);
    });

    it('when two store instances (two Lambda containers) race increments on one fake, no update is lost', async () => {
      const { fake } = setup();
      const otherClient = new SecretsManagerClient({ region: 'us-east-1' });
      const otherStub = mockClient(otherClient);
      fake.install(otherStub);
      const a = new SecretsManagerStore({ client, prefix: PREFIX, sleep: noSleep });
      const b = new SecretsManagerStore({ client: otherClient, prefix: PREFIX, sleep: noSleep });
      await a.create('keys/counter', bytes('0'), { writeOnce: false });
      await Promise.all([
        ...Array.from({ length: 10 }, () => incrementCounter(a, 'keys/counter')),
        ...Array.from({ length: 10 }, () => incrementCounter(b, 'keys/counter')),
      ]);
      expect(await b.get('keys/counter')).toEqual({ value: bytes('20'), revision: 21, writeOnce: false });
      expect(otherStub).toHaveReceivedCommand(UpdateSecretVersionStageCommand);
      otherStub.restore();
    });

    it("when a compare-and-swap loses, the losing version is not current and the value is the winner's", async () => {
      const { store, fake } = setup();
      await store.create('keys/cas', bytes('0'), { writeOnce: false });
      const results = await Promise.allSettled([store.update('keys/cas', 1, bytes('a')), store.update('keys/cas', 1, bytes('b'))]);
      const won = results.findIndex((r) => r.status === 'fulfilled');
      expect(won).toBeGreaterThanOrEqual(0);
      expect(results[1 - won]).toMatchObject({ status: 'rejected', reason: expect.any(RevisionConflictError) });
      expect((await store.get('keys/cas'))!.value.toString()).toBe(won === 0 ? 'a' : 'b');
      expect(fake.versions('kms/test/keys/cas').filter((v) => v.stages.includes('AWSCURRENT'))).toHaveLength(1);
    });

    it('when a writer read revision n and another wrote n+1 before its stage move, the move is refused and nothing changes', async () => {
      const { store, fake } = setup({ interleave: false });
      await store.create('keys/m', bytes('v1'), { writeOnce: false });
      // The rival's write lands between our PutSecretValue and our UpdateSecretVersionStage.
      let rivalWrote = false;
      fake.failure = (command) => {
        if (command === 'UpdateSecretVersionStage' && !rivalWrote) {
          rivalWrote = true;
          const current = fake.versions('kms/test/keys/m').find((v) => v.stages.includes('AWSCURRENT'))!;
          fake.putSecretValue({
            SecretId: 'kms/test/keys/m',
            ClientRequestToken: 'rival-0000-0000-0000-000000000000',
            SecretString: current
              .secretString!.replace('"revision":1', '"revision":2')
              .replace(bytes('v1').toString('base64'), bytes('rival').toString('base64')),
          });
        }
        return undefined;
      };
      await expect(store.update('keys/m', 1, bytes('mine'))).rejects.toBeInstanceOf(RevisionConflictError);
      expect(await store.get('keys/m')).toEqual({ value: bytes('rival'), revision: 2, writeOnce: false });
    });

    it('when a stage move landed but its answer was lost, the retry reads the label back and reports success', async () => {
      const { store, fake } = setup({ interleave: false });
      await store.create('keys/m', bytes('v1'), { writeOnce: false });
      let lost = false;
      sm.on(UpdateSecretVersionStageCommand).callsFake((input) => {
        const out = fake.updateSecretVersionStage(input);
        if (!lost) {
          lost = true;
          throw awsErrors.timeout();
        }
        return out;
      });
      expect(await store.update('keys/m', 1, bytes('v2'))).toBe(2);
      expect(await store.get('keys/m')).toEqual({ value: bytes('v2'), revision: 2, writeOnce: false });
    });

    it('when the stage move keeps failing and the version read back is still the old one, the outcome is unknown: unavailable, not a conflict', async () => {
      const { store, fake } = setup({ interleave: false });
      await store.create('keys/m', bytes('v1'), { writeOnce: false });
      fake.failure = (command) => (command === 'UpdateSecretVersionStage' ? awsErrors.timeout() : undefined);
      const error = await store.update('keys/m', 1, bytes('v2')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeyStoreUnavailableError);
      expect((error as KeyStoreUnavailableError).reason).toBe('unknown-outcome');
      expect(sm).toHaveReceivedCommandTimes(UpdateSecretVersionStageCommand, 3);
    });

    it('when a create landed but its answer was lost, the retry (same token) is not mistaken for a rival', async () => {
      const { store, fake } = setup({ interleave: false });
      let lost = false;
      sm.on(CreateSecretCommand).callsFake((input) => {
        if (!lost) {
          lost = true;
          fake.createSecret(input);
          throw awsErrors.network();
        }
        // Real Secrets Manager may answer a repeated CreateSecret with ResourceExistsException.
        throw new ResourceExistsException({ $metadata: {}, message: 'exists' });
      });
      await store.create('keys/once', bytes('x'), { writeOnce: false });
      const calls = sm.commandCalls(CreateSecretCommand);
      expect(calls).toHaveLength(2);
      expect(calls[0]!.args[0].input.ClientRequestToken).toBe(calls[1]!.args[0].input.ClientRequestToken);
      expect(await store.get('keys/once')).toEqual({ value: bytes('x'), revision: 1, writeOnce: false });
    });

    it('when an entry is deleted, a tombstone wins the compare-and-swap first, then the secret is force-deleted by ARN', async () => {
      const { store, fake } = setup();
      await store.create('aliases/a', bytes('k1'), { writeOnce: false });
      await store.delete('aliases/a', 1);
      expect(sm).toHaveReceivedCommandWith(PutSecretValueCommand, { SecretString: JSON.stringify({ kms: 1, revision: 2, writeOnce: false, deleted: true }) });
      expect(sm).toHaveReceivedCommandWith(DeleteSecretCommand, {
        ForceDeleteWithoutRecovery: true,
        SecretId: expect.stringMatching(/^arn:aws:secretsmanager:.*:secret:kms\/test\/aliases\/a-/),
      });
      expect(fake.names()).toEqual([]);
    });

    it('when a delete died after its tombstone, the entry reads as absent, and a create removes the tombstone and succeeds', async () => {
      const { store, fake } = setup();
      await store.create('aliases/t', bytes('k1'), { writeOnce: false });
      fake.failure = (command) => (command === 'DeleteSecret' ? awsErrors.accessDenied() : undefined);
      await store.delete('aliases/t', 1); // the entry is deleted; the cleanup failure is only logged
      expect(fake.names()).toEqual(['kms/test/aliases/t']);
      expect(await store.get('aliases/t')).toBeUndefined();
      await expect(store.update('aliases/t', 2, bytes('x'))).rejects.toBeInstanceOf(EntryNotFoundError);
      await expect(store.delete('aliases/t', 2)).rejects.toBeInstanceOf(EntryNotFoundError);
      fake.failure = undefined;
      await store.create('aliases/t', bytes('k2'), { writeOnce: false });
      expect(await store.get('aliases/t')).toEqual({ value: bytes('k2'), revision: 1, writeOnce: false });
    });

    it('when a deleted name is created again while Secrets Manager still finishes the deletion, create waits and succeeds', async () => {
      const { store } = setup({ forceDeleteLag: 3 });
      await store.create('aliases/r', bytes('k1'), { writeOnce: false });
      await store.delete('aliases/r', 1);
      await store.create('aliases/r', bytes('k2'), { writeOnce: false });
      expect(await store.get('aliases/r')).toEqual({ value: bytes('k2'), revision: 1, writeOnce: false });
    });

    it('when the deletion never finishes, create gives up as unavailable (pending-deletion)', async () => {
      const { store } = setup({ forceDeleteLag: 1000 }, { recreateAttempts: 3 });
      await store.create('aliases/r', bytes('k1'), { writeOnce: false });
      await store.delete('aliases/r', 1);
      const error = await store.create('aliases/r', bytes('k2'), { writeOnce: false }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeyStoreUnavailableError);
      expect((error as KeyStoreUnavailableError).reason).toBe('pending-deletion');
    });

    it('when a secret is scheduled for deletion (by an operator, with a recovery window), get treats it as absent and destroy as done', async () => {
      const { store } = setup();
      await store.create('key-versions/k/v', bytes('m'), { writeOnce: true });
      await client.send(new DeleteSecretCommand({ SecretId: 'kms/test/key-versions/k/v', RecoveryWindowInDays: 7 }));
      expect(await store.get('key-versions/k/v')).toBeUndefined();
      await store.destroy('key-versions/k/v');
      expect(await store.list('key-versions/')).toEqual([]);
    });

    it('when listing, it filters by name prefix on the server, follows every page, strips the store prefix and sorts', async () => {
      const { store } = setup({ pageSize: 2 });
      for (const n of ['keys/c', 'keys/a', 'keys/b', 'aliases/x', 'keys/d', 'keys/A']) await store.create(n, bytes(n), { writeOnce: false });
      // Another deployment's secret beside ours is not ours.
      await client.send(new CreateSecretCommand({ Name: 'kms/other/keys/z', SecretString: 'x' }));
      expect(await store.list('keys/')).toEqual(['keys/A', 'keys/a', 'keys/b', 'keys/c', 'keys/d']);
      expect(sm).toHaveReceivedCommandWith(ListSecretsCommand, { Filters: [{ Key: 'name', Values: ['kms/test/keys/'] }] });
      expect(sm.commandCalls(ListSecretsCommand).length).toBeGreaterThanOrEqual(3);
      expect(await store.list('')).toEqual(['aliases/x', 'keys/A', 'keys/a', 'keys/b', 'keys/c', 'keys/d']);
      expect(await store.list('bad prefix!')).toEqual([]);
    });

    it('when a secret holds something that is not a key-store document, get fails without quoting it', async () => {
      const { store, fake } = setup();
      await store.create('keys/corrupt', bytes('x'), { writeOnce: false });
      fake.overwriteCurrent('kms/test/keys/corrupt', 'not json: SECRET-MATERIAL');
      const error = await store.get('keys/corrupt').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeyStoreFailureError);
      expect(String((error as Error).message)).not.toContain('SECRET-MATERIAL');
    });

    it('when the prefix or a name cannot be a secret name, it is refused', () => {
      expect(() => new SecretsManagerStore({ client, prefix: 'bad prefix/' })).toThrow(/prefix/);
      const { store } = setup();
      expect(() => store.secretName(`keys/${'x'.repeat(600)}`)).toThrow(/too long/);
    });
  });

  describe('AWS errors → key-store errors', () => {
    let store: SecretsManagerStore;
    let fake: FakeSecretsManager;
    beforeEach(async () => {
      ({ store, fake } = setup({ interleave: false }));
      await store.create('keys/k', bytes('v'), { writeOnce: false });
      sm.resetHistory();
    });

    it.each([
      ['ThrottlingException', 'throttled', awsErrors.throttling],
      ['InternalServiceError', 'server', awsErrors.internal],
      ['a 503 ServiceUnavailable', 'server', awsErrors.unavailable503],
      ['a TimeoutError', 'timeout', awsErrors.timeout],
      ['ECONNRESET', 'network', awsErrors.network],
    ] as const)('when every call fails with %s, get retries (3 attempts) and throws KeyStoreUnavailableError (%s)', async (_label, reason, make) => {
      const original = make();
      fake.failure = () => original;
      const error = await store.get('keys/k').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeyStoreUnavailableError);
      expect((error as KeyStoreUnavailableError).reason).toBe(reason);
      expect((error as Error).cause).toBe(original);
      expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 3);
    });

    it('when throttling passes before the attempts run out, the call succeeds after a jittered pause', async () => {
      const pauses: number[] = [];
      const { store: s, fake: f } = setup({ interleave: false }, { sleep: async (ms) => void pauses.push(ms), random: () => 0.5 });
      await s.create('keys/k', bytes('v'), { writeOnce: false });
      let failures = 2;
      f.failure = () => (failures-- > 0 ? awsErrors.throttling() : undefined);
      expect((await s.get('keys/k'))!.value.toString()).toBe('v');
      expect(pauses).toEqual([50, 100]); // random 0.5 × min(1000, 50·2ⁿ)
    });

    it('when access is denied, it is KeyStoreAccessDeniedError at once (no retry): a configuration fault, not an outage', async () => {
      const original = awsErrors.accessDenied();
      fake.failure = () => original;
      const error = await store.get('keys/k').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeyStoreAccessDeniedError);
      expect((error as Error).cause).toBe(original);
      expect((error as Error).message).toMatch(/AccessDeniedException/);
      expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    });

    it('when the secret does not exist (ResourceNotFoundException), get is undefined and update/delete are EntryNotFoundError', async () => {
      expect(await store.get('keys/none')).toBeUndefined();
      await expect(store.update('keys/none', 1, bytes('x'))).rejects.toBeInstanceOf(EntryNotFoundError);
      await expect(store.delete('keys/none', 1)).rejects.toBeInstanceOf(EntryNotFoundError);
      await store.destroy('versions/none');
    });

    it('when a write is throttled for good, nothing is half-written', async () => {
      const before = fingerprint(fake, 'kms/test/keys/k');
      fake.failure = (command) => (command === 'PutSecretValue' ? awsErrors.throttling() : undefined);
      await expect(store.update('keys/k', 1, bytes('x'))).rejects.toBeInstanceOf(KeyStoreUnavailableError);
      expect(fingerprint(fake, 'kms/test/keys/k')).toBe(before);
      expect(await store.get('keys/k')).toEqual({ value: bytes('v'), revision: 1, writeOnce: false });
    });

    it('when Secrets Manager refuses a parameter, it is KeyStoreFailureError with the AWS error as cause', async () => {
      const original = awsErrors.invalidParameter();
      fake.failure = () => original;
      const error = await store.list('keys/').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeyStoreFailureError);
      expect((error as Error).cause).toBe(original);
    });

    it.each([
      [awsErrors.throttling(), 'unavailable'],
      [serviceError('TooManyRequestsException', 'slow down'), 'unavailable'],
      [awsErrors.internal(), 'unavailable'],
      [awsErrors.timeout(), 'unavailable'],
      [Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }), 'unavailable'],
      [awsErrors.network(), 'unavailable'],
      [awsErrors.accessDenied(), 'access-denied'],
      [serviceError('ExpiredTokenException', 'expired'), 'access-denied'],
      [serviceError('DecryptionFailure', 'kms key disabled'), 'access-denied'],
      [Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }), 'access-denied'],
      [awsErrors.invalidParameter(), 'failure'],
      [serviceError('LimitExceededException', 'too many versions'), 'failure'],
    ])('classifyAwsError(%s) is %s', (error: Error, kind: string) => {
      expect(classifyAwsError(error).kind).toBe(kind);
    });

    it("translateAwsError leaves the store's own errors and programming errors alone", () => {
      const exists = new EntryExistsError('keys/x');
      expect(translateAwsError(exists, 'create', 'keys/x')).toBe(exists);
      const bug = new TypeError('x is undefined');
      expect(translateAwsError(bug, 'get', 'keys/x')).toBe(bug);
    });
  });
});
