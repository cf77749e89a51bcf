import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { vi } from 'vitest';
import { createStateTable } from '../../lib/keystore/dynamodb/table.js';
import { FakeSecretsManager } from '../keystore/secrets-manager-fake.js';
import { type Dynalite, startDynalite } from './dynalite.js';

/** The stage's root-key secret as the stack makes it: `{"seed":"<64 alphanumerics>"}` (a throw-away value). */
export const ROOT_KEY_SECRET = 'kms/test/root-key';
export const ROOT_SEED = 'Tq3xW8zLm2Np5Rv7Bc9Dk4Fh6Jg1Ks0Ay3Ue8Io5Pw2Qe7Rt4Yu9Zx1Cv6Bn3Mq8L';

export interface SealedStage {
  dynalite: Dynalite;
  /** Every Secrets Manager client (the root key's, the earlier layout's material) goes to `fakeSm`. */
  sm: AwsClientStub<SecretsManagerClient>;
  fakeSm: FakeSecretsManager;
  /** A new, empty state table on dynalite. */
  newTable(): Promise<string>;
  /** The environment of a `dynamodb` stage on `table`, sealed under the root-key secret. */
  env(table: string, extra?: Record<string, string>): Record<string, string>;
  /** Every item of the table as DynamoDB holds it, read by a plain client (no store, no seal). */
  rawItems(table: string): Promise<Array<Record<string, AttributeValue>>>;
  stop(): Promise<void>;
}

/**
 * A `dynamodb` stage as the AWS deployment runs it: state tables on dynalite through the real SDK
 * (`AWS_ENDPOINT_URL_DYNAMODB`), Secrets Manager a stateful fake behind aws-sdk-client-mock holding
 * the stage's root-key secret (made directly in the fake: no CreateSecret call is recorded).
 */
export async function startSealedStage(): Promise<SealedStage> {
  const dynalite = await startDynalite();
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynalite.endpoint);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'x');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'x');
  vi.stubEnv('AWS_REGION', 'us-east-1');
  const sm = mockClient(SecretsManagerClient);
  const fakeSm = new FakeSecretsManager({ interleave: false }).install(sm);
  fakeSm.createSecret({ Name: ROOT_KEY_SECRET, SecretString: JSON.stringify({ seed: ROOT_SEED }) });
  const admin = dynalite.client();
  let tables = 0;
  return {
    dynalite,
    sm,
    fakeSm,
    async newTable() {
      const name = `kms-test-state-${++tables}`;
      await createStateTable(admin, name, { timeToLive: false });
      return name;
    },
    env: (table, extra = {}) => ({
      KMS_KEY_STORE: 'dynamodb',
      KMS_STATE_TABLE: table,
      AWS_REGION: 'us-east-1',
      KMS_ROOT_KEY_SOURCE: `aws-secrets-manager:${ROOT_KEY_SECRET}`,
      KMS_LOG_LEVEL: 'silent',
      ...extra,
    }),
    async rawItems(table) {
      const items: Array<Record<string, AttributeValue>> = [];
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await admin.send(new ScanCommand({ TableName: table, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
      return items;
    },
    async stop() {
      vi.unstubAllEnvs();
      sm.restore();
      await dynalite.stop();
    },
  };
}

/** Every byte an item holds (names, strings, numbers, binaries), for searching it whole. */
export function itemBytes(item: Record<string, AttributeValue>): Buffer {
  const parts: Buffer[] = [];
  const add = (value: AttributeValue): void => {
    if (value.B) parts.push(Buffer.from(value.B));
    if (value.S !== undefined) parts.push(Buffer.from(value.S, 'utf8'));
    if (value.N !== undefined) parts.push(Buffer.from(value.N, 'utf8'));
    for (const s of value.SS ?? []) parts.push(Buffer.from(s, 'utf8'));
    for (const b of value.BS ?? []) parts.push(Buffer.from(b));
    for (const inner of value.L ?? []) add(inner);
    for (const inner of Object.values(value.M ?? {})) add(inner);
  };
  for (const [name, value] of Object.entries(item)) {
    parts.push(Buffer.from(name, 'utf8'));
    add(value);
  }
  return Buffer.concat(parts);
}

/** The forms a secret could be stored in: its bytes, Base64 (standard and URL-safe), hex (both cases), and as UTF-8 text when it is one. */
export function secretForms(secret: Buffer): Buffer[] {
  const forms = [
    secret,
    Buffer.from(secret.toString('base64')),
    Buffer.from(secret.toString('base64url')),
    Buffer.from(secret.toString('hex')),
    Buffer.from(secret.toString('hex').toUpperCase()),
  ];
  // A Base64 text embedded in a longer one keeps its leading characters: search without padding.
  forms.push(Buffer.from(secret.toString('base64').replace(/=+$/, '')));
  return forms;
}
