import { isoSeconds } from '@alibaba-kms-compatible/client/internal/time';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { StoreAccess } from '../../lib/action.js';
import { grantsOf, statementOf } from '../../infra/serverless/iam.js';
import { DynamoDbKeyStore } from '../../lib/keystore/dynamodb/dynamodb-store.js';
import { ALL_SEALED_ENTRY, UnsealedStoreError } from '../../lib/keystore/sealed-store.js';
import { openKeyStoreFromEnvironment } from '../../lib/service-from-env.js';
import { type SealedStage, startSealedStage } from '../helpers/sealed-dynamodb.js';
import { ADMIN, createTestService, KEY_ID } from '../helpers/service.js';
import { signedRpcRequest } from '../helpers/sign.js';

/*
 * Every DynamoDB write checked against the IAM statements the function's role gets
 * (infra/serverless/iam.ts: grantsOf/statementOf, `dynamodb:LeadingKeys` evaluated on the item's
 * pk), refused as AWS would refuse it: AccessDeniedException. dynalite enforces no IAM, so nothing
 * else checks that the statements let each Action do what it does on the sealed table.
 */
let grants: readonly string[] | undefined;
const refused: string[] = [];

const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
function allowed(action: string, pk: string): boolean {
  return (grants ?? []).some((g) => {
    const s = statementOf(g as never) as { Action: string[]; Condition?: Record<string, Record<string, string[]>> };
    if (!s.Action.includes(action)) return false;
    for (const [op, keys] of Object.entries(s.Condition ?? {})) {
      const patterns = keys['dynamodb:LeadingKeys'];
      if (!patterns) continue;
      if (op === 'ForAllValues:StringLike' && !patterns.some((p) => glob(p).test(pk))) return false;
      if (op === 'ForAllValues:StringEquals' && !patterns.includes(pk)) return false;
      if (op === 'ForAllValues:StringNotLike' && patterns.some((p) => glob(p).test(pk))) return false;
    }
    return true;
  });
}

const realSend = DynamoDBClient.prototype.send;
beforeAll(() => {
  vi.spyOn(DynamoDBClient.prototype, 'send').mockImplementation(function (this: DynamoDBClient, command: any, ...rest: any[]) {
    const name = command?.constructor?.name?.replace(/Command$/, '');
    if (grants && ['PutItem', 'UpdateItem', 'DeleteItem'].includes(name)) {
      const pk = (command.input.Item ?? command.input.Key)?.pk?.S as string;
      const sk = (command.input.Item ?? command.input.Key)?.sk?.S as string;
      if (!allowed(`dynamodb:${name}`, pk)) {
        refused.push(`${name} ${pk} ${sk}`);
        const err = Object.assign(new Error(`not authorized to perform dynamodb:${name}`), {
          name: 'AccessDeniedException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        });
        return Promise.reject(err);
      }
    }
    return (realSend as any).call(this, command, ...rest);
  } as never);
});

let stage: SealedStage;
let table: string;
beforeAll(async () => {
  stage = await startSealedStage();
  table = await stage.newTable();
  // The operator (docs step 5): full rights, seals the new table, the seed's keys and access keys.
  const opened = await openKeyStoreFromEnvironment(stage.env(table));
  await createTestService({ store: opened.store });
  await opened.close();
});
afterAll(async () => {
  vi.restoreAllMocks();
  await stage.stop();
});

/** One cold function: the store opened and the Action called with its role's statements. */
async function asFunction(store: StoreAccess, action: string, params: Record<string, string>, now?: () => number) {
  grants = grantsOf(store, true);
  refused.length = 0;
  try {
    const opened = await openKeyStoreFromEnvironment(stage.env(table));
    const t = await createTestService({ store: opened.store, seed: false, ...(now ? { now } : {}) });
    const r = await t.call(signedRpcRequest(ADMIN, action, params, { timestamp: isoSeconds(Date.now()) }));
    await opened.close();
    return { status: r.status, body: r.body, refused: [...refused] };
  } finally {
    grants = undefined;
  }
}

describe('Each Action under its own IAM statements, on the sealed table as deployed', () => {
  it('the write Actions of a key lifecycle succeed and are refused nothing', async () => {
    const created = await asFunction('creates-material', 'CreateKey', {});
    expect(created).toMatchObject({ status: 200, refused: [] });
    const keyId = created.body.KeyMetadata.KeyId as string;
    expect(await asFunction('creates-material', 'CreateKeyVersion', { KeyId: keyId })).toMatchObject({ status: 200, refused: [] });
    expect(await asFunction('writes-state', 'CreateAlias', { KeyId: keyId, AliasName: 'alias/review' })).toMatchObject({ status: 200, refused: [] });
    expect(await asFunction('writes-state', 'TagResource', { KeyId: keyId, Tags: '[{"TagKey":"a","TagValue":"b"}]' })).toMatchObject({
      status: 200,
      refused: [],
    });
    expect(await asFunction('reads', 'GenerateDataKey', { KeyId: 'alias/review' })).toMatchObject({ status: 200, refused: [] });
    expect(await asFunction('reads', 'ListAliasesByKeyId', { KeyId: keyId })).toMatchObject({ status: 200 });
    expect(await asFunction('writes-state', 'ScheduleKeyDeletion', { KeyId: keyId, PendingWindowInDays: '7' })).toMatchObject({ status: 200, refused: [] });
    expect(await asFunction('writes-state', 'CancelKeyDeletion', { KeyId: keyId })).toMatchObject({ status: 200, refused: [] });
    const external = await asFunction('creates-material', 'CreateKey', { Origin: 'EXTERNAL' });
    expect(external).toMatchObject({ status: 200, refused: [] });
    const extId = external.body.KeyMetadata.KeyId as string;
    const params = await asFunction('writes-state', 'GetParametersForImport', {
      KeyId: extId,
      WrappingAlgorithm: 'RSAES_OAEP_SHA_256',
      WrappingKeySpec: 'RSA_2048',
    });
    expect(params).toMatchObject({ status: 200, refused: [] });
    const { wrapMaterial } = await import('../../lib/crypto/import-wrap.js');
    const { randomBytes } = await import('node:crypto');
    expect(
      await asFunction('creates-material', 'ImportKeyMaterial', {
        KeyId: extId,
        ImportToken: params.body.ImportToken as string,
        EncryptedKeyMaterial: wrapMaterial(params.body.PublicKey as string, 'RSAES_OAEP_SHA_256', randomBytes(32)),
      }),
    ).toMatchObject({ status: 200, refused: [] });
    expect(await asFunction('deletes-material', 'DeleteKeyMaterial', { KeyId: extId })).toMatchObject({ status: 200, refused: [] });
    expect(await asFunction('reads', 'Encrypt', { KeyId: KEY_ID, Plaintext: 'aGk=' })).toMatchObject({ status: 200, refused: [] });
    expect(await asFunction('writes-state', 'UpdateAlias', { KeyId: KEY_ID, AliasName: 'alias/review' })).toMatchObject({ status: 200, refused: [] });
    expect(await asFunction('writes-state', 'DeleteAlias', { AliasName: 'alias/review' })).toMatchObject({ status: 200, refused: [] });
    expect(await asFunction('writes-state', 'DisableKey', { KeyId: keyId })).toMatchObject({ status: 200, refused: [] });
    expect(await asFunction('writes-state', 'EnableKey', { KeyId: keyId })).toMatchObject({ status: 200, refused: [] });
    expect(
      await asFunction('writes-state', 'UpdateRotationPolicy', { KeyId: keyId, EnableAutomaticRotation: 'true', RotationInterval: '604800s' }),
    ).toMatchObject({
      status: 200,
      refused: [],
    });
    // A week later the hourly jobs run: rotation (creates-material) and, after a deletion window, deletion.
    const later = () => Date.now() + 8 * 86_400_000;
    grants = grantsOf('creates-material', false);
    refused.length = 0;
    {
      const opened = await openKeyStoreFromEnvironment(stage.env(table));
      const t = await createTestService({ store: opened.store, seed: false, now: later });
      const { rotateDueKeys } = await import('../../lib/operations/scheduled.js');
      expect(await rotateDueKeys(t.service)).toContain(keyId);
      await opened.close();
    }
    expect(refused).toEqual([]);
    expect(await asFunction('writes-state', 'ScheduleKeyDeletion', { KeyId: keyId, PendingWindowInDays: '7' })).toMatchObject({ status: 200, refused: [] });
    grants = grantsOf('deletes-material', false);
    {
      const opened = await openKeyStoreFromEnvironment(stage.env(table));
      const t = await createTestService({ store: opened.store, seed: false, now: () => Date.now() + 30 * 86_400_000 });
      const { destroyDueKeys } = await import('../../lib/operations/scheduled.js');
      expect(await destroyDueKeys(t.service)).toContain(keyId);
      await opened.close();
    }
    grants = undefined;
    expect(refused).toEqual([]);
  });

  it('a table written before sealing (an upgraded stage) is refused by every function, whatever it may write, until the operator seals it (kms store seal); then a writer opens it refused nothing', async () => {
    const legacy = await stage.newTable();
    const raw = new DynamoDbKeyStore({ client: stage.dynalite.client(), tableName: legacy });
    await raw.create('keys/k1', Buffer.from('{"keyId":"k1"}'), { writeOnce: false });
    await raw.create('version-index/v1', Buffer.from('k1'), { writeOnce: true });
    for (const access of ['reads', 'writes-state', 'creates-material', 'deletes-material'] as const) {
      grants = grantsOf(access, true);
      try {
        await expect(openKeyStoreFromEnvironment(stage.env(legacy))).rejects.toBeInstanceOf(UnsealedStoreError);
      } finally {
        grants = undefined;
      }
    }
    expect(await raw.get(ALL_SEALED_ENTRY)).toBeUndefined();
    // The operator (full rights on the table) seals it.
    await (await openKeyStoreFromEnvironment(stage.env(legacy), undefined, { mustExist: true, sealInPlace: true })).close();
    grants = grantsOf('writes-state', true);
    refused.length = 0;
    try {
      const opened = await openKeyStoreFromEnvironment(stage.env(legacy));
      expect((await opened.store.get('keys/k1'))!.value.toString()).toBe('{"keyId":"k1"}');
      await opened.close();
    } finally {
      grants = undefined;
    }
    expect(refused).toEqual([]);
  });

  it.each([
    ['the check entry deleted', ['meta/root-key-check']],
    ['the check entry and the all-sealed marker deleted', ['meta/root-key-check', 'meta/all-sealed']],
  ])(
    'an admin access key planted in the clear by someone without the root key (%s) is never accepted by a reader function (GenerateDataKey)',
    async (_what, deleted) => {
      const { DeleteItemCommand, PutItemCommand } = await import('@aws-sdk/client-dynamodb');
      const { entryKey } = await import('../../lib/keystore/dynamodb/items.js');
      const attacked = await stage.newTable();
      {
        const opened = await openKeyStoreFromEnvironment(stage.env(attacked));
        await createTestService({ store: opened.store });
        await opened.close();
      }
      const raw = stage.dynalite.client();
      const planted = {
        accessKeyId: 'plantedKey0001',
        accessKeySecret: 'attacker-chosen-secret-0123',
        status: 'Enabled',
        createdAt: new Date().toISOString(),
        policy: { Version: '1', Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] },
      };
      for (const name of deleted) await raw.send(new DeleteItemCommand({ TableName: attacked, Key: entryKey(name) }));
      await raw.send(
        new PutItemCommand({
          TableName: attacked,
          Item: {
            ...entryKey(`access-keys/${planted.accessKeyId}`),
            kind: { S: 'entry' },
            value: { B: Buffer.from(JSON.stringify(planted)) },
            revision: { N: '1' },
            writeOnce: { BOOL: false },
          },
        }),
      );
      grants = grantsOf('reads', true);
      try {
        const opened = await openKeyStoreFromEnvironment(stage.env(attacked)).catch((err: unknown) => err);
        if (opened instanceof Error) {
          expect(opened).toBeInstanceOf(UnsealedStoreError);
          return;
        }
        const { store, close } = opened as Awaited<ReturnType<typeof openKeyStoreFromEnvironment>>;
        const t = await createTestService({ store, seed: false });
        const r = await t.call(signedRpcRequest(planted, 'GenerateDataKey', { KeyId: KEY_ID }, { timestamp: isoSeconds(Date.now()) }));
        await close();
        expect(r.status).not.toBe(200);
        expect(r.status).toBeGreaterThanOrEqual(400);
      } finally {
        grants = undefined;
      }
    },
  );
});
